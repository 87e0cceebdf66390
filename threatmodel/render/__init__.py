"""Rendering: Jinja2 templates fed with plain data. Renderers format; they never analyse."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import jinja2

from ..resources import templates_dir


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


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The template environment; a user's folder, when given, is searched first."""
    folders = [str(template_dir)] if template_dir else []
    folders.append(str(templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md_cell=md_cell, md_text=md_text, mermaid_label=mermaid_label,
                       mermaid_id=mermaid_id, dot_string=dot_string)
    return env


def render(template: str, data: Any, template_dir: Path | None = None) -> str:
    return environment(template_dir).get_template(template).render(**data)


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
