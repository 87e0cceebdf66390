"""Read YAML safely and keep the line and column of every node.

The document is built from the parser's event stream (no recursion, no Python object tags), so
hostile input is bounded: file size, nesting depth, string length and the number of nodes after
alias expansion all have limits, and each is reported as a located error rather than a hang.

Mappings and sequences come back as :class:`YamlMap` and :class:`YamlSeq`: a ``dict`` and a
``list`` that also know where they and each of their children start, so a later validation
error at ``components[3].kind`` can point at the exact line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from .errors import Diagnostic, InputError, Location

try:  # the C parser is much faster; fall back to the pure-Python one where libyaml is absent
    _Parser = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader  # type: ignore[misc]

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 64
MAX_SCALAR_CHARS = 100_000
MAX_NODES = 5_000_000  # counted after alias expansion, so "billion laughs" stops early

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
    __slots__ = ("container", "anchor", "pending_key", "pending_key_location", "start_count", "merges")

    def __init__(self, container: YamlMap | YamlSeq, start_count: int, anchor: str | None) -> None:
        self.container = container
        self.anchor = anchor
        self.pending_key: Any = _NO_KEY
        self.pending_key_location: Location | None = None
        self.start_count = start_count
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
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0
        self.errors: list[Diagnostic] = []
        self.documents: list[Any] = []

    def error(self, location: Location, message: str) -> None:
        self.errors.append(Diagnostic(location, message))

    def count(self, amount: int, location: Location) -> None:
        self.nodes += amount
        if self.nodes > MAX_NODES:
            raise _LimitExceeded(
                location,
                f"document expands to more than {MAX_NODES:,} nodes (alias bomb?)",
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
        self.count(1, location)
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
        self.attach(value, 1, location, event.anchor)

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
        frame.pending_key_location = location
        self.stack.append(frame)

    def on_end(self) -> None:
        frame = self.stack.pop()
        container = frame.container
        if isinstance(container, YamlMap):
            self._apply_merges(frame)
        size = self.nodes - frame.start_count
        self.attach(container, size, container.location, frame.anchor)

    def on_alias(self, event: yaml.AliasEvent, location: Location) -> None:
        if event.anchor not in self.anchors:
            self.error(location, f"unknown alias '*{event.anchor}'")
            self.attach(None, 1, location, None)
            return
        value, size = self.anchors[event.anchor]
        self.count(size, location)
        self.attach(value, size, location, None)

    def _expecting_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].container, YamlMap) and (
            self.stack[-1].pending_key is _NO_KEY
        )

    def attach(self, value: Any, size: int, location: Location, anchor: str | None) -> None:
        if anchor:
            self.anchors[anchor] = (value, size)
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


def parse_yaml(text: str, filename: str) -> Any:
    """Parse one YAML document from text; raise :class:`InputError` with located errors."""
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
        raise InputError([Diagnostic(Location(filename), f"YAML syntax: {exc}")]) from None
    except _LimitExceeded as exc:
        raise InputError([Diagnostic(exc.location, exc.message)]) from None
    if builder.errors:
        raise InputError(sorted(builder.errors))
    if not builder.documents or builder.documents == [None]:
        raise InputError([Diagnostic(Location(filename, 1, 1), "file is empty")])
    if len(builder.documents) > 1:
        raise InputError(
            [Diagnostic(Location(filename, 1, 1), "expected one YAML document, found "
                        f"{len(builder.documents)}")]
        )
    return builder.documents[0]


def read_text(path: Path, display_name: str | None = None) -> str:
    """Read a file as UTF-8 text, with clear errors for missing, huge or binary files."""
    name = display_name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError([Diagnostic(Location(name), f"file is {size:,} bytes, larger than "
                                         f"the limit of {MAX_FILE_BYTES:,}")])
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Diagnostic(Location(name), "no such file")]) from None
    except IsADirectoryError:
        raise InputError([Diagnostic(Location(name), "is a directory, not a file")]) from None
    except OSError as exc:
        raise InputError([Diagnostic(Location(name), f"cannot read: {exc.strerror}")]) from None
    if b"\x00" in data:
        raise InputError([Diagnostic(Location(name), "not a text file (contains NUL bytes)")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Diagnostic(Location(name), f"not a UTF-8 text file (invalid byte at offset {exc.start})")]
        ) from None


def load_yaml_file(path: Path, display_name: str | None = None) -> Any:
    name = display_name or str(path)
    return parse_yaml(read_text(path, name), name)


def load_mapping(path: Path, display_name: str | None = None) -> YamlMap:
    """Load a file whose single document must be a mapping."""
    name = display_name or str(path)
    document = load_yaml_file(path, name)
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
