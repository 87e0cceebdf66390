"""The review workflow: review files, residual risk, and the checklist / review / check / diff / SARIF commands."""

from __future__ import annotations

import json
import shutil

import pytest

import threatmodel as tm

from threatmodel.core.errors import InputError
from threatmodel.pipeline import assess as run
from threatmodel.review.statuses import load_review

from .conftest import EXAMPLES, shared_file

HUSKY = EXAMPLES / "huskyai.yaml"
HUSKY_STATUS = EXAMPLES / "huskyai.status.yaml"

SMALL = """
system: {name: small}
boundaries: [{id: prod, trust: internal}]
data: [{id: weights, confidentiality: high, integrity: high}]
components:
  - {id: user, kind: person}
  - {id: api, kind: inference-service, boundary: prod, exposure: public}
  - {id: model, kind: model-artifact, boundary: prod, data: [weights]}
  - {id: admin, kind: person}
flows:
  - {from: user, to: api, encrypted: true, bidirectional: true}
  - {from: model, to: api}
  - {from: admin, to: model, protocol: SSH}
"""


def review_errors(write, text):
    with pytest.raises(InputError) as info:
        load_review(write(text, "r.status.yaml"), "r.status.yaml")
    return [str(d) for d in info.value.diagnostics]


@pytest.mark.parametrize("text, expected", [
    ("findings:\n  ML01@api: {status: accepted}\n",
     "r.status.yaml:2:13: error: findings.ML01@api: status 'accepted' needs a justification"),
    ("findings:\n  ML01@api: {status: fixed}\n",
     "r.status.yaml:2:22: error: findings.ML01@api.status: invalid value 'fixed'; expected 'open', 'in-progress', "
     "'mitigated', 'accepted', 'false-positive' or 'not-applicable'"),
    ("findings:\n  ML01@api: {status: open, colour: red}\n", "r.status.yaml:2:28: error: unknown key 'colour'"),
    ("mitigations:\n  rate-limit: {state: done}\n",
     "r.status.yaml:2:23: error: mitigations.rate-limit.state: invalid value 'done'; expected 'implemented', "
     "'partial', 'planned' or 'not-applicable'"),
])
def test_review_file_errors_are_located(write, text, expected):
    assert any(e.startswith(expected) for e in review_errors(write, text)), review_errors(write, text)


def test_unknown_mitigation_in_review_is_an_error(write):
    model = write(SMALL)
    status = write("mitigations:\n  query-rate-limitng@api: {state: implemented}\n", "s.yaml")
    with pytest.raises(InputError) as info:
        run(model, status=status)
    assert str(info.value.diagnostics[0]).endswith(
        "s.yaml:2:3: error: unknown mitigation 'query-rate-limitng', did you mean 'query-rate-limiting'?")


def test_wildcards_exact_ids_win_and_orphans_are_reported(write):
    model = write(SMALL)
    status = write("findings:\n  '*@api': {status: in-progress}\n  ML01@api: {status: mitigated}\n"
                   "  ML99@*: {status: open}\n  ML05@gone: {status: open}\n", "s.yaml")
    result = run(model, status=status)
    statuses = {r.finding.id: r.status for r in result.review.findings}
    assert statuses["ML01@api"] == "mitigated"
    assert statuses["INFERENCE-DOS@api"] == "in-progress"
    assert statuses["ML10@model"] == "open"
    assert [str(o).split("s.yaml:")[-1] for o in result.review.orphans] == [
        "4:3: warning: review entry 'ML99@*' matches no finding (orphan)",
        "5:3: warning: review entry 'ML05@gone' matches no finding (orphan)",
    ]


def test_residual_risk_explains_the_reduction(write):
    model = write(SMALL)
    status = write("mitigations:\n  artifact-integrity-verification@model: {state: implemented}\n"
                   "  file-audit-logging: {state: implemented}\n  model-validation: {state: planned}\n", "s.yaml")
    result = run(model, status=status)
    ml10 = next(r for r in result.review.findings if r.finding.id == "ML10@model")
    assert ml10.implemented == ("artifact-integrity-verification", "file-audit-logging")
    assert ml10.planned == ("model-validation",)
    # ML10's exploitability 5, −1 for the operator who must be impersonated, −2 for the signature
    # (primary preventive); audit logging is detective and earns nothing against tampering
    assert ml10.residual_explanation == ("likelihood 4 before controls, − 2 for artifact-integrity-verification "
                                         "(primary preventive, −2 likelihood); file-audit-logging (detective: makes "
                                         "the attack noticed, prevents nothing) = 2; × impact 3 = 6, medium")


def test_husky_review_records_the_authors_decisions():
    result = run(HUSKY)
    assert result.review_file is not None and result.review_file.path.endswith("huskyai.status.yaml")
    statuses = {r.finding.id: r.status for r in result.review.findings}
    assert statuses["ML05@model-file"] == "accepted"
    assert statuses["ML10@production-model"] == "mitigated"
    assert statuses["ARTIFACT-REPUDIATION@production-model"] == "mitigated"
    assert statuses["ML06@ml-libraries-production"] == "in-progress"
    assert result.review.orphans == []


# ----------------------------------------------------------------- check


def _open_at_or_above(cli, status, severity):
    from threatmodel.core.vocabulary import SEVERITY_ORDER

    data = json.loads(cli("report", HUSKY, "--status", status, "-f", "json").stdout)
    return data, [f for f in data["findings"] if f["status"] in ("open", "in-progress")
                  and SEVERITY_ORDER[f["residual_severity"]] >= SEVERITY_ORDER[severity]]


def test_check_fails_on_open_high_findings_of_husky(cli):
    data, blocking = _open_at_or_above(cli, HUSKY_STATUS, "high")
    result = cli("check", HUSKY, "--fail-on", "high")
    assert result.exit_code == 1 and blocking
    assert f"FAIL: {len(blocking)} open findings at or above high:" in result.stdout
    assert "ML01@web-server  [in-progress]" in result.stdout
    assert result.stdout.splitlines()[0] == (f"Husky AI: {data['summary']['findings']} findings, "
                                             f"{data['summary']['open']} open (review file huskyai.status.yaml)")


def test_check_passes_when_the_team_decides(cli, tmp_path):
    status = tmp_path / "review.yaml"
    shutil.copy(HUSKY_STATUS, status)
    _data, blocking = _open_at_or_above(cli, status, "high")
    decisions = [arg for f in blocking for arg in ("--set", f"{f['id']}=accepted")]
    assert cli("review", HUSKY, "--status", status, *decisions, "--why", "Risk owner accepted until Q3.").exit_code == 0
    result = cli("check", HUSKY, "--status", status, "--fail-on", "high")
    assert result.exit_code == 0 and "PASS: no open finding at or above high." in result.stdout
    assert cli("check", HUSKY, "--status", status, "--fail-on", "medium").exit_code == 1


def test_check_threshold_none_and_invalid_input(cli, write):
    assert cli("check", HUSKY, "--fail-on", "none").exit_code == 0
    assert cli("check", write("system: {name: x}\ncomponents: [{id: a, kind: nope}]\n")).exit_code == 2
    broken = write("findings:\n  ML01@x: {status: accepted}\n", "broken.yaml")
    assert cli("check", HUSKY, "--status", broken).exit_code == 2


# ----------------------------------------------------------------- review


def test_review_keeps_comments_and_order(cli, tmp_path):
    status = tmp_path / "review.yaml"
    shutil.copy(HUSKY_STATUS, status)
    before = status.read_text()
    result = cli("review", HUSKY, "--status", status, "--set", "ML02@training-images=accepted",
                 "--why", "Images are public and re-gathered for every release.", "--owner", "eng", "--date", "2024-01-02",
                 "--mitigation", "secret-management@bing-api-key=planned", "--ticket", "HUSKY-12")
    assert result.exit_code == 0, result.output
    after = status.read_text()
    # the edit only inserts lines: every original line (comments included) stays, in order, unchanged
    import difflib

    operations = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False).get_opcodes()
    assert {op for op, *_ in operations} == {"equal", "insert"}
    assert after.index("ML05@model-file") < after.index("ML02@training-images") < after.index("mitigations:")
    assert "  ML02@training-images:\n    status: accepted\n    justification: Images are public" in after
    loaded = load_review(status)
    assert loaded.review.findings["ML02@training-images"].owner == "eng"
    assert loaded.review.mitigations["secret-management@bing-api-key"].state == "planned"


def test_review_creates_the_file_beside_the_model(cli, write, tmp_path):
    model = write(SMALL, "svc.yaml")
    assert cli("review", model, "--set", "ML01@api=in-progress", "--ticket", "T-1").exit_code == 0
    created = tmp_path / "svc.status.yaml"
    assert created.read_text().startswith("# threatmodel review file")
    assert load_review(created).review.findings["ML01@api"].ticket == "T-1"


@pytest.mark.parametrize("args, message", [
    (["--set", "ML01@api=accepted"], "status 'accepted' needs a justification"),
    (["--set", "ML01@apj=open"], "no finding 'ML01@apj'"),
    (["--set", "ML01@api=done"], "expected FINDING=STATUS"),
    (["--mitigation", "nope=implemented"], "unknown mitigation 'nope'"),
    ([], "nothing to record"),
])
def test_review_rejects_bad_requests(cli, write, args, message):
    result = cli("review", write(SMALL), *args)
    assert result.exit_code == 2 and message in result.stderr


# ----------------------------------------------------------------- checklist


def test_checklist_formats(cli):
    markdown = cli("checklist", HUSKY).stdout
    assert "### production-model" in markdown
    assert "- [x] `artifact-integrity-verification` Sign model files and verify them before loading (claimed) — " \
           "ARTIFACT-REPUDIATION\\@production-model, ML10\\@production-model" in markdown
    assert "- [ ] `model-encryption`" in markdown
    text = cli("checklist", HUSKY, "--format", "text").stdout
    assert "  [~] input-validation:" in text
    data = json.loads(cli("checklist", HUSKY, "--format", "json").stdout)
    group = next(g for g in data["checklist"] if g["element"] == "web-server")
    assert {i["id"]: i["state"] for i in group["items"]}["query-rate-limiting"] == "declared"


# ----------------------------------------------------------------- diff

V1 = SMALL
V2 = SMALL.replace("exposure: public", "exposure: internal").replace(
    "  - {from: admin, to: model, protocol: SSH}\n", "  - {from: admin, to: model, protocol: SSH}\n"
    "  - {id: leak, from: api, to: user, protocol: HTTP, data: [weights]}\n").replace(
    "  - {id: user, kind: person}\n", "  - {id: user, kind: person}\n  - {id: keys, kind: secret, boundary: prod}\n").replace(
    "  - {from: model, to: api}\n", "  - {from: model, to: api}\n  - {from: keys, to: model}\n")


def test_diff_reports_added_resolved_and_changed(cli, write, tmp_path):
    old = write(V1, "v1/model.yaml")
    new = write(V2, "v2/model.yaml")
    write("findings:\n  ML10@model: {status: mitigated}\n", "v2/model.status.yaml")
    data = json.loads(cli("diff", old, new, "--format", "json").stdout)
    # the new secret and the new unencrypted flow out of the service each raise something
    assert [f["id"] for f in data["added"]] == ["CREDENTIAL-THEFT@keys", "ML09@leak", "TRANSIT-TAMPERING@leak"]
    assert data["resolved"] == []
    changed = {c["id"]: c["changes"] for c in data["changed"]}
    assert changed["ML10@model"] == {"status": {"old": "open", "new": "mitigated"}}
    markdown = cli("diff", old, new).stdout
    assert "3 added, 0 resolved" in markdown and "| ML10\\@model | status open → mitigated |" in markdown
    assert cli("diff", new, old, "--format", "json").exit_code == 0
    back = json.loads(cli("diff", new, old, "--format", "json").stdout)
    assert [f["id"] for f in back["resolved"]] == ["CREDENTIAL-THEFT@keys", "ML09@leak", "TRANSIT-TAMPERING@leak"]


def test_diff_gate_on_new_findings(cli, write):
    old = write(V1, "v1/model.yaml")
    new = write(V2, "v2/model.yaml")
    assert cli("diff", old, new, "--fail-on-new", "critical").exit_code == 0
    assert cli("diff", old, new, "--fail-on-new", "low").exit_code == 1


def test_diff_severity_change(cli, write):
    old = write(SMALL, "a/m.yaml")
    new = write(SMALL.replace("data: [{id: weights, confidentiality: high, integrity: high}]",
                              "data: [{id: weights, confidentiality: low, integrity: low}]"), "b/m.yaml")
    changed = {c["id"]: c["changes"] for c in json.loads(cli("diff", old, new, "-f", "json").stdout)["changed"]}
    assert changed["ML05@model"]["severity"] == {"old": "high", "new": "medium"}


# ----------------------------------------------------------------- SARIF


def test_sarif_is_valid_and_located(cli, tmp_path):
    import jsonschema

    out = tmp_path / "r.sarif"
    assert cli("report", HUSKY, "--format", "sarif", "-o", out).exit_code == 0
    sarif = json.loads(out.read_text())
    schema = json.loads(shared_file("sarif", "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    run_ = sarif["runs"][0]
    catalog = tm.load_catalog().catalog
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == sorted(catalog.threats)
    rule = next(r for r in run_["tool"]["driver"]["rules"] if r["id"] == "ML10")
    assert "AML.T0018" in rule["properties"]["tags"] and "Mitigations" in rule["help"]["text"]
    ids = [r["partialFingerprints"]["threatmodelFindingId/v1"] for r in run_["results"] if "suppressions" not in r]
    assert "ML10@production-model" not in ids and "ML05@model-file" not in ids  # mitigated / accepted
    suppressed = {r["partialFingerprints"]["threatmodelFindingId/v1"]: r["suppressions"][0]
                  for r in run_["results"] if "suppressions" in r}
    assert suppressed["ML05@model-file"]["status"] == "accepted"
    assert suppressed["ML10@production-model"]["justification"].startswith("mitigated: The server checks")
    report = tm.analyze(HUSKY).report
    assert len(ids) == len([f for f in report.findings if f.status in ("open", "in-progress")])
    result = next(r for r in run_["results"] if r["partialFingerprints"]["threatmodelFindingId/v1"] == "ML01@web-server")
    region = result["locations"][0]["physicalLocation"]["region"]
    line = HUSKY.read_text().splitlines()[region["startLine"] - 1]
    assert "id: web-server" in line
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("docs/examples/huskyai.yaml")
    assert result["level"] == "error"  # high


def test_sarif_without_review_reports_every_finding(cli, write):
    sarif = json.loads(cli("report", write(SMALL), "-f", "sarif").stdout)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"ML01", "ML10"}


def test_sarif_uri_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    from threatmodel.renderers.sarif import model_uri

    monkeypatch.chdir(tmp_path)
    assert model_uri(str(tmp_path / "models" / "m.yaml")) == "models/m.yaml"
    assert model_uri("./models/m.yaml") == "models/m.yaml"
    assert model_uri("/elsewhere/m.yaml") == "file:///elsewhere/m.yaml"


def test_sarif_keeps_the_most_severe_results_within_the_limit():
    from threatmodel.renderers.sarif import sarif_report

    assessment = tm.analyze(HUSKY, review=False)
    data = assessment.report_data()
    document = sarif_report(data, assessment.catalog.catalog, "m.yaml", assessment.system.locations, max_results=5)
    run_ = document["runs"][0]
    assert len(run_["results"]) == 5
    assert run_["properties"]["droppedResults"] == len(data["findings"]) - 5
    kept = {r["partialFingerprints"]["threatmodelFindingId/v1"] for r in run_["results"]}
    scores = sorted((f["score"] for f in data["findings"]), reverse=True)
    assert min(f["score"] for f in data["findings"] if f["id"] in kept) >= scores[4]


def test_a_review_of_exact_ids_stays_fast_and_wildcards_are_bounded(write, tmp_path):
    from threatmodel.review import statuses as review_module

    model = write(SMALL)
    findings = [f.id for f in run(model, use_default_status=False).findings]
    exact = write("findings:\n" + "".join(f"  {i}: {{status: in-progress}}\n" for i in findings)
                  + "".join(f"  GONE-{n}@nowhere: {{status: open}}\n" for n in range(2000)), "exact.yaml")
    result = run(model, status=exact)
    assert {r.status for r in result.review.findings} == {"in-progress"}
    assert len(result.review.orphans) == 2000
    many = write("findings:\n" + "".join(f"  'X{n}@*': {{status: open}}\n" for n in range(review_module.MAX_WILDCARDS + 1)),
                 "many.yaml")
    with pytest.raises(InputError) as info:
        run(model, status=many)
    assert "wildcard entries" in str(info.value)
