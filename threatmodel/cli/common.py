"""What every command shares: option declarations, printing diagnostics, exit codes, output.

Exit status: 0 success (warnings allowed), 1 a gate failed (check, diff, verify-manifest),
2 invalid input. Library code raises; only this layer prints and picks the status.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, TypeVar

import typer

if TYPE_CHECKING:
    from threatmodel import Assessment, LoadedCatalog, LoadedSystem

EXIT_GATE = 1
EXIT_INVALID = 2
T = TypeVar("T")

CatalogOption = typer.Option(None, "--catalog", "-c", metavar="FILE",
                             help="Extra catalog file to merge (repeatable).")
OutputOption = typer.Option(None, "--output", "-o", metavar="FILE",
                            help="Write to this file (atomically) instead of stdout.")
StatusOption = typer.Option(None, "--status", "-s", metavar="FILE",
                            help="Review file (default: <model>.status.yaml or threatmodel.status.yaml "
                                 "beside the model, when present).")
SystemArgument = typer.Argument(..., metavar="MODEL", help="The system model (YAML).")
EvidenceOption = typer.Option(None, "--evidence", "-e", metavar="FILE",
                              help="A tool's output to read as evidence, besides those the review file lists "
                                   "(repeatable; docs/evidence.md).")
MaxAgeOption = typer.Option(None, "--max-age", metavar="DAYS", min=1, max=3650,
                            help="Evidence older than this is stale (default: the review file's "
                                 "evidence.max_age_days, else 30).")

# the files this command has read: an output file must never replace one of them
_INPUTS: list[Path] = []


def counted(number: int, noun: str, plural: str = "") -> str:
    """'1 finding', '2 findings', '1 open question', '3 data assets'."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def reset_inputs() -> None:
    _INPUTS.clear()


def note_inputs(*paths: Any) -> None:
    _INPUTS.extend(Path(str(p)) for p in paths if p is not None and str(p) != "-")


def is_input(output: Path) -> bool:
    """Whether ``output`` is one of the command's input files (never written over)."""
    return _is_input(output)


def _is_input(output: Path) -> bool:
    import os

    for path in _INPUTS:
        try:
            if os.path.samefile(output, path):
                return True
        except OSError:
            continue
    return False


def fail(message: str) -> typer.Exit:
    """Print an error and return the exit to raise (``raise fail(...)``)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_INVALID)


def fail_at(where: Any, message: str) -> typer.Exit:
    """Like :func:`fail`, for a problem with a named file or argument: ``WHERE: error: …``."""
    typer.echo(f"{where}: error: {message}", err=True)
    return typer.Exit(EXIT_INVALID)


def report_diagnostics(diagnostics: list[Any]) -> None:
    for diagnostic in diagnostics:
        typer.echo(str(diagnostic), err=True)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; turn invalid input into located messages and exit status 2."""
    from threatmodel.core.errors import InputError

    try:
        return action()
    except InputError as exc:
        report_diagnostics(exc.diagnostics)
        errors = len(exc.errors)
        typer.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as exc:
        typer.echo(f"{getattr(exc, 'filename', '') or ''}: error: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


def catalog(extra: Optional[List[Path]]) -> "LoadedCatalog":
    from threatmodel import load_catalog

    note_inputs(*(extra or []))
    loaded = guarded(lambda: load_catalog(extra or []))
    report_diagnostics(loaded.warnings)
    return loaded


def system(path: Path, extra: Optional[List[Path]]) -> tuple["LoadedCatalog", "LoadedSystem"]:
    from threatmodel import load_system

    loaded_catalog = catalog(extra)
    note_inputs(path)
    loaded = guarded(lambda: load_system(path, loaded_catalog))
    note_inputs(*loaded.files)
    report_diagnostics(loaded.warnings)
    return loaded_catalog, loaded


FrameworkOption = typer.Option(None, "--framework", metavar="IDS",
                               help="Only threats mapped to these frameworks, e.g. llm-2026,asi-2026 (ml-2023, "
                                    "llm-2023, llm-2025, llm-2026, asi-2026, stride); default: every framework.")


def assess(path: Path, extra: Optional[List[Path]], status: Optional[Path],
           use_default: bool = True, evidence: Optional[List[Path]] = None,
           max_age: Optional[int] = None, frameworks: Optional[str] = None) -> "Assessment":
    """Load, analyse and review a model, printing warnings; invalid input exits with status 2."""
    import threatmodel

    loaded_catalog = catalog(extra)
    review: Any = status if status is not None else (None if use_default else False)
    note_inputs(path, status, *(evidence or []))
    try:
        result = guarded(lambda: threatmodel.analyze(path, loaded_catalog, review, evidence=list(evidence or []),
                                                     max_age_days=max_age, frameworks=frameworks))
    except threatmodel.FrameworkError as exc:
        raise fail(str(exc)) from None
    note_inputs(*(s.name for s in result.evidence.sources))
    note_inputs(*result.system.files, *([result.review_file.path] if result.review_file else []))
    shown = [w for w in result.warnings if w not in loaded_catalog.warnings]
    if result.review.set_aside:  # entries of threats left out by --framework are not orphans
        typer.echo(f"note: {result.review.set_aside} review entries are for threats outside --framework "
                   f"{frameworks}; not applied here", err=True)
    report_diagnostics(shown)
    return result


def check_draft(text: str, output: Optional[Path], catalog: Optional[List[Path]]) -> None:
    """Load a drafted model (import, discover) as `validate` would, before anything is written:
    a draft that does not load is refused with located errors rather than left on disk."""
    import os
    import tempfile

    from threatmodel import load_catalog, load_system

    folder = output.resolve().parent if output is not None else Path.cwd()
    handle, name = tempfile.mkstemp(suffix=".yaml", prefix=".draft-", dir=folder if os.access(folder, os.W_OK) else None)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        guarded(lambda: load_system(Path(name), load_catalog(catalog or [])))
    finally:
        os.unlink(name)


def refuse_to_replace(output: Optional[Path], force: bool, what: str) -> None:
    """A drafted model never silently replaces a file: exit 2 unless ``--force``."""
    if output is not None and str(output) != "-" and _is_input(output):
        emit("", output)  # refused there, with the reason
    if output is not None and str(output) != "-" and output.exists() and not force:
        typer.echo(f"{output}: error: the file exists; give --force to replace it ({what} overwrites hand edits)", err=True)
        raise typer.Exit(EXIT_INVALID)


def say(prefix: str, text: Any) -> None:
    """One line on stderr that quotes foreign text: terminal controls shown, never obeyed."""
    from threatmodel.core.escape import terminal

    typer.echo(f"{prefix} " + terminal(text).replace("\n", " "), err=True)


def emit(text: Any, output: Optional[Path], what: str = "") -> None:
    """Write to ``output`` (atomically) or stdout; say on stderr what was written to a file."""
    from threatmodel.core.output import emit as write

    if output is not None and str(output) != "-" and _is_input(output):
        typer.echo(f"{output}: error: cannot write: it is one of this command's input files "
                   "(the model, an included file, a review file or a catalog); choose another file", err=True)
        raise typer.Exit(EXIT_INVALID)
    guarded(lambda: write(text, output))
    if output is not None and str(output) != "-":
        typer.echo(f"wrote {output}" + (f" ({what})" if what else ""), err=True)
