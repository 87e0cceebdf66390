"""Text for the review commands (checklist, check, diff), from report data; no analysis here."""

from __future__ import annotations

from typing import Any

from .scoring import SEVERITY_ORDER


def checklist_text(data: dict[str, Any], output_format: str) -> str:
    """The mitigation checklist as Markdown task list ('md'), plain text ('text') or JSON."""
    from .renderers.jsonout import to_json
    from .renderers.templates import render

    if output_format == "json":
        return to_json({"system": data["system"]["name"], "review_file": data["review_file"],
                        "checklist": data["checklist"]})
    return render("checklist.md.j2" if output_format == "md" else "checklist.txt.j2", data)


def blocking_findings(data: dict[str, Any], threshold: str) -> list[dict[str, Any]]:
    """Open or in-progress findings whose residual severity is at least ``threshold`` ('none': none)."""
    floor = SEVERITY_ORDER.get(threshold, 99)
    return [f for f in data["findings"] if f["status"] in ("open", "in-progress")
            and SEVERITY_ORDER[f["residual_severity"]] >= floor]


def gate(data: dict[str, Any], threshold: str) -> tuple[str, list[dict[str, Any]]]:
    """The `check` verdict text and the findings that fail the gate."""
    from .renderers.templates import render

    blocking = blocking_findings(data, threshold)
    return render("check.txt.j2", dict(data, blocking=blocking, threshold=threshold)), blocking


def diff_text(before: dict[str, Any], after: dict[str, Any], old_name: str, new_name: str,
              output_format: str) -> tuple[str, dict[str, Any]]:
    from .diff import diff_reports
    from .renderers.jsonout import to_json
    from .renderers.templates import render

    changes = diff_reports(before, after)
    changes["old"], changes["new"] = old_name, new_name
    return (to_json(changes) if output_format == "json" else render("diff.md.j2", changes)), changes


def new_at_or_above(changes: dict[str, Any], threshold: str) -> list[dict[str, Any]]:
    floor = SEVERITY_ORDER.get(threshold, 99)
    return [f for f in changes["added"] if SEVERITY_ORDER[f["severity"]] >= floor]
