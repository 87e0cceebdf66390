"""Review-workflow commands: checklist, review, check, diff. Registered on the main app."""

from __future__ import annotations

import datetime
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .cli import EXIT_INVALID, CatalogOption, OutputOption, StatusOption, _emit, _guarded, _run, app

EXIT_GATE = 1
SEVERITY_CHOICES = ("low", "medium", "high", "critical")


class ChecklistFormat(str, Enum):
    md = "md"
    text = "text"
    json = "json"


class DiffFormat(str, Enum):
    md = "md"
    json = "json"


class Threshold(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"
    none = "none"


def _report_data(result):  # type: ignore[no-untyped-def]
    from .report_data import report_data

    return report_data(result.assessment, review=result.review, review_path=result.review_display)


@app.command()
def checklist(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output_format: ChecklistFormat = typer.Option(ChecklistFormat.md, "--format", "-f"),
    output: Optional[Path] = OutputOption,
    status: Optional[Path] = StatusOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """The mitigation checklist, grouped by component, ticked where done (md: a GitHub task list)."""
    from .render import render, to_json

    data = _report_data(_run(system, catalog, status))
    if output_format is ChecklistFormat.json:
        text = to_json({"system": data["system"]["name"], "review_file": data["review_file"],
                        "checklist": data["checklist"]})
    else:
        text = render("checklist.md.j2" if output_format is ChecklistFormat.md else "checklist.txt.j2", data)
    _emit(text, output)


@app.command()
def review(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    set_status: Optional[List[str]] = typer.Option(None, "--set", help="FINDING=STATUS, e.g. ML02@training-images=accepted (repeatable)."),
    mitigation: Optional[List[str]] = typer.Option(None, "--mitigation", help="MITIGATION[@COMPONENT]=STATE, e.g. file-audit-logging@model=implemented."),
    why: str = typer.Option("", "--why", help="Justification (required for accepted and false-positive)."),
    evidence: str = typer.Option("", "--evidence", help="Evidence that a mitigation is in place."),
    owner: str = typer.Option("", "--owner"),
    ticket: str = typer.Option("", "--ticket"),
    reviewer: str = typer.Option("", "--reviewer"),
    date: str = typer.Option("", "--date", help="Defaults to today."),
    status: Optional[Path] = StatusOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """Record decisions in the review file without hand-editing it (comments and order are kept)."""
    from .review import (FindingStatus, MitigationState, NEEDS_JUSTIFICATION, default_status_path)
    from .review_edit import update_review

    if not set_status and not mitigation:
        typer.echo("error: nothing to record: give --set FINDING=STATUS or --mitigation ID=STATE", err=True)
        raise typer.Exit(EXIT_INVALID)
    result = _run(system, catalog, status)
    path = status or default_status_path(system) or system.with_name(f"{system.stem}.status.yaml")
    finding_ids = {f.id for f in result.assessment.findings}
    day = date or datetime.date.today().isoformat()
    changes: list[tuple[str, str, dict[str, str]]] = []
    for item in set_status or []:
        key, _, value = item.partition("=")
        if not _ or value not in FindingStatus.model_fields["status"].annotation.__args__:  # type: ignore[union-attr]
            typer.echo(f"error: --set {item}: expected FINDING=STATUS with STATUS one of open, in-progress, "
                       "mitigated, accepted, false-positive, not-applicable", err=True)
            raise typer.Exit(EXIT_INVALID)
        if "*" not in key and "?" not in key and key not in finding_ids:
            from .errors import did_you_mean

            typer.echo(f"error: no finding '{key}' in {system}{did_you_mean(key, finding_ids)}", err=True)
            raise typer.Exit(EXIT_INVALID)
        if value in NEEDS_JUSTIFICATION and not why.strip():
            typer.echo(f"error: status '{value}' needs a justification: add --why \"…\"", err=True)
            raise typer.Exit(EXIT_INVALID)
        changes.append(("findings", key, {"status": value, "justification": why, "owner": owner,
                                          "ticket": ticket, "date": day, "reviewer": reviewer}))
    for item in mitigation or []:
        key, _, value = item.partition("=")
        mitigation_id = key.split("@", 1)[0]
        if not _ or value not in MitigationState.model_fields["state"].annotation.__args__:  # type: ignore[union-attr]
            typer.echo(f"error: --mitigation {item}: expected ID[@COMPONENT]=STATE with STATE one of "
                       "implemented, partial, planned, not-applicable", err=True)
            raise typer.Exit(EXIT_INVALID)
        if mitigation_id not in result.catalog.catalog.mitigations:
            typer.echo(f"error: unknown mitigation '{mitigation_id}'", err=True)
            raise typer.Exit(EXIT_INVALID)
        changes.append(("mitigations", key, {"state": value, "evidence": evidence, "owner": owner,
                                             "ticket": ticket, "date": day}))
    for section, key, values in changes:
        _guarded(lambda: update_review(path, section, key, values))
    typer.echo(f"recorded {len(changes)} decision{'s' if len(changes) != 1 else ''} in {path}")


@app.command()
def check(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    fail_on: Threshold = typer.Option(Threshold.high, "--fail-on", help="Fail when an open finding has at least this residual severity."),
    status: Optional[Path] = StatusOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """CI gate: exit 1 when an open finding at or above the threshold remains, 0 otherwise, 2 on invalid input."""
    from .render import render
    from .scoring import SEVERITY_ORDER

    data = _report_data(_run(system, catalog, status))
    threshold = SEVERITY_ORDER.get(fail_on.value, 99)
    blocking = [f for f in data["findings"] if f["status"] in ("open", "in-progress")
                and SEVERITY_ORDER[f["residual_severity"]] >= threshold]
    typer.echo(render("check.txt.j2", dict(data, blocking=blocking, threshold=fail_on.value)), nl=False)
    if blocking:
        raise typer.Exit(EXIT_GATE)


@app.command()
def diff(
    old: Path = typer.Argument(..., help="The earlier model."),
    new: Path = typer.Argument(..., help="The later model."),
    output_format: DiffFormat = typer.Option(DiffFormat.md, "--format", "-f"),
    output: Optional[Path] = OutputOption,
    old_status: Optional[Path] = typer.Option(None, "--old-status", help="Review file for OLD (default: beside it)."),
    new_status: Optional[Path] = typer.Option(None, "--new-status", help="Review file for NEW (default: beside it)."),
    fail_on_new: Threshold = typer.Option(Threshold.none, "--fail-on-new", help="Exit 1 when a new finding has at least this severity."),
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """Findings added, resolved, or changed in severity or status between two versions of a model."""
    from .diff import diff_reports
    from .render import render, to_json
    from .scoring import SEVERITY_ORDER

    before = _report_data(_run(old, catalog, old_status))
    after = _report_data(_run(new, catalog, new_status))
    changes = diff_reports(before, after)
    changes["old"], changes["new"] = str(old), str(new)
    text = to_json(changes) if output_format is DiffFormat.json else render("diff.md.j2", changes)
    _emit(text, output)
    threshold = SEVERITY_ORDER.get(fail_on_new.value, 99)
    if any(SEVERITY_ORDER[f["severity"]] >= threshold for f in changes["added"]):
        raise typer.Exit(EXIT_GATE)
