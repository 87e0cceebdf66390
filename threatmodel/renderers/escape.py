"""Escaping for every output context: one function per context, used by every template.

Python code builds plain data and never concatenates markup; templates pass each user string
through the function for the context it lands in.
"""

from __future__ import annotations

import re
from typing import Any


def md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: no pipes, newlines or raw HTML."""
    text = str(value if value is not None else "")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("|", "\\|")
    return re.sub(r"\s*\n\s*", " ", text).strip()


def md_text(value: Any) -> str:
    """Running Markdown text with raw HTML neutralised."""
    return str(value if value is not None else "").replace("<", "&lt;").replace(">", "&gt;")


def mermaid_label(value: Any) -> str:
    """A label for a quoted Mermaid string: quotes and markup become entity codes."""
    text = re.sub(r"\s+", " ", str(value)).strip()
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                       ("|", "#124;"), ("[", "#91;"), ("]", "#93;"), ("{", "#123;"), ("}", "#125;")):
        text = text.replace(char, code)
    return text


def mermaid_id(value: Any) -> str:
    """A Mermaid node id: ids may contain '.', '-' which Mermaid treats specially."""
    return "n_" + re.sub(r"[^A-Za-z0-9_]", lambda m: f"_{ord(m.group()):x}_", str(value))


def dot_string(value: Any) -> str:
    """A double-quoted DOT string with quotes, backslashes and newlines escaped."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"\r?\n", "\\\\n", text) + '"'
