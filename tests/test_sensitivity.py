"""Every edit a reviewer makes to a model moves the report the way they expect.

Each case starts from a small model (or the bundled Husky AI example), makes one edit, and
asserts the change: a control declared where it lives lowers the right scores, moving people
inside their boundaries lowers what depends on them, new data paths add the threats they imply.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import threatmodel as tm
from threatmodel.system.model import ATTRIBUTE_NAMES, FLOW_ATTRIBUTE_NAMES

from .conftest import EXAMPLES

HUSKY = EXAMPLES / "huskyai.yaml"


@pytest.fixture(scope="module")
def catalog():
    return tm.load_catalog()


def husky_document() -> dict:
    return yaml.safe_load(HUSKY.read_text(encoding="utf-8"))


def analyse(tmp_path: Path, document: dict, catalog, name: str = "m.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return tm.analyze(path, catalog, review=False)


def component(document: dict, component_id: str) -> dict:
    return next(c for c in document["components"] if c["id"] == component_id)


def findings(assessment) -> dict:
    return {f.id: f for f in assessment.findings}


def test_gateway_rate_limiting_lowers_query_threats_behind_it(tmp_path, catalog):
    on = findings(analyse(tmp_path, husky_document(), catalog, "on.yaml"))
    document = husky_document()
    del component(document, "api-gateway")["rate_limiting"]
    off = findings(analyse(tmp_path, document, catalog, "off.yaml"))
    for finding_id in ("ML01@web-server", "INFERENCE-DOS@web-server", "ML05@web-server"):
        assert on[finding_id].score.likelihood < off[finding_id].score.likelihood, finding_id
        assert "api-gateway has rate_limiting: true on user → api-gateway → web-server" in on[finding_id].score.explanation
    assert "rate_limiting on web-server" in off["ML01@web-server"].open_questions


def test_label_only_output_suppresses_model_inversion_and_lowers_theft(tmp_path, catalog):
    document = husky_document()
    for item in document["data"]:
        if item["id"] == "training-data":
            item["pii"] = True
    scores = findings(analyse(tmp_path, document, catalog, "scores.yaml"))
    assert {"ML03@web-server", "ML04@web-server"} <= set(scores)
    component(document, "web-server")["returns_scores"] = False
    labels = findings(analyse(tmp_path, document, catalog, "labels.yaml"))
    assert "ML03@web-server" not in labels and "ML04@web-server" in labels
    assert labels["ML05@web-server"].score.likelihood == scores["ML05@web-server"].score.likelihood - 1
    assert "output-minimisation" in labels["ML05@web-server"].controls_in_place


def test_unknown_returns_scores_is_assumed_and_said(tmp_path, catalog):
    document = husky_document()
    del component(document, "web-server")["returns_scores"]
    for item in document["data"]:
        if item["id"] == "training-data":
            item["pii"] = True
    ml03 = findings(analyse(tmp_path, document, catalog))["ML03@web-server"]
    assert "returns_scores on web-server" in ml03.open_questions
    assert any("assumed returns_scores: true" in line for line in ml03.evidence)
    # the assumption is cheaper than the stated fact: saying it moves the score
    component(document, "web-server")["returns_scores"] = True
    stated = findings(analyse(tmp_path, document, catalog, "stated.yaml"))["ML03@web-server"]
    assert ml03.score.likelihood == stated.score.likelihood - 1
    assert "−1 assumed (not stated): returns_scores on web-server" in ml03.score.explanation


def test_signing_alone_lowers_model_tampering(tmp_path, catalog):
    before = findings(analyse(tmp_path, husky_document(), catalog, "a.yaml"))
    document = husky_document()
    component(document, "production-model")["signed"] = True
    after = findings(analyse(tmp_path, document, catalog, "b.yaml"))
    # a signature is the primary preventive control against a tampered model file: −2
    assert after["ML10@production-model"].score.likelihood == before["ML10@production-model"].score.likelihood - 2
    assert "artifact-integrity-verification" in after["ML10@production-model"].controls_in_place


def test_people_inside_their_boundaries(tmp_path, catalog):
    outside = findings(analyse(tmp_path, husky_document(), catalog, "out.yaml"))
    document = husky_document()
    component(document, "engineer")["boundary"] = "experimentation"
    component(document, "infra-admin")["boundary"] = "production"
    inside = analyse(tmp_path, document, catalog, "in.yaml")
    moved = findings(inside)
    assert {a.id: a.kind for a in inside.analysis.actors}["engineer"] == "insider"
    # nobody reaches the bastion from the internet any more
    assert "ADMIN-ENDPOINT-EXPOSURE@bastion" in outside and "ADMIN-ENDPOINT-EXPOSURE@bastion" not in moved
    # what only insiders can do is less likely
    # (a notebook would stay as likely: a compromised library controls it just as well)
    for finding_id in ("ARTIFACT-REPUDIATION@model-file", "ARTIFACT-REPUDIATION@production-model",
                       "SOURCE-TAMPERING@source-code"):
        assert moved[finding_id].score.likelihood < outside[finding_id].score.likelihood, finding_id


def test_direct_https_without_a_gateway_adds_no_output_integrity_finding(tmp_path, catalog):
    document = husky_document()
    document["flows"] = [f for f in document["flows"] if f["id"] not in ("user-upload", "gateway-to-server")]
    document["flows"].append({"id": "direct", "from": "user", "to": "web-server", "protocol": "HTTPS",
                              "bidirectional": True, "data": ["user-image", "prediction"]})
    result = findings(analyse(tmp_path, document, catalog))
    assert "ML01@web-server" in result
    assert not [f for f in result if f.startswith(("ML09@", "TRANSIT-TAMPERING@"))]


def test_feedback_loop_adds_model_skewing(tmp_path, catalog):
    document = husky_document()
    assert "ML08@training-images" not in findings(analyse(tmp_path, document, catalog, "a.yaml"))
    document["flows"].append({"id": "feedback", "from": "web-server", "to": "training-images", "data": ["user-image"]})
    assert "ML08@training-images" in findings(analyse(tmp_path, document, catalog, "b.yaml"))


def test_fine_tuning_a_hub_model_adds_transfer_learning(tmp_path, catalog):
    document = husky_document()
    document["components"] += [{"id": "hub", "kind": "model-hub"},
                               {"id": "base-model", "kind": "pretrained-model", "boundary": "experimentation"}]
    document["flows"] += [{"id": "download", "from": "hub", "to": "base-model", "protocol": "HTTPS"},
                          {"id": "fine-tune", "from": "base-model", "to": "jupyter-notebook"}]
    result = findings(analyse(tmp_path, document, catalog))
    assert "ML07@jupyter-notebook" in result


def test_no_finding_exists_only_because_of_a_default(tmp_path, catalog):
    # a library imported over a flow that says nothing about its protocol: no transit finding
    document = husky_document()
    for flow in document["flows"]:
        if flow["id"].startswith("import-libs"):
            flow.pop("protocol", None)
            flow.pop("encrypted", None)
    result = analyse(tmp_path, document, catalog)
    assert not [f.id for f in result.findings if f.threat.id == "TRANSIT-TAMPERING"]
    assert {q.element for q in result.analysis.open_questions if q.attribute == "encrypted"} >= {
        "import-libs-server"}


# ---------------------------------------------------------------- every attribute matters

SMALL = {
    "system": {"name": "small"},
    "boundaries": [{"id": "prod", "trust": "restricted"}],
    "data": [{"id": "weights", "confidentiality": "high", "integrity": "high"},
             {"id": "train", "pii": True}],
    "components": [
        {"id": "user", "kind": "person"},
        {"id": "admin", "kind": "person"},
        {"id": "bastion", "kind": "bastion", "boundary": "prod"},
        {"id": "api", "kind": "inference-service", "boundary": "prod"},
        {"id": "model", "kind": "model-artifact", "boundary": "prod", "data": ["weights"]},
        {"id": "faces", "kind": "dataset", "boundary": "prod", "data": ["train"]},
        {"id": "trainer", "kind": "training-job", "boundary": "prod"},
        {"id": "batch", "kind": "inference-service", "boundary": "prod"},
        {"id": "checkout", "kind": "decision-service", "boundary": "prod"},
    ],
    "flows": [
        {"id": "query", "from": "user", "to": "api", "bidirectional": True},
        {"id": "login", "from": "admin", "to": "bastion", "protocol": "SSH"},
        {"id": "update", "from": "bastion", "to": "model", "protocol": "SSH"},
        {"id": "load", "from": "model", "to": "api"},
        {"id": "learn", "from": "faces", "to": "trainer"},
        {"id": "save", "from": "trainer", "to": "model"},
        {"id": "answer", "from": "api", "to": "admin"},
        {"id": "load-batch", "from": "model", "to": "batch"},
        {"id": "score", "from": "checkout", "to": "batch", "bidirectional": True},
    ],
}

# attribute, element, value: setting it must change some finding's presence or score
ATTRIBUTE_CASES = [
    ("authenticated", "api", True),
    ("rate_limiting", "api", True),
    ("returns_scores", "api", False),
    ("retrains_on_feedback", "api", True),
    ("signed", "model", True),
    ("integrity_check", "model", True),
    ("audit_logging", "model", True),
    ("origin", "model", "third-party"),
    ("exposure", "batch", "public"),
    ("fails_open", "checkout", True),
    ("encrypted", "answer", False),
    ("authenticated", "query", True),
    ("admin_interface", "api", True),
    ("self_registration", "api", True, {"authenticated": True}),  # open sign-up matters behind a login
]


def _signature(assessment) -> dict:
    return {f.id: (f.score.likelihood, f.score.impact) for f in assessment.findings}


@pytest.mark.parametrize("case", ATTRIBUTE_CASES, ids=[f"{c[0]}-{c[1]}" for c in ATTRIBUTE_CASES])
def test_each_attribute_changes_some_result(tmp_path, catalog, case):
    import copy

    attribute, element, value = case[:3]
    given = case[3] if len(case) > 3 else {}  # what both models state, so that the attribute can matter
    document = copy.deepcopy(SMALL)
    target = next((c for c in document["components"] if c["id"] == element), None)
    target = target or next(f for f in document["flows"] if f["id"] == element)
    target.update(given)
    before = _signature(analyse(tmp_path, document, catalog, "before.yaml"))
    target[attribute] = value
    after = _signature(analyse(tmp_path, document, catalog, "after.yaml"))
    assert after != before


def test_every_attribute_has_a_case():
    covered = {c[0] for c in ATTRIBUTE_CASES} | {c[0] for c in LLM_ATTRIBUTE_CASES}
    assert set(ATTRIBUTE_NAMES) | set(FLOW_ATTRIBUTE_NAMES) <= covered


# --- LLM, RAG and agent attributes: each moves some finding ----------------------------------------

SMALL_LLM = {
    "system": {"name": "assistant"},
    "boundaries": [{"id": "zone", "trust": "internal"}],
    "data": [{"id": "customer-data", "pii": True}],
    "components": [
        {"id": "user", "kind": "person"},
        {"id": "app", "kind": "process", "boundary": "zone"},
        {"id": "llm", "kind": "llm", "boundary": "zone", "output_to": ["html"]},
        {"id": "prompt", "kind": "system-prompt", "boundary": "zone"},
        {"id": "retriever", "kind": "retriever", "boundary": "zone"},
        {"id": "docs", "kind": "rag-source", "boundary": "zone", "data": ["customer-data"]},
        {"id": "agent", "kind": "agent", "boundary": "zone"},
        {"id": "tool", "kind": "tool", "boundary": "zone", "capabilities": ["execute", "write"]},
        {"id": "mcp", "kind": "mcp-server", "boundary": "zone", "origin": "third-party", "capabilities": ["read"]},
        {"id": "memory", "kind": "agent-memory", "boundary": "zone"},
    ],
    "flows": [
        {"from": "user", "to": "app", "protocol": "HTTPS", "bidirectional": True},
        {"from": "app", "to": "llm", "protocol": "HTTPS", "bidirectional": True},
        {"from": "prompt", "to": "app", "protocol": "file"},
        {"from": "docs", "to": "retriever", "protocol": "internal"},
        {"from": "retriever", "to": "app", "protocol": "internal"},
        {"from": "user", "to": "agent", "protocol": "HTTPS", "bidirectional": True},
        {"from": "agent", "to": "tool", "protocol": "local", "bidirectional": True},
        {"from": "agent", "to": "mcp", "protocol": "stdio", "bidirectional": True},
        {"from": "agent", "to": "memory", "protocol": "local", "bidirectional": True},
    ],
}

LLM_ATTRIBUTE_CASES = [
    ("untrusted_content", "docs", True),
    ("secrets_in_prompt", "prompt", True),
    ("tenant_isolation", "docs", True),
    ("usage_limits", "llm", True),
    ("sandboxed", "tool", True),
    ("network_egress", "tool", False),
    ("pinned", "mcp", True),
    ("approval_required", "tool", True),
    ("filters_output", "llm", True),
    ("capabilities", "tool", ["read"]),
    ("autonomy", "agent", "approval"),
    ("output_to", "llm", ["agent"]),
]


@pytest.mark.parametrize("attribute, element, value", LLM_ATTRIBUTE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in LLM_ATTRIBUTE_CASES])
def test_each_llm_attribute_changes_some_result(tmp_path, catalog, attribute, element, value):
    import copy

    before = _signature(analyse(tmp_path, SMALL_LLM, catalog, "before.yaml"))
    document = copy.deepcopy(SMALL_LLM)
    next(c for c in document["components"] if c["id"] == element)[attribute] = value
    after = _signature(analyse(tmp_path, document, catalog, "after.yaml"))
    assert after != before


def test_a_chatbot_without_tools_has_no_excessive_agency_and_a_sandbox_lowers_only_escape(tmp_path, catalog):
    import copy

    chatbot = copy.deepcopy(SMALL_LLM)
    chatbot["components"] = [c for c in chatbot["components"] if c["id"] not in ("agent", "tool", "mcp", "memory")]
    chatbot["flows"] = [f for f in chatbot["flows"] if "agent" not in (f["from"], f["to"])]
    ids = {f.id.split("@")[0] for f in analyse(tmp_path, chatbot, catalog, "chatbot.yaml").findings}
    assert "EXCESSIVE-AGENCY" not in ids and "SANDBOX-ESCAPE" not in ids and "PROMPT-INJECTION" in ids

    open_shell = _signature(analyse(tmp_path, SMALL_LLM, catalog, "open.yaml"))
    boxed = copy.deepcopy(SMALL_LLM)
    tool = next(c for c in boxed["components"] if c["id"] == "tool")
    tool.update(sandboxed=True, network_egress=False)
    contained = _signature(analyse(tmp_path, boxed, catalog, "boxed.yaml"))
    escape = "SANDBOX-ESCAPE@tool"
    assert contained[escape][0] * contained[escape][1] < open_shell[escape][0] * open_shell[escape][1]
    # what the tool is allowed to do, it does inside the sandbox too: no credit against agency
    assert contained["EXCESSIVE-AGENCY@tool"] == open_shell["EXCESSIVE-AGENCY@tool"]
