"""Text for the review commands (checklist, check, diff), from report data; no analysis here."""

from __future__ import annotations

from typing import Any

from threatmodel.core.vocabulary import OPEN_STATUSES, SEVERITY_ORDER


def _by_role(checklist: list[dict[str, Any]], role: str | None) -> list[dict[str, Any]]:
    """The checklist as role -> element -> items (only ``role`` when given), roles in catalog order."""
    from threatmodel.core.vocabulary import OWNER_TITLES
    groups = []
    for owner, title in OWNER_TITLES.items():
        if role is not None and owner != role:
            continue
        elements = [{"element": g["element"], "items": [i for i in g["items"] if i["owner"] == owner]}
                    for g in checklist]
        elements = [g for g in elements if g["items"]]
        if elements or role is not None:
            groups.append({"role": owner, "title": title, "groups": elements})
    return groups


def checklist_text(data: dict[str, Any], output_format: str, role: str | None = None, by_role: bool = False) -> str:
    """The mitigation checklist as Markdown task list ('md'), plain text ('text') or JSON; only one
    owner role's items with ``role``, grouped by role with ``by_role``."""
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    roles = _by_role(data["checklist"], role) if (role or by_role) else None
    if output_format == "json":
        body: dict[str, Any] = {"system": data["system"]["name"], "review_file": data["review_file"]}
        if roles is not None:
            body["roles"] = roles
        else:
            body["checklist"] = data["checklist"]
        return to_json(body)
    return render("checklist.md.j2" if output_format == "md" else "checklist.txt.j2", dict(data, roles=roles))


def blocking_findings(data: dict[str, Any], threshold: str) -> list[dict[str, Any]]:
    """Open or in-progress findings whose residual severity is at least ``threshold`` ('none': none)."""
    floor = SEVERITY_ORDER.get(threshold, 99)
    return [f for f in data["findings"] if f["status"] in OPEN_STATUSES
            and SEVERITY_ORDER[f["residual_severity"]] >= floor]


def unverified_findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings marked mitigated whose mitigations the evidence does not bear out, each with why:
    one is contradicted, or none is verified (only claimed, stale or nothing recorded)."""
    failing = []
    for finding in data["findings"]:
        if finding["status"] != "mitigated":
            continue
        mitigations = finding["mitigations"]
        contradicted = [m for m in mitigations if m["verification"] == "contradicted"]
        if contradicted:
            reasons = [f"{m['id']} {m['verification_text']}" for m in contradicted]
        elif any(m["verification"] == "verified" for m in mitigations):
            continue
        else:
            stale = [f"{m['id']} {m['verification_text']}" for m in mitigations if m["verification"] == "stale"]
            claimed = [m["id"] for m in mitigations if m["verification"] == "claimed"]
            reasons = stale + ([f"claimed without evidence: {', '.join(claimed)}"] if claimed else [])
            if not reasons:
                reasons = ["marked mitigated, but no mitigation is recorded as in place"]
        failing.append({"id": finding["id"], "reasons": reasons,
                        "state": "contradicted" if contradicted else ("stale" if any(
                            m["verification"] == "stale" for m in mitigations) else "claimed")})
    return failing


def gate(data: dict[str, Any], threshold: str, require_verified: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """The `check` verdict text and what fails the gate (findings, and with ``require_verified``
    mitigated findings without verified evidence)."""
    from threatmodel.renderers.templates import render

    blocking = blocking_findings(data, threshold)
    unverified = unverified_findings(data) if require_verified else []
    text = render("check.txt.j2", dict(data, blocking=blocking, threshold=threshold,
                                       require_verified=require_verified, unverified=unverified))
    return text, blocking + unverified


def verify_text(data: dict[str, Any], output_format: str) -> tuple[str, list[str]]:
    """What the evidence shows per component and mitigation, and the contradicted ones (element: mitigation)."""
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    rows = [{"element": g["element"], "mitigation": i["id"], "owner": i["owner"], "state": i["verification"],
             "text": i["verification_text"], "findings": i["findings"]}
            for g in data["checklist"] for i in g["items"]]
    contradicted = [f"{r['mitigation']}@{r['element']}" for r in rows if r["state"] == "contradicted"]
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in data["summary"]["verification"]}
    if output_format == "json":
        return to_json({"system": data["system"]["name"], "review_file": data["review_file"],
                        "max_age_days": data["evidence_max_age_days"], "evidence": data["evidence"],
                        "counts": counts, "mitigations": rows}), contradicted
    template = "verify.md.j2" if output_format == "md" else "verify.txt.j2"
    return render(template, dict(data, rows=rows, counts=counts)), contradicted


def diff_text(before: dict[str, Any], after: dict[str, Any], old_name: str, new_name: str,
              output_format: str) -> tuple[str, dict[str, Any]]:
    from threatmodel.review.diff import diff_reports
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    changes = diff_reports(before, after)
    changes["old"], changes["new"] = old_name, new_name
    return (to_json(changes) if output_format == "json" else render("diff.md.j2", changes)), changes


def new_at_or_above(changes: dict[str, Any], threshold: str) -> list[dict[str, Any]]:
    floor = SEVERITY_ORDER.get(threshold, 99)
    return [f for f in changes["added"] if SEVERITY_ORDER[f["severity"]] >= floor]
