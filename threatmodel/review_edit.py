"""Update a review file in place, keeping its comments, order and formatting.

``threatmodel review`` uses this instead of asking people to hand-edit YAML. The file is read
and written with ruamel.yaml's round-trip mode, which preserves comments and key order, and
written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from .errors import Diagnostic, InputError, Location
from .output import write_atomic

HEADER = ("# threatmodel review file: decisions about findings (keyed by finding id, wildcards allowed)\n"
          "# and the state of mitigations (keyed by mitigation id, optionally @component).\n")


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 1 << 16  # never re-wrap lines the team wrote
    return yaml


def update_review(path: Path, section: str, key: str, values: dict[str, str]) -> None:
    """Set ``values`` on entry ``key`` of ``section`` ('findings' or 'mitigations')."""
    from ruamel.yaml.comments import CommentedMap

    yaml = _round_trip()
    if path.exists():
        try:
            document = yaml.load(path.read_text(encoding="utf-8")) or CommentedMap()
        except Exception as exc:  # ruamel raises many types; all mean "not valid YAML here"
            raise InputError([Diagnostic(Location(str(path)), f"cannot update: {exc}")]) from None
        if not isinstance(document, CommentedMap):
            raise InputError([Diagnostic(Location(str(path), 1, 1), "expected a mapping at the top of the file")])
        prefix = ""
    else:
        document = CommentedMap()
        prefix = HEADER
    entries = document.get(section)
    if entries is None:
        entries = CommentedMap()
        document[section] = entries
    entry = entries.get(key)
    if not isinstance(entry, CommentedMap):
        entry = CommentedMap()
        entries[key] = entry
    for name, value in values.items():
        if value:
            entry[name] = value
    stream = io.StringIO()
    yaml.dump(document, stream)
    write_atomic(path, prefix + stream.getvalue())
