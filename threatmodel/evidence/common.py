"""Helpers the evidence readers share: results, dates, command lines in transcripts, locations."""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass, field
from typing import Any

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.evidence.model import Observation


@dataclass
class ReaderResult:
    observations: list[Observation] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    date: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)  # what the tool was pointed at, where the output says
    disabled: bool = False  # audit status: auditing is off
    lists_nothing: bool = False  # a listing that says nothing is loaded (auditctl: "No rules")


def under(path: str, root: str) -> bool:
    """``path`` is ``root`` or inside it (POSIX paths, no file-system access)."""
    path, root = path.rstrip("/") or "/", root.rstrip("/") or "/"
    return path == root or path.startswith(root.rstrip("/") + "/")


def malformed(name: str, message: str, line: int = 1, column: int = 1) -> InputError:
    return InputError([Diagnostic(Location(name, line, column), message)])


def line_of(text: str, needle: str, start: int = 0) -> int:
    """The 1-based line where ``needle`` first occurs (1 when absent)."""
    index = text.find(needle, start) if needle else -1
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def parse_date(value: Any) -> dt.datetime | None:
    """An ISO 8601 date or date-time; naive times are taken as UTC. None when not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def command_lines(text: str, executables: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """Command lines echoed into a transcript (``$ picklescan -p model.pkl`` as typed, or
    ``+ picklescan -p model.pkl`` from ``set -x``) that run one of ``executables``: (line, argv)."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip()
        if not stripped.startswith(("$ ", "+ ", "++ ")):
            continue
        try:
            argv = shlex.split(stripped.lstrip("+$").strip())
        except ValueError:
            continue
        if argv and argv[0].rsplit("/", 1)[-1] in executables:
            found.append((number, argv))
    return found


def option_value(argv: list[str], names: tuple[str, ...]) -> str | None:
    for index, arg in enumerate(argv):
        if arg in names and index + 1 < len(argv):
            return argv[index + 1]
        for name in names:
            if name.startswith("--") and arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return None


def require(condition: bool, name: str, message: str, line: int = 1) -> None:
    if not condition:
        raise malformed(name, message, line)


def text_field(value: Any, limit: int = 500) -> str:
    """A string from an evidence file, bounded (reports quote it; escaping happens when rendering)."""
    text = value if isinstance(value, str) else json_repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def json_repr(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)[:500]
    except (TypeError, ValueError):
        return str(type(value).__name__)


HASH_SUFFIX = ".sha256"  # beside an evidence file: sha256sum lines for the bytes the tool saw
_HASH_LINE = __import__("re").compile(r"^([0-9a-f]{64}) [ *](.+)$")


def read_hashes(text: str, name: str) -> list[tuple[str, str]]:
    """``sha256sum`` output (``<64 hex>  <path>``): (path, digest) pairs; a bad line is an error."""
    import posixpath

    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        found = _HASH_LINE.match(line.rstrip("\n"))
        if not found:
            raise malformed(name, "expected sha256sum output: 64 hex digits, two spaces, a path", number)
        pairs.append((posixpath.normpath(found[2]), found[1]))
    return pairs
