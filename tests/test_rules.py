"""Every catalog threat, from its fixture (tests/fixtures/threats/THREAT.yaml): a small system
that must raise it, and a near miss that must not. Adding a threat means adding its fixture
file, not editing this test."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from threatmodel.pipeline import assess
from threatmodel.catalog.load import load_catalog

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "threats"


def _fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*.yaml"))


def _write(tmp_path: Path, name: str, model: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(model, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def loaded_catalog():
    return load_catalog()


def test_every_catalog_threat_has_a_fixture(loaded_catalog):
    assert {p.stem for p in _fixtures()} == set(loaded_catalog.catalog.threats)


@pytest.mark.parametrize("fixture", _fixtures(), ids=lambda p: p.stem)
def test_rule_raises_and_near_misses(fixture, tmp_path, loaded_catalog):
    case = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    threat = case["threat"]
    raised = assess(_write(tmp_path, "raise.yaml", case["raises"]["model"]), loaded_catalog, use_default_status=False)
    assert case["raises"]["finding"] in {f.id for f in raised.findings}, (
        f"{fixture.name}: expected {case['raises']['finding']}; raised {sorted(f.id for f in raised.findings)}; "
        f"not applicable: {[(n.threat.id, n.reasons) for n in raised.analysis.not_applicable if n.threat.id == threat]}")
    finding = next(f for f in raised.findings if f.id == case["raises"]["finding"])
    assert finding.evidence and finding.score.explanation
    missed = assess(_write(tmp_path, "miss.yaml", case["near_miss"]["model"]), loaded_catalog, use_default_status=False)
    assert not [f.id for f in missed.findings if f.threat.id == threat], case["near_miss"]["why"]
    assert threat in {n.threat.id for n in missed.analysis.not_applicable}
