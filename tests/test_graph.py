"""Data-flow graph facts, asserted on Husky AI and on small systems."""

from __future__ import annotations

import pytest

from threatmodel.graph import Crossing, DataFlowGraph, EntryPoint
from threatmodel.system_load import load_system

from .conftest import EXAMPLES


def build(catalog, write, text):
    return DataFlowGraph(load_system(write(text), catalog.kinds).system, catalog.kinds)


@pytest.fixture(scope="module")
def husky(catalog):
    return DataFlowGraph(load_system(EXAMPLES / "huskyai.yaml", catalog.kinds).system, catalog.kinds)


def test_husky_public_entry_point_is_the_gateway(husky):
    assert EntryPoint("api-gateway", "user-upload", "user") in husky.entry_points
    assert {e.component for e in husky.entry_points if e.source == "user"} == {"api-gateway"}


def test_husky_bidirectional_flows_are_two_edges(husky):
    assert husky.graph.has_edge("user", "api-gateway") and husky.graph.has_edge("api-gateway", "user")
    assert husky.graph.number_of_edges() == 28  # 24 flows, 4 of them bidirectional


def test_husky_boundary_crossings_and_directions(husky):
    crossings = {(c.flow, c.source, c.target): c for c in husky.crossings}
    assert crossings[("deploy-to-bastion", "deployment", "bastion")] == Crossing(
        "deploy-to-bastion", "deployment", "bastion", ("experimentation", "production"), "inbound")
    assert crossings[("user-upload", "api-gateway", "user")].direction == "outbound"
    assert ("load-model", "production-model", "web-server") not in crossings


def test_husky_path_from_engineer_workstation_into_production_model(husky):
    # the engineer's access leads, through deployment and the bastion, to the production model file
    assert "production-model" in husky.reachable_from("engineer")
    assert husky.attack_paths["model-file"] == ["engineer", "jupyter-notebook", "model-file"]
    assert husky.attack_paths["production-model"] == ["infra-admin", "bastion", "production-model"]
    assert husky.write_paths["production-model"] == ["deployment", "bastion", "production-model"]
    assert husky.write_paths["training-images"] == ["azure-cognitive-services", "gather-images", "training-images"]


def test_husky_user_reaches_the_model_server_but_no_training_data(husky):
    reachable = husky.reachable_from("user")
    assert {"api-gateway", "web-server", "request-log"} <= reachable
    assert "training-images" not in reachable and "model-file" not in reachable
    assert husky.data_reachable_from("user") == {"user-image", "prediction"}


def test_husky_has_no_feedback_loop(husky):
    assert husky.feedback_loops == {}


def test_husky_untrusted_sources_and_high_value_assets(husky):
    assert husky.untrusted_sources == [
        "azure-cognitive-services", "engineer", "infra-admin", "ml-libraries-experimentation",
        "ml-libraries-production", "user"]
    assert husky.high_value_assets == ["authorized-keys", "bing-api-key", "model-file", "production-model",
                                       "training-images"]


FEEDBACK = """
system: {name: loop}
boundaries: [{id: prod, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: api, kind: inference-service, boundary: prod}
  - {id: feedback, kind: dataset, boundary: prod}
  - {id: train, kind: training-job, boundary: prod}
  - {id: model, kind: model-artifact, boundary: prod}
flows:
  - {from: user, to: api, bidirectional: true}
  - {from: api, to: feedback}
  - {from: feedback, to: train}
  - {from: train, to: model}
  - {from: model, to: api}
"""


def test_feedback_loop_is_found(catalog, write):
    graph = build(catalog, write, FEEDBACK)
    assert graph.feedback_loops == {"feedback": ["api", "feedback"]}
    assert graph.attack_paths["feedback"] == ["user", "api", "feedback"]


NESTED = """
system: {name: nested}
boundaries:
  - {id: corp, trust: internal}
  - {id: vault, trust: restricted, parent: corp}
components:
  - {id: app, kind: process, boundary: corp}
  - {id: keys, kind: secret, boundary: vault}
  - {id: other, kind: process, boundary: corp}
flows:
  - {from: keys, to: app}
  - {from: app, to: other}
"""


def test_nested_boundaries_cross_only_the_inner_one(catalog, write):
    graph = build(catalog, write, NESTED)
    assert graph.crossings == [Crossing("keys-to-app", "keys", "app", ("vault",), "outbound")]
    assert graph.boundaries_of("keys") == ("vault", "corp")
