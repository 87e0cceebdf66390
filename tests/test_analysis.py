"""Analysis: Husky AI's threats come back, each catalog rule raises and near-misses, noise control."""

from __future__ import annotations

import pytest

from threatmodel.analysis import analyse
from threatmodel.errors import InputError
from threatmodel.graph import DataFlowGraph
from threatmodel.system_load import load_system

from .conftest import EXAMPLES


def assess(catalog, path):
    loaded = load_system(path, catalog.kinds)
    return analyse(catalog, DataFlowGraph(loaded.system, catalog.kinds), loaded.exclusion_locations)


@pytest.fixture(scope="module")
def husky(catalog):
    return assess(catalog, EXAMPLES / "huskyai.yaml")


HUSKY_EXPECTED = {
    # the author's list: perturbation through the public API
    "ML01@web-server": "T",
    # theft of the model file (and extraction through the API)
    "ML05@model-file": "I", "ML05@production-model": "I", "ML05@web-server": "I",
    # a backdoored or replaced model file, and the repudiation of that change
    "ML10@model-file": "T", "ML10@production-model": "T",
    "ARTIFACT-REPUDIATION@model-file": "R", "ARTIFACT-REPUDIATION@production-model": "R",
    "ARTIFACT-REPUDIATION@training-images": "R",
    # poisoned third-party libraries
    "ML06@ml-libraries-experimentation": "TE", "ML06@ml-libraries-production": "TE",
    # tampered training images
    "ML02@training-images": "T",
    # a backdoored notebook (and the deployment host)
    "DEV-HOST-COMPROMISE@jupyter-notebook": "TE", "DEV-HOST-COMPROMISE@deployment": "TE",
    # stolen API and SSH keys
    "CREDENTIAL-THEFT@bing-api-key": "SI", "CREDENTIAL-THEFT@authorized-keys": "SI",
    # denial of service of the public endpoint
    "INFERENCE-DOS@web-server": "D",
}


def test_husky_ai_raises_exactly_its_authors_threats(husky):
    assert {f.id: "".join(f.threat.stride) for f in husky.findings} == HUSKY_EXPECTED


def test_husky_ai_does_not_raise_threats_that_do_not_apply(husky):
    reasons = {n.threat.id: n.reasons for n in husky.not_applicable}
    assert set(reasons) == {"ML03", "ML04", "ML07", "ML08", "ML09", "TRANSIT-TAMPERING"}
    assert "no flow feeds inference output or user input back into training-images" in reasons["ML08"]


def test_husky_evidence_explains_the_finding(husky):
    by_id = {f.id: f for f in husky.findings}
    ml02 = by_id["ML02@training-images"]
    assert ("training-images is written from azure-cognitive-services (outside every boundary) via "
            "azure-cognitive-services → gather-images → training-images, across the boundary of Experimentation"
            ) in ml02.evidence
    ml01 = by_id["ML01@web-server"]
    assert ml01.attack_path == ("user", "api-gateway", "web-server")
    # both ML01 rules matched and their reasons are merged into one finding
    assert "web-server is declared public" in ml01.evidence
    assert ml01.controls_in_place == ("query-rate-limiting",)
    assert "−1 declared in place: query-rate-limiting" in ml01.score.explanation


BASE = """
system: {name: rules}
boundaries:
  - {id: zone, trust: internal}
  - {id: other, trust: internal}
data:
  - {id: personal, pii: true}
components:
  - {id: user, kind: person}
  - {id: store, kind: dataset, boundary: zone}
  - {id: trainer, kind: training-job, boundary: zone}
  - {id: model, kind: model-artifact, boundary: zone}
  - {id: api, kind: inference-service, boundary: zone}
  - {id: consumer, kind: process, boundary: other}
EXTRA
flows:
  - {from: store, to: trainer}
  - {from: trainer, to: model}
  - {from: model, to: api}
  - {from: api, to: consumer, encrypted: true, authenticated: true}
FLOWS
"""

# threat id, finding id it must raise, extra components, extra flows; then the near miss (same keys)
RULE_CASES = [
    ("ML01", "ML01@api", "", "  - {from: user, to: api}", "", ""),
    ("ML02", "ML02@store", "", "  - {from: user, to: store}", "", ""),
    ("ML03", "ML03@scored", "  - {id: faces, kind: dataset, boundary: zone, data: [personal]}\n  - {id: scored, kind: inference-service, boundary: zone, returns_scores: true}",
     "  - {from: faces, to: trainer}\n  - {from: model, to: scored}\n  - {from: user, to: scored}\n  - {from: user, to: api}",
     "  - {id: faces, kind: dataset, boundary: zone, data: [personal]}", "  - {from: faces, to: trainer}\n  - {from: user, to: api}"),
    ("ML04", "ML04@api", "  - {id: faces, kind: dataset, boundary: zone, data: [personal]}",
     "  - {from: faces, to: trainer}\n  - {from: user, to: api}", "", "  - {from: user, to: api}"),
    ("ML05", "ML05@model", "", "  - {from: user, to: trainer}", "", ""),
    ("ML06", "ML06@libs", "  - {id: libs, kind: library}", "  - {from: libs, to: trainer}",
     "  - {id: libs, kind: library}", "  - {from: libs, to: consumer}"),
    ("ML07", "ML07@trainer", "  - {id: base, kind: pretrained-model, boundary: zone}", "  - {from: base, to: trainer}",
     "  - {id: base, kind: pretrained-model, boundary: zone}", "  - {from: base, to: api}"),
    ("ML08", "ML08@store", "", "  - {from: api, to: store}", "", "  - {from: api, to: consumer, id: again}"),
    ("ML09", "ML09@api-plain", "", "  - {id: api-plain, from: api, to: consumer}", "", "  - {id: api-plain, from: api, to: model}"),
    ("ML10", "ML10@model", "", "  - {from: user, to: trainer}", "", ""),
    ("ARTIFACT-REPUDIATION", "ARTIFACT-REPUDIATION@model", "", "  - {from: user, to: trainer}", "", ""),
    ("CREDENTIAL-THEFT", "CREDENTIAL-THEFT@key", "  - {id: key, kind: secret, boundary: zone}", "  - {from: key, to: api}", "", ""),
    ("INFERENCE-DOS", "INFERENCE-DOS@api", "", "  - {from: user, to: api}", "", ""),
    ("TRANSIT-TAMPERING", "TRANSIT-TAMPERING@plain", "", "  - {id: plain, from: user, to: store}",
     "", "  - {id: plain, from: user, to: store, encrypted: true}"),
    ("DEV-HOST-COMPROMISE", "DEV-HOST-COMPROMISE@nb", "  - {id: nb, kind: notebook, boundary: zone}",
     "  - {from: user, to: nb}\n  - {from: nb, to: model}", "  - {id: nb, kind: notebook, boundary: zone}", "  - {from: nb, to: model}"),
]


def _model(write, components, flows, name):
    return write(BASE.replace("EXTRA", components).replace("FLOWS", flows), name)


@pytest.mark.parametrize("threat, finding, components, flows, miss_components, miss_flows", RULE_CASES,
                         ids=[c[0] for c in RULE_CASES])
def test_each_rule_raises_and_near_misses(catalog, write, threat, finding, components, flows,
                                          miss_components, miss_flows):
    raised = {f.id for f in assess(catalog, _model(write, components, flows, "raise.yaml")).findings}
    assert finding in raised
    missed = assess(catalog, _model(write, miss_components, miss_flows, "miss.yaml"))
    assert not any(f.threat.id == threat for f in missed.findings), [f.id for f in missed.findings]
    assert threat in {n.threat.id for n in missed.not_applicable}


def test_every_catalog_threat_has_a_rule_case(catalog):
    assert {c[0] for c in RULE_CASES} == set(catalog.threats)


def test_bidirectional_flow_gives_one_finding(catalog, write):
    path = _model(write, "", "  - {id: both, from: user, to: store, bidirectional: true}", "m.yaml")
    findings = [f.id for f in assess(catalog, path).findings if f.threat.id == "TRANSIT-TAMPERING"]
    assert findings == ["TRANSIT-TAMPERING@both"]


def test_exclusions_are_reported_not_dropped(catalog, write):
    path = write(BASE.replace("EXTRA", "").replace("FLOWS", "  - {from: user, to: api}")
                 + "exclusions:\n  - {threat: ML01, element: api, reason: Only labels are returned to a kiosk.}\n"
                   "  - {threat: ML02, element: api, reason: Not a dataset.}\n")
    result = assess(catalog, path)
    assert "ML01@api" not in {f.id for f in result.findings}
    assert [(e.finding.id, e.reason) for e in result.excluded] == [("ML01@api", "Only labels are returned to a kiosk.")]
    assert [str(w).split("model.yaml:")[-1] for w in result.warnings] == [
        "23:14: warning: exclusion of ML02 for 'api' matches no finding"]


def test_unknown_threat_in_exclusion_is_a_located_error(catalog, write):
    path = write(BASE.replace("EXTRA", "").replace("FLOWS", "")
                 + "exclusions:\n  - {threat: ML1, element: api, reason: x}\n")
    with pytest.raises(InputError) as info:
        assess(catalog, path)
    assert str(info.value.diagnostics[0]).endswith("model.yaml:22:14: error: unknown threat 'ML1' in exclusion, did you mean 'ML10'?")


def test_scores_carry_their_explanation(husky):
    dos = next(f for f in husky.findings if f.id == "INFERENCE-DOS@web-server")
    assert dos.score.explanation == (
        "likelihood 3 (exploitability 5; web-server is reachable from the internet-level zone; −2 declared in "
        "place: request-limits, query-rate-limiting) × impact 3 (technical impact 3; model-weights availability "
        "high) = 9, medium")
    keys = next(f for f in husky.findings if f.id == "CREDENTIAL-THEFT@bing-api-key")
    assert keys.score.likelihood_reasons[1] == "−2 bing-api-key is not reachable from any less trusted zone"


@pytest.mark.parametrize("value, severity", [(25, "critical"), (20, "critical"), (19, "high"), (12, "high"),
                                             (11, "medium"), (6, "medium"), (5, "low"), (1, "low")])
def test_severity_bands(value, severity):
    from threatmodel.scoring import severity_of

    assert severity_of(value) == severity
