"""Every command line in the shell blocks of README.md and docs/*.md runs as written, on a copy,
with the exit status its comment claims ("exit 1", else 0) and never a traceback; and every
option the README's CLI table names exists in that command's --help.

A line is a synopsis rather than a command when it shows placeholders (``[--option]``, ``FILE``,
``…``); synopses are listed here by file, so a new one is a decision, not an accident. Commands run
in a folder holding what the docs' readers would have: the Husky AI example as the tour copies it
(plus ``model.yaml``, the name docs/review.md uses), the bundled examples under ``docs/examples``,
the manifest check and audit rules docs/evidence.md reads back in, and, for docs/discover.md, the
bundled example ML project.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import EXAMPLES, REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SYNOPSIS = re.compile(r"\[|…|\.\.\.|\b(?:MODEL|SYSTEM|FILE|PATH|URI|ID|DIR)\b|path/to/")
# the README's tour and first command are run by tests/test_readme.py, in order, on their own copy
TOUR_TESTED = {"README.md"}


def _shell_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [m.group(1) for m in re.finditer(r"^```(?:sh|bash|shell)\n(.*?)^```", text, re.S | re.M)]


def _lines(path: Path) -> list[tuple[str, str]]:
    """(command, comment) for every threatmodel command line of the file's shell blocks."""
    found = []
    for block in _shell_blocks(path):
        for line in block.replace("\\\n", " ").splitlines():
            command, comment = (re.split(r"\s+#\s", line.strip(), maxsplit=1) + [""])[:2]
            command = command.strip().removeprefix("$ ")
            if re.match(r"(threatmodel|python -m threatmodel)\b", command):
                found.append((command, comment.strip()))
    return found


def _commands() -> list[tuple[str, str, str]]:
    return [(path.name, command, comment) for path in DOCS if path.name not in TOUR_TESTED
            for command, comment in _lines(path) if not SYNOPSIS.search(command)]


def test_synopses_are_the_known_ones():
    synopses = {(path.name, command) for path in DOCS for command, _ in _lines(path) if SYNOPSIS.search(command)}
    assert {name for name, _ in synopses} <= {"README.md", "catalog.md", "discover.md"}, synopses
    assert len(_commands()) >= 15


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    python = shlex.quote(sys.executable)
    root = tmp_path_factory.mktemp("docs")
    home = root / "work"

    def run(command: str, cwd: Path) -> None:
        done = subprocess.run(f"{python} -m threatmodel {command}", shell=True, cwd=cwd, capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stderr

    run("init --example huskyai work", root)
    shutil.copytree(EXAMPLES, home / "docs" / "examples", ignore=shutil.ignore_patterns("projects"))
    shutil.copy(home / "huskyai.yaml", home / "model.yaml")
    run("controls manifest huskyai.yaml -o m.json", home)
    run("controls verify-manifest m.json -f json -o check.json", home)
    rules = subprocess.run(f"{python} -m threatmodel controls auditd huskyai.yaml", shell=True, cwd=home,
                           capture_output=True, text=True, check=True).stdout
    (home / "auditctl.txt").write_text("".join(line + "\n" for line in rules.splitlines() if line.startswith("-w ")))
    run("init --example fraud-scorer project", root)
    return root


@pytest.mark.parametrize(("doc", "command", "comment"), _commands(), ids=lambda v: v if "/" not in v else None)
def test_documented_command_runs_as_written(workspace, doc, command, comment):
    cwd = workspace / ("project" if doc == "discover.md" else "work")
    python = shlex.quote(sys.executable)
    shell = re.sub(r"(^|&& )(?:python -m )?threatmodel ", lambda m: f"{m.group(1)}{python} -m threatmodel ", command)
    done = subprocess.run(shell, shell=True, cwd=cwd, capture_output=True, text=True, timeout=300)
    said = re.search(r"\bexit (\d)", comment)
    expected = int(said.group(1)) if said else 0
    assert done.returncode == expected, f"{doc}: {command}: exit {done.returncode}, the docs say {expected}\n{done.stderr}"
    assert "Traceback" not in done.stderr + done.stdout, command


def _cli_table() -> list[tuple[list[str], list[str]]]:
    """(command words, options) for each row of the README's CLI table."""
    text = (REPO / "README.md").read_text(encoding="utf-8").split("## The CLI", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in text.splitlines():
        match = re.match(r"\| `threatmodel ([^`]*)`", line)
        if not match:
            continue
        for usage in re.findall(r"`threatmodel ([^`]*)`", line.split(" | ")[0]) or [match.group(1)]:
            words = []
            for word in usage.replace("\\|", "|").split():
                if word.startswith("-") or not re.fullmatch(r"[a-z][a-z-]*(\|[a-z-]+)*", word):
                    break
                words.append(word)
            options = re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage)
            rows.append((words, options))
    # options of a row written after the first usage ("/ `--mitigation …`") belong to the same command
    for line in text.splitlines():
        first = re.match(r"\| `threatmodel ([a-z-]+)[^`]*` / `(--[a-z-]+)", line)
        if first:
            rows.append(([first.group(1)], [first.group(2)]))
    return rows


def test_every_option_in_the_readme_cli_table_exists():
    from typer.testing import CliRunner

    from threatmodel.cli import app

    rows = _cli_table()
    assert len(rows) >= 20
    missing = []
    for words, options in rows:
        variants = [[]]
        for word in words:  # "controls auditd|ausearch|manifest|scan": each subcommand
            variants = [v + [choice] for v in variants for choice in word.split("|")]
        for variant in variants:
            if variant and variant[0] in ("import",):
                variant = variant[:1]  # the importer's format is an argument, not a subcommand
            result = CliRunner().invoke(app, [*variant, "--help"], terminal_width=200)
            assert result.exit_code == 0, (variant, result.output)
            for option in options:
                if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.output):
                    missing.append((" ".join(variant), option))
    assert missing == []
