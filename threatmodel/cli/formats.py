"""Choosing an output format on the command line: from the registry, never from a list here."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from threatmodel.cli import common

if TYPE_CHECKING:
    from threatmodel.renderers.registry import OutputFormat


def format_help() -> str:
    from threatmodel.renderers.registry import format_names

    return (f"Output format: {', '.join(format_names())} (default: from -o's extension, which must name exactly "
            "one of them; md on standard output).")


def resolve_format(name: Optional[str], output: Optional[Path]) -> "OutputFormat":
    from threatmodel.renderers.registry import UnknownFormat, format_for_path, get_format

    if name is not None:
        try:
            return get_format(name.strip().lower())
        except UnknownFormat as exc:
            raise common.fail(str(exc)) from None
    if output is not None and str(output) != "-":
        from threatmodel.renderers.registry import formats

        inferred = format_for_path(output)
        known = ", ".join(f"{f.extension} ({f.name})" for f in formats())
        if inferred is None:
            raise common.fail_at(output, f"cannot tell the output format from the name: its extension is none of "
                                         f"{known}; give --format")
        suffixes = "".join(Path(output.name).suffixes).lower()
        others = [f for f in formats() if f is not inferred and f.extension in suffixes
                  and not inferred.extension.endswith(f.extension)]
        if others:
            raise common.fail_at(output, f"the name could mean {inferred.name} ({inferred.extension}) or "
                                         f"{', '.join(f'{f.name} ({f.extension})' for f in others)}: give --format")
        return inferred
    return get_format("md")


def choices(command: str) -> type[Enum]:
    """The ``--format`` choices of a command other than ``report``, from the registry."""
    from threatmodel.renderers.registry import command_outputs

    if command not in choices_of:
        title = "".join(part.title() for part in command.split()) + "Format"
        choices_of[command] = Enum(title, {o.name: o.name for o in command_outputs(command)}, type=str)  # type: ignore[misc]
    return choices_of[command]


def render(command: str, chosen: Any, subject: Any, **options: Any) -> str:
    """Write ``subject`` in the chosen format of ``command``."""
    from threatmodel.renderers.registry import command_output

    return command_output(command, chosen.value if isinstance(chosen, Enum) else str(chosen)).render(subject, **options)


choices_of: dict[str, type[Enum]] = {}


def option(command: str, help_text: str = "") -> Any:
    """The ``--format`` option of ``command``: its registered formats, its default first."""
    import typer

    return typer.Option(next(iter(choices(command))), "--format", "-f", help=help_text or None)
