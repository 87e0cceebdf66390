"""Data-flow graph facts, asserted on Husky AI and on small systems."""

from __future__ import annotations

import pytest

from threatmodel.graph import Crossing, DataFlowGraph, EntryPoint
from threatmodel.system.load import load_system

from .conftest import EXAMPLES


def build(catalog, write, text):
    return DataFlowGraph(load_system(write(text), catalog.kinds).system, catalog)


@pytest.fixture(scope="module")
def husky(catalog):
    return DataFlowGraph(load_system(EXAMPLES / "huskyai.yaml", catalog.kinds).system, catalog)


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


def test_husky_actors_are_derived_from_the_model(husky):
    classes = {a.id: a.actor_class for a in husky.reach.actors}
    assert classes == {"user": "anonymous", "engineer": "operator", "infra-admin": "operator",
                       "azure-cognitive-services": "supplier", "ml-libraries-experimentation": "dependency",
                       "ml-libraries-production": "dependency"}


def test_husky_attack_paths_follow_actors_not_lineage(husky):
    assert husky.attack_paths["model-file"] == ["engineer", "jupyter-notebook", "model-file"]
    assert husky.attack_paths["production-model"] == ["infra-admin", "bastion", "production-model"]
    # the engineer controls production through the deployment host and the bastion
    assert husky.reach.reached("operator")["production-model"] == 2
    # the image-search supplier influences what the training images (and so the model) contain,
    # but controls nothing
    supplier = husky.reach.reached("supplier")
    assert supplier["training-images"] == 1
    assert [n for n, level in supplier.items() if level == 2] == ["azure-cognitive-services"]


def test_husky_user_reaches_the_model_server_but_no_training_data(husky):
    reached = husky.reach.reached("anonymous")
    assert reached == {"user": 2, "api-gateway": 1, "web-server": 1, "request-log": 1}
    assert husky.reach.best("production-model", ["read", "control"], ["anonymous"]) is None


def test_husky_has_no_feedback_loop(husky):
    assert husky.lineage.feedback_loops == {}


def test_husky_high_value_assets(husky):
    assert husky.high_value_assets == ["authorized-keys", "bing-api-key", "model-file", "production-model",
                                       "training-images"]


REACH = """
system: {name: reach}
boundaries: [{id: prod, trust: restricted}]
components:
  - {id: visitor, kind: person}
  - {id: member, kind: person}
  - {id: open-api, kind: inference-service, boundary: prod}
  - {id: closed-api, kind: inference-service, boundary: prod, authenticated: true}
  - {id: log, kind: data-store, boundary: prod}
flows:
  - {from: visitor, to: open-api}
  - {from: visitor, to: closed-api}
  - {from: member, to: closed-api, authenticated: true}
  - {from: open-api, to: log}
"""


def test_authentication_stops_anonymous_actors_but_not_customers(catalog, write):
    graph = build(catalog, write, REACH)
    assert {a.id: a.actor_class for a in graph.reach.actors} == {"visitor": "anonymous", "member": "customer"}
    assert set(graph.reach.reached("anonymous")) == {"visitor", "open-api", "log"}
    assert graph.reach.best("closed-api", ["input"]).actor.id == "member"
    # input travels on, but never turns into control
    assert graph.reach.best("log", ["control"]) is None


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
    assert graph.lineage.feedback_loops == {"feedback": ["api", "feedback"]}
    best = graph.reach.best("feedback", ["input"])
    assert best.path == ("user", "api", "feedback") and best.access == "input"


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


def test_a_collector_is_answered_by_the_service_it_calls(catalog, write):
    graph = build(catalog, write, """
system: {name: collect}
boundaries: [{id: lab, trust: internal}]
components:
  - {id: search, kind: external-service}
  - {id: crawler, kind: data-collection, boundary: lab}
  - {id: images, kind: dataset, boundary: lab}
flows:
  - {from: crawler, to: search, protocol: HTTPS}
  - {from: crawler, to: images}
""")
    assert {a.id: a.actor_class for a in graph.reach.actors} == {"search": "supplier"}
    best = graph.reach.best("images", ["input"])
    assert best.actor.id == "search" and best.path == ("search", "crawler", "images")


DECLARED = """
system: {name: declared}
boundaries: [{id: prod, trust: restricted}]
components:
  - {id: api, kind: inference-service, boundary: prod, authenticated: true}
  - {id: store, kind: dataset, boundary: prod}
  - {id: ops, kind: person, boundary: prod, actor: operator}
  - {id: vendor, kind: external-service, actor: dependency}
flows:
  - {from: api, to: store}
  - {from: ops, to: store}
  - {from: vendor, to: api}
actors:
  - {id: partner-bot, name: Partner integration, class: customer, enters: [api]}
  - {id: scraper, class: anonymous, enters: [api]}
"""


def test_declared_actors_and_class_overrides(catalog, write):
    graph = build(catalog, write, DECLARED)
    classes = {a.id: (a.actor_class, a.derived) for a in graph.reach.actors}
    assert classes == {"ops": ("operator", False), "vendor": ("dependency", False),
                       "partner-bot": ("customer", False), "scraper": ("anonymous", False)}
    # the declared customer reaches the authenticated service; the anonymous scraper does not
    best = graph.reach.best("api", ["input"], ["customer"])
    assert best.actor.id == "partner-bot" and best.path == ("partner-bot", "api")
    assert graph.reach.best("api", ["input"], ["anonymous"]) is None
    # input from the customer travels on into the store
    assert graph.reach.best("store", ["input"], ["customer"]).path == ("partner-bot", "api", "store")


def test_declared_actor_must_enter_known_components(catalog, write):
    from threatmodel.core.errors import InputError

    with pytest.raises(InputError) as info:
        build(catalog, write, DECLARED.replace("enters: [api]}\n  - {id: scraper", "enters: [apj]}\n  - {id: scraper"))
    assert "unknown component 'apj', did you mean 'api'?" in str(info.value)


PROMPTED = """
system: {name: prompted}
boundaries: [{id: app, trust: internal}]
components:
  - {id: visitor, kind: person}
  - {id: writer, kind: person}
  - {id: chat, kind: process, boundary: app, exposure: public}
  - {id: bot, kind: llm, boundary: app}
  - {id: kb, kind: rag-source, boundary: app, untrusted_content: UNTRUSTED}
  - {id: hub, kind: model-hub}
flows:
  - {from: visitor, to: chat, protocol: HTTPS, bidirectional: true}
  - {from: chat, to: bot, bidirectional: true}
  - {from: writer, to: kb, protocol: HTTPS}
  - {from: kb, to: chat}
  - {from: hub, to: chat}
"""


@pytest.mark.parametrize("untrusted", ["true", "false"])
def test_prompting_and_writing_context_are_capabilities(catalog, write, untrusted):
    graph = build(catalog, write, PROMPTED.replace("UNTRUSTED", untrusted))
    capabilities = {a.id: graph.reach.capabilities(a) for a in graph.reach.actors}
    assert "prompt_access" in capabilities["visitor"] and "content_control" not in capabilities["visitor"]
    # sending documents into a store that takes outsiders' content is writing what the model reads
    assert ("content_control" in capabilities["writer"]) is (untrusted == "true")
    assert all(name in catalog.capabilities for names in capabilities.values() for name in names)


def test_a_model_hub_is_a_dependency_as_the_format_reference_says(catalog, write):
    graph = build(catalog, write, PROMPTED.replace("UNTRUSTED", "true"))
    assert next(a for a in graph.reach.actors if a.id == "hub").actor_class == "dependency"
    from .conftest import REPO

    row = next(line for line in (REPO / "docs" / "format.md").read_text(encoding="utf-8").splitlines()
               if "`model-hub`" in line and line.startswith("| ") and "actor" not in line.split("|")[1] and "`dependency`" in line)
    assert "`supplier`" not in row


def test_what_a_person_does_decides_their_class_not_one_flow(catalog, write):
    """An engineer who pushes over SSH stays an operator when one of their flows is plain HTTPS
    of unknown authentication; anyone on the internet can use that flow's door as well."""
    text = """
system: {name: engineer}
boundaries: [{id: dev, trust: internal}]
components:
  - {id: engineer, kind: person}
  - {id: build, kind: build-host, boundary: dev}
  - {id: wiki, kind: process, boundary: dev}
flows:
  - {from: engineer, to: build, protocol: SSH}
  - {from: engineer, to: wiki, protocol: HTTPS}
"""
    graph = build(catalog, write, text)
    actors = {a.id: a for a in graph.reach.actors}
    assert actors["engineer"].actor_class == "operator"
    assert "wiki" in actors["anyone-on-the-internet"].enters
    only_ssh = build(catalog, write, text.replace("  - {from: engineer, to: wiki, protocol: HTTPS}\n", ""))
    assert {a.id: a for a in only_ssh.reach.actors}["engineer"].actor_class == "operator"
    assert "anyone-on-the-internet" not in {a.id for a in only_ssh.reach.actors}
