"""Fix these first: the plan cuts every open high-risk attack path, cheaply, and re-running after
recording it in the review leaves those paths cut."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import threatmodel
from threatmodel.catalog import EFFORT_WEIGHT

REPO = Path(__file__).resolve().parents[1]
HUSKY = REPO / "docs" / "examples" / "huskyai.yaml"

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


def _plan(model, **options) -> dict:
    return json.loads(threatmodel.render(threatmodel.analyze(model, **options), "json"))["plan"]


def _record(model: Path, plan: dict) -> None:
    for step in plan["steps"]:
        for element in step["elements"]:
            done = subprocess.run([sys.executable, "-m", "threatmodel", "review", str(model), "--mitigation",
                                   f"{step['mitigation']}@{element}=implemented", "--evidence", "fix plan"],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr


def test_husky_plan_is_short_and_names_the_paths_each_step_cuts():
    plan = _plan(HUSKY)
    assert plan["method"] in ("minimum cut", "greedy cover")
    assert 1 <= len(plan["steps"]) <= 6
    cut = set()
    for step in plan["steps"]:
        assert step["breaks"], step
        for broken in step["breaks"]:
            assert broken["finding"].split("@", 1)[1] in broken["path"].split(" → ")[-1]
            cut.add(broken["finding"])
    assert len(cut) == plan["open_paths"]  # every open path is cut by exactly the plan's steps
    totals = [plan["residual_before"]["total"]] + [s["residual_after"]["total"] for s in plan["steps"]]
    assert totals == sorted(totals, reverse=True) and totals[-1] < totals[0]
    assert plan["cost"] == sum(EFFORT_WEIGHT[s["effort"]] * len(s["elements"]) for s in plan["steps"])
    # decided findings are not targets: ML05@model-file is accepted, ML10@production-model mitigated
    targets = {b["finding"] for s in plan["steps"] for b in s["breaks"]} | {c["finding"] for c in plan["already_cut"]}
    assert "ML05@model-file" not in targets and "ML10@production-model" not in targets


def test_applying_the_plan_in_the_review_leaves_those_paths_cut(tmp_path):
    for name in ("huskyai.yaml", "huskyai.status.yaml"):
        shutil.copy(HUSKY.parent / name, tmp_path / name)
    model = tmp_path / "huskyai.yaml"
    before = _plan(model)
    _record(model, before)
    after = _plan(model)
    assert after["open_paths"] == 0 and after["steps"] == []
    planned = {b["finding"] for s in before["steps"] for b in s["breaks"]}
    assert planned <= {c["finding"] for c in after["already_cut"]}
    # the residual the plan promised is the residual the review now computes
    assert after["residual_before"] == before["steps"][-1]["residual_after"]


def test_one_control_on_the_gateway_cuts_the_paths_behind_it(tmp_path):
    model = tmp_path / "gw.yaml"
    model.write_text(GATEWAY)
    plan = _plan(model, review=False)
    first = plan["steps"][0]
    assert first["mitigation"] == "query-rate-limiting" and first["elements"] == ["gateway"]
    assert {b["finding"] for b in first["breaks"]} >= {"ML05@pricing-api", "ML05@churn-api"}
    # recorded on the gateway, the review credits it to the services behind it, and the paths stay cut
    (tmp_path / "gw.status.yaml").write_text("mitigations:\n  query-rate-limiting@gateway: {state: implemented}\n")
    result = threatmodel.analyze(model)
    reviewed = next(r for r in result.review.findings if r.finding.id == "ML05@pricing-api")
    assert "query-rate-limiting" in reviewed.implemented
    again = _plan(model)
    assert "ML05@pricing-api" in {c["finding"] for c in again["already_cut"]}


def test_declaring_a_control_in_the_model_is_not_a_cut_but_removes_it_from_the_candidates(tmp_path):
    model = tmp_path / "gw.yaml"
    model.write_text(GATEWAY.replace("exposure: public}", "exposure: public, rate_limiting: true}"))
    plan = _plan(model, review=False)
    assert all(s["mitigation"] != "query-rate-limiting" for s in plan["steps"])
    assert not plan["already_cut"]


def test_attack_trees_are_mermaid_with_or_and_and_the_cut_marked():
    plan = _plan(HUSKY)
    assert plan["trees"]
    tree = next(t for t in plan["trees"] if t["asset"] == "web-server")["mermaid"]
    assert tree.startswith("flowchart TD\n") and "{OR}" in tree and '"AND: ML01@web-server"' in tree
    assert ":::cut" in tree and "classDef cut" in tree
    for line in tree.splitlines()[1:]:
        assert line.startswith("  "), line  # one statement per line, nothing user-written unescaped


def test_nothing_to_cut_when_no_high_risk_path_is_open(tmp_path):
    model = tmp_path / "tiny.yaml"
    model.write_text("system: {name: tiny}\ncomponents:\n  - {id: job, kind: training-job}\n")
    plan = _plan(model, review=False)
    assert plan["method"] == "nothing to cut" and plan["steps"] == [] and plan["trees"] == []
    markdown = threatmodel.render(threatmodel.analyze(model, review=False), "md")
    assert "No open attack path rated high or critical is left to cut." in markdown


def test_the_plan_scales_linearly_enough_for_the_benchmark_model():
    """Not a timing test: the plan of a generated model of 300 components is computed, and every
    open path it targets is cut by its steps."""
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
    broken = {b["finding"] for s in plan["steps"] for b in s["breaks"]}
    assert len(broken) == plan["open_paths"] > 0
