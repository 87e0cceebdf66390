"""Review-workflow commands: checklist, review, check, diff."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common, formats
from threatmodel.core.vocabulary import OWNER_ROLES, THRESHOLDS

app = typer.Typer()


# the choices, spelled once in core.vocabulary
Role = Enum("Role", {role: role for role in OWNER_ROLES}, type=str)  # type: ignore[misc]
Threshold = Enum("Threshold", {name: name for name in THRESHOLDS}, type=str)  # type: ignore[misc]


VerifyFormat = formats.choices("verify")
ChecklistFormat = formats.choices("checklist")
DiffFormat = formats.choices("diff")


@app.command()
def checklist(
    system: Path = common.SystemArgument,
    output_format: ChecklistFormat = formats.option("checklist"),
    output: Optional[Path] = common.OutputOption,
    role: Optional[Role] = typer.Option(None, "--role", help="Only the mitigations this role owns."),
    by_role: bool = typer.Option(False, "--by-role", help="Group by owner role, then by component."),
    status: Optional[Path] = common.StatusOption,
    evidence: Optional[List[Path]] = common.EvidenceOption,
    max_age: Optional[int] = common.MaxAgeOption,
    framework: Optional[str] = common.FrameworkOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """The mitigation checklist, grouped by component, ticked where done (md: a GitHub task list)."""
    data = common.assess(system, catalog, status, evidence=evidence, max_age=max_age,
                         frameworks=framework).report_data()
    text = formats.render("checklist", output_format, data, role=role.value if role else None, by_role=by_role)
    common.emit(text, output, f"{output_format.value} checklist")


@app.command()
def verify(
    system: Path = common.SystemArgument,
    files: Optional[List[Path]] = typer.Argument(None, metavar="[EVIDENCE]...",
                                                 help="Evidence files or folders (as --evidence)."),
    evidence: Optional[List[Path]] = common.EvidenceOption,
    max_age: Optional[int] = common.MaxAgeOption,
    output_format: VerifyFormat = formats.option("verify"),
    output: Optional[Path] = common.OutputOption,
    status: Optional[Path] = common.StatusOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Read scanner and audit outputs (`verify MODEL --evidence FILE...`; a folder means its files): per
    mitigation and component, verified, contradicted, stale, claimed or missing. Exit 1 when evidence
    contradicts a mitigation."""
    import threatmodel

    assessment = common.assess(system, catalog, status, evidence=[*(evidence or []), *(files or [])],
                               max_age=max_age)
    if not assessment.evidence.sources:
        typer.echo("note: no evidence read: give --evidence FILE or list files under 'evidence:' in the review "
                   "file (docs/evidence.md)", err=True)
    data = assessment.report_data()
    text, contradicted = formats.render("verify", output_format, data), threatmodel.contradicted(data)
    common.emit(text, output, f"{output_format.value} verification")
    if contradicted:
        typer.echo(f"{len(contradicted)} mitigation{'s' if len(contradicted) != 1 else ''} contradicted by evidence: "
                   + ", ".join(contradicted[:10]) + (" …" if len(contradicted) > 10 else ""), err=True)
        raise typer.Exit(common.EXIT_GATE)


@app.command()
def review(
    system: Path = common.SystemArgument,
    set_status: Optional[List[str]] = typer.Option(None, "--set", metavar="FINDING=STATUS",
                                                   help="e.g. ML02@training-images=accepted (repeatable)."),
    mitigation: Optional[List[str]] = typer.Option(None, "--mitigation", metavar="MITIGATION[@COMPONENT]=STATE",
                                                   help="e.g. file-audit-logging@model=implemented (repeatable)."),
    why: str = typer.Option("", "--why", metavar="TEXT", help="Justification (required for accepted and false-positive)."),
    evidence: str = typer.Option("", "--evidence", metavar="TEXT", help="Evidence that a mitigation is in place."),
    owner: str = typer.Option("", "--owner", metavar="TEXT"),
    ticket: str = typer.Option("", "--ticket", metavar="TEXT"),
    reviewer: str = typer.Option("", "--reviewer", metavar="TEXT"),
    date: str = typer.Option("", "--date", metavar="YYYY-MM-DD", help="Defaults to today."),
    status: Optional[Path] = common.StatusOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Record decisions in the review file without hand-editing it (comments and order are kept)."""
    import threatmodel
    from threatmodel.core.errors import ChoiceError

    if not set_status and not mitigation:
        raise common.fail("nothing to record: give --set FINDING=STATUS or --mitigation ID=STATE")
    assessment = common.assess(system, catalog, status)
    try:
        path, count = common.guarded(lambda: threatmodel.record_review(
            assessment, set_status or [], mitigation or [], review=status, why=why, evidence=evidence,
            owner=owner, ticket=ticket, reviewer=reviewer, date=date))
    except ChoiceError as exc:
        raise common.fail(str(exc)) from None
    typer.echo(f"recorded {count} decision{'s' if count != 1 else ''} in {path}")


@app.command()
def check(
    system: Path = common.SystemArgument,
    fail_on: Threshold = typer.Option(Threshold["high"], "--fail-on",
                                      help="Fail when an open finding has at least this residual severity."),
    require_verified: bool = typer.Option(False, "--require-verified",
                                          help="Also fail when a finding marked mitigated has no verified mitigation "
                                               "or one that evidence contradicts."),
    status: Optional[Path] = common.StatusOption,
    evidence: Optional[List[Path]] = common.EvidenceOption,
    max_age: Optional[int] = common.MaxAgeOption,
    framework: Optional[str] = common.FrameworkOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """CI gate: exit 1 when an open finding at or above the threshold remains, 0 otherwise, 2 on invalid input."""
    import threatmodel

    data = common.assess(system, catalog, status, evidence=evidence, max_age=max_age,
                         frameworks=framework).report_data()
    text = formats.render("check", "text", data, threshold=fail_on.value, require_verified=require_verified)
    blocking = threatmodel.gate(data, fail_on.value, require_verified)
    typer.echo(text, nl=False)
    if blocking:
        raise typer.Exit(common.EXIT_GATE)


@app.command()
def diff(
    old: Path = typer.Argument(..., metavar="OLD", help="The earlier model."),
    new: Path = typer.Argument(..., metavar="NEW", help="The later model."),
    output_format: DiffFormat = formats.option("diff"),
    output: Optional[Path] = common.OutputOption,
    old_status: Optional[Path] = typer.Option(None, "--old-status", metavar="FILE",
                                              help="Review file for OLD (default: beside it)."),
    new_status: Optional[Path] = typer.Option(None, "--new-status", metavar="FILE",
                                              help="Review file for NEW (default: beside it)."),
    fail_on_new: Threshold = typer.Option(Threshold["none"], "--fail-on-new",
                                          help="Exit 1 when a new finding has at least this severity."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Findings added, resolved, or changed in severity or status between two versions of a model."""
    import threatmodel

    before = common.assess(old, catalog, old_status).report_data()
    after = common.assess(new, catalog, new_status).report_data()
    changes = threatmodel.diff(before, after, str(old), str(new))
    common.emit(formats.render("diff", output_format, changes), output, f"{output_format.value} diff")
    blocking = threatmodel.new_findings(changes, fail_on_new.value)
    if blocking:
        typer.echo(f"--fail-on-new {fail_on_new.value}: {len(blocking)} new finding"
                   f"{'s' if len(blocking) != 1 else ''} at or above {fail_on_new.value}: "
                   + ", ".join(f"{f['id']} ({f['severity']})" for f in blocking), err=True)
        raise typer.Exit(common.EXIT_GATE)
