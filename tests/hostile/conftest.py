"""The hostile-input contract, shared by every case under tests/hostile/.

Each case must: finish within a timeout; print no traceback; exit 0, 1 or 2; write nothing
outside the paths it is allowed to; leave an existing output file intact when it fails; and
keep every user string inert in every output format.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

TIMEOUT = 60
ALLOWED_EXITS = (0, 1, 2)


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every regular file under ``folder``; specials by type only."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            try:
                info = path.lstat()
            except OSError:
                continue
            found[str(path)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return found


def run_cli(args: list[str], cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Outcome:
    """``python -m threatmodel ARGS`` in its own process, bounded by a timeout."""
    environment = {**os.environ, "THREATMODEL_CACHE": "0", **(env or {})}
    try:
        done = subprocess.run([sys.executable, "-m", "threatmodel", *args], cwd=cwd, input=stdin,
                              capture_output=True, timeout=TIMEOUT, env=environment)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure this suite exists to catch
        pytest.fail(f"threatmodel {' '.join(args)} did not finish within {TIMEOUT} s")
    return Outcome(done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def assert_contract(outcome: Outcome, before: dict, after: dict, allowed: set[str] = frozenset()) -> None:
    assert outcome.code in ALLOWED_EXITS, (outcome.code, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stderr and "Traceback" not in outcome.stdout, outcome.stderr[-2000:]
    changed = {path for path in set(before) | set(after) if before.get(path) != after.get(path)}
    assert changed <= set(allowed), sorted(changed - set(allowed))
    leftovers = [p for p in after if Path(p).name.startswith(".") and p.endswith(".tmp")]
    assert leftovers == [], leftovers
    if outcome.code == 2:
        lines = [line for line in outcome.stderr.splitlines() if line.strip()]
        assert lines, "exit 2 must say why"
        assert all(": error: " in line or ": warning: " in line or line.endswith(("error", "errors"))
                   or line.startswith(("note:", "wrote "))
                   for line in lines), lines
