"""`threatmodel discover PATH`: draft a model from an ML project; `threatmodel drift MODEL PATH`:
fail when the model no longer matches the project."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common

app = typer.Typer()

MlflowOption = typer.Option(None, "--mlflow", metavar="URI",
                            help="Also read this MLflow tracking / registry URI (sqlite:///…, http://…, a folder); "
                                 "needs pip install 'threatmodel[mlflow]'.")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def snapshot_path(model: Path) -> Path:
    from threatmodel.discover.draft import snapshot_path as beside

    return beside(model)


@app.command("discover")
def discover_command(
    path: Path = typer.Argument(..., metavar="PATH", help="The project folder to read."),
    mlflow: Optional[str] = MlflowOption,
    output: Optional[Path] = common.OutputOption,
    force: bool = typer.Option(False, "--force", help="Replace an existing model file."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Draft a system model from an ML project as it is: pipelines, model files, datasets, notebooks,
    code, dependencies, serving manifests and (with --mlflow) the model registry. With -o, also
    writes MODEL.discovered.json, which `threatmodel drift` compares with later."""
    from threatmodel._version import __version__
    from threatmodel.discover import discover
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    writing = output is not None and str(output) != "-"
    common.refuse_to_replace(output, force, "a drafted model")
    found = common.guarded(lambda: discover(path, mlflow, output))
    draft = found.draft
    sections = {"boundaries": draft.boundaries, "data": draft.data, "components": draft.components, "flows": draft.flows}
    project = found.inventory.project
    text = render("discover.yaml.j2", {
        "version": __version__, "source_name": project.root.name, "system": draft.system, "sections": sections,
        "warnings": found.warnings, "questions": found.questions, "skipped": draft.lost,
        "skipped_count": project.skipped_count + (len(draft.lost) - len(project.skipped))})
    common.check_draft(text, output if writing else None, catalog)
    common.emit(text, output, f"draft model, {common.counted(len(draft.components), 'component')}, {common.counted(len(draft.flows), 'flow')}")
    if writing:
        common.emit(to_json(found.snapshot), snapshot_path(output), "what discover saw, for threatmodel drift")
    guesses = sum(len(e.notes) for e in draft.components)
    typer.echo(f"discover: {_count(len(project.files), 'file')} listed, {_count(guesses, 'guessed value')} "
               f"(marked in comments), {_count(len(found.questions), 'question')}, "
               f"{_count(len(found.warnings), 'thing')} to check", err=True)
    for line in found.warnings[:20]:
        typer.echo(f"discover: {line}", err=True)
    if len(found.warnings) > 20:
        typer.echo(f"discover: … and {len(found.warnings) - 20} more (listed in the draft's header)", err=True)


@app.command("drift")
def drift_command(
    model: Path = common.SystemArgument,
    path: Path = typer.Argument(..., metavar="PATH", help="The project folder the model describes."),
    mlflow: Optional[str] = MlflowOption,
    fail_on: str = typer.Option("any", "--fail-on", metavar="WHAT",
                                help="Exit 1 on this drift: added, changed (changed or removed) or any."),
    snapshot: Optional[Path] = typer.Option(None, "--snapshot", metavar="FILE",
                                            help="What discover saw last time (default: MODEL.discovered.json "
                                                 "beside the model, when present)."),
    output_format: str = typer.Option("text", "--format", "-f", metavar="FORMAT", help="text, md, json or sarif."),
    output: Optional[Path] = common.OutputOption,
    accept: bool = typer.Option(False, "--accept", help="Afterwards, record the project as it is now as the new "
                                                        "snapshot (once the model is updated)."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Compare a model with the project it describes: what is new in the project, what changed
    (hashes, formats, trust_remote_code, pinning, exposure) and what is gone. Exit 1 on drift at
    --fail-on."""
    from threatmodel.discover import inventory_of
    from threatmodel.discover.drift import THRESHOLDS, compare, read_snapshot
    from threatmodel.renderers.drift import FORMATS, render_drift

    if fail_on not in THRESHOLDS:
        raise common.fail(f"--fail-on must be one of {', '.join(THRESHOLDS)} (got '{fail_on}')")
    if output_format not in FORMATS:
        raise common.fail(f"--format must be one of {', '.join(FORMATS)} (got '{output_format}')")
    _, loaded = common.system(model, catalog)
    baseline = snapshot if snapshot is not None else snapshot_path(model)
    previous = None
    if snapshot is not None or baseline.exists():
        common.note_inputs(baseline)
        previous = common.guarded(lambda: read_snapshot(baseline))
    inventory = common.guarded(lambda: inventory_of(path, mlflow))
    report = compare(loaded.system, model, inventory, previous, str(baseline) if previous else "")
    threshold = fail_on
    common.emit(render_drift(report, output_format, threshold), output,
                f"drift, {len(report.items)} item{'s' if len(report.items) != 1 else ''}")
    if accept:
        from threatmodel.discover.draft import build_draft, relative_base, snapshot as take_snapshot
        from threatmodel.renderers.jsonout import to_json

        _, ids = build_draft(inventory, relative_base(model), loaded.system.info.name)
        known = {c.id for c in loaded.system.components}
        if previous:
            for key, item in previous["items"].items():
                if key in ids and isinstance(item, dict) and item.get("id") in known:
                    ids[key] = str(item["id"])  # keep the model's own names for what it already declares
        common.reset_inputs()
        common.emit(to_json(take_snapshot(inventory, ids)), baseline, "the project as it is now")
    if report.failing(threshold):
        raise typer.Exit(common.EXIT_GATE)
