"""Read YAML safely and keep the line and column of every node.

The document is built from the parser's event stream (no recursion, no Python object tags), so
hostile input is bounded: file size, nesting depth, string length and the number of nodes after
alias expansion all have limits, and each is reported as a located error rather than a hang.

Mappings and sequences come back as :class:`YamlMap` and :class:`YamlSeq`: a ``dict`` and a
``list`` that also know where they and each of their children start, so a later validation
error at ``components[3].kind`` can point at the exact line.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from threatmodel.core.errors import Diagnostic, InputError, Location

try:  # the C parser is much faster; fall back to the pure-Python one where libyaml is absent
    _Parser = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader  # type: ignore[misc]

def _env_limit(name: str, default: int) -> int:
    """A documented limit, overridable by an environment variable (a positive integer)."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else default


MAX_FILE_BYTES = _env_limit("THREATMODEL_MAX_FILE_BYTES", 64 * 1024 * 1024)
MAX_DEPTH = 64
MAX_SCALAR_CHARS = 100_000
MAX_NODES = 5_000_000  # values that aliases repeat, so "billion laughs" stops early
MAX_VALUES = 30_000_000  # values written in one file (a 64 MB file holds at most ~32 million)
MAX_EXPANDED_CHARS = _env_limit("THREATMODEL_MAX_EXPANDED_CHARS", 50_000_000)  # characters after alias expansion

# C0 controls other than tab, newline and carriage return, DEL, and C1 controls: YAML forbids
# them in a document, and they would reach terminals and reports
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_NAMES = {0x1B: "ESC", 0x7F: "DEL", 0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF"}

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",  # kept as the written string: dates are text in our formats
    _STR,
}
_SEQ_TAGS = {None, "!", "tag:yaml.org,2002:seq"}
_MAP_TAGS = {None, "!", "tag:yaml.org,2002:map"}


class YamlMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers where it, each key and each value were written."""

    location: Location
    key_locations: dict[Any, Location]
    value_locations: dict[Any, Location]


class YamlSeq(list):  # type: ignore[type-arg]
    """A sequence that remembers where it and each item were written."""

    location: Location
    item_locations: list[Location]


class _LimitExceeded(Exception):
    def __init__(self, location: Location, message: str) -> None:
        self.location = location
        self.message = message


def _tag_name(tag: str | None) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag and tag.startswith("tag:yaml.org,2002:") else str(tag)


def _loc(filename: str, mark: Any) -> Location:
    return Location(filename, mark.line + 1, mark.column + 1)


class _Frame:
    __slots__ = ("container", "anchor", "pending_key", "pending_key_location", "start_count", "start_chars",
                 "merges")

    def __init__(self, container: YamlMap | YamlSeq, start_count: int, anchor: str | None) -> None:
        self.container = container
        self.anchor = anchor
        self.pending_key: Any = _NO_KEY
        self.pending_key_location: Location | None = None
        self.start_count = start_count
        self.start_chars = 0
        self.merges: list[tuple[Any, Location]] = []


_NO_KEY = object()


class _Builder:
    """Turns parser events into located Python data."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.resolver = yaml.resolver.Resolver()
        self.resolved: dict[tuple[str, bool], str] = {}  # plain values repeat a lot (kinds, booleans)
        self.constructor = yaml.constructor.SafeConstructor()
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}
        self.nodes = 0
        self.chars = 0  # characters of scalars, counted again for every alias that repeats them
        self.alias_nodes = 0  # what aliases repeat, beyond the file's own text
        self.alias_chars = 0
        self.errors: list[Diagnostic] = []
        self.documents: list[Any] = []

    def error(self, location: Location, message: str) -> None:
        self.errors.append(Diagnostic(location, message))

    def count(self, amount: int, location: Location, chars: int = 0, *, through_alias: bool = False) -> None:
        self.nodes += amount
        self.chars += chars
        if through_alias:
            self.alias_nodes += amount
            self.alias_chars += chars
            if self.alias_nodes > MAX_NODES:
                raise _LimitExceeded(
                    location,
                    f"aliases (*name) repeat more than {MAX_NODES:,} values (an alias bomb?); "
                    "write the repeated parts out or use fewer aliases",
                )
            if self.alias_chars > MAX_EXPANDED_CHARS:
                raise _LimitExceeded(
                    location,
                    f"aliases (*name) repeat more than {MAX_EXPANDED_CHARS:,} characters of text (an alias "
                    "bomb?); set THREATMODEL_MAX_EXPANDED_CHARS to allow more",
                )
        elif self.nodes > MAX_VALUES:
            raise _LimitExceeded(
                location,
                f"the document holds more than {MAX_VALUES:,} values (mappings, lists and scalars), the "
                "limit for one file; split it",
            )

    def run(self, events: Iterable[yaml.Event]) -> None:
        for event in events:
            location = _loc(self.filename, event.start_mark)
            if isinstance(event, yaml.ScalarEvent):
                self.on_scalar(event, location)
            elif isinstance(event, yaml.MappingStartEvent):
                self.on_start(YamlMap(), event, location, _MAP_TAGS)
            elif isinstance(event, yaml.SequenceStartEvent):
                self.on_start(YamlSeq(), event, location, _SEQ_TAGS)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                self.on_end()
            elif isinstance(event, yaml.AliasEvent):
                self.on_alias(event, location)

    def on_scalar(self, event: yaml.ScalarEvent, location: Location) -> None:
        self.count(1, location, len(event.value))
        if len(event.value) > MAX_SCALAR_CHARS:
            raise _LimitExceeded(
                location, f"string of {len(event.value):,} characters is longer than the limit "
                f"of {MAX_SCALAR_CHARS:,}"
            )
        tag = event.tag
        if tag in (None, "!"):
            if event.implicit[0]:  # a plain scalar: its type depends on how it looks
                cache_key = (event.value, True)
                tag = self.resolved.get(cache_key)
                if tag is None:
                    tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                    if len(self.resolved) < 100_000:
                        self.resolved[cache_key] = tag
            else:
                tag = _STR
        if tag == _MERGE and self._expecting_key():
            value: Any = _MERGE_KEY
        elif tag not in _SCALAR_TAGS:
            self.error(location, f"unsupported YAML tag '{_tag_name(event.tag)}' (only plain data is allowed)")
            value = event.value
        elif tag in (_STR, "tag:yaml.org,2002:timestamp"):
            value = event.value
        else:
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            try:
                value = self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError) as exc:
                self.error(location, f"invalid {tag.rsplit(':', 1)[-1]} value '{event.value}': {exc}")
                value = event.value
            if isinstance(value, (int, float)) and not isinstance(value, bool) and not _round_trips(value, event.value):
                # keep what the user wrote: `id: 010` is "010", `version: 1.10` is "1.10"
                value = event.value
        self.attach(value, 1, location, event.anchor, len(event.value))

    def on_start(self, container: Any, event: Any, location: Location, tags: set[Any]) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise _LimitExceeded(location, f"nesting deeper than {MAX_DEPTH} levels")
        if event.tag not in tags:
            self.error(location, f"unsupported YAML tag '{_tag_name(event.tag)}' (only plain data is allowed)")
        self.count(1, location)
        container.location = location
        if isinstance(container, YamlMap):
            container.key_locations = {}
            container.value_locations = {}
        else:
            container.item_locations = []
        frame = _Frame(container, self.nodes - 1, event.anchor)
        frame.start_chars = self.chars
        frame.pending_key_location = location
        self.stack.append(frame)

    def on_end(self) -> None:
        frame = self.stack.pop()
        container = frame.container
        if isinstance(container, YamlMap):
            self._apply_merges(frame)
        size = self.nodes - frame.start_count
        self.attach(container, size, container.location, frame.anchor, self.chars - frame.start_chars)

    def on_alias(self, event: yaml.AliasEvent, location: Location) -> None:
        if event.anchor not in self.anchors:
            self.error(location, f"unknown alias '*{event.anchor}'")
            self.attach(None, 1, location, None, 0)
            return
        value, size, chars = self.anchors[event.anchor]
        self.count(size, location, chars, through_alias=True)
        self.attach(value, size, location, None, chars)

    def _expecting_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].container, YamlMap) and (
            self.stack[-1].pending_key is _NO_KEY
        )

    def attach(self, value: Any, size: int, location: Location, anchor: str | None, chars: int = 0) -> None:
        if anchor:
            self.anchors[anchor] = (value, size, chars)
        if not self.stack:
            self.documents.append(value)
            return
        frame = self.stack[-1]
        container = frame.container
        if isinstance(container, YamlSeq):
            container.append(value)
            container.item_locations.append(location)
        elif frame.pending_key is _NO_KEY:
            try:
                hash(value)
            except TypeError:
                self.error(location, "a mapping key must be a plain value, not a list or mapping")
                value = f"<invalid key at {location}>"
            frame.pending_key = value
            frame.pending_key_location = location
        else:
            key, key_location = frame.pending_key, frame.pending_key_location
            frame.pending_key = _NO_KEY
            if key is _MERGE_KEY:
                frame.merges.append((value, location))
            elif key in container:
                first = container.key_locations[key]
                self.error(
                    key_location or location,
                    f"duplicate key '{key}' (first defined at line {first.line})",
                )
            else:
                container[key] = value
                container.key_locations[key] = key_location or location
                container.value_locations[key] = location

    def _apply_merges(self, frame: _Frame) -> None:
        """YAML merge keys (``<<: *defaults``): keys written in the mapping win."""
        container = frame.container
        assert isinstance(container, YamlMap)
        for value, location in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, YamlMap):
                    self.error(location, "a merge key ('<<') must refer to a mapping")
                    continue
                for key, item in source.items():
                    if key not in container:
                        container[key] = item
                        container.key_locations[key] = source.key_locations[key]
                        container.value_locations[key] = source.value_locations[key]


_MERGE_KEY = object()


def _parse_events(text: str) -> Iterator[yaml.Event]:
    loader = _Parser(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _round_trips(value: int | float, text: str) -> bool:
    """Whether a number reads back as the text the user wrote (``10``), not as a different
    spelling of it (``010``, ``1.10``, ``1e3``, ``0x1f``)."""
    return (str(value) if isinstance(value, int) else repr(value)) == text


def _control_characters(text: str, filename: str) -> list[Diagnostic]:
    problems = []
    for match in _CONTROL.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        code = ord(match.group())
        name = CONTROL_NAMES.get(code, "a control character")
        problems.append(Diagnostic(Location(filename, line, column),
                                   f"control character U+{code:04X} ({name}) is not allowed; remove it "
                                   "(write it as an escape such as \\u001b inside double quotes if it is meant)"))
        if len(problems) >= 20:
            break
    return problems


_SURROGATE_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2})(?:\\u([dD][c-fC-F][0-9a-fA-F]{2}))?"
                               r"|(?<!\\)((?:\\\\)*)\\u([dD][c-fC-F][0-9a-fA-F]{2})")


def _join_surrogate_pairs(text: str, filename: str) -> str:
    """JSON writes a character beyond U+FFFF as two escapes (``\\uD83E\\uDD17``, as ``json.dumps``
    does for an emoji); YAML has one escape for it (``\\U0001F917``). In a JSON file (all its
    strings double-quoted), rewrite the pairs; a lone half of a pair is no character at all."""
    if "\\u" not in text or text.lstrip()[:1] not in ("{", "["):
        return text
    problems = []

    def join(match: re.Match[str]) -> str:
        if match.group(2) and match.group(3):
            code = 0x10000 + ((int(match.group(2), 16) - 0xD800) << 10) + (int(match.group(3), 16) - 0xDC00)
            return f"{match.group(1)}\\U{code:08X}"
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        half = match.group(2) or match.group(5)
        problems.append(Diagnostic(Location(filename, line, column),
                                   f"\\u{half} is half of a UTF-16 surrogate pair with no other half: not a character"))
        return match.group()

    joined = _SURROGATE_ESCAPE.sub(join, text)
    if problems:
        raise InputError(problems[:20])
    return joined


def parse_yaml(text: str, filename: str) -> Any:
    """Parse one YAML document from text; raise :class:`InputError` with located errors."""
    documents = parse_yaml_documents(text, filename)
    if len(documents) > 1:
        raise InputError(
            [Diagnostic(Location(filename, 1, 1), "expected one YAML document, found "
                        f"{len(documents)}")]
        )
    return documents[0]


def parse_yaml_documents(text: str, filename: str) -> list[Any]:
    """Parse every document of a YAML stream (``---`` separated, as Kubernetes manifests are),
    with the same limits and located errors as :func:`parse_yaml`."""
    problems = _control_characters(text, filename)
    if problems:
        raise InputError(problems)
    text = _join_surrogate_pairs(text, filename)
    builder = _Builder(filename)
    try:
        builder.run(_parse_events(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = _loc(filename, mark) if mark else Location(filename)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise InputError([Diagnostic(location, f"YAML syntax: {problem}{context}")]) from None
    except yaml.YAMLError as exc:
        first_line = " ".join(str(exc).split())
        raise InputError([Diagnostic(Location(filename, 1, 1), f"YAML syntax: {first_line}")]) from None
    except _LimitExceeded as exc:
        raise InputError([Diagnostic(exc.location, exc.message)]) from None
    if builder.errors:
        raise InputError(sorted(builder.errors))
    if not builder.documents or builder.documents == [None]:
        raise InputError([Diagnostic(Location(filename, 1, 1), "file is empty")])
    return list(builder.documents)


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))

_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"), (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
         (b"\xfe\xff", "UTF-16 (big-endian)"), (b"\xff\xfe", "UTF-16 (little-endian)"))


def describe_file_type(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as an input file, without opening it; None when it can be."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        return _os_problem(exc)
    if not stat.S_ISREG(mode):
        return f"not a regular file ({describe_file_type(mode)})"
    return None


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "cannot read: a symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read: permission denied"
    if exc.errno == errno.ENAMETOOLONG:
        return "cannot read: the file name is too long"
    return f"cannot read: {exc.strerror or exc}"


def read_bytes(path: Path, display_name: str | None = None, limit: int | None = None) -> bytes:
    """The bytes of a regular file (or of standard input for ``-``), at most ``limit``.

    The file is opened without blocking and checked before anything is read: a FIFO, a device,
    a directory or a socket is refused (reading one could hang or never end), and a file larger
    than the limit is refused from its size. Every problem is a located InputError.
    """
    name = display_name or str(path)
    limit = limit or MAX_FILE_BYTES

    def fail(message: str) -> InputError:
        return InputError([Diagnostic(Location(name), message)])

    if str(path) == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise fail(f"standard input is larger than the limit of {limit:,} bytes "
                       "(set THREATMODEL_MAX_FILE_BYTES to allow more)")
        return data
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        handle = os.open(path, flags)
    except FileNotFoundError:
        raise fail("no such file") from None
    except IsADirectoryError:
        raise fail("not a regular file (a directory)") from None
    except OSError as exc:
        raise fail(_os_problem(exc)) from None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"not a regular file ({describe_file_type(info.st_mode)})")
        if info.st_size > limit:
            raise fail(f"file is {info.st_size:,} bytes, larger than the limit of {limit:,} "
                       "(set THREATMODEL_MAX_FILE_BYTES to allow more)")
        chunks, total = [], 0
        while True:
            chunk = os.read(handle, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise fail(f"file grew past the limit of {limit:,} bytes while being read")
        return b"".join(chunks)
    except OSError as exc:
        raise fail(_os_problem(exc)) from None
    finally:
        os.close(handle)


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is allowed); other encodings are named in the error."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise InputError([Diagnostic(Location(name), f"the file is {encoding} text (it starts with a "
                                         "byte-order mark); save it as UTF-8")])
    if b"\x00" in data:
        sample = data[:4096]
        zeros_odd, zeros_even = sample[1::2].count(0), sample[0::2].count(0)
        if len(sample) >= 4 and max(zeros_odd, zeros_even) > len(sample) // 4:
            order = "little-endian" if zeros_odd > zeros_even else "big-endian"
            raise InputError([Diagnostic(Location(name), f"the file looks like UTF-16 ({order}) text without a "
                                         "byte-order mark; save it as UTF-8")])
        raise InputError([Diagnostic(Location(name), "not a text file (contains NUL bytes)")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError([Diagnostic(Location(name, line, column),
                                     f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                                     "save the file as UTF-8")]) from None


def read_text(path: Path, display_name: str | None = None) -> str:
    """Read a regular file (or ``-``, standard input) as UTF-8 text, with clear errors for
    missing, special, huge or binary files."""
    name = display_name or str(path)
    return decode_text(read_bytes(path, name), name)


def load_yaml_file(path: Path, display_name: str | None = None) -> Any:
    name = display_name or str(path)
    return parse_yaml(read_text(path, name), name)


def load_mapping(path: Path, display_name: str | None = None) -> YamlMap:
    """Load a file whose single document must be a mapping."""
    name = display_name or str(path)
    return expect_mapping(load_yaml_file(path, name), name)


def expect_mapping(document: Any, name: str) -> YamlMap:
    """``document`` if it is a mapping, else the located error a file of one mapping gets."""
    if not isinstance(document, YamlMap):
        location = getattr(document, "location", Location(name, 1, 1))
        raise InputError(
            [Diagnostic(location, f"expected a mapping at the top of the file, found {type_name(document)}")]
        )
    return document


def type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string"


def locate(document: Any, path: tuple[Any, ...], *, key: bool = False) -> Location | None:
    """The location of the node at ``path`` (a pydantic ``loc``), or of its nearest ancestor.

    With ``key=True`` a mapping entry is located at its key rather than its value (used for
    "unknown key" errors).
    """
    node = document
    best: Location | None = getattr(document, "location", None)
    for index, step in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, YamlMap) and step in node:
            locations = node.key_locations if (key and last) else node.value_locations
            best = locations.get(step, best)
            node = node[step]
        elif isinstance(node, YamlSeq) and isinstance(step, int) and 0 <= step < len(node):
            best = node.item_locations[step]
            node = node[step]
        else:
            break
    return best
