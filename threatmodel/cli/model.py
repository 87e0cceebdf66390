"""`validate`, `graph`, `schema`, `init`: working with the system model itself."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from . import common

app = typer.Typer()


class GraphFormat(str, Enum):
    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@app.command()
def validate(
    system: Path = common.SystemArgument,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Check a system model: every problem at once as file:line:col, exit 2 if any."""
    _catalog_loaded, loaded = common.system(system, catalog)
    model = loaded.system
    typer.echo(f"{system}: OK: {len(model.components)} components, {len(model.flows)} flows, "
               f"{len(model.boundaries)} boundaries, {len(model.data)} data assets"
               + (f", {len(loaded.warnings)} warnings" if loaded.warnings else ""))


@app.command()
def graph(
    system: Path = common.SystemArgument,
    output_format: GraphFormat = typer.Option(GraphFormat.mermaid, "--format", "-f"),
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Export the data-flow graph as Mermaid, Graphviz DOT, or JSON with its computed facts."""
    from ..graph import DataFlowGraph
    from ..views import graph_export

    catalog_loaded, loaded = common.system(system, catalog)
    text = graph_export(DataFlowGraph(loaded.system, catalog_loaded.catalog), output_format.value)
    common.emit(text, output, f"{output_format.value} graph")


@app.command()
def schema(
    output: Optional[Path] = common.OutputOption,
    report_schema: bool = typer.Option(False, "--report", help="The schema of the JSON report instead."),
) -> None:
    """Print the JSON Schema of the system format (for editors and CI), or of the JSON report."""
    if report_schema:
        from ..report_model import report_json_schema

        common.emit(report_json_schema(), output, "JSON Schema of the report")
        return
    from ..schema import system_json_schema

    common.emit(system_json_schema(), output, "JSON Schema")


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), metavar="DIR", help="Where to write threatmodel.yaml and its schema."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Write a commented starter model and the JSON Schema that editors use to check it."""
    from ..starter import StarterExists, write_starter

    try:
        written = common.guarded(lambda: write_starter(directory, force))
    except StarterExists as exc:
        typer.echo(f"{exc.path}: error: already exists (use --force to overwrite)", err=True)
        raise typer.Exit(common.EXIT_INVALID) from None
    typer.echo(f"wrote {' and '.join(str(p) for p in written)}; next: threatmodel validate {written[0]}")
