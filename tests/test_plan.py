"""Fix these first: a plan a reviewer would sign.

Each step prevents (no detective control counted as a cut outside repudiation), addresses the
threat's mechanism before anything generic, sits where the team can apply it, lowers the
residual of every finding it is shown against, and the plan runs until nothing is high or names
a decision for each finding that stays high. One fact has one effect, wherever it is written.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import threatmodel
from threatmodel.catalog.model import EFFORT_WEIGHT

from .test_report import check_golden

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "docs" / "examples"
HUSKY = EXAMPLES / "huskyai.yaml"
ALL_EXAMPLES = sorted(EXAMPLES.glob("*.yaml"))
ALL_EXAMPLES = [p for p in ALL_EXAMPLES if not p.name.endswith(".status.yaml")]

GATEWAY = """system: {name: two models behind one gateway}
data:
  - {id: weights, confidentiality: high, integrity: high}
components:
  - {id: customer, kind: person}
  - {id: gateway, kind: api-gateway, exposure: public}
  - {id: pricing-api, kind: inference-service, data: [weights]}
  - {id: churn-api, kind: inference-service, data: [weights]}
flows:
  - {from: customer, to: gateway, protocol: HTTPS}
  - {from: gateway, to: pricing-api, protocol: HTTPS}
  - {from: gateway, to: churn-api, protocol: HTTPS}
"""

# a hosted LLM behind the team's own service, answering users and rendering HTML
HOSTED_LLM = """system: {name: assistant on a hosted model}
boundaries:
  - {id: app, trust: internal}
  - {id: provider, trust: partner}
data:
  - {id: chats, confidentiality: high, integrity: medium, pii: true}
components:
  - {id: user, kind: person}
  - {id: web, kind: process, boundary: app, exposure: public}
  - {id: backend, kind: process, boundary: app, data: [chats]}
  - {id: model-api, kind: llm, boundary: provider, origin: third-party, output_to: [html]}
flows:
  - {from: user, to: web, protocol: HTTPS, bidirectional: true, data: [chats]}
  - {from: web, to: backend, protocol: HTTPS, bidirectional: true, data: [chats]}
  - {from: backend, to: model-api, protocol: HTTPS, bidirectional: true, data: [chats]}
"""

AGENT = """system: {name: agent with one tool}
boundaries: [{id: app, trust: internal}]
data:
  - {id: records, confidentiality: high, integrity: high}
components:
  - {id: user, kind: person}
  - {id: agent, kind: agent, boundary: app, exposure: public%s}
  - {id: crm-tool, kind: tool, boundary: app, capabilities: [write, execute], data: [records]}
flows:
  - {from: user, to: agent, protocol: HTTPS, bidirectional: true}
  - {from: agent, to: crm-tool, protocol: HTTPS, bidirectional: true, data: [records]}
"""


def _report(model, **options) -> dict:
    return json.loads(threatmodel.render(threatmodel.analyze(model, **options), "json"))


def _plan(model, **options) -> dict:
    return _report(model, **options)["plan"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _record(model: Path, plan: dict) -> None:
    for step in plan["steps"]:
        for element in step["elements"]:
            done = subprocess.run([sys.executable, "-m", "threatmodel", "review", str(model), "--mitigation",
                                   f"{step['mitigation']}@{element}=implemented", "--evidence", "fix plan"],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr


# --- properties every plan has, on every bundled example --------------------------------------

@pytest.mark.parametrize("model", ALL_EXAMPLES, ids=lambda p: p.stem)
def test_every_step_prevents_lowers_what_it_claims_and_nothing_high_is_left_undecided(model):
    assessment = threatmodel.analyze(model)
    report = json.loads(threatmodel.render(assessment, "json"))
    plan = report["plan"]
    catalog = assessment.analysis.catalog
    threats = {f.id: f.threat for f in assessment.analysis.findings}
    graph = assessment.analysis.graph
    third_party = {c.id for c in graph.system.components if c.origin == "third-party"}
    totals = [plan["residual_before"]["total"]]
    for step in plan["steps"]:
        mitigation = catalog.mitigations[step["mitigation"]]
        assert step["lowers"], step
        for low in step["lowers"]:
            assert low["after"] < low["before"], (step["mitigation"], low)
            threat = threats[low["finding"]]
            if mitigation.control == "detective":
                assert "R" in threat.stride, f"detective {step['mitigation']} shown lowering {low['finding']}"
        if mitigation.applied == "inside":
            assert not set(step["elements"]) & third_party, step  # never inside a service the team cannot change
        assert step["why"], step
        totals.append(step["residual_after"]["total"])
    assert totals == sorted(totals, reverse=True)
    assert plan["high_after"] == len(plan["decisions"])
    for decision in plan["decisions"]:
        assert decision["reason"] and decision["redesign"], decision
    assert plan["cost"] == sum(EFFORT_WEIGHT[s["effort"]] * len(s["elements"]) for s in plan["steps"])


@pytest.mark.golden
@pytest.mark.parametrize("name", ["huskyai", "rag-chatbot", "coding-agent"])
def test_golden_plans(name):
    """The plan of each main example, as a reviewer reads it."""
    plan = _plan(EXAMPLES / f"{name}.yaml")
    lines = [f"targets {plan['targets']}, residual {plan['residual_before']['total']} "
             f"({plan['residual_before']['high_or_critical']} high), after the plan {plan['high_after']} high"]
    for step in plan["steps"]:
        lines.append(f"{step['order']}. {step['mitigation']} ({step['control']}, {step['effort']}) on "
                     f"{', '.join(step['elements'])}: {step['why']}")
        lines += [f"   moved {m}" for m in step["moved"]]
        lines += [f"   {low['finding']} {low['before']} -> {low['after']} {low['severity']}" for low in step["lowers"]]
    lines += [f"decide {d['finding']} ({d['residual']}): {d['reason']}; redesign: {d['redesign']}"
              for d in plan["decisions"]]
    lines += [f"handled {h['finding']} by {', '.join(h['by'])}" for h in plan["handled"]]
    check_golden(f"plan-{name}.txt", "\n".join(lines) + "\n")


# --- the defects a reviewer found, each as a regression ----------------------------------------

def test_audit_logging_is_never_the_cut_for_key_theft_or_model_poisoning():
    plan = _plan(HUSKY)
    for step in plan["steps"]:
        if step["mitigation"] == "file-audit-logging":
            assert all(low["finding"].startswith(("ARTIFACT-REPUDIATION", "SECRET-DESTRUCTION", "LOG-TAMPERING"))
                       for low in step["lowers"])
    lowered = {low["finding"]: step["mitigation"] for step in plan["steps"] for low in step["lowers"]}
    assert lowered.get("CREDENTIAL-THEFT@bing-api-key") in ("secret-management", "admin-access-hardening")


def test_the_mechanism_wins_over_a_generic_control():
    rag = _plan(EXAMPLES / "rag-chatbot.yaml")
    first = {low["finding"]: step["mitigation"] for step in reversed(rag["steps"]) for low in step["lowers"]}
    assert first["CROSS-TENANT-RETRIEVAL@vector-db"] == "tenant-scoped-retrieval"
    assert first["OUTPUT-RENDERING@llm-api"] == "output-encoding"
    agent = _plan(EXAMPLES / "coding-agent.yaml")
    first = {low["finding"]: step["mitigation"] for step in reversed(agent["steps"]) for low in step["lowers"]}
    assert first["MEMORY-POISONING@agent-memory"] == "memory-hardening"


def test_a_step_for_a_third_party_model_moves_to_the_team_component_in_front(tmp_path):
    plan = _plan(_write(tmp_path, "hosted.yaml", HOSTED_LLM), review=False)
    steps = {s["mitigation"]: s for s in plan["steps"]}
    assert "prompt-screening" not in steps  # detective: never a cut
    encoding = steps["output-encoding"]
    assert encoding["elements"] == ["backend"]
    assert encoding["moved"] == ["on backend, in front of third-party model-api"]
    markdown = threatmodel.render(threatmodel.analyze(tmp_path / "hosted.yaml", review=False), "md")
    assert "Placed on backend, in front of third-party model-api" in markdown


def test_an_image_parser_exploit_is_fixed_by_hardened_decoding_not_input_validation():
    plan = _plan(HUSKY)
    fixing = [s["mitigation"] for s in plan["steps"] if any(low["finding"] == "UPLOAD-PARSER-EXPLOIT@web-server"
                                                              for low in s["lowers"])]
    assert fixing and fixing[0] == "upload-hardening"


def test_one_fact_one_effect_model_or_review(tmp_path):
    """rate limiting declared on the gateway, or recorded in the review: the same plan and residual."""
    declared = _write(tmp_path, "declared.yaml",
                      GATEWAY.replace("exposure: public}", "exposure: public, rate_limiting: true}"))
    recorded = _write(tmp_path, "recorded.yaml", GATEWAY)
    _write(tmp_path, "recorded.status.yaml", "mitigations:\n  query-rate-limiting@gateway: {state: implemented}\n"
                                             "  request-limits@gateway: {state: implemented}\n")
    a, b = _plan(declared, review=False), _plan(recorded)
    assert [(s["mitigation"], s["elements"]) for s in a["steps"]] == [(s["mitigation"], s["elements"]) for s in b["steps"]]
    assert a["residual_before"] == b["residual_before"]
    assert all(s["mitigation"] not in ("query-rate-limiting", "request-limits") for s in a["steps"])
    # the approval gate: autonomy in the model or the gate in the review, never re-recommended
    by_model = _write(tmp_path, "agent-a.yaml", AGENT % ", autonomy: approval")
    by_review = _write(tmp_path, "agent-b.yaml", AGENT % "")
    _write(tmp_path, "agent-b.status.yaml", "mitigations:\n  human-approval-gate@agent: {state: implemented}\n"
                                            "  human-approval-gate@crm-tool: {state: implemented}\n")
    a, b = _plan(by_model, review=False), _plan(by_review)
    assert all(s["mitigation"] != "human-approval-gate" for s in a["steps"] + b["steps"])
    residual = {name: {f["id"]: f["residual_score"] for f in _report(path, review=review)["findings"]}
                for name, path, review in (("a", by_model, False), ("b", by_review, None))}
    assert residual["a"]["EXCESSIVE-AGENCY@crm-tool"] == residual["b"]["EXCESSIVE-AGENCY@crm-tool"]


def test_a_control_on_the_gateway_counts_for_the_services_behind_it(tmp_path):
    model = _write(tmp_path, "gw.yaml", GATEWAY)
    plan = _plan(model, review=False)
    on_gateway = [s for s in plan["steps"] if s["elements"] == ["gateway"]]
    assert on_gateway and {low["finding"] for low in on_gateway[0]["lowers"]} >= {"ML05@pricing-api", "ML05@churn-api"}
    _write(tmp_path, "gw.status.yaml", f"mitigations:\n  {on_gateway[0]['mitigation']}@gateway: {{state: implemented}}\n")
    reviewed = next(r for r in threatmodel.analyze(model).review.findings if r.finding.id == "ML05@pricing-api")
    assert on_gateway[0]["mitigation"] in reviewed.implemented


def test_applying_the_plan_in_the_review_leaves_nothing_high_but_the_decisions(tmp_path):
    for name in ("huskyai.yaml", "huskyai.status.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    model = tmp_path / "huskyai.yaml"
    before = _plan(model)
    _record(model, before)
    after = _plan(model)
    assert after["steps"] == [] and after["high_after"] == len(before["decisions"])
    # the residual the plan promised is the residual the review now computes
    assert after["residual_before"]["total"] == before["steps"][-1]["residual_after"]["total"]
    lowered = {low["finding"] for s in before["steps"] for low in s["lowers"] if low["severity"] not in ("high", "critical")}
    assert lowered & {h["finding"] for h in after["handled"]}


def test_targets_are_the_residual_after_evidence(tmp_path):
    """A declared signature the evidence contradicts gives its credit back: the finding is high
    again and the plan targets it, asking for the control to be fixed."""
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"weights v1")
    model = _write(tmp_path, "m.yaml", f"""system: {{name: one model}}
boundaries: [{{id: prod, trust: internal}}]
data: [{{id: weights, confidentiality: high, integrity: high}}]
components:
  - {{id: engineer, kind: person}}
  - {{id: notebook, kind: notebook, boundary: prod, exposure: public}}
  - {{id: model-file, kind: model-artifact, boundary: prod, format: pickle, paths: ["{artifact}"], signed: true,
     data: [weights]}}
  - {{id: api, kind: inference-service, boundary: prod, data: [weights]}}
flows:
  - {{from: engineer, to: notebook, protocol: SSH}}
  - {{from: notebook, to: model-file, protocol: file}}
  - {{from: model-file, to: api, protocol: file}}
""")
    plain = _plan(model, review=False)
    manifest, check = tmp_path / "manifest.json", tmp_path / "check.json"
    cli = [sys.executable, "-m", "threatmodel", "controls"]
    assert subprocess.run(cli + ["manifest", str(model), "-o", str(manifest)], capture_output=True).returncode == 0
    artifact.write_bytes(b"weights v2, backdoored")
    subprocess.run(cli + ["verify-manifest", str(manifest), "--format", "json", "-o", str(check)], capture_output=True)
    contradicted = _plan(model, review=False, evidence=[check])
    def high_and_lowered(plan: dict) -> list[dict]:
        return [s for s in plan["steps"] if any(low["finding"] == "ML10@model-file" and low["before"] >= 12
                                                 for low in s["lowers"])]

    assert not high_and_lowered(plain)  # the declared signature keeps it below high
    fix = high_and_lowered(contradicted)
    assert fix and fix[0]["control"] == "preventive"
    assert fix[0]["mitigation"] in ("artifact-integrity-verification", "storage-access-control")


def test_nothing_high_gives_no_steps(tmp_path):
    model = _write(tmp_path, "tiny.yaml", "system: {name: tiny}\ncomponents:\n  - {id: job, kind: training-job}\n")
    plan = _plan(model, review=False)
    assert plan["steps"] == [] and plan["trees"] == [] and plan["decisions"] == []
    markdown = threatmodel.render(threatmodel.analyze(model, review=False), "md")
    assert "No open finding is rated high or critical after review." in markdown


def test_a_finding_that_no_team_control_can_lower_gets_a_decision_with_a_redesign(tmp_path):
    # people use a vendor's hosted chat directly: nothing of the team's sits in front of it
    model = _write(tmp_path, "m.yaml", """system: {name: hosted assistant used directly}
data: [{id: chats, confidentiality: high, integrity: high, pii: true}]
components:
  - {id: user, kind: person}
  - {id: vendor-chat, kind: llm, origin: third-party, exposure: public, output_to: [html], data: [chats]}
flows:
  - {from: user, to: vendor-chat, protocol: HTTPS, bidirectional: true, data: [chats]}
""")
    plan = _plan(model, review=False)
    decisions = {d["finding"]: d for d in plan["decisions"]}
    assert "OUTPUT-RENDERING@vendor-chat" in decisions and plan["high_after"] == len(decisions)
    rendering = decisions["OUTPUT-RENDERING@vendor-chat"]
    assert "output-encoding needs control of vendor-chat, which is third-party" in rendering["reason"]
    assert rendering["redesign"].startswith("Render model output as plain text")
    assert all(s["mitigation"] != "output-encoding" for s in plan["steps"])
    markdown = threatmodel.render(threatmodel.analyze(model, review=False), "md")
    assert "Decisions needed (2 findings still high or critical after the plan)" in markdown
    # the plan's opening sentence agrees with what is left: it does not claim to bring every one below high
    targets = plan["targets"]
    if plan["steps"]:
        assert f"These steps bring {targets - 2} of them below high (2 still need a decision, below)" in markdown
    else:
        assert "each needs a decision below" in markdown


# --- attack trees ---------------------------------------------------------------------------

def _tree(plan, goal: str) -> str:
    """The goal's attack tree as the reports draw it in Mermaid, from the JSON report's tree data."""
    from threatmodel.renderers.templates import render

    return render("attack_tree.mmd.j2", {"tree": next(t for t in plan["trees"] if t["goal"] == goal)})


def test_attack_trees_are_mermaid_one_per_goal_with_every_actor_and_controls_in_place():
    plan = _plan(HUSKY)
    assert plan["trees"]
    goals = [t["goal"] for t in plan["trees"]]
    assert len(goals) == len(set(goals))  # one tree per goal, not per element
    theft = next(t for t in plan["trees"] if t["goal"] == "ML05")
    assert theft["title"] == "Model theft" and {"production-model", "web-server"} <= set(theft["elements"])
    tree = _tree(plan, "ML01")
    assert tree.startswith("flowchart LR\n") and '["goal: Input manipulation (adversarial examples, evasion) (OR)"]' in tree
    assert '"AND: ML01@web-server<br>residual high 12"' in tree and "user → api-gateway → web-server" in tree
    assert "in place, not enough: query-rate-limiting (declared)<br>plan: adversarial-training on web-server" in tree
    assert ":::cut" in tree and "classDef cut" in tree
    # a finding brought below high by a control in place is drawn as stopped, in green
    assert "stopped below high by query-rate-limiting (declared) (in place)\"]:::done" in _tree(plan, "ML05")
    for line in tree.splitlines()[1:]:
        assert line.startswith("  "), line  # one statement per line, nothing user-written unescaped
    everything = "\n".join(_tree(plan, t["goal"]) for t in plan["trees"])
    assert "no actor needed" not in everything
    for tree in plan["trees"]:
        # a control in place is never drawn next to "no mitigation in place" for the same attack
        for line in _tree(plan, tree["goal"]).splitlines():
            if "(in place)" in line:
                assert "no mitigation in place" not in line


def test_supply_chain_trees_name_the_upstream_attacker():
    plan = _plan(HUSKY)
    libraries = _tree(plan, "ML06")
    assert libraries.count("upstream attacker (a compromised maintainer or registry account)") == 2


def test_every_actor_that_reaches_a_finding_gets_its_own_branch():
    assessment = threatmodel.analyze(HUSKY)
    finding = next(f for f in assessment.analysis.findings if f.id == "CREDENTIAL-THEFT@bing-api-key")
    actors = {finding.actor} | {actor for actor, _ in finding.other_paths}
    assert len(actors) >= 2  # the engineer, and the experimentation libraries running where the key is
    tree = _tree(_plan(HUSKY), "CREDENTIAL-THEFT")
    branch = next(line for line in tree.splitlines() if line.startswith("  f1 --> f1w"))
    assert "CREDENTIAL-THEFT@bing-api-key" in tree.splitlines()[2]
    for actor in actors:
        assert f"<br>{actor} → " in branch


def test_the_plan_scales_for_the_benchmark_model():
    """Not a timing test: the plan of a generated model of 300 components is computed, and every
    finding still high after it has a decision."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from generate import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        model = Path(folder) / "big.yaml"
        model.write_text(generate(300))
        plan = _plan(model, review=False)
    assert plan["targets"] > 0 and plan["steps"]
    assert plan["high_after"] == len(plan["decisions"])


def test_indirect_injection_is_drawn_from_whoever_controls_the_content():
    """The attacker of an indirect injection writes the content (a ticket, a fetched page), and the
    attack runs along the content's path, not along the victim's chat."""
    rag = threatmodel.analyze(EXAMPLES / "rag-chatbot.yaml")
    finding = next(f for f in rag.analysis.findings if f.id == "INDIRECT-PROMPT-INJECTION@llm-api")
    assert "document-store" in finding.attack_path and "chat-widget" not in finding.attack_path
    tree = _tree(_plan(EXAMPLES / "rag-chatbot.yaml"), "INDIRECT-PROMPT-INJECTION")
    assert " → document-store → " in tree
    agent = threatmodel.analyze(EXAMPLES / "coding-agent.yaml")
    finding = next(f for f in agent.analysis.findings if f.id == "INDIRECT-PROMPT-INJECTION@coding-agent")
    assert finding.attack_path[:2] == ("internet", "web-fetch")
    assert len(set(finding.attack_path)) == len(finding.attack_path)  # no loops


def test_tenant_isolation_is_not_memory_hardening(tmp_path):
    """Keeping tenants apart answers cross-tenant disclosure; it does not validate or expire what
    is written to memory, so memory poisoning keeps its score and the plan still asks for hardening."""
    text = """system: {name: agent with memory}
boundaries: [{id: app, trust: internal}]
data: [{id: notes, confidentiality: high, integrity: high}]
components:
  - {id: user, kind: person}
  - {id: web, kind: tool, boundary: app, capabilities: [network]}
  - {id: agent, kind: agent, boundary: app, exposure: public}
  - {id: memory, kind: agent-memory, boundary: app, data: [notes]%s}
flows:
  - {from: user, to: agent, protocol: HTTPS, bidirectional: true}
  - {from: agent, to: web, protocol: HTTPS, bidirectional: true}
  - {from: agent, to: memory, protocol: internal, bidirectional: true, data: [notes]}
"""
    plain = _report(_write(tmp_path, "a.yaml", text % ""), review=False)
    isolated_model = _write(tmp_path, "b.yaml", text % ", tenant_isolation: true")
    isolated = _report(isolated_model, review=False)
    score = {name: {f["id"]: f["score"] for f in report["findings"]} for name, report in (("a", plain), ("b", isolated))}
    assert score["a"]["MEMORY-POISONING@memory"] == score["b"]["MEMORY-POISONING@memory"]
    assert any(s["mitigation"] == "memory-hardening" and "memory" in s["elements"] for s in isolated["plan"]["steps"])


GIT_SERVER = """system: {name: self-hosted git}
boundaries: [{id: corp, trust: internal}]
data: [{id: keys, confidentiality: high, integrity: high}]
components:
  - {id: internet, kind: person}
  - {id: git-server, kind: process, boundary: corp, exposure: public%s}
  - {id: repo, kind: source-repository, boundary: corp}
  - {id: deploy-key, kind: secret, boundary: corp, data: [keys]}
flows:
  - {from: internet, to: git-server, protocol: HTTPS}
  - {from: repo, to: git-server, protocol: file}
  - {from: deploy-key, to: repo, name: committed to the repository, protocol: file, data: [keys]}
"""


@pytest.mark.parametrize("auth, raised", [(", authenticated: false", True), (", authenticated: true", False), ("", False)])
def test_a_service_that_does_not_authenticate_serves_what_is_behind_it(tmp_path, auth, raised):
    """An internet-facing Git server without authentication in front of a repository that holds a
    key: outsiders can read the key, and the plan moves the key into a secret store. Unknown is
    not false: without `authenticated: false` nothing is inferred."""
    report = _report(_write(tmp_path, "git.yaml", GIT_SERVER % auth), review=False)
    theft = next((f for f in report["findings"] if f["id"] == "CREDENTIAL-THEFT@deploy-key"), None)
    outsider = theft is not None and theft["attack_path"][:2] == ["internet", "git-server"]
    assert outsider == raised
    if raised:
        steps = {(s["mitigation"], e) for s in report["plan"]["steps"] for e in s["elements"]}
        assert ("secret-management", "deploy-key") in steps


def test_summary_sentences_agree_in_number(tmp_path):
    model = _write(tmp_path, "one.yaml", GIT_SERVER % ", authenticated: false")
    markdown = threatmodel.render(threatmodel.analyze(model, review=False), "md")
    summary = next(line for line in markdown.splitlines() if line.startswith("**1 finding**; "))
    assert summary.endswith(" catalog threats do not apply; 1 open question.")
    html = threatmodel.render(threatmodel.analyze(model, review=False), "html")
    assert "<strong>1 finding</strong>" in html
