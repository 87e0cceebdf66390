"""Each predicate on a small system: where it must hold, and a near miss where it must not."""

from __future__ import annotations

import pytest

from threatmodel.graph import DataFlowGraph
from threatmodel.analysis.predicates import REGISTRY
from threatmodel.system.load import load_system

SYSTEM = """
system: {name: predicates}
boundaries:
  - {id: dmz, trust: partner}
  - {id: core, trust: internal}
data:
  - {id: faces, pii: true}
  - {id: public-data, confidentiality: low}
  - {id: secret-data, confidentiality: high}
components:
  - {id: user, kind: person}
  - {id: hub, kind: model-hub}
  - {id: lib, kind: library}
  - {id: gateway, kind: api-gateway, boundary: dmz}
  - {id: public-api, kind: inference-service, boundary: core, exposure: public, returns_scores: true}
  - {id: internal-api, kind: inference-service, boundary: core, exposure: internal}
  - {id: side-api, kind: inference-service, boundary: core}
  - {id: admin, kind: person}
  - {id: jump, kind: bastion, boundary: core}
  - {id: faces-db, kind: dataset, boundary: core, data: [faces]}
  - {id: open-db, kind: dataset, boundary: core, data: [public-data]}
  - {id: feedback-db, kind: dataset, boundary: core}
  - {id: trainer, kind: training-job, boundary: core}
  - {id: tuner, kind: training-job, boundary: core}
  - {id: base, kind: pretrained-model, boundary: core}
  - {id: model, kind: model-artifact, boundary: core}
  - {id: other-model, kind: model-artifact, boundary: core}
  - {id: llm, kind: llm, boundary: core, output_to: [html]}
  - {id: quiet-llm, kind: llm, boundary: core}
  - {id: docs, kind: rag-source, boundary: core, untrusted_content: true}
  - {id: finder, kind: retriever, boundary: core}
flows:
  - {id: index, from: docs, to: finder}
  - {id: context, from: finder, to: llm}
  - {id: upload, from: user, to: gateway, encrypted: true, bidirectional: true, data: [faces]}
  - {id: route, from: gateway, to: public-api, encrypted: false, bidirectional: true}
  - {id: results, from: public-api, to: feedback-db}
  - {id: faces-train, from: faces-db, to: trainer, data: [faces]}
  - {id: open-train, from: open-db, to: tuner, data: [public-data]}
  - {id: fetch, from: hub, to: base, encrypted: true, authenticated: true}
  - {id: base-tune, from: base, to: tuner}
  - {id: pip, from: lib, to: trainer, encrypted: true}
  - {id: save, from: trainer, to: model, data: [secret-data]}
  - {id: load, from: model, to: public-api}
  - {id: tuned, from: tuner, to: other-model}
  - {id: serve-internal, from: other-model, to: internal-api}
  - {id: side-route, from: gateway, to: side-api}
  - {id: side-door, from: user, to: side-api}
  - {id: admin-ssh, from: admin, to: jump, protocol: SSH}
"""


@pytest.fixture(scope="module")
def graph(catalog, tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "m.yaml"
    path.write_text(SYSTEM)
    return DataFlowGraph(load_system(path, catalog.kinds).system, catalog)


CASES = [
    # (predicate, element, parameter, holds, words in the reason)
    ("exposure", "public-api", "public", True, "declared public"),
    ("exposure", "internal-api", "public", False, "declared internal"),
    ("reached_by", "public-api", {"access": "input", "actors": ["anonymous"]}, True,
     "user (anonymous internet user) sends input to public-api via user → gateway → public-api"),
    ("reached_by", "internal-api", {"access": "input", "actors": ["anonymous"]}, False,
     "no anonymous actor sends input to internal-api"),
    ("reached_by", "model", {"access": "control"}, True, "lib (compromised third-party library or model) controls model"),
    ("reached_by", "open-db", {"access": ["control", "read"]}, False, "no actor controls or can read open-db"),
    ("internet_facing", "jump", True, True, "admin connects to jump from outside every boundary (admin-ssh)"),
    ("internet_facing", "trainer", True, False, "nobody connects to trainer"),
    ("receives_outsider_data", "public-api", True, True, "user sends faces to public-api"),
    ("receives_outsider_data", "internal-api", True, False, "no outside user sends input to internal-api"),
    ("bypasses_gateway", "side-api", True, True, "user reaches side-api via user → side-api, around gateway"),
    ("bypasses_gateway", "public-api", True, False, "only through gateway"),
    ("attribute", "public-api", {"returns_scores": True}, True, "returns_scores: true"),
    ("attribute", "internal-api", {"returns_scores": True}, False, "does not say returns_scores"),
    ("attribute", "lib", {"origin": "third-party"}, True, "origin: third-party"),
    ("feeds", "lib", "runs_training", True, "flows into trainer"),
    ("feeds", "open-db", ["serves_predictions"], True, "internal-api"),
    ("feeds", "feedback-db", "runs_training", False, "nothing from feedback-db"),
    ("fed_by", "tuner", "third_party_model", True, "receives data from base"),
    ("fed_by", "trainer", "third_party_model", False, "no component"),
    ("feedback_loop", "feedback-db", True, True, "public-api → feedback-db"),
    ("feedback_loop", "open-db", True, False, "no flow feeds"),
    ("trained_on_sensitive_data", "public-api", True, True, "faces (personal data)"),
    ("trained_on_sensitive_data", "internal-api", True, False, "no training data"),
    ("handles_sensitive_data", "model", True, True, "secret-data (confidentiality high)"),
    ("handles_sensitive_data", "tuner", True, False, "no personal"),
    ("crosses_boundary", "route", True, True, "crosses boundary core, dmz"),
    ("crosses_boundary", "route", "inbound", True, "(inbound)"),
    ("crosses_boundary", "save", True, False, "does not cross"),
    ("crosses_boundary", "save", False, True, "stays inside one trust zone"),
    ("flow_attribute", "route", {"encrypted": False}, True, "not encrypted"),
    ("flow_attribute", "upload", {"encrypted": False}, False, "is encrypted"),
    ("from_trait", "route", "serves_predictions", True, "output of public-api"),
    ("from_trait", "upload", "serves_predictions", False, "does not leave"),
    ("to_trait", "pip", "runs_training", True, "to trainer"),
    ("to_trait", "fetch", "runs_training", False, "does not enter"),
    ("carries_sensitive_data", "upload", True, True, "carries faces"),
    ("carries_sensitive_data", "fetch", True, False, "no personal"),
    ("attribute_any", "llm", {"output_to": ["html", "markdown"]}, True, "llm has output_to: [html]"),
    ("attribute_any", "quiet-llm", {"output_to": ["html"]}, False, "does not say output_to"),
    ("untrusted_context", "llm", True, True, "content from outside enters docs (rag-source) and reaches llm"),
    ("untrusted_context", "quiet-llm", True, False, "no component feeding quiet-llm"),
]


@pytest.mark.parametrize("name, element, parameter, holds, words", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_predicate(graph, name, element, parameter, holds, words):
    verdict = REGISTRY[name].evaluate(graph, element, parameter)
    assert verdict.holds is holds
    assert words in verdict.reason


def test_every_predicate_has_cases_that_hold_and_that_do_not():
    covered = {(c[0], c[3]) for c in CASES}
    for name in REGISTRY:
        assert (name, True) in covered and (name, False) in covered, name


@pytest.mark.parametrize("name, parameter", [
    ("exposure", "everywhere"), ("reached_by", True), ("reached_by", {"access": "write"}),
    ("reached_by", {"access": "input", "actors": ["martians"]}), ("attribute", {"colour": "red"}),
    ("attribute", {"rate_limiting": "yes"}), ("feeds", "flies"), ("feedback_loop", "yes"),
    ("crosses_boundary", "sideways"), ("flow_attribute", {"fast": True}), ("from_trait", []),
])
def test_bad_parameters_are_rejected(catalog, name, parameter):
    assert REGISTRY[name].check(parameter, frozenset(catalog.traits)) is not None


def test_an_identity_provider_is_no_source_of_content(catalog, write):
    """Tokens from an identity provider are not instructions a model reads; a feed of documents
    from an outside service is."""
    text = """system: {name: idp}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: idp, kind: external-service, name: Identity provider}
  - {id: service, kind: process, boundary: app}
  - {id: model, kind: llm, boundary: app}
flows:
  - {from: user, to: service, protocol: HTTPS, bidirectional: true}
  - {from: idp, to: service, protocol: PROTOCOL}
  - {from: service, to: model, bidirectional: true}
"""
    def untrusted(protocol: str) -> bool:
        graph = DataFlowGraph(load_system(write(text.replace("PROTOCOL", protocol)), catalog.kinds).system, catalog)
        return REGISTRY["untrusted_context"].evaluate(graph, "model", True).holds

    assert not untrusted("OIDC")
    assert untrusted("HTTPS")
