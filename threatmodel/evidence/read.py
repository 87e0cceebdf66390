"""Read one evidence file: check it like any other input, recognise the tool, run its reader.

Evidence is untrusted input. It is read with the same rules as a model (regular files only,
size-checked before reading, UTF-8 text), a file no reader recognises is an error naming the
formats that are, and a reader that finds the file malformed says where.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import decode_text, read_bytes
from threatmodel.evidence.common import HASH_SUFFIX, read_hashes
from threatmodel.evidence.model import EvidenceEntry, EvidenceSource

MAX_EVIDENCE_BYTES = 16 * 1024 * 1024  # scanner reports and listings are small; a larger file is not one



def _discover_readers() -> tuple[ModuleType, ...]:
    """Every module of this package that defines ``TOOL`` is a reader (docs/evidence.md says what
    else it defines), so a new reader is one file. They are tried in order: the JSON formats,
    recognised by their keys, then the text formats, each group by ``ORDER`` and tool name."""
    import importlib
    import pkgutil

    modules = [importlib.import_module(f"{__package__}.{info.name}")
               for info in pkgutil.iter_modules([str(Path(__file__).parent)]) if not info.ispkg]
    readers = [m for m in modules if isinstance(getattr(m, "TOOL", None), str)]
    return tuple(sorted(readers, key=lambda m: (not m.JSON, getattr(m, "ORDER", 50), m.TOOL)))


READERS: tuple[ModuleType, ...] = _discover_readers()
TOOLS: dict[str, ModuleType] = {reader.TOOL: reader for reader in READERS}


def _json(text: str, name: str) -> Any:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Diagnostic(Location(name, exc.lineno, exc.colno), f"invalid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise InputError([Diagnostic(Location(name, 1, 1), "invalid JSON: nested too deeply")]) from None


def _builtin_bindings() -> dict[str, str]:
    from threatmodel.catalog.load import load_catalog

    return load_catalog().catalog.evidence


def _file_time(path: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(os.stat(path).st_mtime, tz=dt.timezone.utc)


def read_evidence(entry: EvidenceEntry, bindings: dict[str, str] | None = None) -> EvidenceSource:
    """Read ``entry``'s file into an :class:`EvidenceSource`; an InputError says what is wrong where.
    ``bindings`` (the catalog's ``evidence``: tool -> mitigation) says what the evidence speaks to."""
    name = entry.path
    data = read_bytes(Path(entry.resolved), name, MAX_EVIDENCE_BYTES)
    text = decode_text(data, name)
    document = _json(text, name)
    if entry.tool:
        reader = TOOLS[entry.tool]
    else:
        reader = next((r for r in READERS if r.recognises(text, document)), None)
        if reader is None:
            kinds = ", ".join(r.DESCRIPTION for r in READERS)
            raise InputError([Diagnostic(Location(name, 1, 1), "not a recognised evidence format; expected one of: "
                                         f"{kinds} (docs/evidence.md)")])
    if reader.JSON and document is None:
        raise InputError([Diagnostic(Location(name, 1, 1), f"{reader.TOOL} evidence must be JSON ({reader.DESCRIPTION})")])
    mitigation = (bindings if bindings is not None else _builtin_bindings()).get(reader.TOOL)
    if mitigation is None:
        raise InputError([Diagnostic(Location(name, 1, 1), f"{reader.TOOL} evidence: the catalog binds no mitigation to "
                                     f"it (add '{reader.TOOL}: MITIGATION' under 'evidence:')")])
    result = reader.read(text, document, name, entry)
    if entry.date is not None:
        date, date_source = entry.date, "review file"
    elif result.date is not None:
        date, date_source = result.date, "content"
    else:
        date, date_source = _file_time(entry.resolved), "file time"
    hashes: list[tuple[str, str]] = []
    sidecar = Path(entry.resolved + HASH_SUFFIX)
    if sidecar.is_file():  # the scan script records what the tool saw, byte for byte
        hashes = read_hashes(decode_text(read_bytes(sidecar, name + HASH_SUFFIX, MAX_EVIDENCE_BYTES),
                                         name + HASH_SUFFIX), name + HASH_SUFFIX)
    return EvidenceSource(name=name, tool=reader.TOOL, mitigation=mitigation, subject_kind=reader.SUBJECT,
                          date=date, date_source=date_source, observations=tuple(result.observations),
                          scope=tuple(result.scope), notes=tuple(result.notes), covers=entry.covers,
                          roots=tuple(result.roots), hashes=tuple(hashes), disabled=result.disabled,
                          judged_against=getattr(reader, "JUDGED_AGAINST", ""), lists_nothing=result.lists_nothing)
