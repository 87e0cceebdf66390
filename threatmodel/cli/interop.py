"""`threatmodel import FORMAT FILE -o MODEL`: a draft system model from another tool's file."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common, formats

app = typer.Typer()


@app.command("import")
def import_command(
    source_format: str = typer.Argument(..., metavar="FORMAT", help="otm, tmbom, threat-dragon, threagile or cyclonedx."),
    source: Path = typer.Argument(..., metavar="FILE", help="The file to import."),
    output: Optional[Path] = common.OutputOption,
    force: bool = typer.Option(False, "--force", help="Replace an existing model file (and its review file)."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Import another tool's threat model as a draft system model (with guesses marked), plus a
    review file of the foreign threats that map onto our findings."""
    import threatmodel
    from threatmodel.core.errors import ChoiceError

    common.note_inputs(source)
    writing = output is not None and str(output) != "-"
    common.refuse_to_replace(output, force, "an imported draft")
    loaded_catalog = common.catalog(catalog)
    try:
        draft = common.guarded(lambda: threatmodel.import_model(source_format, source, loaded_catalog))
    except ChoiceError as exc:
        raise common.fail(str(exc)) from None
    text = formats.render("import", "yaml", draft, source_name=source.name)
    common.check_draft(text, output if writing else None, catalog)
    common.emit(text, output, f"draft model, {common.counted(len(draft.components), 'component')}, "
                              f"{common.counted(len(draft.flows), 'flow')}, "
                              f"{common.counted(len(draft.boundaries), 'boundary', 'boundaries')}")
    guesses = sum(len(e.notes) for group in (draft.boundaries, draft.data, draft.components, draft.flows) for e in group)
    typer.echo(f"import: {guesses} guessed values (marked in comments)", err=True)
    for line in draft.lost:
        common.say("import: not kept:", line)
    if not writing:
        if draft.threats:
            typer.echo(f"import: {len(draft.threats)} foreign threats not mapped: give -o to write the model "
                       "and its review file", err=True)
        return
    assessment = common.assess(output, catalog, None, use_default=False)
    mapping = threatmodel.map_foreign_threats(draft, assessment)
    review_path = output.with_name(f"{output.stem}.status.yaml")
    matched = len(draft.threats) - len(mapping.unmapped)
    if draft.threats:
        typer.echo(f"import: {matched} of {len(draft.threats)} foreign threats land on findings of ours", err=True)
    if mapping.unmapped:
        typer.echo(f"import: {len(mapping.unmapped)} match no finding of ours (all listed in {review_path.name}):", err=True)
        for line in mapping.unmapped[:10]:
            common.say("import:  ", line)
        if len(mapping.unmapped) > 10:
            typer.echo(f"import:   … and {len(mapping.unmapped) - 10} more", err=True)
    if mapping.entries or mapping.unmapped or mapping.mitigations:
        if review_path.exists() and not force:
            typer.echo(f"import: {review_path} exists; not overwritten ({len(mapping.entries)} decisions left out; "
                       "give --force to replace it)", err=True)
            return
        review = formats.render("import review", "yaml", mapping, draft=draft, source_name=source.name)
        common.emit(review, review_path, f"review file, {len(mapping.entries)} imported decisions")
