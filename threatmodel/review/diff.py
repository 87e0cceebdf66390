"""Compare the findings of two versions of a model (each with its own review, if any)."""

from __future__ import annotations

from typing import Any


def _brief(finding: dict[str, Any]) -> dict[str, Any]:
    return {key: finding[key] for key in ("id", "threat", "title", "element", "severity", "score", "status")}


def diff_reports(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Findings added, resolved (gone), and changed in severity or status; all sorted by id."""
    old = {f["id"]: f for f in before["findings"]}
    new = {f["id"]: f for f in after["findings"]}
    changed = []
    for finding_id in sorted(old.keys() & new.keys()):
        was, now = old[finding_id], new[finding_id]
        fields = [key for key in ("severity", "status", "score") if was[key] != now[key]]
        if fields:
            changed.append({"id": finding_id, "title": now["title"], "element": now["element"],
                            "changes": {key: {"old": was[key], "new": now[key]} for key in fields}})
    return {
        "added": [_brief(new[i]) for i in sorted(new.keys() - old.keys())],
        "resolved": [_brief(old[i]) for i in sorted(old.keys() - new.keys())],
        "changed": changed,
        "unchanged": len(old.keys() & new.keys()) - len(changed),
    }
