"""Escaping for every output context: one function per context, used by every template.

Python code builds plain data and never concatenates markup; templates pass each user string
through the function for the context it lands in:

| context | function |
|---|---|
| Markdown running text, list items, headings, emphasis | ``md_text`` |
| Markdown table cells | ``md_cell`` |
| Markdown code spans (ids, paths, commands) | ``md_code`` (``md_code_cell`` inside tables) |
| Markdown link targets | ``md_url`` (only http, https and mailto; anything else is not a link) |
| Mermaid labels and node ids | ``mermaid_label``, ``mermaid_lines``, ``mermaid_id`` |
| Graphviz DOT strings | ``dot_string``, ``dot_lines`` |
| terminal and plain-text output | ``terminal`` |
| catalog prose in HTML, its `code spans` as ``<code>`` | ``html_prose`` (escaped first) |

Every context first neutralises what no output should carry: control characters (ESC, DEL, …),
bidirectional overrides and zero-width characters, which are shown as ``<U+202E>``. Markdown text
is then backslash-escaped (CommonMark allows a backslash before any ASCII punctuation), so no user
string can open a heading, a list or task item, emphasis, a link, an image, an autolink, raw HTML,
a table cell or a code span. HTML output relies on Jinja2's autoescaping.
"""

from __future__ import annotations

import re
from functools import wraps
from typing import Any, Callable, TypeVar

from markupsafe import Markup, escape

# bidirectional embeddings, overrides and isolates; zero-width and invisible format characters;
# line and paragraph separators
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u206a-\u206f\ufeff\u2028\u2029\u00ad\u061c]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
# characters CommonMark, GFM (tables, strikethrough, task lists, autolinks, linkify) or GitHub's
# math can give a meaning anywhere in a line; `_` between letters or digits is left alone
_ALWAYS = frozenset("\\`*_[]<>|~&$@")
_LEADING = re.compile(r"^(\d{1,9})([.)])")  # "1." or "1)" would start an ordered list
_ALLOWED_SCHEMES = ("http://", "https://", "mailto:")


_F = TypeVar("_F", bound=Callable[..., Any])
_MEMO_LIMIT = 1 << 17  # strings remembered per function; past that it starts afresh


def _memo(function: _F) -> _F:
    """The same function, remembering its results for plain strings: a report prints the same
    names, titles and ids thousands of times, and escaping is a pure function of the text."""
    remembered: dict[str, Any] = {}

    @wraps(function)
    def escaped(value: Any, *args: Any) -> Any:
        if args or type(value) is not str:
            return function(value, *args)
        try:
            return remembered[value]
        except KeyError:
            if len(remembered) >= _MEMO_LIMIT:
                remembered.clear()
            result = remembered[value] = function(value)
            return result

    _MEMOS.append(remembered)
    return escaped  # type: ignore[return-value]


_MEMOS: list[dict[str, Any]] = []


def forget() -> None:
    """Let go of every remembered result (the renderer calls this after each output, so that a
    long-running process does not keep the strings of every report it wrote)."""
    for remembered in _MEMOS:
        remembered.clear()


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@_memo
def visible(value: Any) -> str:
    """Control, bidirectional and zero-width characters shown as <U+XXXX>; other text unchanged."""
    text = _text(value)
    if text.isascii():  # no invisible character is ASCII; most text has no control character either
        return text if text.isprintable() else _CONTROL.sub(_code_point, text)
    return _CONTROL.sub(_code_point, _INVISIBLE.sub(_code_point, text))


def _code_point(match: "re.Match[str]") -> str:
    return f"<U+{ord(match.group()):04X}>"


@_memo
def one_line(value: Any) -> str:
    """Visible characters only, all whitespace runs (newlines included) as one space."""
    text = visible(value)
    if text.isprintable() and "  " not in text:  # printable: no whitespace but the plain space
        return text.strip()
    return _WHITESPACE.sub(" ", text).strip()


_MARKUP = re.compile(
    r"(?<![^\W_])_|_(?![^\W_])"          # "_" unless between letters or digits
    r"|[\\`*\[\]<>|~&$@]"                 # always special
    r"|\.(?=[^\W\d_])|/(?=/)|:(?=/)"        # linkify: a dot before a letter, "//", the colon of "x:/"
    r"|(?<=[Mm][Aa][Ii][Ll][Tt][Oo]):")     # and of "mailto:"


def _backslash(match: "re.Match[str]") -> str:
    char = match.group()
    if char == "." and not match.string[match.end()].isalpha():  # \w includes digits like "¼"
        return char
    return "\\" + char


def _escape_markdown(text: str) -> str:
    """Backslash-escape what could turn text into markup, and only that, so reports stay
    readable as plain text: the always-special characters; a dot before a letter, a double slash
    and the colon of a URL scheme (which linkify would read as a domain or a link); and at
    the start, whatever opens a block (heading, list, quote, thematic break)."""
    # in ASCII text a dot the pattern matches is always before a letter: no callback needed
    escaped = _MARKUP.sub(r"\\\g<0>", text) if text.isascii() else _MARKUP.sub(_backslash, text)
    if text[:1] in ("#", "-", "+", "="):
        escaped = "\\" + escaped
    if not escaped[:1].isdigit():
        return escaped
    return _LEADING.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


@_memo
def md_text(value: Any) -> str:
    """Markdown running text (a paragraph, a list item, a heading): one line, every special
    character escaped."""
    return _escape_markdown(one_line(value))


def md_cell(value: Any) -> str:
    """A Markdown (GFM) table cell: like running text; the pipe is escaped too."""
    return md_text(value)


@_memo
def md_code(value: Any) -> str:
    """A Markdown code span: a backtick fence longer than any backtick run in the text."""
    text = one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}" if text else ""


@_memo
def md_code_cell(value: Any) -> str:
    """A code span inside a GFM table cell: pipes must still be escaped there."""
    return md_code(value).replace("|", "\\|")


@_memo
def md_url(value: Any) -> str:
    """A link target: only http, https and mailto, percent-encoding what could end the target;
    anything else gives an empty string (the template then prints no link)."""
    text = one_line(value)
    if not text.lower().startswith(_ALLOWED_SCHEMES):
        return ""
    return re.sub(r"[\s()<>\[\]\\`\"']", lambda m: f"%{ord(m.group()):02X}", text)


@_memo
def terminal(value: Any) -> str:
    """Plain text for a terminal or a text file: escape sequences, carriage returns (which could
    overwrite what a line shows) and invisible characters shown as <U+XXXX>; newlines and tabs kept."""
    return visible(value).replace("\r", "<U+000D>")


@_memo
def mermaid_label(value: Any) -> str:
    """A label for a quoted Mermaid string: quotes, markup and backticks become Mermaid entity
    codes (``#35;`` is '#'), so a label can neither end its string nor its code fence."""
    text = one_line(value).replace("#", "#35;")
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;"),
                       ("|", "#124;"), ("[", "#91;"), ("]", "#93;"), ("{", "#123;"), ("}", "#125;")):
        text = text.replace(char, code)
    return text


@_memo
def mermaid_lines(value: Any, width: int = 14) -> str:
    """A Mermaid label broken onto lines of about ``width`` characters, after a hyphen or a space
    (a narrow box for a long id); each line is escaped as ``mermaid_label``, joined by ``<br>``."""
    words = re.findall(r"[^\s-]*-|[^\s-]+|\s+", one_line(value))
    lines: list[str] = []
    line = ""
    for word in words:
        if line.strip() and len(line) + len(word.rstrip()) > width:
            lines.append(line.rstrip())
            line = word.lstrip()
        else:
            line += word
    if line.strip():
        lines.append(line.rstrip())
    return "<br>".join(mermaid_label(part) for part in lines)


@_memo
def mermaid_id(value: Any) -> str:
    """A Mermaid node id: ids may contain '.', '-' which Mermaid treats specially."""
    return "n_" + re.sub(r"[^A-Za-z0-9_]", lambda m: f"_{ord(m.group()):x}_", str(value))


@_memo
def dot_string(value: Any) -> str:
    """A double-quoted DOT string with quotes, backslashes and newlines escaped."""
    text = one_line(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text + '"'


@_memo
def html_prose(value: Any) -> Markup:
    """Catalog prose for HTML: escaped, with its `code spans` shown as <code> (the Markdown
    report shows them as code spans too)."""
    escaped = str(escape(one_line(value)))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))


def dot_lines(lines: Any) -> str:
    """A DOT string of several lines (each escaped as ``dot_string``), centred, joined by ``\\n``."""
    return '"' + "\\n".join(dot_string(line)[1:-1] for line in lines) + '"'


# characters YAML does not allow raw in a document, or would read as a line break, or that reorder
# what an editor shows (bidirectional controls): written as \\u escapes inside the JSON string
_YAML_UNSAFE = re.compile("[^\\t\\n\\r\\x20-\\x7e\\xa0-\\ud7ff\\ue000-\\ufffd\\U00010000-\\U0010ffff]"
                          "|[\\u2028\\u2029\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069\\ufeff]")
_PLAIN_KEY = re.compile(r"[a-z][a-z0-9_]*")


def yaml_value(value: Any) -> str:
    """A YAML value written as JSON (a quoted string, a number, a boolean, a flow list): YAML
    reads it back exactly, whatever characters it holds (newlines and invisible characters are
    escapes, so the value stays on one line of the file)."""
    import json

    text = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: "".join(f"\\u{unit:04x}" for unit in _utf16(m.group())), text)


def _utf16(char: str) -> list[int]:
    data = char.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]


def yaml_key(value: Any) -> str:
    """A mapping key: plain when it is a simple lower-case name, else quoted like a value."""
    text = str(value)
    return text if _PLAIN_KEY.fullmatch(text) else yaml_value(text)


FILTERS = {
    "md_text": md_text, "md_cell": md_cell, "md_code": md_code, "md_code_cell": md_code_cell, "md_url": md_url,
    "terminal": terminal, "one_line": one_line, "dot_lines": dot_lines, "html_prose": html_prose, "mermaid_label": mermaid_label, "mermaid_lines": mermaid_lines, "mermaid_id": mermaid_id,
    "dot_string": dot_string, "yaml_value": yaml_value, "yaml_key": yaml_key,
}
