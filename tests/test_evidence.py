"""Evidence-backed review: real tool outputs read back in, per-mitigation states, the CI gate.

Where a tool installs from PyPI and works offline (modelscan, picklescan, fickling,
model_signing), the tests run it for real on fixture artifacts made here: a pickle that calls
os.system, a clean safetensors file, a model signed with a throwaway key and then modified.
pip-audit needs the network, so its output is recorded in the documented JSON format.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import threatmodel
from threatmodel.core.errors import InputError

REPO = Path(__file__).resolve().parents[1]
HUSKY = REPO / "docs" / "examples" / "huskyai.yaml"
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return str(found)


class _Evil:
    def __reduce__(self):  # noqa: D105 - the classic malicious pickle: runs a shell command on load
        return (os.system, ("echo pwned",))


def _safetensors(path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
    path.write_bytes(struct.pack("<Q", len(header)) + header + struct.pack("<2f", 1.0, 2.0))


def _states(assessment, element: str) -> dict[str, str]:
    """mitigation -> the most worrying state over the element's findings (as the checklist shows it)."""
    data = assessment.report_data()
    group = next(g for g in data["checklist"] if g["element"] == element)
    return {item["id"]: item["verification"] for item in group["items"]}


def _husky(tmp_path: Path) -> Path:
    """The Husky AI example with its artifact paths moved under tmp_path, the files created."""
    root = tmp_path / "machine"
    text = HUSKY.read_text().replace("/opt/huskyai", f"{root}/opt/huskyai").replace(
        "/home/engineer", f"{root}/home/engineer").replace("/home/admin", f"{root}/home/admin")
    model = tmp_path / "huskyai.yaml"
    model.write_text(text)
    shutil.copy(REPO / "docs" / "examples" / "huskyai.status.yaml", tmp_path / "huskyai.status.yaml")
    for relative in ("opt/huskyai/models/huskymodel.h5", "home/engineer/huskyai/models/huskymodel.h5",
                     "home/engineer/huskyai/data/training/husky1.jpg", "home/engineer/huskyai/data/validation/v1.jpg",
                     "home/engineer/huskyai/huskyai.ipynb", "home/engineer/.bingimagessearchkey",
                     "home/admin/.ssh/authorized_keys", "opt/huskyai/log.txt"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(b"contents of " + relative.encode())
    return model


def _small_model(path: Path, name: str, models: list[str]) -> Path:
    """A small system: an engineer's notebook writes the given model artifacts (YAML flow
    mappings), which an inference service loads; so tampering with them is a finding."""
    lines = [f"system: {{name: {name}}}", "boundaries: [{id: prod, trust: internal}]", "components:",
             "  - {id: engineer, kind: person, boundary: prod}",
             "  - {id: notebook, kind: notebook, boundary: prod}",
             "  - {id: api, kind: inference-service, boundary: prod}"]
    lines += [f"  - {m}" for m in models]
    lines += ["flows:", "  - {from: engineer, to: notebook, protocol: SSH}"]
    for m in models:
        component = m.split("id: ", 1)[1].split(",", 1)[0]
        lines += [f"  - {{from: notebook, to: {component}, protocol: file}}",
                  f"  - {{from: {component}, to: api, protocol: file}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _cli(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "threatmodel", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


# --- the Husky AI example: manifest, tampering, audit rules, a scanner report ----------------------

def test_manifest_that_verifies_then_a_tampered_model(tmp_path):
    model = _husky(tmp_path)
    manifest = tmp_path / "m.json"
    assert _cli("controls", "manifest", model, "-o", manifest).returncode == 0
    check = tmp_path / "check.json"
    done = _cli("controls", "verify-manifest", manifest, "--format", "json", "-o", check)
    assert done.returncode == 0, done.stderr
    result = threatmodel.analyze(model, evidence=[check])
    assert _states(result, "production-model")["artifact-integrity-verification"] == "verified"
    finding = next(r for r in result.review.findings if r.finding.id == "ML10@production-model")
    text = next(c.text for c in finding.checks if c.mitigation == "artifact-integrity-verification")
    assert text.startswith(f"verified on {dt.date.today().isoformat()} by {check}")

    (tmp_path / "machine/opt/huskyai/models/huskymodel.h5").write_bytes(b"a backdoored model")
    tampered = tmp_path / "tampered.json"
    done = _cli("controls", "verify-manifest", manifest, "--format", "json", "-o", tampered)
    assert done.returncode == 1 and json.loads(tampered.read_text())["changed"]
    result = threatmodel.analyze(model, evidence=[tampered])
    assert _states(result, "production-model")["artifact-integrity-verification"] == "contradicted"
    # the contradicted mitigation earns no residual credit, though the review records it implemented
    finding = next(r for r in result.review.findings if r.finding.id == "ML10@production-model")
    assert "artifact-integrity-verification" not in finding.residual_explanation.split("(no credit")[0]
    assert "contradicted by evidence" in finding.residual_explanation


def test_audit_rules_loaded_and_not_loaded(tmp_path):
    model = _husky(tmp_path)
    rules = _cli("controls", "auditd", model).stdout.splitlines()
    watches = [line for line in rules if line.startswith("-w ")]
    production = [w for w in watches if "/opt/huskyai/models" in w]
    assert len(production) == 2  # changes (wa) and reads (r)
    listing = tmp_path / "auditctl.txt"
    # auditctl -l prints loaded watches in the rules-file syntax; only the change watch is loaded
    listing.write_text("\n".join(w for w in production if "-p wa" in w) + "\n")
    result = threatmodel.analyze(model, evidence=[listing])
    by_finding = {(r.finding.id, c.mitigation): c.state for r in result.review.findings for c in r.checks}
    assert by_finding[("ARTIFACT-REPUDIATION@production-model", "file-audit-logging")] == "verified"
    assert by_finding[("ML05@production-model", "file-audit-logging")] == "contradicted"  # the read watch
    # the listing comes from the production machine: the experimentation host's files are not judged by it
    assert by_finding[("ML10@model-file", "file-audit-logging")] == "stale"

    everything = tmp_path / "all.txt"
    everything.write_text("\n".join(watches) + "\n")
    result = threatmodel.analyze(model, evidence=[everything])
    states = {c.state for r in result.review.findings for c in r.checks
              if c.mitigation == "file-audit-logging" and r.finding.element in ("production-model", "model-file")}
    # every finding a generated watch serves is verified; deletion has no watch, so it stays as reviewed
    assert "verified" in states and not states & {"contradicted", "stale"}

    nothing = tmp_path / "none.txt"
    nothing.write_text("No rules\n")
    result = threatmodel.analyze(model, evidence=[nothing])
    assert _states(result, "production-model")["file-audit-logging"] == "contradicted"


def test_auditctl_syscall_rule_form_counts_as_a_loaded_watch(tmp_path):
    model = _husky(tmp_path)
    path = tmp_path / "machine/opt/huskyai/models/huskymodel.h5"
    listing = tmp_path / "auditctl.txt"
    listing.write_text(f"-a always,exit -F arch=b64 -S all -F path={path} -F perm=wa -F key=huskymodel\n"
                       f"-w {path} -p r -k tm-production-model-read\n")
    result = threatmodel.analyze(model, evidence=[listing])
    assert _states(result, "production-model")["file-audit-logging"] == "verified"


def test_modelscan_report_over_a_malicious_pickle(tmp_path):
    modelscan = _tool("modelscan")
    folder = tmp_path / "models"
    folder.mkdir()
    with open(folder / "model.pkl", "wb") as handle:
        pickle.dump(_Evil(), handle)
    _safetensors(folder / "clean.safetensors")
    model = _small_model(tmp_path / "m.yaml", "pickle service", [
        f"{{id: pickled-model, kind: model-artifact, format: pickle, boundary: prod, paths: [{folder}/model.pkl]}}",
        f"{{id: clean-model, kind: model-artifact, format: safetensors, boundary: prod, "
        f"paths: [{folder}/clean.safetensors]}}"])
    report = tmp_path / "modelscan.json"
    subprocess.run([modelscan, "-p", str(folder / "model.pkl"), "-r", "json", "-o", str(report)],
                   capture_output=True, cwd=tmp_path)
    assert json.loads(report.read_text())["issues"], "modelscan found nothing in a pickle that calls os.system"
    result = threatmodel.analyze(model, review=False, evidence=[report])
    assert _states(result, "pickled-model")["safe-model-serialisation"] == "contradicted"
    detail = next(c.text for r in result.review.findings for c in r.checks
                  if r.finding.element == "pickled-model" and c.mitigation == "safe-model-serialisation")
    assert "system" in detail and "posix" in detail
    # the report is about the pickle only: for the other model it is evidence about other files,
    # which checks nothing there; safetensors cannot run code, so the format itself is the control
    clean = _states(result, "clean-model").get("safe-model-serialisation")
    assert clean in (None, "claimed")


def test_picklescan_and_fickling_on_real_files(tmp_path):
    picklescan, fickling = _tool("picklescan"), _tool("fickling")
    evil, clean = tmp_path / "evil.pkl", tmp_path / "clean.pkl"
    with open(evil, "wb") as handle:
        pickle.dump(_Evil(), handle)
    with open(clean, "wb") as handle:
        pickle.dump({"weights": [1, 2, 3]}, handle)
    model = _small_model(tmp_path / "m.yaml", "two pickles", [
        f"{{id: bad-model, kind: model-artifact, format: pickle, boundary: prod, paths: [{evil}]}}",
        f"{{id: good-model, kind: model-artifact, format: pickle, boundary: prod, paths: [{clean}]}}"])
    transcripts = []
    for target in (evil, clean):
        done = subprocess.run([picklescan, "--path", str(target)], capture_output=True, text=True)
        transcript = tmp_path / f"picklescan-{target.stem}.txt"
        transcript.write_text(f"$ picklescan --path {target}\n{done.stdout}{done.stderr}")
        transcripts.append(transcript)
    result = threatmodel.analyze(model, review=False, evidence=transcripts)
    assert _states(result, "bad-model")["safe-model-serialisation"] == "contradicted"
    assert _states(result, "good-model")["safe-model-serialisation"] == "verified"

    for target in (evil, clean):
        subprocess.run([fickling, "--check-safety", "--json-output", str(tmp_path / f"fickling-{target.stem}.json"),
                        str(target)], capture_output=True)
    review = tmp_path / "m.status.yaml"
    review.write_text(f"""evidence:
  files:
    - {{path: fickling-evil.json, covers: [{evil}]}}
    - {{path: fickling-clean.json, tool: fickling, covers: [good-model]}}
""")
    result = threatmodel.analyze(model)
    assert _states(result, "bad-model")["safe-model-serialisation"] == "contradicted"
    assert _states(result, "good-model")["safe-model-serialisation"] == "verified"


def _signed_model(tmp_path: Path, signer: str, signature: Path) -> tuple[Path, Path]:
    """A safetensors model folder signed with a throwaway key (tmp_path/key.pem, pub.pem): (model, folder)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (tmp_path / "pub.pem").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    folder = tmp_path / "model"
    folder.mkdir()
    _safetensors(folder / "weights.safetensors")
    model = _small_model(tmp_path / "m.yaml", "signed model", [
        f"{{id: weights, kind: model-artifact, format: safetensors, signed: true, boundary: prod, paths: [{folder}]}}"])
    sign = subprocess.run([signer, "sign", "key", str(folder), "--private_key", str(tmp_path / "key.pem"),
                           "--signature", str(signature)], capture_output=True, text=True)
    assert sign.returncode == 0, sign.stderr
    return model, folder


def test_model_signing_with_a_throwaway_key_then_modified(tmp_path):
    signer = _tool("model_signing")
    model, folder = _signed_model(tmp_path, signer, tmp_path / "model.sig")

    def verify(name: str) -> Path:
        argv = [signer, "verify", "key", str(folder), "--signature", str(tmp_path / "model.sig"),
                "--public_key", str(tmp_path / "pub.pem")]
        done = subprocess.run(argv, capture_output=True, text=True)
        transcript = tmp_path / name
        transcript.write_text("$ " + " ".join(argv) + "\n" + done.stdout + done.stderr)
        return transcript

    result = threatmodel.analyze(model, review=False, evidence=[verify("verify-ok.txt")])
    assert _states(result, "weights")["artifact-integrity-verification"] == "verified"
    with open(folder / "weights.safetensors", "ab") as handle:
        handle.write(b"tampered")
    result = threatmodel.analyze(model, review=False, evidence=[verify("verify-bad.txt")])
    assert _states(result, "weights")["artifact-integrity-verification"] == "contradicted"


def test_pip_audit_recorded_output(tmp_path):
    # the "json" format of https://github.com/pypa/pip-audit#output-formats, recorded
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"dependencies": [
        {"name": "tensorflow", "version": "2.3.0", "vulns": [
            {"id": "PYSEC-2021-123", "fix_versions": ["2.4.0"], "aliases": ["CVE-2021-29512"], "description": "…"}]},
        {"name": "Pillow", "version": "10.3.0", "vulns": []},
        {"name": "torch", "skip_reason": "Dependency not found on PyPI and could not be audited: torch (2.0.0+cpu)"},
    ], "fixes": []}))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[audit])
    assert _states(result, "ml-libraries-production")["dependency-scanning"] == "contradicted"
    # the library declares TensorFlow, Keras and Pillow: an audit of two of them verifies nothing
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"dependencies": [{"name": "tensorflow", "version": "2.16.1", "vulns": []},
                                                    {"name": "keras", "version": "3.3.3", "vulns": []}], "fixes": []}))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[partial])
    assert _states(result, "ml-libraries-production")["dependency-scanning"] == "stale"
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps({"dependencies": [{"name": "tensorflow", "version": "2.16.1", "vulns": []},
                                                  {"name": "keras", "version": "3.3.3", "vulns": []},
                                                  {"name": "pillow", "version": "10.3.0", "vulns": []}], "fixes": []}))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[clean])
    assert _states(result, "ml-libraries-production")["dependency-scanning"] == "verified"
    assert result.evidence.sources[0].tool == "pip-audit"


# --- stale evidence: too old or from the future; evidence about other files is missing --------------------------------

def _modelscan_json(path: str, when: str, issues: bool = False) -> str:
    folder, name = path.rsplit("/", 1)
    return json.dumps({"summary": {"total_issues": int(issues), "input_path": path, "absolute_path": folder,
                                   "modelscan_version": "0.8.8", "timestamp": when,
                                   "scanned": {"total_scanned": 1, "scanned_files": [name]}},
                       "issues": [{"description": "Use of unsafe operator 'system' from module 'posix'",
                                   "operator": "system", "module": "posix", "source": name,
                                   "scanner": "modelscan.scanners.PickleUnsafeOpScan", "severity": "CRITICAL"}]
                       if issues else [], "errors": []})


def test_old_future_and_wrong_path_evidence_is_stale_never_verified(tmp_path):
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
    path = "/opt/huskyai/models/huskymodel.h5"
    cases = {
        "old.json": _modelscan_json(path, "2026-09-01T10:00:00"),
        "future.json": _modelscan_json(path, "2027-06-01T10:00:00"),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        result = threatmodel.analyze(HUSKY, review=False, evidence=[tmp_path / name], now=now)
        assert _states(result, "production-model")["safe-model-serialisation"] == "stale", name
    # evidence about other files says nothing about this one: missing, not stale
    (tmp_path / "elsewhere.json").write_text(_modelscan_json("/srv/other/model.h5", "2026-11-29T10:00:00"))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[tmp_path / "elsewhere.json"], now=now)
    assert _states(result, "production-model")["safe-model-serialisation"] == "missing"
    fresh = tmp_path / "fresh.json"
    fresh.write_text(_modelscan_json(path, "2026-11-29T10:00:00"))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[fresh], now=now)
    assert _states(result, "production-model")["safe-model-serialisation"] == "verified"
    result = threatmodel.analyze(HUSKY, review=False, evidence=[tmp_path / "old.json"], now=now, max_age_days=120)
    assert _states(result, "production-model")["safe-model-serialisation"] == "verified"
    # the newest scan decides: an old failure followed by a clean scan is verified, and the reverse is not
    (tmp_path / "older-bad.json").write_text(_modelscan_json(path, "2026-11-20T10:00:00", issues=True))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[tmp_path / "older-bad.json", fresh], now=now)
    assert _states(result, "production-model")["safe-model-serialisation"] == "verified"
    (tmp_path / "newer-bad.json").write_text(_modelscan_json(path, "2026-11-29T11:00:00", issues=True))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[fresh, tmp_path / "newer-bad.json"], now=now)
    assert _states(result, "production-model")["safe-model-serialisation"] == "contradicted"


def test_evidence_covering_only_some_declared_paths_is_stale(tmp_path):
    check = tmp_path / "check.json"
    check.write_text(json.dumps({"format": "threatmodel-manifest-check", "version": 1, "manifest": "m.json",
                                 "checked": dt.datetime.now(dt.timezone.utc).isoformat(), "clean": True,
                                 "roots": [{"component": "training-images", "type": "directory",
                                            "path": "/home/engineer/huskyai/data/training"}],
                                 "changed": [], "vanished": [], "appeared": []}))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[check])
    state = _states(result, "training-images")["artifact-integrity-verification"]
    assert state == "stale"


# --- hostile evidence files: located errors, nothing verified by accident --------------------------

@pytest.mark.parametrize("name, content, message", [
    ("binary.json", b"\x00\x01\x02PK\x03\x04", "not a text file"),
    ("garbage.json", b'{"hello": "world"}', "not a recognised evidence format"),
    ("broken.json", b'{"summary": {"modelscan_version": "0.8",\n "absolute_path": "/x" ', "invalid JSON"),
    ("latin1.txt", "-w /opt/caf\xe9 -p wa\n".encode("latin-1"), "not UTF-8"),
    ("bad-modelscan.json", json.dumps({"summary": {"modelscan_version": "1", "absolute_path": 3},
                                       "issues": []}).encode(), "absolute_path"),
    ("bad-fickling.json", json.dumps({"severity": "TOTALLY_FINE", "analysis": ""}).encode(), "unknown severity"),
    ("bad-manifest.json", json.dumps({"format": "threatmodel-manifest-check", "version": 1,
                                      "roots": "all"}).encode(), "'roots' must be a list"),
])
def test_hostile_evidence_gets_a_located_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        threatmodel.analyze(HUSKY, review=False, evidence=[path])
    assert any(message in d.message and d.location.file == str(path) for d in caught.value.diagnostics), \
        [str(d) for d in caught.value.diagnostics]
    done = _cli("verify", HUSKY, "--evidence", path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{path}:" in done.stderr and "error:" in done.stderr


def test_huge_and_special_evidence_files(tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done = _cli("verify", HUSKY, "-e", huge, "-e", fifo, "-e", tmp_path / "missing.txt")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "larger than the limit" in done.stderr and "not a regular file (a FIFO)" in done.stderr
    assert "no such file" in done.stderr and "3 errors" in done.stderr  # all at once


def test_evidence_naming_paths_outside_the_model_verifies_nothing(tmp_path):
    listing = tmp_path / "auditctl.txt"
    listing.write_text("-w /etc/shadow -p wa -k shadow\n-w / -p r -k everything\n")
    scan = tmp_path / "modelscan.json"
    scan.write_text(_modelscan_json("/", "2026-11-29T10:00:00").replace('"scanned_files": [""]', '"scanned_files": []'))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[listing],
                                 now=dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc))
    states = {c.state for r in result.review.findings for c in r.checks}
    assert "verified" not in states


def test_review_file_evidence_entries_are_checked_and_located(tmp_path):
    model = tmp_path / "m.yaml"
    shutil.copy(HUSKY, model)
    review = tmp_path / "m.status.yaml"
    review.write_text("evidence:\n  max_age_days: 0\n  files:\n    - scans/nowhere.json\n"
                      "    - {path: x.json, tool: nessus}\n    - {path: y.json, date: yesterday}\n")
    done = _cli("report", model)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{review}:2:" in done.stderr  # max_age_days must be at least 1
    assert "nessus" in done.stderr and "yesterday" in done.stderr
    review.write_text("evidence:\n  files:\n    - scans/nowhere.json\n")
    done = _cli("report", model)
    assert done.returncode == 2 and f"{review}:3:" in done.stderr and "no such file" in done.stderr


# --- the review picks evidence up; check --require-verified -----------------------------------------

def test_report_picks_up_evidence_the_review_file_lists(tmp_path):
    model = _husky(tmp_path)
    assert _cli("controls", "manifest", model, "-o", tmp_path / "m.json").returncode == 0
    assert _cli("controls", "verify-manifest", tmp_path / "m.json", "-f", "json", "-o",
                tmp_path / "check.json").returncode == 0
    review = tmp_path / "huskyai.status.yaml"
    review.write_text(review.read_text() + "\nevidence:\n  files: [check.json]\n")
    done = _cli("report", model)
    assert done.returncode == 0, done.stderr
    assert f"verified on {dt.date.today().isoformat()} by " in done.stdout and "## Evidence" in done.stdout
    sarif = json.loads(_cli("report", model, "-f", "sarif").stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["properties"]["finding"] == "ML10@production-model")
    assert result["properties"]["mitigations"]["artifact-integrity-verification"] == "verified"
    data = json.loads(_cli("report", model, "-f", "json").stdout)
    assert data["evidence"][0]["tool"] == "manifest"
    finding = next(f for f in data["findings"] if f["id"] == "ML10@production-model")
    mitigation = next(m for m in finding["mitigations"] if m["id"] == "artifact-integrity-verification")
    assert mitigation["verification_text"].startswith(
        f"verified on {dt.date.today().isoformat()} by {tmp_path / 'check.json'}:")


def test_check_require_verified_fails_only_for_contradicted_and_claimed(tmp_path):
    model = _husky(tmp_path)
    assert _cli("controls", "manifest", model, "-o", tmp_path / "m.json").returncode == 0
    assert _cli("controls", "verify-manifest", tmp_path / "m.json", "-f", "json", "-o",
                tmp_path / "check.json").returncode == 0
    rules = [line for line in _cli("controls", "auditd", model).stdout.splitlines() if line.startswith("-w ")]
    (tmp_path / "auditctl.txt").write_text("\n".join(rules) + "\n")
    # the example marks three findings mitigated: ML10 and ARTIFACT-REPUDIATION on the production
    # model (integrity check, audit watch: both verifiable) and INFERENCE-DOS (rate limits: no evidence)
    done = _cli("check", model, "--fail-on", "none", "--require-verified", "-e", tmp_path / "check.json",
                "-e", tmp_path / "auditctl.txt")
    assert done.returncode == 1
    failing = [line for line in done.stdout.splitlines() if line.startswith("  ") and "@" in line]
    assert len(failing) == 1 and "INFERENCE-DOS@web-server" in failing[0] and "claimed" in failing[0]

    (tmp_path / "machine/opt/huskyai/models/huskymodel.h5").write_bytes(b"tampered")
    assert _cli("controls", "verify-manifest", tmp_path / "m.json", "-f", "json", "-o",
                tmp_path / "check.json").returncode == 1
    done = _cli("check", model, "--fail-on", "none", "--require-verified", "-e", tmp_path / "check.json",
                "-e", tmp_path / "auditctl.txt")
    assert done.returncode == 1
    assert "contradicted" in done.stdout and "ML10@production-model" in done.stdout
    # without --require-verified the same evidence does not fail the gate on its own
    assert _cli("check", model, "--fail-on", "none", "-e", tmp_path / "check.json").returncode == 0

    review = tmp_path / "huskyai.status.yaml"
    text = review.read_text().replace("status: mitigated\n    justification: nginx", "status: in-progress\n"
                                      "    justification: nginx")
    review.write_text(text)
    assert _cli("controls", "verify-manifest", tmp_path / "m.json", "-f", "json", "-o",
                tmp_path / "check2.json").returncode == 1
    _cli("controls", "manifest", model, "-o", tmp_path / "m2.json")
    _cli("controls", "verify-manifest", tmp_path / "m2.json", "-f", "json", "-o", tmp_path / "check3.json")
    done = _cli("check", model, "--fail-on", "none", "--require-verified", "-e", tmp_path / "check3.json",
                "-e", tmp_path / "auditctl.txt")
    assert done.returncode == 0, done.stdout
    assert "PASS: every finding marked mitigated has verified evidence" in done.stdout


def test_verify_command_lists_states_and_exits_1_on_contradiction(tmp_path):
    model = _husky(tmp_path)
    listing = tmp_path / "auditctl.txt"
    listing.write_text("No rules\n")
    done = _cli("verify", model, "-e", listing)
    assert done.returncode == 1 and "contradicted by evidence" in done.stderr
    assert "contradicted  file-audit-logging" in done.stdout
    data = json.loads(_cli("verify", model, "-e", listing, "-f", "json").stdout)
    assert {row["state"] for row in data["mitigations"]} >= {"contradicted", "claimed", "missing"}
    assert data["counts"]["contradicted"] >= 1
    markdown = _cli("verify", model, "-e", listing, "-f", "md").stdout
    assert "| Component | Mitigation | Owner | State | Detail |" in markdown
    done = _cli("verify", model)
    assert done.returncode == 0 and "no evidence read" in done.stderr


def test_the_generated_scan_script_saves_evidence_that_verify_reads(tmp_path):
    _tool("modelscan"), _tool("picklescan")
    folder = tmp_path / "models"
    folder.mkdir()
    with open(folder / "evil.pkl", "wb") as handle:
        pickle.dump(_Evil(), handle)
    with open(folder / "clean.pkl", "wb") as handle:
        pickle.dump([1, 2, 3], handle)
    model = _small_model(tmp_path / "m.yaml", "scan script", [
        f"{{id: bad-model, kind: model-artifact, format: pickle, boundary: prod, paths: [{folder}/evil.pkl]}}",
        f"{{id: good-model, kind: model-artifact, format: pickle, boundary: prod, paths: [{folder}/clean.pkl]}}"])
    assert _cli("controls", "manifest", model, "-o", tmp_path / "threatmodel.manifest.json").returncode == 0
    assert _cli("controls", "scan", model, "-o", tmp_path / "scan.sh").returncode == 0
    environment = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    run = subprocess.run(["bash", str(tmp_path / "scan.sh")], cwd=tmp_path, capture_output=True, text=True,
                         env=environment)
    assert run.returncode == 1, run.stderr  # the malicious pickle fails its scans
    saved = sorted(p.name for p in (tmp_path / "evidence").iterdir())
    assert "bad-model.modelscan.json" in saved and "good-model.picklescan.txt" in saved
    assert "manifest-check.json" in saved
    done = _cli("verify", model, "--evidence", *sorted((tmp_path / "evidence").iterdir()), "-f", "json")
    assert done.returncode == 1, done.stderr
    assert _cli("verify", model, "--evidence", tmp_path / "evidence", "-f", "json").stdout == done.stdout
    (tmp_path / "m.status.yaml").write_text("evidence:\n  files: [evidence/]\n")  # the folder, from the review file
    listed = json.loads(_cli("verify", model, "-f", "json").stdout)
    assert {(r["element"], r["mitigation"]): r["state"] for r in listed["mitigations"]} == {
        (r["element"], r["mitigation"]): r["state"] for r in json.loads(done.stdout)["mitigations"]}
    rows = {(r["element"], r["mitigation"]): r["state"] for r in json.loads(done.stdout)["mitigations"]}
    assert rows[("bad-model", "safe-model-serialisation")] == "contradicted"
    assert rows[("good-model", "safe-model-serialisation")] == "verified"
    assert rows[("good-model", "artifact-integrity-verification")] == "verified"


# --- property: any file is read or refused with a located error; nothing crashes ------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from threatmodel.evidence import EvidenceEntry, read_evidence  # noqa: E402

_KEYS = st.sampled_from(["summary", "issues", "errors", "scanned", "scanned_files", "absolute_path", "timestamp",
                         "modelscan_version", "dependencies", "name", "version", "vulns", "skip_reason", "id",
                         "severity", "analysis", "format", "roots", "changed", "vanished", "appeared", "path",
                         "source", "description", "checked"])
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20)
                     | st.sampled_from(["threatmodel-manifest-check", "LIKELY_SAFE", "/m/model.pkl", "0.8.8"]),
                     lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEYS, children, max_size=6),
                     max_leaves=25)
_LINES = st.lists(st.sampled_from(["-w /m/model.pkl -p wa -k k", "-a always,exit -F path=/m -F perm=r", "No rules",
                                   "----------- SCAN SUMMARY -----------", "Scanned files: 1", "Infected files: 2",
                                   "/m/model.pkl: dangerous import 'posix system' FOUND", "$ picklescan --path /m",
                                   "Verification succeeded", "Verification failed with error: x",
                                   "$ model_signing verify key /m --signature s", "+ picklescan -p '/m",
                                   "garbage \x1b[31m", ""]), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(_JSON.map(json.dumps), _LINES.map("\n".join), st.text(max_size=200)))
def test_any_evidence_is_read_or_refused_with_a_located_error(tmp_path, content):
    path = tmp_path / "evidence.txt"
    path.write_text(content, encoding="utf-8")
    try:
        source = read_evidence(EvidenceEntry(path=str(path), resolved=str(path)))
    except InputError as error:
        assert error.diagnostics and all(d.location.file == str(path) for d in error.diagnostics)
        return
    assert source.tool and source.date.tzinfo is not None
    for observation in source.observations:
        assert isinstance(observation.subject, str) and isinstance(observation.ok, bool)


def test_text_from_evidence_is_inert_in_reports(tmp_path):
    hostile = "<script>alert(1)</script> [x](javascript:alert(1)) **bold** \x1b[31m | pipe"
    report = tmp_path / "modelscan.json"
    document = json.loads(_modelscan_json("/opt/huskyai/models/huskymodel.h5", "2026-11-29T10:00:00", issues=True))
    document["issues"][0]["description"] = hostile
    report.write_text(json.dumps(document))
    result = threatmodel.analyze(HUSKY, review=False, evidence=[report],
                                 now=dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc))
    markdown = threatmodel.render(result, "md")
    html = threatmodel.render(result, "html")
    assert "<script>" not in markdown and "<script>alert" not in html and "\x1b" not in markdown + html
    assert "[x](javascript:" not in markdown and "&lt;script&gt;" in html
    assert "U+001B" in markdown  # control characters are shown, not passed through


# --- evidence bound to the bytes it saw -------------------------------------------------------------

def _scanned_pickle(tmp_path: Path, name: str, content: object) -> tuple[Path, Path, Path, Path]:
    """A model of one pickle, scanned for real: (model, artifact, modelscan report, picklescan transcript)."""
    modelscan, picklescan = _tool("modelscan"), _tool("picklescan")
    artifact = tmp_path / name
    with open(artifact, "wb") as handle:
        pickle.dump(content, handle)
    model = _small_model(tmp_path / "m.yaml", "one pickle", [
        f"{{id: model, kind: model-artifact, format: pickle, boundary: prod, paths: [{artifact}]}}"])
    report = tmp_path / "modelscan.json"
    subprocess.run([modelscan, "-p", str(artifact), "-r", "json", "-o", str(report)], capture_output=True, cwd=tmp_path)
    scan = subprocess.run([picklescan, "--path", str(artifact)], capture_output=True, text=True)
    transcript = tmp_path / "picklescan.txt"
    transcript.write_text(f"$ picklescan --path {artifact}\n{scan.stdout}")
    return model, artifact, report, transcript


def _pickle_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    with open(folder / "a.pkl", "wb") as handle:
        pickle.dump([1, 2, 3], handle)
    with open(folder / "b.pkl", "wb") as handle:
        pickle.dump(_Evil(), handle)
    return folder


def test_a_malicious_artifact_contradicts_every_control_that_vouches_for_it(tmp_path):
    model, artifact, report, transcript = _scanned_pickle(tmp_path, "model.pkl", _Evil())
    # the manifest was made from these very bytes, so it matches: the bytes are still malicious
    assert _cli("controls", "manifest", model, "-o", tmp_path / "manifest.json").returncode == 0
    check = tmp_path / "check.json"
    assert _cli("controls", "verify-manifest", tmp_path / "manifest.json", "--format", "json", "-o", check).returncode == 0
    result = threatmodel.analyze(model, review=False, evidence=[report, transcript, check])
    states = _states(result, "model")
    assert states["safe-model-serialisation"] == "contradicted"
    assert states["artifact-integrity-verification"] == "contradicted"
    plan = json.loads(threatmodel.render(result, "json"))["plan"]
    assert not any(h["finding"] == "ML10@model" for h in plan["handled"])


def test_a_scan_of_one_file_does_not_verify_the_declared_folder(tmp_path):
    picklescan = _tool("picklescan")
    folder = _pickle_folder(tmp_path)
    model = _small_model(tmp_path / "m.yaml", "folder of pickles", [
        f"{{id: models, kind: model-artifact, format: pickle, boundary: prod, paths: [{folder}]}}"])
    scan = subprocess.run([picklescan, "--path", str(folder / "a.pkl")], capture_output=True, text=True)
    transcript = tmp_path / "a.picklescan.txt"
    transcript.write_text(f"$ picklescan --path {folder}/a.pkl\n{scan.stdout}")
    result = threatmodel.analyze(model, review=False, evidence=[transcript])
    assert _states(result, "models")["safe-model-serialisation"] == "stale"
    detail = next(c.text for r in result.review.findings for c in r.checks
                  if r.finding.element == "models" and c.mitigation == "safe-model-serialisation")
    assert "not everything in it" in detail
    # the whole folder scanned: the malicious b.pkl contradicts it
    scan = subprocess.run([picklescan, "--path", str(folder)], capture_output=True, text=True)
    whole = tmp_path / "all.picklescan.txt"
    whole.write_text(f"$ picklescan --path {folder}\n{scan.stdout}")
    result = threatmodel.analyze(model, review=False, evidence=[whole])
    assert _states(result, "models")["safe-model-serialisation"] == "contradicted"


def test_evidence_about_bytes_that_changed_since_is_stale(tmp_path):
    picklescan = _tool("picklescan")
    artifact = tmp_path / "model.pkl"
    with open(artifact, "wb") as handle:
        pickle.dump([1, 2, 3], handle)
    model = _small_model(tmp_path / "m.yaml", "swapped pickle", [
        f"{{id: model, kind: model-artifact, format: pickle, boundary: prod, paths: [{artifact}]}}"])
    scan = subprocess.run([picklescan, "--path", str(artifact)], capture_output=True, text=True)
    transcript = tmp_path / "model.picklescan.txt"
    transcript.write_text(f"$ picklescan --path {artifact}\n{scan.stdout}")
    import hashlib

    Path(f"{transcript}.sha256").write_text(f"{hashlib.sha256(artifact.read_bytes()).hexdigest()}  {artifact}\n")
    result = threatmodel.analyze(model, review=False, evidence=[transcript])
    assert _states(result, "model")["safe-model-serialisation"] == "verified"
    with open(artifact, "wb") as handle:  # overwritten with a malicious pickle after the scan
        pickle.dump(_Evil(), handle)
    result = threatmodel.analyze(model, review=False, evidence=[transcript])
    assert _states(result, "model")["safe-model-serialisation"] == "stale"
    detail = next(c.text for r in result.review.findings for c in r.checks
                  if r.finding.element == "model" and c.mitigation == "safe-model-serialisation")
    assert "changed since picklescan checked it" in detail
    # without recorded hashes, a file modified after the evidence was written is not verified either
    Path(f"{transcript}.sha256").unlink()
    old = dt.datetime.now().timestamp() - 3600
    os.utime(transcript, (old, old))
    result = threatmodel.analyze(model, review=False, evidence=[transcript])
    assert _states(result, "model")["safe-model-serialisation"] == "stale"


def test_disabled_auditing_contradicts_loaded_watches(tmp_path):
    model = _husky(tmp_path)
    rules = _cli("controls", "auditd", model).stdout
    watches = [line for line in rules.splitlines() if line.startswith("-w ")]
    status_on = "enabled 1\nfailure 1\npid 812\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\n"
    listing = tmp_path / "auditctl.txt"
    listing.write_text("$ auditctl -s\n" + status_on + "$ auditctl -l\n" + "\n".join(watches) + "\n")
    result = threatmodel.analyze(model, review=False, evidence=[listing])
    assert _states(result, "production-model")["file-audit-logging"] == "verified"
    listing.write_text("$ auditctl -s\n" + status_on.replace("enabled 1", "enabled 0") + "$ auditctl -l\n"
                       + "\n".join(watches) + "\n")
    result = threatmodel.analyze(model, review=False, evidence=[listing])
    assert _states(result, "production-model")["file-audit-logging"] == "contradicted"


def test_a_heuristic_fickling_verdict_does_not_silently_outvote_precise_scanners(tmp_path):
    model, artifact, report, transcript = _scanned_pickle(tmp_path, "array.pkl", {"weights": [0.5, 1.5]})
    # fickling's documented JSON, as it rates a numpy pickle
    fickling = tmp_path / "fickling.json"
    fickling.write_text(json.dumps({"severity": "LIKELY_UNSAFE", "analysis": "Call to `_reconstruct(...)` "
                                    "is not a standard library call"}))
    (tmp_path / "m.status.yaml").write_text(f"evidence:\n  files:\n    - {{path: fickling.json, covers: [{artifact}]}}\n"
                                            "    - modelscan.json\n    - picklescan.txt\n")
    result = threatmodel.analyze(model)
    assert _states(result, "model")["safe-model-serialisation"] == "verified"
    detail = next(c.text for r in result.review.findings for c in r.checks
                  if r.finding.element == "model" and c.mitigation == "safe-model-serialisation")
    assert "LIKELY_UNSAFE" in detail and "overruled by" in detail
    # alone, the heuristic verdict still contradicts
    (tmp_path / "m.status.yaml").write_text(f"evidence:\n  files:\n    - {{path: fickling.json, covers: [{artifact}]}}\n")
    assert _states(threatmodel.analyze(model), "model")["safe-model-serialisation"] == "contradicted"


def test_the_scan_script_runs_to_the_end_without_a_signer_and_binds_its_evidence(tmp_path):
    _tool("picklescan")
    artifact = tmp_path / "model.pkl"
    with open(artifact, "wb") as handle:
        pickle.dump([1, 2, 3], handle)
    model = _small_model(tmp_path / "m.yaml", "signed pickle", [
        f"{{id: model, kind: model-artifact, format: pickle, boundary: prod, signed: true, paths: [{artifact}]}}"])
    assert _cli("controls", "manifest", model, "-o", tmp_path / "threatmodel.manifest.json").returncode == 0
    assert _cli("controls", "scan", model, "-o", tmp_path / "scan.sh").returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_SIGNER")}
    environment["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    run = subprocess.run(["bash", str(tmp_path / "scan.sh")], cwd=tmp_path, capture_output=True, text=True,
                         env=environment)
    assert "unbound variable" not in run.stderr
    saved = sorted(p.name for p in (tmp_path / "evidence").iterdir())
    assert "manifest-check.json" in saved  # the last step ran
    assert "model.picklescan.txt.sha256" in saved
    signing = (tmp_path / "evidence" / "model.model-signing.txt").read_text()
    assert "could not check" in signing
    result = threatmodel.analyze(model, review=False, evidence=[tmp_path / "evidence"])
    states = _states(result, "model")
    assert states["safe-model-serialisation"] == "verified"
    # no key: the signature is not checked, which is not a contradiction, and the declared credit stays
    finding = next(r for r in result.review.findings if r.finding.id == "ML10@model")
    signature = next(c for c in finding.checks if c.mitigation == "artifact-integrity-verification")
    assert signature.state != "contradicted"


def test_the_scan_script_checks_signatures_with_a_public_key(tmp_path):
    signer = _tool("model_signing")
    model, folder = _signed_model(tmp_path, signer, tmp_path / "model.sig")
    assert _cli("controls", "scan", model, "-o", tmp_path / "scan.sh").returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_SIGNER")}
    environment.update(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", MODEL_SIGNER_PUBLIC_KEY=str(tmp_path / "pub.pem"))
    run = subprocess.run(["bash", str(tmp_path / "scan.sh")], cwd=tmp_path, capture_output=True, text=True,
                         env=environment)
    assert "Verification succeeded" in (tmp_path / "evidence" / "weights.model-signing.txt").read_text(), run.stderr
    result = threatmodel.analyze(model, review=False, evidence=[tmp_path / "evidence"])
    assert _states(result, "weights")["artifact-integrity-verification"] == "verified"


def test_an_unreachable_signing_service_is_not_a_contradiction(tmp_path):
    model = _small_model(tmp_path / "m.yaml", "signed model", [
        "{id: weights, kind: model-artifact, format: pickle, signed: true, boundary: prod, paths: [/srv/m.pkl]}"])
    transcript = tmp_path / "sig.txt"
    transcript.write_text("$ model_signing verify sigstore /srv/m.pkl --signature /srv/m.pkl.sig --identity a@b.c "
                          "--identity_provider https://accounts.example.com\n"
                          "Verification failed with error: HTTPSConnectionPool(host='tuf-repo-cdn.sigstore.dev', "
                          "port=443): Max retries exceeded with url: /13.root.json (Caused by NameResolutionError)\n")
    result = threatmodel.analyze(model, review=False, evidence=[transcript])
    assert _states(result, "weights")["artifact-integrity-verification"] == "stale"
    finding = next(r for r in result.review.findings if r.finding.id == "ML10@weights")
    assert "artifact-integrity-verification" in finding.residual_explanation.split("=")[0]  # the declared credit stays


def test_every_reader_module_is_found_and_complete(catalog):
    """A reader is one module: found by its TOOL, with everything read_evidence and the judge use,
    bound to a catalog mitigation, and named in docs/evidence.md."""
    import pkgutil

    import threatmodel.evidence as package
    from threatmodel.evidence.read import READERS

    modules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert {r.__name__.rsplit(".", 1)[1] for r in READERS} == modules - {"common", "judge", "model", "read"}
    docs = (REPO / "docs" / "evidence.md").read_text(encoding="utf-8")
    for reader in READERS:
        assert catalog.evidence[reader.TOOL] in catalog.mitigations, reader.TOOL
        assert reader.SUBJECT in ("path", "package") and isinstance(reader.JSON, bool) and reader.DESCRIPTION
        assert callable(reader.recognises) and callable(reader.read) and isinstance(reader.ORDER, int)
        assert reader.TOOL in docs or reader.TOOL.replace("-", "_") in docs, reader.TOOL  # the package or its command
    json_first = [r.JSON for r in READERS]
    assert json_first == sorted(json_first, reverse=True)  # JSON formats are tried before text ones
