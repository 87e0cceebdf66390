"""picklescan output: ``picklescan --path PATH > picklescan.txt`` (with the command line echoed).

picklescan prints one line per dangerous or suspicious global it finds,
``/models/model.pkl: dangerous import 'posix system' FOUND``, then a ``SCAN SUMMARY`` with the
number of scanned and infected files. Clean files are not named, so the scanned path comes from
the command line echoed at the top of the transcript (``$ picklescan --path /models`` or
``+ picklescan …`` from ``set -x``), or from ``covers:`` in the review file.
Format: https://github.com/mmaitre314/picklescan (console output).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from threatmodel.evidence.common import ReaderResult, under, command_lines, malformed, option_value
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "picklescan"
SUBJECT = "path"
FINDS_UNSAFE_CONTENT = True  # a failure means the artifact's bytes are unsafe to load
JSON = False
ORDER = 20  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "picklescan console output"
SUMMARY = "----------- SCAN SUMMARY -----------"
_FOUND = re.compile(r"^(?P<path>.+?): (?P<what>(?:dangerous|suspicious|unsafe)[^\n]*?) FOUND\s*$")
_COUNT = re.compile(r"^(Scanned files|Infected files|Dangerous globals|Suspicious globals): (\d+)\s*$")


def recognises(text: str, document: Any) -> bool:
    return document is None and SUMMARY in text



def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    result = ReaderResult()
    counts: dict[str, int] = {}
    failed: dict[str, tuple[list[str], int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        found = _FOUND.match(line)
        if found:
            path = posixpath.normpath(found["path"].strip())
            failed.setdefault(path, ([], number))[0].append(found["what"])
        count = _COUNT.match(line)
        if count:
            counts[count[1]] = int(count[2])
    if "Scanned files" not in counts:
        raise malformed(name, "picklescan output without 'Scanned files:' in its summary", text.count("\n", 0, text.find(SUMMARY)) + 1)
    roots = [(number, posixpath.normpath(path)) for number, argv in command_lines(text, ("picklescan",))
             if (path := option_value(argv[1:], ("-p", "--path")))]
    roots += [(0, posixpath.normpath(path)) for path in entry.covers]
    result.roots = [root for _, root in roots]
    for path, (what, number) in sorted(failed.items()):
        result.scope.append(path)
        result.observations.append(Observation(path, False, "; ".join(what[:5]), Location(name, number, 1)))
    for number, root in roots:
        if root in result.scope:
            continue
        result.scope.append(root)
        if not any(under(path, root) for path in failed):
            if counts.get("Scanned files", 0) == 0:
                result.notes.append(f"picklescan scanned no files under {root}")
                continue
            result.observations.append(Observation(root, True, f"no dangerous imports in {counts['Scanned files']} "
                                                   "scanned file(s)", Location(name, number or 1, 1)))
    if not roots and not failed:
        result.notes.append("picklescan output does not name the path it scanned; echo the command line "
                            "into the file or say 'covers:' in the review file")
    if counts.get("Infected files", 0) and not failed:
        result.notes.append("picklescan counted infected files but the output names none")
    return result
