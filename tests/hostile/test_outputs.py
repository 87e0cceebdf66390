"""Output targets: nothing but a regular file is ever replaced, write errors are exit 2 with
the user's path, and a failed run leaves an existing file as it was."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from .conftest import assert_contract, run_cli, snapshot
from .test_files import GOOD

COMMANDS = {
    "report": ["report", "{model}", "-f", "md"],
    "report-json": ["report", "{model}", "-f", "json"],
    "graph": ["graph", "{model}"],
    "checklist": ["checklist", "{model}"],
    "schema": ["schema"],
}


def _command(name: str, model: Path, target: str) -> list[str]:
    return [part.replace("{model}", str(model)) for part in COMMANDS[name]] + ["-o", target]


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(GOOD)
    return path


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_disk_full_is_an_error(tmp_path, model, command):
    outcome = run_cli(_command(command, model, "/dev/full"), tmp_path)
    assert outcome.code == 2 and "/dev/full: error: cannot write: no space left on the device" in outcome.stderr
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_device_is_written_not_replaced(tmp_path, model, command):
    before = snapshot(tmp_path)
    outcome = run_cli(_command(command, model, "/dev/null"), tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 0 and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("target", ["folder", "missing-folder/out.md", "file-as-folder/out.md"])
def test_bad_targets_name_the_users_path(tmp_path, model, command, target):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file-as-folder").write_text("x")
    before = snapshot(tmp_path)
    outcome = run_cli(_command(command, model, target), tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 2
    assert outcome.stderr.startswith(f"{target}: error: cannot write:"), outcome.stderr
    assert ".tmp" not in outcome.stderr


@pytest.mark.parametrize("command", ["report", "report-json", "graph", "checklist"])
def test_a_failed_run_leaves_the_existing_output_alone(tmp_path, command):
    broken = tmp_path / "broken.yaml"
    broken.write_text("system: {name: x}\ncomponents: [{id: a, kind: nope}]\n")
    out = tmp_path / "out.txt"
    out.write_text("the previous report\n")
    before = snapshot(tmp_path)
    outcome = run_cli(_command(command, broken, str(out)), tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 2 and out.read_text() == "the previous report\n"


def test_a_fifo_nobody_reads_is_refused_without_hanging(tmp_path, model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome = run_cli(_command("report", model, str(fifo)), tmp_path)
    assert outcome.code == 2 and "a FIFO that nobody is reading" in outcome.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_with_a_reader_gets_the_report(tmp_path, model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read)
    reader.start()
    import time

    time.sleep(0.2)
    outcome = run_cli(_command("report", model, str(fifo)), tmp_path)
    reader.join(timeout=30)
    assert outcome.code == 0 and received and received[0].startswith(b"# Threat model: good")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_is_followed_not_replaced(tmp_path, model):
    real = tmp_path / "real.md"
    real.write_text("old\n")
    link = tmp_path / "link.md"
    os.symlink(real, link)
    outcome = run_cli(_command("report", model, str(link)), tmp_path)
    assert outcome.code == 0 and link.is_symlink() and real.read_text().startswith("# Threat model: good")


def test_existing_file_permissions_are_kept(tmp_path, model):
    out = tmp_path / "out.md"
    out.write_text("x")
    out.chmod(0o640)
    assert run_cli(_command("report", model, str(out)), tmp_path).code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.parametrize("args", [
    ["report", "{model}", "-o", "{model}"],
    ["report", "{model}", "-f", "json", "-o", "{status}"],
    ["checklist", "{model}", "-o", "{included}"],
    ["graph", "{model}", "-o", "{model}"],
    ["import", "otm", "{otm}", "-o", "{otm}"],
])
def test_an_input_file_is_never_overwritten(tmp_path, args):
    model = tmp_path / "m.yaml"
    model.write_text("system: {name: m}\ninclude: [more.yaml]\n")
    (tmp_path / "more.yaml").write_text(GOOD.split("\n", 1)[1])
    (tmp_path / "m.status.yaml").write_text("findings: {}\n")
    (tmp_path / "m.otm.json").write_text('{"otmVersion": "0.2.0", "project": {"name": "x", "id": "x"}}')
    values = {"{model}": str(model), "{status}": str(tmp_path / "m.status.yaml"),
              "{included}": str(tmp_path / "more.yaml"), "{otm}": str(tmp_path / "m.otm.json")}
    before = snapshot(tmp_path)
    outcome = run_cli([values.get(a, a) for a in args], tmp_path)
    assert_contract(outcome, before, snapshot(tmp_path))
    assert outcome.code == 2 and "it is one of this command's input files" in outcome.stderr
