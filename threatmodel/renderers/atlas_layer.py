"""An ATLAS Navigator layer (layer format 4.5, domain ``atlas-atlas``) of a report's findings.

Each ATLAS technique that a finding maps to is scored by the highest finding score (1-25) that
maps to it, its comment lists those findings, and its metadata their elements and STRIDE
letters. With ``residual`` the layer covers only findings still open after the review, scored by
residual risk. Following ATLAS's own layers, a technique is written once per tactic, and a
sub-technique without a tactic under a parent that shows its sub-techniques.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from threatmodel._version import __version__
from threatmodel.core.vocabulary import OPEN_STATUSES
from threatmodel.renderers.jsonout import to_json
from threatmodel.renderers.registry import RenderOptions
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment

LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "4.9.1"  # the oldest Navigator that reads layer format 4.5
SEVERITY_COLOURS = (("low", "#ffe766"), ("medium", "#ffb000"), ("high", "#ff6d00"), ("critical", "#d50000"))


def tactic_shortname(name: str) -> str:
    """The Navigator's name for a tactic: 'AI Attack Staging' → 'ai-attack-staging'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def atlas_layer(assessment: "Assessment", residual: bool = False) -> dict[str, Any]:
    data = assessment_data(assessment)
    atlas = assessment.catalog.catalog.atlas
    scored: dict[str, list[dict[str, Any]]] = {}
    for finding in data["findings"]:
        if residual and finding["status"] not in OPEN_STATUSES:
            continue
        for technique in finding["atlas"]:
            scored.setdefault(technique["id"], []).append(finding)

    def score(findings: list[dict[str, Any]]) -> int:
        return max(f["residual_score"] if residual else f["score"] for f in findings)

    def annotation(technique_id: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
        ordered = sorted(findings, key=lambda f: (-(f["residual_score"] if residual else f["score"]), f["id"]))
        return {
            "score": score(findings),
            "comment": "; ".join(f"{f['id']} ({f['residual_severity'] if residual else f['severity']})"
                                 for f in ordered),
            "metadata": [{"name": "finding", "value": f"{f['id']}: {f['title']} on {f['element']}, "
                                                      f"STRIDE {''.join(f['stride'])}, {f['status']}"}
                         for f in ordered],
        }

    entries: list[dict[str, Any]] = []
    parents_shown: set[str] = set()
    for technique_id in sorted(scored):
        entry = atlas.get(technique_id)
        parent = getattr(entry, "parent", None)
        if parent:
            entries.append({"techniqueID": technique_id, **annotation(technique_id, scored[technique_id])})
            parents_shown.add(parent)
        else:
            for tactic in atlas.tactics_of(technique_id):
                entries.append({"techniqueID": technique_id, "tactic": tactic_shortname(tactic.name),
                                **annotation(technique_id, scored[technique_id])})
    for parent in sorted(parents_shown):
        for tactic in atlas.tactics_of(parent):
            existing = next((e for e in entries if e["techniqueID"] == parent
                             and e.get("tactic") == tactic_shortname(tactic.name)), None)
            if existing is not None:
                existing["showSubtechniques"] = True
            else:
                entries.append({"techniqueID": parent, "tactic": tactic_shortname(tactic.name),
                                "showSubtechniques": True})
    entries.sort(key=lambda e: (e["techniqueID"], e.get("tactic", "")))
    system = data["system"]["name"]
    what = "open findings after the review, by residual risk" if residual else "findings, by risk score"
    return {
        "name": f"threatmodel: {system}" + (" (residual)" if residual else ""),
        "versions": {"layer": LAYER_VERSION, "navigator": NAVIGATOR_VERSION},
        "domain": "atlas-atlas",
        "description": f"ATLAS techniques of the {what} of {system} (threatmodel {__version__}). "
                       "Each technique's score is the highest score (likelihood × impact, 1-25) of the "
                       "findings that map to it; its comment lists them.",
        "sorting": 3,
        "layout": {"layout": "side", "showID": True, "showName": True, "showAggregateScores": False},
        "hideDisabled": False,
        "techniques": entries,
        "gradient": {"colors": ["#ffe766", "#ffb000", "#ff6d00", "#d50000"], "minValue": 1, "maxValue": 25},
        "legendItems": [{"label": f"{name} (score {low}-{high})", "color": colour}
                        for (name, colour), (low, high) in zip(SEVERITY_COLOURS, ((1, 5), (6, 11), (12, 19), (20, 25)))],
        "metadata": [{"name": "atlas_data_version", "value": data["atlas_version"]},
                     {"name": "generator", "value": f"threatmodel {__version__}"},
                     {"name": "system", "value": system},
                     {"name": "layer", "value": "residual" if residual else "all findings"}],
    }


def render_atlas_layer(assessment: "Assessment", options: RenderOptions) -> str:
    return to_json(atlas_layer(assessment, residual=options.residual))
