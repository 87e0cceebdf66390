"""Every catalog threat, from its fixture (catalog/fixtures/THREAT.yaml): a small system that must
raise it, and a near miss that must not. Adding a threat means adding its fixture file, not
editing this test; `threatmodel catalog validate --test` runs the same fixtures (and a user
catalog's) on any machine."""

from __future__ import annotations

import pytest
import yaml

from threatmodel.catalog.load import load_catalog
from threatmodel.core.resources import catalog_dir
from threatmodel.pipeline import assess
from threatmodel.threat_fixtures import FIXTURE_FOLDER, run_fixtures

FIXTURES = catalog_dir() / FIXTURE_FOLDER


@pytest.fixture(scope="module")
def loaded_catalog():
    return load_catalog()


def test_every_catalog_threat_has_a_fixture_and_every_fixture_passes(loaded_catalog):
    run = run_fixtures(loaded_catalog)
    assert [str(p) for p in run.problems] == []
    assert sorted(run.ran) == sorted(loaded_catalog.catalog.threats)
    assert {p.stem for p in FIXTURES.glob("*.yaml")} == set(loaded_catalog.catalog.threats)


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.stem)
def test_raised_findings_say_why(fixture, tmp_path, loaded_catalog):
    """What the fixture raises comes with its evidence and a score explanation."""
    case = yaml.safe_load(fixture.read_text(encoding="utf-8"))
    model = tmp_path / "raise.yaml"
    model.write_text(yaml.safe_dump(case["raises"]["model"], sort_keys=False), encoding="utf-8")
    finding = next(f for f in assess(model, loaded_catalog, use_default_status=False).findings
                   if f.id == case["raises"]["finding"])
    assert finding.evidence and finding.score.explanation
