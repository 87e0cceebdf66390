"""Analysis: Husky AI's threats come back, each catalog rule raises and near-misses, noise control."""

from __future__ import annotations

import pytest

from threatmodel.analysis.match import analyse
from threatmodel.core.errors import InputError
from threatmodel.graph import DataFlowGraph
from threatmodel.system.load import load_system

from .conftest import EXAMPLES


def assess(catalog, path):
    loaded = load_system(path, catalog.kinds)
    return analyse(catalog, DataFlowGraph(loaded.system, catalog), loaded.exclusion_locations)


@pytest.fixture(scope="module")
def husky(catalog):
    return assess(catalog, EXAMPLES / "huskyai.yaml")


# The author's backlog (the Machine Learning Attack Series) and the conventional threats of the
# Husky AI threat-modeling session, each with the author's STRIDE letters: all must be raised.
HUSKY_MUST_RAISE = {
    "ML01@web-server": "T",  # perturbed, fuzzed and brute-forced images through the public API
    "ML05@model-file": "I", "ML05@production-model": "I",  # read access to the model file
    "ML10@production-model": "T",  # a backdoored model file
    "ARTIFACT-REPUDIATION@production-model": "R",  # denying the change
    "ML06@ml-libraries-experimentation": "TE", "ML06@ml-libraries-production": "TE",  # supply chain
    "ML02@training-images": "T",  # tampered images on disk
    "DEV-HOST-COMPROMISE@jupyter-notebook": "TE",  # a backdoored notebook
    "CREDENTIAL-THEFT@bing-api-key": "SIE", "CREDENTIAL-THEFT@authorized-keys": "SIE",
    "UPLOAD-PARSER-EXPLOIT@web-server": "TE",  # the image parser on upload
    "DATA-DESTRUCTION@training-images": "D", "DATA-DESTRUCTION@production-model": "D",
    "USER-DATA-DISCLOSURE@web-server": "I",
    "SECRET-DESTRUCTION@authorized-keys": "DR",
    "ADMIN-ENDPOINT-EXPOSURE@bastion": "DE",  # brute force or exploitation of the SSH endpoint
    "KEY-BACKDOOR@authorized-keys": "TE",  # a planted authorized key
    "INFERENCE-DOS@web-server": "D",
}


def test_husky_ai_raises_its_authors_threats_with_their_stride_letters(husky):
    raised = {f.id: "".join(sorted(f.threat.stride)) for f in husky.findings}
    for finding_id, letters in HUSKY_MUST_RAISE.items():
        assert raised.get(finding_id) == "".join(sorted(letters)), finding_id


def test_husky_ai_does_not_raise_threats_that_do_not_apply(husky):
    reasons = {n.threat.id: n.reasons for n in husky.not_applicable}
    assert {"ML03", "ML04", "ML07", "ML08", "ML09", "TRANSIT-TAMPERING"} <= set(reasons)
    assert "no flow feeds inference output or user input back into training-images" in reasons["ML08"]


def test_husky_severities_are_calibrated(husky):
    high = [f.id for f in husky.findings if f.score.severity in ("high", "critical")]
    assert len(high) * 2 <= len(husky.findings), high


def test_husky_evidence_and_attack_path_come_from_one_reach(husky):
    by_id = {f.id: f for f in husky.findings}
    ml02 = by_id["ML02@training-images"]
    assert ml02.actor == "azure-cognitive-services"
    assert ml02.attack_path == ("azure-cognitive-services", "gather-images", "training-images")
    ml01 = by_id["ML01@web-server"]
    assert ml01.attack_path == ("user", "api-gateway", "web-server")
    assert "user (anonymous internet user) sends requests to web-server via user → api-gateway → web-server" in ml01.evidence
    # the rate limit is declared where it lives, on the gateway in front of the service
    assert ml01.controls_in_place == ("query-rate-limiting",)
    assert "api-gateway has rate_limiting: true on user → api-gateway → web-server" in ml01.score.explanation
    ml05 = by_id["ML05@production-model"]
    assert ml05.attack_path[0] == ml05.actor and ml05.actor in ml05.evidence[1]
    for finding in husky.findings:
        if finding.actor is not None:
            assert finding.attack_path[0] == finding.actor and finding.attack_path[-1] == finding.id.split("@")[1]


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
    # one declaration (the gateway's rate limit) earns once, though it declares two mitigations;
    # a primary preventive control earns 2
    assert dos.score.explanation.startswith("likelihood 3 (exploitability 5; user is anonymous internet user: anyone "
                                            "on the internet can try, at no cost; −2 declared in place: request-limits, "
                                            "primary preventive (api-gateway has rate_limiting: true on user → "
                                            "api-gateway → web-server); no credit, declared in place: "
                                            "query-rate-limiting, primary preventive, counted once")
    keys = next(f for f in husky.findings if f.id == "CREDENTIAL-THEFT@bing-api-key")
    assert keys.score.likelihood_reasons[1].startswith("−1 engineer is engineer or administrator connecting from outside")


@pytest.mark.parametrize("value, severity", [(25, "critical"), (20, "critical"), (19, "high"), (12, "high"),
                                             (11, "medium"), (6, "medium"), (5, "low"), (1, "low")])
def test_severity_bands(value, severity):
    from threatmodel.analysis.scoring import severity_of

    assert severity_of(value) == severity


INDEPENDENT_MUST_RAISE = {
    "ML01@server": "T", "ML05@h5": "I", "ML05@prod-h5": "I", "ML10@prod-h5": "T",
    "ARTIFACT-REPUDIATION@prod-h5": "R", "ML06@pypi-exp": "TE", "ML06@pypi-prod": "TE",
    "ML02@images-store": "T", "DEV-HOST-COMPROMISE@notebook": "TE", "CREDENTIAL-THEFT@bing-key": "SIE",
    "CREDENTIAL-THEFT@authkeys": "SIE", "UPLOAD-PARSER-EXPLOIT@server": "TE", "DATA-DESTRUCTION@images-store": "D",
    "DATA-DESTRUCTION@prod-h5": "D", "USER-DATA-DISCLOSURE@server": "I", "SECRET-DESTRUCTION@authkeys": "DR",
    "ADMIN-ENDPOINT-EXPOSURE@jump": "DE", "KEY-BACKDOOR@authkeys": "TE", "INFERENCE-DOS@server": "D",
}


def test_a_husky_model_written_independently_gets_the_same_threats(catalog):
    # written from the architecture facts and docs/format.md, with other ids and fewer details
    result = assess(catalog, EXAMPLES.parent.parent / "tests" / "fixtures" / "huskyai-independent.yaml")
    raised = {f.id: "".join(sorted(f.threat.stride)) for f in result.findings}
    for finding_id, letters in INDEPENDENT_MUST_RAISE.items():
        assert raised.get(finding_id) == "".join(sorted(letters)), finding_id
    assert not {f.threat.id for f in result.findings} & {"ML03", "ML04", "ML07", "ML08", "ML09"}
    high = [f.id for f in result.findings if f.score.severity in ("high", "critical")]
    assert len(high) * 2 <= len(result.findings), high


def test_mitigations_fit_their_element(husky):
    by_id = {f.id: f for f in husky.findings}
    # theft of a file at rest: no query limits or output minimisation, which protect services
    assert not {"query-rate-limiting", "output-minimisation"} & set(by_id["ML05@model-file"].mitigations)
    assert {"query-rate-limiting", "output-minimisation"} <= set(by_id["ML05@web-server"].mitigations)
    # repudiation of a model change: no inference-request logging
    assert "tamper-evident-logging" not in by_id["ARTIFACT-REPUDIATION@model-file"].mitigations
    assert "file-audit-logging" in by_id["ARTIFACT-REPUDIATION@model-file"].mitigations


def test_checklist_prints_a_real_audit_command(cli):
    text = cli("checklist", EXAMPLES / "huskyai.yaml").stdout
    assert "auditctl -w /opt/huskyai/models/huskymodel.h5 -p wa -k tm-production-model-change" in text
    assert "auditd -w" not in text


SCORING_API = """
system: {name: scores behind a gateway}
boundaries: [{id: prod, trust: restricted}]
data: [{id: faces, pii: true, confidentiality: high}]
components:
  - {id: user, kind: person}
  - {id: gateway, kind: api-gateway, boundary: prod, exposure: public, STRIPS}
  - {id: api, kind: inference-service, boundary: prod, returns_scores: true}
  - {id: photos, kind: dataset, boundary: prod, data: [faces]}
  - {id: train, kind: training-job, boundary: prod}
  - {id: model, kind: model-artifact, boundary: prod}
flows:
  - {from: user, to: gateway, protocol: HTTPS, bidirectional: true}
  - {from: gateway, to: api, protocol: HTTPS, bidirectional: true}
  - {from: photos, to: train}
  - {from: train, to: model}
  - {from: model, to: api}
"""


def test_a_gateway_that_strips_scores_protects_the_service_behind_it(catalog, write):
    """The service returns scores, but the gateway answers outsiders with the label only:
    output minimisation is in place on their path, and the score says where."""
    passing = {f.id: f for f in assess(catalog, write(SCORING_API.replace("STRIPS", "returns_scores: true"))).findings}
    stripping = {f.id: f for f in assess(catalog, write(SCORING_API.replace("STRIPS", "returns_scores: false"))).findings}
    assert "ML03@api" in passing and "ML03@api" in stripping
    assert stripping["ML03@api"].score.value < passing["ML03@api"].score.value
    assert "output-minimisation" in stripping["ML03@api"].score.explanation
    assert "gateway" in stripping["ML03@api"].score.explanation


DECISION = """
system: {name: decisions}
boundaries: [{id: prod, trust: restricted}]
components:
  - {id: shopper, kind: person}
  - {id: decide, kind: decision-service, boundary: prod, exposure: public FAILS}
  - {id: scorer, kind: inference-service, boundary: prod}
  - {id: topic, kind: message-broker, boundary: prod BROKER}
flows:
  - {from: shopper, to: decide, protocol: HTTPS, bidirectional: true}
  - {from: decide, to: scorer, bidirectional: true}
  - {from: decide, to: topic}
"""


def test_an_unsaid_fail_open_is_asked_not_assumed(catalog, write):
    unsaid = assess(catalog, write(DECISION.replace(" FAILS", "").replace(" BROKER", "")))
    assert "FAIL-OPEN@decide" not in {f.id for f in unsaid.findings}
    assert any("decide" in q.question and "fail open" in q.question for q in unsaid.open_questions)
    said = assess(catalog, write(DECISION.replace(" FAILS", ", fails_open: true").replace(" BROKER", "")))
    assert "FAIL-OPEN@decide" in {f.id for f in said.findings}
    assert not any("fail open" in q.question for q in said.open_questions)


def test_producers_that_authenticate_lower_forged_events(catalog, write):
    open_broker = {f.id: f for f in assess(catalog, write(DECISION.replace(" FAILS", "").replace(" BROKER", ""))).findings}
    closed = {f.id: f for f in assess(catalog, write(DECISION.replace(" FAILS", "").replace(
        " BROKER", ", authenticated: true"))).findings}
    assert "FORGED-EVENTS@topic" in open_broker and "FORGED-EVENTS@topic" in closed
    assert closed["FORGED-EVENTS@topic"].score.value < open_broker["FORGED-EVENTS@topic"].score.value
    assert "event-integrity" in closed["FORGED-EVENTS@topic"].score.explanation


def test_an_agent_and_its_own_mcp_client_are_not_two_agents(catalog, write):
    """Inter-agent trust is between agents; the MCP client inside an agent's host relays its tools."""
    text = """
system: {name: one agent}
boundaries: [{id: dev, trust: internal}]
components:
  - {id: developer, kind: person, boundary: dev}
  - {id: agent, kind: agent, boundary: dev}
  - {id: client, kind: mcp-client, boundary: dev}
  - {id: server, kind: mcp-server, boundary: dev, capabilities: [read]}
  - {id: helper, kind: agent, boundary: dev}
flows:
  - {from: developer, to: agent, bidirectional: true}
  - {from: agent, to: client, bidirectional: true}
  - {from: client, to: server, bidirectional: true}
  - {from: agent, to: HELPER_TARGET, bidirectional: true}
"""
    alone = {f.id for f in assess(catalog, write(text.replace("\n  - {from: agent, to: HELPER_TARGET, bidirectional: true}", ""))).findings}
    assert not any(f.startswith("INTER-AGENT-TRUST@") for f in alone)
    delegating = {f.id for f in assess(catalog, write(text.replace("HELPER_TARGET", "helper"))).findings}
    assert "INTER-AGENT-TRUST@helper" in delegating and "INTER-AGENT-TRUST@client" not in delegating


def test_an_attribute_that_does_nothing_on_its_kind_is_a_located_warning(catalog, write):
    from threatmodel.system.load import load_system

    model = write("""system: {name: misplaced}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: chat, kind: llm, boundary: app, retrains_on_feedback: true}
  - {id: db, kind: data-store, boundary: app, tenant_isolation: true}
  - {id: images, kind: dataset, boundary: app, sandboxed: true}
flows:
  - {from: user, to: chat, bidirectional: true}
  - {from: chat, to: db}
  - {from: db, to: images}
""")
    warnings = [str(w) for w in load_system(model, catalog.kinds).warnings]
    assert any(":6:" in w and "'tenant_isolation' does nothing on a data-store" in w for w in warnings), warnings
    assert any(":7:" in w and "'sandboxed' does nothing on a dataset" in w for w in warnings), warnings
    assert not any("retrains_on_feedback" in w for w in warnings)  # a chatbot retrained on its chats:
    assert "ML08@chat" in {f.id for f in assess(catalog, model).findings}  # feedback poisoning applies


def test_an_agent_that_acts_on_its_own_is_not_asked_whether_approval_is_required(catalog, write):
    text = """system: {name: autonomous}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: agent, kind: agent, boundary: app, AUTONOMY}
  - {id: shell, kind: tool, boundary: app, capabilities: [execute], sandboxed: true, network_egress: false}
flows:
  - {from: user, to: agent, protocol: HTTPS, bidirectional: true}
  - {from: agent, to: shell, bidirectional: true}
"""
    acting = assess(catalog, write(text.replace("AUTONOMY", "autonomy: act")))
    assert not any(q.attribute == "approval_required" and q.element == "agent" for q in acting.open_questions)
    unsaid = assess(catalog, write(text.replace(", AUTONOMY", "")))
    assert any(q.element == "agent" and q.attribute in ("approval_required", "autonomy") for q in unsaid.open_questions)


def test_a_model_shipped_to_devices_is_extractable_and_has_no_api_to_rate_limit(catalog, write):
    model = write("""system: {name: on-device}
components:
  - {id: user, kind: person}
  - {id: app, kind: process, name: Mobile app}
  - {id: detector, kind: on-device-model, format: tflite}
flows:
  - {from: user, to: app, bidirectional: true}
  - {from: detector, to: app}
""")
    found = {f.id: f for f in assess(catalog, model).findings}
    assert "ML05@detector" in found and "ML01@detector" in found
    advice = {m for f in found.values() for m in f.threat.mitigations if f.element == "detector"}
    assert "model-encryption" in advice
    import threatmodel

    plan = threatmodel.analyze(model, review=False).report_data(with_plan=True)["plan"]
    placed = {(s["mitigation"], e) for s in plan["steps"] for e in s["elements"]}
    assert ("query-rate-limiting", "detector") not in placed and ("storage-access-control", "detector") not in placed


def test_an_injection_through_an_agent_into_its_model_is_reported_once(catalog, write):
    text = """system: {name: chain}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: agent, kind: agent, boundary: app, exposure: public}
  - {id: model, kind: llm, boundary: app}
  - {id: other, kind: process, boundary: app, exposure: public}
flows:
  - {from: user, to: agent, protocol: HTTPS, bidirectional: true}
  - {from: agent, to: model, bidirectional: true}
"""
    chained = {f.id: f for f in assess(catalog, write(text)).findings}
    assert "PROMPT-INJECTION@agent" in chained and "PROMPT-INJECTION@model" not in chained
    assert any("continues into model" in line for line in chained["PROMPT-INJECTION@agent"].evidence)
    # a model that another service prompts too is a way in of its own
    both = {f.id for f in assess(catalog, write(text + "  - {from: user, to: other, protocol: HTTPS}\n"
                                                       "  - {from: other, to: model}\n")).findings}
    assert {"PROMPT-INJECTION@agent", "PROMPT-INJECTION@model"} <= both


def test_an_approval_step_drawn_as_a_component_counts_as_the_attribute_would(catalog, write):
    """One fact, one effect: a human-approval step between the agent and its tool lowers the
    tool's excessive agency as `approval_required: true` on the agent does."""
    text = """system: {name: approvals}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: agent, kind: agent, boundary: app, exposure: public AGENT}
  - {id: approve, kind: human-approval, boundary: app}
  - {id: refunds, kind: tool, boundary: app, capabilities: [spend]}
flows:
  - {from: user, to: agent, protocol: HTTPS, bidirectional: true}
FLOWS"""
    direct = "  - {from: agent, to: refunds, bidirectional: true}\n  - {from: agent, to: approve}\n"
    through = "  - {from: agent, to: approve, bidirectional: true}\n  - {from: approve, to: refunds, bidirectional: true}\n"
    plain = {f.id: f for f in assess(catalog, write(text.replace(" AGENT", "").replace("FLOWS", direct))).findings}
    drawn = {f.id: f for f in assess(catalog, write(text.replace(" AGENT", "").replace("FLOWS", through))).findings}
    said = {f.id: f for f in assess(catalog, write(text.replace(" AGENT", ", approval_required: true").replace("FLOWS", direct))).findings}
    key = "EXCESSIVE-AGENCY@refunds"
    assert drawn[key].score.value < plain[key].score.value
    assert drawn[key].score.value == said[key].score.value


def test_running_model_output_hands_the_prompter_the_interpreter(catalog, write):
    """Whoever steers a model whose output is run as code controls the interpreter that runs it,
    and reads the key that interpreter holds."""
    text = """system: {name: code interpreter}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: chat, kind: process, boundary: app, exposure: public}
  - {id: model, kind: llm, boundary: app, output_to: [OUTPUT]}
  - {id: runner, kind: process, boundary: app, name: Code runner}
  - {id: api-key, kind: secret, boundary: app}
flows:
  - {from: user, to: chat, protocol: HTTPS, bidirectional: true}
  - {from: chat, to: model, bidirectional: true}
  - {from: model, to: runner, name: generated code}
  - {from: api-key, to: runner, name: loads}
"""
    running = {f.id: f for f in assess(catalog, write(text.replace("OUTPUT", "code"))).findings}
    assert "CREDENTIAL-THEFT@api-key" in running
    assert running["CREDENTIAL-THEFT@api-key"].attack_path[:1] == ("user",)
    showing = {f.id for f in assess(catalog, write(text.replace("OUTPUT", "markdown"))).findings}
    assert "CREDENTIAL-THEFT@api-key" not in showing


def test_an_interpreter_that_deploys_back_into_the_model_does_not_loop(catalog, write):
    """Control that comes back round (the interpreter administers the model that writes to it)
    ends: every attack path is finite and has no repeated element."""
    text = """system: {name: loop}
boundaries: [{id: app, trust: internal}]
components:
  - {id: user, kind: person}
  - {id: model, kind: llm, boundary: app, exposure: public, output_to: [shell]}
  - {id: runner, kind: build-host, boundary: app}
flows:
  - {from: user, to: model, protocol: HTTPS, bidirectional: true}
  - {from: model, to: runner, name: commands}
  - {from: runner, to: model, name: deploys}
"""
    found = assess(catalog, write(text)).findings
    assert found
    for finding in found:
        assert len(set(finding.attack_path)) == len(finding.attack_path), finding.attack_path
