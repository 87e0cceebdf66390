"""The records evidence readers produce."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from threatmodel.core.errors import Location


@dataclass(frozen=True)
class EvidenceEntry:
    """One evidence file to read, as the review file or the command line names it."""

    path: str  # as written (relative to the review file, or to the working folder on the command line)
    resolved: str  # the file to open
    tool: str = ""  # empty: recognised from the content
    covers: tuple[str, ...] = ()  # artifacts (or packages) the output is about, where it does not say
    date: dt.datetime | None = None  # when the tool ran, where the file's own date is not to be trusted
    location: Location | None = None  # where the entry is written (review file), for messages


@dataclass(frozen=True)
class Observation:
    """What one tool saw about one subject."""

    subject: str  # an artifact path, or a package name for dependency audits
    ok: bool  # True: the control shows in place and passing; False: absent or failing
    detail: str  # in words, e.g. "CRITICAL: unsafe operator 'system' from module 'posix'"
    location: Location  # where in the evidence file it was read
    permissions: str = ""  # audit watches: the permissions watched (e.g. "wa")
    key: str = ""  # audit watches: the filter key
    weak: bool = False  # a heuristic failure (fickling's LIKELY_UNSAFE) that precise scanners may overrule
    unchecked: bool = False  # the tool could not check (not installed, no key, offline): neither pass nor fail


@dataclass(frozen=True)
class EvidenceSource:
    """One evidence file, read: the tool, the mitigation it speaks to, when it ran, what it saw."""

    name: str  # the file as messages and reports name it
    tool: str
    mitigation: str  # catalog mitigation id
    subject_kind: str  # "path" or "package"
    date: dt.datetime  # timezone-aware; from the content, the entry, or the file's modification time
    date_source: str  # "content", "review file" or "file time"
    observations: tuple[Observation, ...] = ()
    scope: tuple[str, ...] = field(default_factory=tuple)  # everything the tool looked at (paths or packages)
    notes: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()  # as the evidence entry says: paths, packages or component ids
    roots: tuple[str, ...] = ()  # what the tool was pointed at (a folder covers everything in it); default: scope
    hashes: tuple[tuple[str, str], ...] = ()  # (file, SHA-256) of the bytes the tool saw, from FILE.sha256 beside it
    disabled: bool = False  # audit status: auditing is off (auditctl -s: enabled 0)
    # "audit-watches": the evidence lists loaded rules, judged against the watches threatmodel
    # generates for the finding (not path by path); "" for scanners
    judged_against: str = ""
    lists_nothing: bool = False  # a listing that says nothing is loaded at all

    def scan_roots(self) -> tuple[str, ...]:
        return self.roots or self.scope
