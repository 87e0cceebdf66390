"""Models of public systems written from their published architecture, not from the bundled
examples (tests/fixtures/systems/NAME.yaml). Beside each, NAME.expect.yaml says what a reviewer
must see raised (and how severe), what must not be raised, and why; the test reads only that
file, so adding a system is adding two files.

Keys of an expect file: ``source`` (where the architecture is published), ``must_raise``
(finding, optional ``at_least`` or ``at_most`` severity, why), ``must_not_raise`` (finding, why),
``never_attacker`` (an actor that must start no attack path), ``first_actor`` (the actor a
finding's attack path must start at) and ``plan_never`` (a mitigation the fix plan must not
place on an element)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import threatmodel
from threatmodel.pipeline import assess

from .conftest import EXAMPLES

SYSTEMS = Path(__file__).parent / "fixtures" / "systems"
ORDER = ["info", "low", "medium", "high", "critical"]


def _systems() -> list[str]:
    return sorted(p.name[: -len(".expect.yaml")] for p in SYSTEMS.glob("*.expect.yaml"))


def test_every_system_has_its_expectations():
    models = {p.stem for p in SYSTEMS.glob("*.yaml") if not p.name.endswith(".expect.yaml")}
    assert models == set(_systems())
    assert len(models) >= 6


@pytest.mark.parametrize("name", _systems())
def test_a_reviewer_would_agree_with_the_report(name):
    expect = yaml.safe_load((SYSTEMS / f"{name}.expect.yaml").read_text(encoding="utf-8"))
    assert expect["source"] and expect["must_raise"]
    assessment = assess(SYSTEMS / f"{name}.yaml", use_default_status=False)
    found = {f.id: f for f in assessment.analysis.findings}
    for item in expect["must_raise"]:
        assert item["finding"] in found, (name, item, sorted(found))
        severity = found[item["finding"]].score.severity
        if "at_least" in item:
            assert ORDER.index(severity) >= ORDER.index(item["at_least"]), (name, item, severity)
        if "at_most" in item:  # raised, and lowered by a control the model declares
            assert ORDER.index(severity) <= ORDER.index(item["at_most"]), (name, item, severity)
    for item in expect.get("must_not_raise", []):
        assert item["finding"] not in found, (name, item)
    for item in expect.get("never_attacker", []):
        starting = [f.id for f in found.values() if f.attack_path[:1] == (item["actor"],)]
        assert not starting, (name, item, starting)
    for item in expect.get("first_actor", []):
        assert found[item["finding"]].attack_path[0] == item["actor"], (name, item, found[item["finding"]].attack_path)
    if expect.get("plan_never"):
        plan = json.loads(threatmodel.render(assessment, "json"))["plan"]
        placed = {(s["mitigation"], e) for s in plan["steps"] for e in s["elements"]}
        for item in expect["plan_never"]:
            assert (item["mitigation"], item["element"]) not in placed, (name, item)


def test_at_most_half_of_all_findings_are_high_or_critical():
    """Across these systems, the bundled examples and the incident models: a report where most
    findings are high ranks nothing."""
    models = [SYSTEMS / f"{name}.yaml" for name in _systems()]
    models += sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".status.yaml"))
    models += sorted((SYSTEMS.parent / "incidents").glob("*.yaml"))
    severities = [f.score.severity for path in models
                  for f in assess(path, use_default_status=False).analysis.findings]
    high = sum(s in ("high", "critical") for s in severities)
    assert severities and high * 2 <= len(severities), (high, len(severities))
