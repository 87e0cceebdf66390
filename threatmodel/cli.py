"""The ``threatmodel`` command line: wires arguments to the library, prints, picks exit codes.

Exit status: 0 success (warnings allowed), 2 invalid input. Heavy modules (pydantic, networkx,
jinja2) are imported inside the commands so ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import gc
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional

import typer

from . import __version__

if TYPE_CHECKING:
    from .catalog_load import LoadedCatalog
    from .system_load import LoadedSystem

app = typer.Typer(
    name="threatmodel",
    help="Threat modeling for machine-learning systems: OWASP ML Top 10, MITRE ATLAS and STRIDE.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
catalog_app = typer.Typer(help="Browse and check the threat catalog.", no_args_is_help=True)
atlas_app = typer.Typer(help="The MITRE ATLAS index: import a release, look up ids.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
app.add_typer(atlas_app, name="atlas")

EXIT_INVALID = 2

CatalogOption = typer.Option(None, "--catalog", "-c", help="Extra catalog file to merge (repeatable).")
OutputOption = typer.Option(None, "--output", "-o", help="Write to this file (atomically) instead of stdout.")


class ListFormat(str, Enum):
    table = "table"
    json = "json"
    md = "md"


class ShowFormat(str, Enum):
    text = "text"
    json = "json"
    md = "md"


class ReportFormat(str, Enum):
    md = "md"
    html = "html"
    json = "json"
    sarif = "sarif"


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"threatmodel {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Describe an ML system in YAML; get its threats, mitigations and a checklist."""


def _report_diagnostics(diagnostics: list[Any]) -> None:
    for diagnostic in diagnostics:
        typer.echo(str(diagnostic), err=True)


def _guarded(action: Callable[[], Any]) -> Any:
    """Run ``action``; turn invalid input into located messages and exit status 2."""
    from .errors import InputError

    try:
        return action()
    except InputError as exc:
        _report_diagnostics(exc.diagnostics)
        errors = len(exc.errors)
        typer.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
        raise typer.Exit(EXIT_INVALID) from None
    except OSError as exc:
        typer.echo(f"{getattr(exc, 'filename', '') or ''}: error: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_INVALID) from None


def _catalog(extra: Optional[List[Path]]) -> "LoadedCatalog":
    from .catalog_load import load_catalog

    loaded: LoadedCatalog = _guarded(lambda: load_catalog(extra or []))
    _report_diagnostics(loaded.warnings)
    return loaded


def _system(path: Path, extra: Optional[List[Path]]) -> tuple["LoadedCatalog", "LoadedSystem"]:
    from .system_load import load_system

    catalog = _catalog(extra)
    loaded: LoadedSystem = _guarded(lambda: load_system(path, catalog.catalog.kinds))
    _report_diagnostics(loaded.warnings)
    return catalog, loaded


def _emit(text: Any, output: Optional[Path]) -> None:
    from .output import emit

    _guarded(lambda: emit(text, output))


# ------------------------------------------------------------------ catalog


@catalog_app.command("list")
def catalog_list(
    stride: Optional[str] = typer.Option(None, "--stride", help="Only threats with this STRIDE letter (S, T, R, I, D, E)."),
    atlas: Optional[str] = typer.Option(None, "--atlas", help="Only threats linked to this ATLAS technique (or its sub-techniques)."),
    output_format: ListFormat = typer.Option(ListFormat.table, "--format", "-f"),
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """List the threats in the catalog."""
    from .render import render, to_json
    from .views import catalog_listing

    loaded = _catalog(catalog)
    threats = sorted(loaded.catalog.threats.values(), key=lambda t: (t.source != "owasp-ml-top10-2023", t.id))
    if stride:
        letter = stride.strip().upper()[:1]
        if letter not in "STRIDE" or not letter:
            typer.echo(f"error: --stride takes one of S, T, R, I, D, E, not '{stride}'", err=True)
            raise typer.Exit(EXIT_INVALID)
        threats = [t for t in threats if letter in t.stride]
    if atlas:
        if loaded.catalog.atlas.get(atlas) is None:
            typer.echo(f"error: unknown ATLAS id '{atlas}'", err=True)
            raise typer.Exit(EXIT_INVALID)
        threats = [t for t in threats if any(link.id == atlas or link.id.startswith(atlas + ".") for link in t.atlas)]
    data = catalog_listing(loaded.catalog, threats)
    if output_format is ListFormat.json:
        _emit(to_json(data), None)
    else:
        _emit(render("catalog_list.md.j2" if output_format is ListFormat.md else "catalog_list.txt.j2", data), None)


@catalog_app.command("show")
def catalog_show(
    entry_id: str = typer.Argument(..., metavar="ID", help="A threat id (ML02) or a mitigation id."),
    output_format: ShowFormat = typer.Option(ShowFormat.text, "--format", "-f"),
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """Everything about one threat or mitigation."""
    from .errors import did_you_mean
    from .render import render, to_json
    from .views import mitigation_detail, threat_detail

    loaded = _catalog(catalog).catalog
    key = entry_id.strip()
    threat = loaded.threats.get(key) or loaded.threats.get(key.upper())
    if threat is not None:
        data = threat_detail(loaded, threat)
    elif key in loaded.mitigations:
        data = mitigation_detail(loaded, loaded.mitigations[key])
    else:
        known = [*loaded.threats, *loaded.mitigations]
        typer.echo(f"error: no threat or mitigation '{entry_id}'{did_you_mean(entry_id, known)}", err=True)
        raise typer.Exit(EXIT_INVALID)
    if output_format is ShowFormat.json:
        _emit(to_json(data), None)
    else:
        _emit(render("catalog_show.md.j2" if output_format is ShowFormat.md else "catalog_show.txt.j2", data), None)


@catalog_app.command("validate")
def catalog_validate(
    files: Optional[List[Path]] = typer.Argument(None, help="User catalog files to check with the built-in one."),
) -> None:
    """Check the built-in catalog and any user catalogs; exit 2 on errors."""
    loaded = _catalog(files)
    typer.echo(f"catalog OK: {len(loaded.catalog.threats)} threats, {len(loaded.catalog.mitigations)} "
               f"mitigations, {len(loaded.catalog.kinds)} kinds, ATLAS {loaded.catalog.atlas.atlas_version}"
               + (f" ({len(loaded.warnings)} warnings)" if loaded.warnings else ""))


# ------------------------------------------------------------------ atlas


@atlas_app.command("import")
def atlas_import(
    source: Path = typer.Argument(..., help="An official ATLAS.yaml (from mitre-atlas/atlas-data, dist/ATLAS.yaml)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="Where to write the index; default: the catalog's atlas.yaml. '-' for stdout."),
    renames: Optional[Path] = typer.Option(None, "--renames", help="A TSV of former names (kind, id, current_name, previous_names)."),
) -> None:
    """Build the ATLAS index from an official ATLAS.yaml, keeping former names as aliases."""
    from .atlas import dump_index, import_atlas_file, load_index
    from .catalog_load import ATLAS_INDEX_FILE
    from .resources import catalog_dir

    target = output or catalog_dir() / ATLAS_INDEX_FILE
    previous = None
    if str(target) != "-" and target.is_file():
        previous = _guarded(lambda: load_index(target))
    index = _guarded(lambda: import_atlas_file(source, previous, renames))
    _emit(dump_index(index), target)
    if str(target) != "-":
        typer.echo(f"wrote {target}: ATLAS {index.atlas_version}, {len(index.tactics)} tactics, "
                   f"{len(index.techniques)} techniques, {len(index.mitigations)} mitigations, "
                   f"{len(index.removed)} removed ids", err=True)


@atlas_app.command("show")
def atlas_show(
    atlas_id: str = typer.Argument(..., metavar="ID", help="AML.T0018, AML.TA0001, AML.M0014, or a former name."),
    output_format: ShowFormat = typer.Option(ShowFormat.text, "--format", "-f"),
) -> None:
    """Show an ATLAS technique, tactic or mitigation with its names and links."""
    from .render import render, to_json
    from .views import atlas_entry_view

    loaded = _catalog(None).catalog
    atlas = loaded.atlas
    entry = atlas.get(atlas_id.strip())
    if entry is None:
        by_name = atlas.find_by_name(atlas_id.strip())
        removed = atlas.removed_entry(atlas_id.strip())
        if len(by_name) == 1:
            entry = atlas.get(by_name[0])
        elif removed is not None:
            successors = atlas.find_by_name(removed.name)
            hint = f"; '{removed.name}' is now {successors[0]}" if successors else ""
            typer.echo(f"error: {removed.id} '{removed.name}' was removed from ATLAS{hint}", err=True)
            raise typer.Exit(EXIT_INVALID)
        else:
            typer.echo(f"error: no ATLAS id or name '{atlas_id}' in ATLAS {atlas.atlas_version}", err=True)
            raise typer.Exit(EXIT_INVALID)
    assert entry is not None
    data = atlas_entry_view(loaded, entry)
    _emit(to_json(data) if output_format is ShowFormat.json else render("atlas_show.txt.j2", data), None)


# ------------------------------------------------------------------ systems


@app.command()
def validate(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """Check a system model: every problem at once as file:line:col, exit 2 if any."""
    _catalog_loaded, loaded = _system(system, catalog)
    model = loaded.system
    typer.echo(f"{system}: OK: {len(model.components)} components, {len(model.flows)} flows, "
               f"{len(model.boundaries)} boundaries, {len(model.data)} data assets"
               + (f", {len(loaded.warnings)} warnings" if loaded.warnings else ""))


@app.command()
def graph(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output_format: GraphFormat = typer.Option(GraphFormat.mermaid, "--format", "-f"),
    output: Optional[Path] = OutputOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """Export the data-flow graph as Mermaid, Graphviz DOT, or JSON with its computed facts."""
    from .graph import DataFlowGraph
    from .render import render, to_json
    from .views import graph_view

    catalog_loaded, loaded = _system(system, catalog)
    data = graph_view(DataFlowGraph(loaded.system, catalog_loaded.catalog.kinds))
    if output_format is GraphFormat.json:
        hidden = ("top_boundaries", "boundary_index", "outside_nodes", "boundary_nodes")
        text = to_json({key: value for key, value in data.items() if key not in hidden})
    else:
        text = render("dfd.mmd.j2" if output_format is GraphFormat.mermaid else "dfd.dot.j2", data)
    _emit(text, output)


StatusOption = typer.Option(None, "--status", "-s", help="Review file (default: <model>.status.yaml or "
                            "threatmodel.status.yaml beside the model, when present).")


def _run(system: Path, catalog: Optional[List[Path]], status: Optional[Path], use_default: bool = True) -> Any:
    """Load, analyse and review a model, printing warnings; invalid input exits with status 2."""
    from .pipeline import run

    result = _guarded(lambda: run(system, catalog or [], status, use_default))
    _report_diagnostics(result.warnings)
    return result


@app.command()
def report(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output_format: ReportFormat = typer.Option(ReportFormat.md, "--format", "-f"),
    output: Optional[Path] = OutputOption,
    template: Optional[Path] = typer.Option(None, "--template", help="A folder of templates that override the built-in ones."),
    status: Optional[Path] = StatusOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """Analyse a system and write its threat report (Markdown, HTML, JSON or SARIF)."""
    from .render import json_lines, render, to_json
    from .report_data import json_report, report_data

    if template is not None and not template.is_dir():
        typer.echo(f"{template}: error: --template must be a folder of templates", err=True)
        raise typer.Exit(EXIT_INVALID)
    result = _run(system, catalog, status)
    svg, note = None, ""
    if output_format is ReportFormat.html:
        from .render.diagram import MAX_DIAGRAM_NODES, svg_from_dot, too_large_note
        from .views import graph_view

        nodes = result.graph.graph.number_of_nodes()
        if nodes > MAX_DIAGRAM_NODES:
            note = too_large_note(nodes)
        else:
            svg, note = svg_from_dot(render("dfd.dot.j2", graph_view(result.graph), template))
    data = report_data(result.assessment, diagram_svg=svg, diagram_note=note, review=result.review,
                       review_path=result.review_display)
    if output_format is ReportFormat.json:
        text = json_lines(json_report(data))
    elif output_format is ReportFormat.sarif:
        from .render.sarif import model_uri, sarif_report

        text = to_json(sarif_report(data, result.catalog.catalog, model_uri(str(system)), result.system.locations))
    else:
        name = "report.html.j2" if output_format is ReportFormat.html else "report.md.j2"
        text = _guarded(lambda: _render_report(render, name, data, template))
    _emit(text, output)


def _render_report(render: Callable[..., str], name: str, data: Any, template: Optional[Path]) -> str:
    import jinja2

    from .errors import Diagnostic, InputError, Location

    try:
        return render(name, data, template)
    except jinja2.TemplateError as exc:
        where = Location(getattr(exc, "filename", None) or str(template or name), getattr(exc, "lineno", 0) or 0, 1 if getattr(exc, "lineno", 0) else 0)
        raise InputError([Diagnostic(where, f"template error: {exc.message or exc}")]) from None


@app.command()
def schema(output: Optional[Path] = OutputOption) -> None:
    """Print the JSON Schema of the system format (for editors and CI)."""
    from .schema import system_json_schema

    _emit(system_json_schema(), output)


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Where to write threatmodel.yaml and its schema."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Write a commented starter model and the JSON Schema that editors use to check it."""
    from .output import write_atomic
    from .resources import templates_dir
    from .schema import SCHEMA_FILE_NAME, system_json_schema

    model_path = directory / "threatmodel.yaml"
    schema_path = directory / SCHEMA_FILE_NAME
    existing = [p for p in (model_path, schema_path) if p.exists()]
    if existing and not force:
        typer.echo(f"{existing[0]}: error: already exists (use --force to overwrite)", err=True)
        raise typer.Exit(EXIT_INVALID)
    starter = (templates_dir() / "starter.yaml").read_text(encoding="utf-8")

    def write() -> None:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(schema_path, system_json_schema())
        write_atomic(model_path, starter)

    _guarded(write)
    typer.echo(f"wrote {model_path} and {schema_path}; next: threatmodel validate {model_path}")


def main() -> None:
    # A run is short, and nearly everything it allocates lives until it exits; the cyclic
    # garbage collector would only rescan that growing heap again and again (about 30 % of a
    # large report's time, measured in docs/benchmarks.md). Library callers keep the default.
    gc.disable()
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()


# The review-workflow commands live in their own module; importing it registers them on `app`.
from . import cli_review  # noqa: E402,F401
from . import cli_controls  # noqa: E402,F401
