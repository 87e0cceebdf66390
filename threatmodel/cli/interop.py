"""`threatmodel import FORMAT FILE -o MODEL`: a draft system model from another tool's file."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import common

app = typer.Typer()


@app.command("import")
def import_command(
    source_format: str = typer.Argument(..., metavar="FORMAT", help="otm, tmbom, threat-dragon, threagile or cyclonedx."),
    source: Path = typer.Argument(..., metavar="FILE", help="The file to import."),
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Import another tool's threat model as a draft system model (with guesses marked), plus a
    review file of the foreign threats that map onto our findings."""
    from .._version import __version__
    from ..adapters import UnknownImportFormat, import_file
    from ..adapters.review_map import map_threats
    from ..renderers.templates import render

    common.note_inputs(source)
    try:
        draft = common.guarded(lambda: import_file(source_format.strip().lower(), source))
    except UnknownImportFormat as exc:
        raise common.fail(str(exc)) from None
    sections = {"boundaries": draft.boundaries, "data": draft.data, "components": draft.components,
                "flows": draft.flows}
    text = render("import.yaml.j2", {"version": __version__, "source_format": draft.source_format,
                                     "source_name": source.name, "system": draft.system, "sections": sections})
    common.emit(text, output, f"draft model, {len(draft.components)} components, {len(draft.flows)} flows, "
                              f"{len(draft.boundaries)} boundaries")
    guesses = sum(len(e.notes) for group in sections.values() for e in group)
    typer.echo(f"import: {guesses} guessed values (marked in comments)", err=True)
    for line in draft.lost:
        typer.echo(f"import: not kept: {line}", err=True)
    if output is None or str(output) == "-":
        if draft.threats:
            typer.echo(f"import: {len(draft.threats)} foreign threats not mapped: give -o to write the model "
                       "and its review file", err=True)
        return
    assessment = common.assess(output, catalog, None, use_default=False)
    entries, unmapped = map_threats(draft, assessment)
    review_path = output.with_name(f"{output.stem}.status.yaml")
    if unmapped:
        typer.echo(f"import: {len(unmapped)} of {len(draft.threats)} foreign threats match no finding of ours "
                   f"(all listed in {review_path.name}):", err=True)
        for line in unmapped[:10]:
            typer.echo(f"import:   {line}", err=True)
        if len(unmapped) > 10:
            typer.echo(f"import:   … and {len(unmapped) - 10} more", err=True)
    if entries or unmapped:
        if review_path.exists():
            typer.echo(f"import: {review_path} exists; not overwritten ({len(entries)} decisions left out)", err=True)
            return
        review = render("import.status.yaml.j2", {"version": __version__, "source_format": draft.source_format,
                                                  "source_name": source.name, "entries": entries,
                                                  "unmapped": unmapped})
        common.emit(review, review_path, f"review file, {len(entries)} imported decisions")
