"""Models of systems attacked in public incidents, written from the published accounts: the fix
plan must contain a mitigation that would have stopped the real attack, on the element it hit,
and never a detective control as the cut (tests/fixtures/incidents/, one file per incident)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import threatmodel

INCIDENTS = Path(__file__).parent / "fixtures" / "incidents"

# incident file -> (element the attack hit, mitigations any of which would have stopped it)
STOPPED_BY = {
    "hub-pickle": ("base-model", {"safe-model-serialisation", "trusted-model-sources"}),
    "dependency-confusion": ("pypi-packages", {"dependency-pinning"}),
    "markdown-exfiltration": ("assistant", {"output-encoding"}),
    "chatbot-feedback": ("feedback-store", {"feedback-validation", "training-data-validation"}),
    "issue-injection": ("github-mcp", {"least-privilege-tools", "human-approval-gate"}),
    "leaked-storage-token": ("model-files", {"storage-access-control", "artifact-integrity-verification"}),
    "agent-deletes-database": ("agent", {"human-approval-gate"}),
    "poisoned-release": ("vision-lib", {"dependency-pinning"}),
    "email-zero-click": ("copilot", {"untrusted-content-isolation", "output-encoding"}),
}


@pytest.mark.parametrize("name", sorted(STOPPED_BY))
def test_the_plan_contains_what_would_have_stopped_the_real_attack(name):
    assessment = threatmodel.analyze(INCIDENTS / f"{name}.yaml", review=False)
    plan = json.loads(threatmodel.render(assessment, "json"))["plan"]
    element, stoppers = STOPPED_BY[name]
    placed = {(s["mitigation"], e) for s in plan["steps"] for e in s["elements"]}
    assert any((m, element) in placed for m in stoppers), (name, sorted(placed))
    catalog = assessment.analysis.catalog
    threats = {f.id: f.threat for f in assessment.analysis.findings}
    for step in plan["steps"]:
        if catalog.mitigations[step["mitigation"]].control == "detective":
            assert all("R" in threats[low["finding"]].stride for low in step["lowers"]), step
    assert plan["high_after"] == len(plan["decisions"])


def test_every_incident_model_is_in_the_table():
    assert {p.stem for p in INCIDENTS.glob("*.yaml")} == set(STOPPED_BY)
