"""JSON output: indented documents, and large reports streamed one item per line."""

from __future__ import annotations

import json
from typing import Any, Iterator


def to_json(data: Any) -> str:
    """Indented JSON for small documents."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def json_lines(data: dict[str, Any]) -> Iterator[str]:
    """JSON with one top-level key per line and one list item per line, as a stream of chunks.

    Large reports stay readable in a diff (one finding per line), each item is encoded by the C
    encoder, and a writer can stream the chunks to a file without holding the whole text.
    """
    encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    yield "{\n"
    keys = list(data)
    for index, key in enumerate(keys):
        comma = "," if index < len(keys) - 1 else ""
        value = data[key]
        if isinstance(value, list) and value:
            yield f"  {encode(key)}: [\n"
            last = len(value) - 1
            for position, item in enumerate(value):
                yield f"    {encode(item)}{',' if position < last else ''}\n"
            yield f"  ]{comma}\n"
        else:
            yield f"  {encode(key)}: {encode(value)}{comma}\n"
    yield "}\n"
