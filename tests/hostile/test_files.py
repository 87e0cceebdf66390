"""Files that are not plain files, or are plain files built to hurt: every reader refuses them
with a located one-line error (exit 2), never hangs, never reads without bound."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import assert_contract, run_cli, snapshot

GOOD = """system: {name: good}
components:
  - {id: user, kind: person}
  - {id: api, kind: inference-service}
flows:
  - {from: user, to: api, protocol: HTTPS}
"""


def _special(tmp_path: Path, what: str) -> Path:
    """A path of the given kind inside tmp_path (or a system device)."""
    target = tmp_path / f"special-{what}"
    if what == "fifo":
        os.mkfifo(target)
    elif what == "directory":
        target.mkdir()
    elif what == "loop":
        os.symlink(tmp_path / "special-loop-b", target)
        os.symlink(target, tmp_path / "special-loop-b")
    elif what == "dangling":
        os.symlink(tmp_path / "nowhere", target)
    elif what == "zero":
        return Path("/dev/zero")
    elif what == "null":
        return Path("/dev/null")
    elif what == "urandom":
        return Path("/dev/urandom")
    elif what == "sparse":
        with open(target, "wb") as stream:
            stream.truncate(200 * 1024 * 1024)  # 200 MiB of holes: refused from its size, never read
    elif what == "missing":
        pass
    return target


KINDS = ["fifo", "directory", "loop", "dangling", "zero", "null", "urandom", "sparse", "missing"]
EXPECTED = {"fifo": "not a regular file (a FIFO)", "directory": "not a regular file (a directory)",
            "loop": "symbolic link loop", "dangling": "no such file", "zero": "not a regular file (a character device)",
            "null": "not a regular file (a character device)", "urandom": "not a regular file (a character device)",
            "sparse": "larger than the limit", "missing": "no such file"}


def _args(role: str, special: Path, good: Path) -> list[str]:
    return {
        "model": ["validate", str(special)],
        "report-model": ["report", str(special)],
        "status": ["report", str(good), "--status", str(special)],
        "catalog": ["report", str(good), "--catalog", str(special)],
        "catalog-validate": ["catalog", "validate", str(special)],
        "diff-old": ["diff", str(special), str(good)],
        "diff-new": ["diff", str(good), str(special)],
        "manifest": ["controls", "verify-manifest", str(special)],
        "import": ["import", "otm", str(special), "-o", str(good.with_name("imported.yaml"))],
    }[role]


ROLES = ["model", "report-model", "status", "catalog", "catalog-validate", "diff-old", "diff-new", "manifest", "import"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_special_files_are_refused_wherever_a_file_is_read(tmp_path, kind, role):
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    special = _special(tmp_path, kind)
    before = snapshot(tmp_path)
    outcome = run_cli(_args(role, special, good), tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 2
    assert EXPECTED[kind] in outcome.stderr, outcome.stderr


@pytest.mark.parametrize("kind", ["fifo", "directory", "zero", "loop"])
def test_an_include_that_is_not_a_regular_file_is_located(tmp_path, kind):
    special = _special(tmp_path, kind)
    if kind == "zero":
        os.symlink("/dev/zero", tmp_path / "zero-link")
        special = tmp_path / "zero-link"
    model = tmp_path / "m.yaml"
    model.write_text(f"system: {{name: x}}\ninclude: [{special.name}]\n")
    before = snapshot(tmp_path)
    outcome = run_cli(["validate", str(model)], tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 2 and f"{model}:2:11: error: include '{special.name}'" in outcome.stderr, outcome.stderr


def test_stdin_is_read_only_when_asked_for(tmp_path):
    outcome = run_cli(["validate", "-"], tmp_path, stdin=GOOD.encode())
    assert outcome.code == 0 and "-: OK" in outcome.stdout


def test_the_size_cap_is_documented_and_overridable(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text(GOOD + "# " + "x" * 2000 + "\n")
    small = run_cli(["validate", str(model)], tmp_path, env={"THREATMODEL_MAX_FILE_BYTES": "1000"})
    assert small.code == 2 and "THREATMODEL_MAX_FILE_BYTES" in small.stderr
    assert run_cli(["validate", str(model)], tmp_path).code == 0


BOMBS = {
    "billion-laughs": "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
                                + [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]"
                                   for i in range(1, 10)]) + "\n",
    "long-strings": "s: &s " + "x" * 99_999 + "\n" + "\n".join(f"k{i}: [{', '.join(['*s'] * 50)}]" for i in range(200)) + "\n",
    "deep-flow": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-block": "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n",
    "huge-string": "a: " + "x" * 200_000 + "\n",
    "many-documents": "a: 1\n---\nb: 2\n---\nc: 3\n",
    "python-tag": "a: !!python/object/apply:os.system ['echo hacked']\n",
    "merge-loop": "a: &a {x: 1}\nb: {<<: *a, y: 2}\nc: {<<: [*a, *a], z: 3}\n",
    "unknown-alias": "a: *nothing\n",
    "duplicate-keys": "a: 1\na: 2\n",
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bombs_and_tricks_stop_with_a_located_error(tmp_path, name):
    model = tmp_path / "bomb.yaml"
    model.write_text(BOMBS[name])
    before = snapshot(tmp_path)
    outcome = run_cli(["validate", str(model)], tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 2
    assert outcome.stderr.startswith(f"{model}:"), outcome.stderr[:300]
    assert "hacked" not in outcome.stdout


ENCODINGS = {
    "utf-16": ("system: {name: x}\n".encode("utf-16"), "UTF-16 (little-endian)"),
    "utf-16-be-no-bom": ("system: {name: x}\n".encode("utf-16-be"), "UTF-16 (big-endian)"),
    "utf-32": ("system: {name: x}\n".encode("utf-32"), "UTF-32"),
    "latin-1": ("system: {name: caf\xe9}\n".encode("latin-1"), "not UTF-8 text"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
    "esc": (b"system: {name: \x1b[31mred}\n", "U+001B (ESC)"),
    "del": (b"system: {name: a\x7fb}\n", "U+007F (DEL)"),
    "c1": ("system: {name: a\x85b}\n".encode("utf-8"), "U+0085"),
    "nul": (b"system: {name: a\x00b}\n", "not a text file"),
}


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_encodings_and_control_bytes_are_named(tmp_path, name):
    data, expected = ENCODINGS[name]
    model = tmp_path / "enc.yaml"
    model.write_bytes(data)
    outcome = run_cli(["validate", str(model)], tmp_path)
    assert outcome.code == 2 and expected in outcome.stderr, outcome.stderr
    assert len([line for line in outcome.stderr.splitlines() if ": error: " in line]) >= 1
    assert "\x1b" not in outcome.stderr


VALUES = {
    "octal-id": ("components:\n  - {id: 010, kind: person}\n", "010"),
    "version": ("system: {name: x, version: 1.10}\n", "1.10"),
    "hex": ("components:\n  - {id: 0x1f, kind: person}\n", "0x1f"),
    "exponent": ("components:\n  - {id: 1e3, kind: person}\n", "1e3"),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_keep_what_the_user_wrote(tmp_path, name):
    body, written = VALUES[name]
    text = body if body.startswith("system") else "system: {name: x}\n" + body
    model = tmp_path / "v.yaml"
    model.write_text(text)
    outcome = run_cli(["report", str(model), "--format", "json"], tmp_path)
    assert outcome.code == 0, outcome.stderr
    graph = run_cli(["graph", str(model), "--format", "json"], tmp_path)
    assert f'"{written}"' in outcome.stdout + graph.stdout


@pytest.mark.parametrize("root", ["/", "/proc", "/etc/../", "relative/path", "/tmp/with space"])
def test_a_hostile_manifest_cannot_walk_the_machine(tmp_path, root):
    import json

    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"format": "threatmodel-manifest", "version": 1, "algorithm": "sha256",
                                    "model": "x", "roots": [{"component": "c", "path": root, "type": "directory"}],
                                    "files": {}}))
    outcome = run_cli(["controls", "verify-manifest", str(manifest)], tmp_path)
    assert outcome.code == 2 and f"{manifest}:" in outcome.stderr and "root" in outcome.stderr
