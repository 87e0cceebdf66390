"""Text for the review commands (checklist, verify, check), from report data; no analysis here."""

from __future__ import annotations

from typing import Any


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


def check_text(data: dict[str, Any], threshold: str, require_verified: bool = False) -> str:
    """The `check` verdict: what fails the gate at ``threshold`` (review.gate decides)."""
    from threatmodel.renderers.templates import render
    from threatmodel.review.gate import blocking_findings, unverified_findings

    blocking = blocking_findings(data, threshold)
    unverified = unverified_findings(data) if require_verified else []
    return render("check.txt.j2", dict(data, blocking=blocking, threshold=threshold,
                                       require_verified=require_verified, unverified=unverified))


def verification_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per mitigation and component: what the evidence shows."""
    return [{"element": g["element"], "mitigation": i["id"], "owner": i["owner"], "state": i["verification"],
             "text": i["verification_text"], "findings": i["findings"]}
            for g in data["checklist"] for i in g["items"]]


def verify_text(data: dict[str, Any], output_format: str) -> str:
    """What the evidence shows per component and mitigation."""
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    rows = verification_rows(data)
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in data["summary"]["verification"]}
    if output_format == "json":
        return to_json({"system": data["system"]["name"], "review_file": data["review_file"],
                        "max_age_days": data["evidence_max_age_days"], "evidence": data["evidence"],
                        "counts": counts, "mitigations": rows})
    template = "verify.md.j2" if output_format == "md" else "verify.txt.j2"
    return render(template, dict(data, rows=rows, counts=counts))
