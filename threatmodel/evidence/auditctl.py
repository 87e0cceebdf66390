"""Loaded audit rules: the output of ``auditctl -l`` (Linux audit).

Each watch appears as ``-w /path -p wa -k key``; kernels that store watches as syscall rules
list them as ``-a always,exit -F path=/path -F perm=wa -F key=key`` (``dir=`` for folders).
``No rules`` means none are loaded. Every watch read is an observation that it is loaded; the
verification compares them with the watches ``threatmodel controls auditd`` generates. The
status (``auditctl -s``: ``enabled 1``, ``pid …``) may come first, as the scan script records
it: ``enabled 0`` means auditing is off, and then no loaded watch records anything.
Format: auditctl(8), the ``-l`` option.
"""

from __future__ import annotations

import posixpath
import shlex
from typing import Any

from threatmodel.evidence.common import ReaderResult, malformed
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "auditctl"
SUBJECT = "path"
JSON = False
ORDER = 30  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "auditctl -l output"
JUDGED_AGAINST = "audit-watches"  # compared with the watches `controls auditd` generates
_RULE_STARTS = ("-w ", "-a ", "-A ", "-e ", "-b ", "-f ", "-r ", "-D", "--backlog", "-W ")
_STATUS = ("enabled", "failure", "pid", "rate_limit", "backlog_limit", "lost", "backlog", "backlog_wait_time",
           "backlog_wait_time_actual", "loginuid_immutable", "feature_bitmap")


def _status(line: str) -> tuple[str, str] | None:
    parts = line.split()
    return (parts[0], parts[1]) if len(parts) >= 2 and parts[0] in _STATUS else None


def _lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.strip().startswith("#")]


def recognises(text: str, document: Any) -> bool:
    lines = _lines(text)
    return document is None and bool(lines) and any(not line.startswith("$ ") for _, line in lines) and all(
        line == "No rules" or line.startswith(_RULE_STARTS) or _status(line) is not None
        or (line.startswith("$ ") and "auditctl" in line) for _, line in lines)


def _option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else ""


def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    result = ReaderResult()
    for number, line in _lines(text):
        if line == "No rules":
            result.notes.append("no audit rules are loaded")
            result.lists_nothing = True
            continue
        status = _status(line)
        if status is not None or line.startswith("$ "):
            if status == ("enabled", "0"):
                result.disabled = True
                result.notes.append(f"auditing is off (line {number}: enabled 0): loaded watches record nothing")
            continue
        try:
            argv = shlex.split(line)
        except ValueError:
            raise malformed(name, "auditctl -l: unbalanced quotes in a rule", number) from None
        where = Location(name, number, 1)
        if argv[0] == "-w":
            path, perms, key = _option(argv, "-w"), _option(argv, "-p") or "rwxa", _option(argv, "-k")
        elif argv[0] in ("-a", "-A"):
            fields = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv[:-1]) if a == "-F" and "=" in argv[i + 1])
            path = fields.get("path") or fields.get("dir") or ""
            perms, key = fields.get("perm", ""), fields.get("key", "") or _option(argv, "-k")
        else:
            continue
        if not path:
            continue
        path = posixpath.normpath(path)
        result.scope.append(path)
        result.observations.append(Observation(path, True, f"watch loaded: -w {path} -p {perms}"
                                               + (f" -k {key}" if key else ""), where, perms, key))
    return result
