"""Generated controls: audit rules that parse, injection attempts refused, manifests, scan steps."""

from __future__ import annotations

import json
import shlex

import pytest

from threatmodel.controls.derive import MAX_KEY_LENGTH, audit_key
from threatmodel.core.safe_paths import path_problem

from .conftest import EXAMPLES

HUSKY = EXAMPLES / "huskyai.yaml"


def parse_audit_rules(text: str) -> list[dict[str, str]]:
    """A strict parser of the subset of audit rule syntax we emit: `-w PATH -p PERMS -k KEY`."""
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        tokens = line.split()
        assert len(tokens) == 6, f"line {number}: {line!r}"
        assert tokens[0] == "-w" and tokens[2] == "-p" and tokens[4] == "-k", f"line {number}: {line!r}"
        assert tokens[1].startswith("/") and path_problem(tokens[1]) is None, line
        assert tokens[3] and set(tokens[3]) <= set("rwxa"), line
        assert 0 < len(tokens[5]) <= MAX_KEY_LENGTH and all(c.isalnum() or c in "-_" for c in tokens[5]), line
        rules.append({"path": tokens[1], "perms": tokens[3], "key": tokens[5]})
    return rules


def test_husky_rules_parse_and_watch_the_production_model_as_its_author_did(cli):
    result = cli("controls", "auditd", HUSKY)
    assert result.exit_code == 0
    rules = parse_audit_rules(result.stdout)
    # the author's control after the repudiation post: auditctl -w <model file> -p wa -k <key>
    assert {"path": "/opt/huskyai/models/huskymodel.h5", "perms": "wa", "key": "tm-production-model-change"} in rules
    # reads are watched where a finding is about theft (ML05 on the model, stolen keys)
    assert {"path": "/opt/huskyai/models/huskymodel.h5", "perms": "r", "key": "tm-production-model-read"} in rules
    assert {"path": "/home/engineer/.bingimagessearchkey", "perms": "r", "key": "tm-bing-api-key-read"} in rules
    # every declared model, dataset, notebook and secret path is watched for changes
    watched = {r["path"] for r in rules if r["perms"] == "wa"}
    assert watched == {"/home/admin/.ssh/authorized_keys", "/home/engineer/.bingimagessearchkey",
                       "/home/engineer/huskyai/huskyai.ipynb", "/home/engineer/huskyai/models/huskymodel.h5",
                       "/opt/huskyai/models/huskymodel.h5", "/home/engineer/huskyai/data/training",
                       "/home/engineer/huskyai/data/validation"}
    assert "## findings: ARTIFACT-REPUDIATION@production-model, ML10@production-model; mitigation: file-audit-logging" \
        in result.stdout


def test_generated_files_are_deterministic(cli):
    for args in (("controls", "auditd", HUSKY), ("controls", "ausearch", HUSKY), ("controls", "scan", HUSKY)):
        assert cli(*args).stdout == cli(*args).stdout


def test_ausearch_commands_match_the_keys(cli):
    keys = {r["key"] for r in parse_audit_rules(cli("controls", "auditd", HUSKY).stdout)}
    commands = [line for line in cli("controls", "ausearch", HUSKY).stdout.splitlines() if line.startswith("ausearch")]
    assert sorted(commands) == sorted(f"ausearch -k {key} -i" for key in keys)


def test_long_component_ids_get_short_unique_keys():
    first = audit_key("a-very-long-component-identifier-for-models", "change")
    second = audit_key("a-very-long-component-identifier-for-modelz", "change")
    assert len(first) <= MAX_KEY_LENGTH and len(second) <= MAX_KEY_LENGTH and first != second


INJECTIONS = [
    ("/srv/model.h5\n-D", "contains a control character ('\\n')"),
    ("/srv/model.h5 -k x\n-e 0", "contains whitespace"),
    ("/srv/model.h5 -p rwxa", "contains whitespace"),
    ("/srv/a;reboot", "contains ';'"),
    ("/srv/$(rm -rf /)", "contains '$'"),
    ("/srv/`id`", "contains '`'"),
    ("/srv/a|b", "contains '|'"),
    ("/srv/a&b", "contains '&'"),
    ("/srv/'quoted'", "contains \"'\""),
    ("/srv/a\\b", "contains '\\\\'"),
    ("/srv/../etc/shadow", "contains a '..' segment"),
    ("/srv//model.h5", "contains an empty segment"),
    ("/srv/ /model.h5", "contains whitespace"),
    ("/srv/-D", "has a segment starting with '-'"),
    ("models/../../etc/shadow", "contains a '..' segment"),
    ("~/model.h5", "starts with '~'"),
    ("-D", "has a segment starting with '-'"),
    ("/srv/mod\tel", "contains a control character"),
    ("/srv/modèle.h5", "contains 'è'"),
]


@pytest.mark.parametrize("path, problem", INJECTIONS, ids=[repr(p) for p, _ in INJECTIONS])
def test_crafted_paths_are_refused_with_a_located_error(cli, write, path, problem):
    model = write("system: {name: x}\ncomponents:\n  - id: m\n    kind: model-artifact\n    paths:\n"
                  f"      - {json.dumps(path)}\n")
    result = cli("controls", "auditd", model)
    assert result.exit_code == 2
    assert f"{model}:6:9: error: path {path!r} " in result.stderr and problem in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("path", ["/opt/models/model-v1.2.h5", "/data/train_set/", "/srv/a@b/c%20d", "/home/u/.key"])
def test_ordinary_paths_are_accepted(path):
    assert path_problem(path) is None


# ----------------------------------------------------------------- manifests


@pytest.fixture
def artifacts(tmp_path, write):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.h5").write_bytes(b"weights v1")
    (tmp_path / "data" / "cats").mkdir(parents=True)
    (tmp_path / "data" / "cats" / "1.png").write_bytes(b"png1")
    (tmp_path / "data" / "cats" / "2.png").write_bytes(b"png2")
    model = write(f"""
        system: {{name: m}}
        components:
          - {{id: model, kind: model-artifact, format: keras-h5, paths: ["{tmp_path}/models/model.h5"]}}
          - {{id: images, kind: dataset, paths: ["{tmp_path}/data", "{tmp_path}/later.bin"]}}
          - {{id: nb, kind: notebook}}
        flows:
          - {{from: images, to: nb}}
          - {{from: nb, to: model}}
        """, "model.yaml")
    return tmp_path, model


def make_manifest(cli, model, tmp_path):
    manifest = tmp_path / "manifest.json"
    result = cli("controls", "manifest", model, "-o", manifest)
    assert result.exit_code == 0
    return manifest, result


def test_manifest_records_existing_files_and_notes_missing_ones(cli, artifacts):
    tmp_path, model = artifacts
    manifest, result = make_manifest(cli, model, tmp_path)
    data = json.loads(manifest.read_text())
    assert sorted(data["files"]) == [f"{tmp_path}/data/cats/1.png", f"{tmp_path}/data/cats/2.png",
                                     f"{tmp_path}/models/model.h5"]
    import hashlib

    assert data["files"][f"{tmp_path}/data/cats/1.png"] == hashlib.sha256(b"png1").hexdigest()
    assert {"component": "images", "path": f"{tmp_path}/later.bin", "type": "missing"} in data["roots"]
    assert "does not exist here; recorded as missing" in result.stderr
    assert cli("controls", "manifest", model).stdout == cli("controls", "manifest", model).stdout


def test_verify_manifest_clean_changed_vanished_appeared(cli, artifacts):
    import hashlib

    tmp_path, model = artifacts
    manifest, _ = make_manifest(cli, model, tmp_path)
    recorded = json.loads(manifest.read_text())["files"][f"{tmp_path}/models/model.h5"]
    assert recorded == hashlib.sha256(b"weights v1").hexdigest()
    # later.bin is declared but was not there: a difference, never "all files match"
    first = cli("controls", "verify-manifest", manifest)
    assert first.exit_code == 1 and "all files match" not in first.stdout
    assert first.stdout.splitlines() == [f"missing: {tmp_path}/later.bin (declared, but not on this machine: "
                                         "nothing was hashed)"]
    assert "0 changed, 0 vanished, 0 appeared, 1 declared but missing" in first.stderr

    (tmp_path / "models" / "model.h5").write_bytes(b"backdoored weights")
    (tmp_path / "data" / "cats" / "2.png").unlink()
    (tmp_path / "data" / "cats" / "3.png").write_bytes(b"new")
    (tmp_path / "later.bin").write_bytes(b"now here")
    result = cli("controls", "verify-manifest", manifest)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"changed: {tmp_path}/models/model.h5",
        f"vanished: {tmp_path}/data/cats/2.png",
        f"appeared: {tmp_path}/data/cats/3.png",
        f"appeared: {tmp_path}/later.bin",
    ]
    assert "1 changed, 1 vanished, 2 appeared" in result.stderr


def test_verify_rejects_a_file_that_is_not_a_manifest(cli, write):
    bad = write('{"format": "threatmodel-manifest", "version": 1, "algorithm": "sha256",\n'
                ' "roots": [], "files": {"/a": "nothex"}}\n', "bad.json")
    result = cli("controls", "verify-manifest", bad)
    assert result.exit_code == 2 and f"{bad}:2:31: error: '/a' has no valid SHA-256 hex digest" in result.stderr
    other = write('{"hello": 1}\n', "other.json")
    result = cli("controls", "verify-manifest", other)
    assert result.exit_code == 2 and "not a threatmodel manifest" in result.stderr


# ----------------------------------------------------------------- scan steps

SCAN_MODEL = """
system: {name: s}
boundaries: [{id: z, trust: internal}]
components:
  - {id: lib, kind: library, paths: [/repo/requirements.txt]}
  - {id: trainer, kind: training-job, boundary: z}
  - {id: pkl, kind: model-artifact, boundary: z, format: pickle, paths: [/m/model.pkl]}
  - {id: h5, kind: model-artifact, boundary: z, format: keras-h5, paths: [/m/model.h5], signed: true}
  - {id: safe, kind: model-artifact, boundary: z, format: safetensors, paths: [/m/model.safetensors]}
flows:
  - {from: lib, to: trainer}
  - {from: trainer, to: pkl}
  - {from: trainer, to: h5}
  - {from: trainer, to: safe}
"""


def test_scan_steps_by_format(cli, write):
    data = json.loads(cli("controls", "scan", write(SCAN_MODEL), "--format", "json").stdout)
    runs = [step["run"] for step in data["steps"]]
    assert "modelscan scan -p /m/model.h5" in runs
    assert 'model_signing verify sigstore /m/model.h5 --signature /m/model.h5.sig --identity "${MODEL_SIGNER_IDENTITY}" ' \
           '--identity_provider "${MODEL_SIGNER_ISSUER}"' in runs
    assert "modelscan scan -p /m/model.pkl" in runs and "picklescan --path /m/model.pkl" in runs
    assert "pip-audit -r /repo/requirements.txt" in runs
    assert not any("model.safetensors" in run and "scan" in run for run in runs)  # nothing executes on load
    assert runs[-1] == "threatmodel controls verify-manifest threatmodel.manifest.json"
    step = next(s for s in data["steps"] if s["tool"] == "picklescan")
    assert step["mitigation"] == "safe-model-serialisation" and step["argv"] == ["picklescan", "--path", "/m/model.pkl"]


def test_scan_script_is_valid_shell(cli, write, tmp_path):
    import subprocess

    script = tmp_path / "scan.sh"
    assert cli("controls", "scan", write(SCAN_MODEL), "-o", script).exit_code == 0
    text = script.read_text()
    assert "pip install model-signing modelscan picklescan pip-audit" in text
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    for line in text.splitlines():
        if line and not line.startswith("#") and not line.startswith("set "):
            shlex.split(line)  # every command line is well-formed shell words


def test_relative_artifact_paths_are_resolved_against_the_model_folder(cli, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    model = folder / "m.yaml"
    model.write_text("system: {name: r}\ncomponents:\n  - {id: m, kind: model-artifact, paths: [models/m.h5]}\n")
    rules = cli("controls", "auditd", model).stdout
    assert f"-w {folder.resolve()}/models/m.h5 -p wa -k tm-m-change" in rules
    assert "resolved against the folder of the model file" in rules
    model.write_text("system: {name: r}\ncomponents:\n  - {id: m, kind: model-artifact, paths: [../m.h5]}\n")
    result = cli("validate", model)
    assert result.exit_code == 2 and "contains a '..' segment" in result.stderr


def test_the_scan_script_says_when_no_tool_saved_evidence(cli, tmp_path):
    import os
    import subprocess

    from .conftest import EXAMPLES

    script = tmp_path / "scan.sh"
    assert cli("controls", "scan", EXAMPLES / "huskyai.yaml", "-o", script).exit_code == 0
    # no scanner and no threatmodel on this PATH: nothing can run
    run = subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=120)
    tools = ("modelscan", "picklescan", "fickling", "auditctl", "threatmodel", "pip-audit", "model_signing")
    if any(os.path.exists(f"{folder}/{tool}") for folder in ("/usr/bin", "/bin") for tool in tools):
        pytest.skip("a scanner is installed system-wide here")
    assert run.returncode != 0
    assert "no evidence saved in evidence: none of the tools above ran here" in run.stderr
    assert "next: threatmodel verify" not in run.stderr


def test_role_checks_are_catalog_data_a_user_catalog_can_add(cli, write):
    """The signature and dependency checks come from the catalog's `checks`; a team's catalog adds
    its own (here a second dependency auditor) without code, and a check naming an unknown role or
    mitigation is a located error."""
    model = write("system: {name: S}\ncomponents:\n"
                  "  - {id: libs, kind: library, paths: [/srv/app/requirements.txt, /srv/app/dev.txt]}\n"
                  "  - {id: weights, kind: model-artifact, format: safetensors, signed: true, paths: [/srv/m.st]}\n",
                  "m.yaml")
    extra = write("checks:\n  - tool: safety\n    role: code_dependency\n    suffix: .txt\n"
                  "    argv: [safety, check, -r, '{path}']\n    name: check {component} with safety\n"
                  "    mitigation: dependency-scanning\n", "extra.yaml")
    builtin = [s for s in json.loads(cli("controls", "scan", model, "-f", "json").stdout)["steps"]
               if s["tool"] != "threatmodel"]  # the manifest check
    assert [s["tool"] for s in builtin] == ["pip-audit", "pip-audit", "model-signing"]  # components by id
    assert builtin[2]["argv"][:4] == ["model_signing", "verify", "sigstore", "/srv/m.st"]
    assert [s["evidence"] for s in builtin[:2]] == ["libs-1.pip-audit.json", "libs-2.pip-audit.json"]
    steps = json.loads(cli("controls", "scan", model, "--catalog", extra, "-f", "json").stdout)["steps"]
    added = [s for s in steps if s["tool"] == "safety"]
    assert [s["argv"] for s in added] == [["safety", "check", "-r", "/srv/app/dev.txt"],
                                         ["safety", "check", "-r", "/srv/app/requirements.txt"]]
    assert all(s["mitigation"] == "dependency-scanning" and s["name"] == "check libs with safety" for s in added)
    unsigned = write("system: {name: S}\ncomponents:\n  - {id: weights, kind: model-artifact, format: safetensors, "
                     "paths: [/srv/m.st]}\n", "u.yaml")
    assert [s["tool"] for s in json.loads(cli("controls", "scan", unsigned, "-f", "json").stdout)["steps"]] \
        == ["threatmodel"]  # no signature check without `signed: true`
    broken = write("checks:\n  - tool: t\n    role: model_stor\n    argv: [t, '{path}']\n    name: n\n"
                   "    mitigation: nope\n", "broken.yaml")
    result = cli("catalog", "validate", broken)
    assert result.exit_code == 2
    assert "broken.yaml:3:11: error: unknown role 'model_stor', did you mean 'model_store'?" in result.stderr
    assert "broken.yaml:6:17: error: unknown mitigation 'nope'" in result.stderr
