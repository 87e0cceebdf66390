"""`threatmodel discover PATH`: draft a model from an ML project; `threatmodel drift MODEL PATH`:
fail when the model no longer matches the project."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common, formats

DriftFormat = formats.choices("drift")

app = typer.Typer()

MlflowOption = typer.Option(None, "--mlflow", metavar="URI",
                            help="Also read this MLflow tracking / registry URI (sqlite:///…, http://…, a folder); "
                                 "needs pip install 'threatmodel[mlflow]'.")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


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
    import threatmodel

    writing = output is not None and str(output) != "-"
    common.refuse_to_replace(output, force, "a drafted model")
    found = common.guarded(lambda: threatmodel.discover_project(path, mlflow, output))
    draft = found.draft
    project = found.inventory.project
    text = formats.render("discover", "yaml", found)
    common.check_draft(text, output if writing else None, catalog)
    common.emit(text, output, f"draft model, {common.counted(len(draft.components), 'component')}, {common.counted(len(draft.flows), 'flow')}")
    if writing:
        common.emit(formats.render("discover snapshot", "json", found), threatmodel.snapshot_path(output), "what discover saw, for threatmodel drift")
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
    output_format: DriftFormat = formats.option("drift"),
    output: Optional[Path] = common.OutputOption,
    accept: bool = typer.Option(False, "--accept", help="Afterwards, record the project as it is now as the new "
                                                        "snapshot (once the model is updated)."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Compare a model with the project it describes: what is new in the project, what changed
    (hashes, formats, trust_remote_code, pinning, exposure) and what is gone. Exit 1 on drift at
    --fail-on."""
    import threatmodel
    from threatmodel.core.vocabulary import DRIFT_THRESHOLDS

    if fail_on not in DRIFT_THRESHOLDS:
        raise common.fail(f"--fail-on must be one of {', '.join(DRIFT_THRESHOLDS)} (got '{fail_on}')")
    _, loaded = common.system(model, catalog)
    baseline = snapshot if snapshot is not None else threatmodel.snapshot_path(model)
    if snapshot is not None or baseline.exists():
        common.note_inputs(baseline)
    report = common.guarded(lambda: threatmodel.drift(loaded, path, snapshot, mlflow))
    threshold = fail_on
    common.emit(formats.render("drift", output_format, report, threshold=threshold), output,
                f"drift, {len(report.items)} item{'s' if len(report.items) != 1 else ''}")
    if accept:
        common.reset_inputs()
        common.emit(threatmodel.accept_drift(report), baseline, "the project as it is now")
    if report.failing(threshold):
        raise typer.Exit(common.EXIT_GATE)
