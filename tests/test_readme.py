"""The README's tour works as written, on a copy, and changes nothing in the repository."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import sys

from .conftest import REPO

def _tour_commands() -> list[str]:
    """The tour's command lines (without their comments)."""
    return [command for command, _ in _tour_lines()]


def _tour_lines() -> list[tuple[str, str]]:
    """Each command of the tour with the comment that says what it does."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    tour = text.split("## A five-minute tour", 1)[1]
    block = re.search(r"```sh\n(.*?)```", tour, re.S).group(1)
    commands = []
    for line in block.splitlines():
        command, comment = (re.split(r"\s+#\s", line, maxsplit=1) + [""])[:2]
        if command.strip() and not command.strip().startswith("#"):
            commands.append((command.strip(), comment.strip()))
    return commands


def _repository_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO / "docs").rglob("*")) + sorted((REPO / "catalog").rglob("*")):
        if path.is_file():
            digest.update(path.as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_the_first_command_and_every_tour_command_work_on_a_copy(tmp_path):
    before = _repository_fingerprint()
    python = shlex.quote(sys.executable)
    first = (REPO / "README.md").read_text(encoding="utf-8").split("```sh\n", 1)[1].split("\n", 1)[0]
    assert first.startswith("pip install . && ")
    # the install step is the README's own business (CI runs it); the rest runs here
    setup = first.removeprefix("pip install . && ").replace("../huskyai-tour", "huskyai-tour")
    done = subprocess.run(setup.replace("threatmodel ", f"{python} -m threatmodel "), shell=True, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    tour = tmp_path / "huskyai-tour"
    assert (tour / "report.md").is_file() and (tour / "report.html").read_text().startswith("<!DOCTYPE html>")
    commands = _tour_lines()
    assert len(commands) >= 15
    for command, comment in commands:
        done = subprocess.run(command.replace("threatmodel ", f"{python} -m threatmodel "), shell=True, cwd=tour,
                              capture_output=True, text=True, timeout=120)
        said = re.search(r"\bexit (\d)", comment)  # the claim next to the command is checked too
        expected = int(said.group(1)) if said else 0
        assert done.returncode == expected, f"{command}: exit {done.returncode}, README says {expected}\n{done.stderr}"
        assert "Traceback" not in done.stderr, command
    assert _repository_fingerprint() == before


def test_the_readme_yaml_format_snippet_is_a_valid_model(tmp_path):
    text = (REPO / "README.md").read_text(encoding="utf-8").split("## The YAML format", 1)[1]
    snippet = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    (tmp_path / "snippet.yaml").write_text(snippet, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "threatmodel", "validate", "snippet.yaml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    report = subprocess.run([sys.executable, "-m", "threatmodel", "report", "snippet.yaml"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert report.returncode == 0 and "ML01" in report.stdout, report.stderr
