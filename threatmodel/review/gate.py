"""The gates: what makes `check`, `verify` and `diff` exit 1, decided on report data
(docs/report-json.md), so that a gate and the text it prints agree by construction."""

from __future__ import annotations

from typing import Any

from threatmodel.core.vocabulary import OPEN_STATUSES, SEVERITY_ORDER


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


def gate_failures(data: dict[str, Any], threshold: str, require_verified: bool = False) -> list[dict[str, Any]]:
    """What fails `check`: open findings at or above ``threshold`` and, with ``require_verified``,
    mitigated findings whose evidence does not bear the mitigation out."""
    return blocking_findings(data, threshold) + (unverified_findings(data) if require_verified else [])


def contradicted_mitigations(data: dict[str, Any]) -> list[str]:
    """``mitigation@element`` for every mitigation the evidence contradicts (`verify` exits 1)."""
    return [f"{item['id']}@{group['element']}" for group in data["checklist"] for item in group["items"]
            if item["verification"] == "contradicted"]


def new_at_or_above(changes: dict[str, Any], threshold: str) -> list[dict[str, Any]]:
    """Findings a diff adds at or above ``threshold`` ('none': none)."""
    floor = SEVERITY_ORDER.get(threshold, 99)
    return [f for f in changes["added"] if SEVERITY_ORDER[f["severity"]] >= floor]
