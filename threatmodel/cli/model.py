"""`validate`, `graph`, `schema`, `init`: working with the system model itself."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common, formats

app = typer.Typer()


GraphFormat = formats.choices("graph")


@app.command()
def validate(
    system: Path = common.SystemArgument,
    strict: bool = typer.Option(False, "--strict", help="Also fail (exit 1) while the model leaves open questions."),
    status: Optional[Path] = common.StatusOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Check a system model (and its review file) as `report` would: every problem at once as
    file:line:col, exit 2 if any; with --strict, exit 1 while open questions remain."""
    assessment = common.assess(system, catalog, status)
    model = assessment.system.system
    questions = assessment.analysis.open_questions
    counts = [common.counted(len(model.components), "component"), common.counted(len(model.flows), "flow"),
              common.counted(len(model.boundaries), "boundary", "boundaries"),
              common.counted(len(model.data), "data asset"), common.counted(len(assessment.findings), "finding"),
              common.counted(len(questions), "open question")]
    if assessment.warnings:
        counts.append(common.counted(len(assessment.warnings), "warning"))
    typer.echo(f"{system}: OK: {', '.join(counts)}")
    if strict and questions:
        locations = assessment.system.locations
        for question in questions:
            where = locations.get(question.element, system)
            typer.echo(f"{where}: open question: {question.question}", err=True)
        typer.echo(f"--strict: {len(questions)} open question{'s' if len(questions) != 1 else ''}; "
                   "state the attributes in the model to answer them", err=True)
        raise typer.Exit(common.EXIT_GATE)


@app.command()
def graph(
    system: Path = common.SystemArgument,
    output_format: GraphFormat = formats.option("graph"),
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Export the data-flow graph as Mermaid, Graphviz DOT, or JSON with its computed facts."""
    import threatmodel

    catalog_loaded, loaded = common.system(system, catalog)
    text = formats.render("graph", output_format, threatmodel.dataflow_graph(loaded, catalog_loaded))
    common.emit(text, output, f"{output_format.value} graph")


@app.command()
def schema(
    output: Optional[Path] = common.OutputOption,
    report_schema: bool = typer.Option(False, "--report", help="The schema of the JSON report instead."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Print the JSON Schema of the system format (for editors and CI), or of the JSON report.

    The system schema lists the kinds and model formats of the catalog in use, so one written with
    --catalog knows the ones a user catalog adds."""
    import threatmodel

    if report_schema:
        common.emit(threatmodel.report_schema(), output, "JSON Schema of the report")
        return
    common.emit(threatmodel.system_schema(common.catalog(catalog)), output, "JSON Schema")


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), metavar="DIR", help="Where to write threatmodel.yaml and its schema."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    example: Optional[str] = typer.Option(None, "--example", metavar="NAME",
                                          help="Copy a bundled example model and its review file (huskyai, rag-chatbot, coding-agent, "
                                               "face-recognition, fraud-feedback, hub-finetune), or an example ML project to "
                                               "discover (fraud-scorer), instead."),
) -> None:
    """Write a commented starter model (or a copy of a bundled example) and its JSON Schema."""
    import threatmodel
    from threatmodel.core.errors import ChoiceError

    try:
        written = common.guarded(lambda: threatmodel.init_project(directory, example, force))
    except ChoiceError as exc:
        raise common.fail(str(exc)) from None
    except threatmodel.StarterExists as exc:
        typer.echo(f"{exc.path}: error: already exists (use --force to overwrite)", err=True)
        raise typer.Exit(common.EXIT_INVALID) from None
    if example is not None and threatmodel.bundled_examples()[example] == "project":
        typer.echo(f"wrote {len(written)} files of an example ML project into {directory}; next: "
                   f"threatmodel discover {directory} -o {directory.name}.yaml")
        return
    typer.echo(f"wrote {' and '.join(str(p) for p in written)}; next: threatmodel validate {written[0]}")
