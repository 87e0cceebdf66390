"""`threatmodel report`: the threat report in any registered output format."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common
from threatmodel.cli.formats import format_help, resolve_format

app = typer.Typer()


@app.command()
def report(
    system: Path = common.SystemArgument,
    output_format: Optional[str] = typer.Option(None, "--format", "-f", metavar="FORMAT", help=format_help()),
    output: Optional[Path] = common.OutputOption,
    template: Optional[Path] = typer.Option(None, "--template", metavar="DIR",
                                            help="A folder of templates that override the built-in ones."),
    status: Optional[Path] = common.StatusOption,
    residual: bool = typer.Option(False, "--residual",
                                  help="atlas-layer: only findings still open after the review, by residual risk."),
    evidence: Optional[List[Path]] = common.EvidenceOption,
    max_age: Optional[int] = common.MaxAgeOption,
    framework: Optional[str] = common.FrameworkOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Analyse a system and write its threat report (format from --format, else from -o's extension, else md
    on standard output)."""
    from threatmodel.renderers.registry import RenderOptions

    common.note_inputs(system, status, *(evidence or []), *(catalog or []))
    if output is not None and str(output) != "-" and common.is_input(output):
        common.emit("", output)  # refused there, with the reason
    chosen = resolve_format(output_format, output)
    if template is not None and not template.is_dir():
        typer.echo(f"{template}: error: --template must be a folder of templates", err=True)
        raise typer.Exit(common.EXIT_INVALID)
    assessment = common.assess(system, catalog, status, evidence=evidence, max_age=max_age, frameworks=framework)
    options = RenderOptions(template_dir=template, residual=residual)
    rendered = common.guarded(lambda: chosen.render(assessment, options))
    for note in options.notes:
        typer.echo(f"note: {note}", err=True)
    common.emit(rendered, output, f"{chosen.name} report, {common.counted(len(assessment.findings), 'finding')}")
