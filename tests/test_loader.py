"""The located YAML loader: positions, and every class of bad or hostile input."""

from __future__ import annotations

import pytest

from threatmodel.core import located_yaml as loader
from threatmodel.core.errors import InputError
from threatmodel.core.located_yaml import load_mapping, locate, parse_yaml


def messages(text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        parse_yaml(text, "m.yaml")
    return [str(d) for d in info.value.diagnostics]


def test_keeps_line_and_column_of_every_node():
    doc = parse_yaml("a:\n  b: [1, 2]\n  c: {d: x}\n", "m.yaml")
    assert str(locate(doc, ("a", "b", 1))) == "m.yaml:2:10"
    assert str(locate(doc, ("a", "c", "d"))) == "m.yaml:3:10"
    assert str(locate(doc, ("a", "c"), key=True)) == "m.yaml:3:3"
    # a path that goes past the data is located at the nearest ancestor
    assert str(locate(doc, ("a", "b", 7))) == "m.yaml:2:6"


def test_plain_scalars_resolve_like_yaml_but_dates_stay_text():
    doc = parse_yaml("i: 3\nf: 1.5\nb: true\nn: null\nd: 2024-01-02\ns: '3'\n", "m.yaml")
    assert doc == {"i": 3, "f": 1.5, "b": True, "n": None, "d": "2024-01-02", "s": "3"}


def test_anchors_aliases_and_merge_keys():
    doc = parse_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", "m.yaml")
    assert doc["use"] == {"x": 1, "y": 3}


@pytest.mark.parametrize("text, expected", [
    ("a: 1\na: 2\n", "m.yaml:2:1: error: duplicate key 'a' (first defined at line 1)"),
    ("a: !!python/object/apply:os.system [ls]\n", "m.yaml:1:4: error: unsupported YAML tag '!!python/object/apply:os.system' (only plain data is allowed)"),
    ("a: !custom x\n", "m.yaml:1:4: error: unsupported YAML tag '!custom' (only plain data is allowed)"),
    ("a: [1, 2\nb: 3\n", "m.yaml:2:2: error: YAML syntax: did not find expected ',' or ']' (while parsing a flow sequence)"),
    ("", "m.yaml:1:1: error: file is empty"),
    ("# only a comment\n", "m.yaml:1:1: error: file is empty"),
    ("a: 1\n---\nb: 2\n", "m.yaml:1:1: error: expected one YAML document, found 2"),
    ("a: *missing\n", "m.yaml:1:4: error: unknown alias '*missing'"),
    ("? [1, 2]\n: x\n", "m.yaml:1:3: error: a mapping key must be a plain value, not a list or mapping"),
])
def test_bad_yaml_is_a_located_error(text, expected):
    assert expected in messages(text)


def test_deep_nesting_is_refused():
    # the top-level mapping is level 1, so the 64th bracket (column 3 + 64) is one too many
    # Which layer refuses first depends on the libyaml build (newer ones stop the scanner at
    # 1,000 levels before our own limit sees the events): assert the substance, one located
    # error about nesting, not the wording
    found = messages("a: " + "[" * 100_000 + "]" * 100_000)
    assert len(found) == 1
    assert found[0].startswith("m.yaml:1:") and ": error: " in found[0]
    assert "nesting" in found[0]


def test_alias_bomb_is_refused():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 12):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    found = messages("\n".join(lines) + "\n")
    assert len(found) == 1 and "aliases (*name) repeat more than 5,000,000 values (an alias bomb?)" in found[0]


def test_a_big_file_without_aliases_is_not_called_an_alias_bomb(monkeypatch):
    monkeypatch.setattr(loader, "MAX_EXPANDED_CHARS", 1_000)
    monkeypatch.setattr(loader, "MAX_NODES", 100)
    text = "items:\n" + "".join(f"  - {'x' * 50}-{i}\n" for i in range(500))
    assert len(loader.parse_yaml(text, "m.yaml")["items"]) == 500  # 25,000 characters, 500 values: no aliases
    monkeypatch.setattr(loader, "MAX_VALUES", 200)
    found = messages(text)
    assert len(found) == 1 and "more than 200 values" in found[0] and "alias" not in found[0]


def test_json_surrogate_pairs_are_one_character_and_lone_halves_are_located():
    import json

    text = json.dumps({"name": "hug \U0001F917", "kept": "\\\\uD83E as written"})
    assert loader.parse_yaml(text, "m.json") == {"name": "hug \U0001F917", "kept": "\\\\uD83E as written"}
    found = messages('{"a": "x", "b": "\\uDD17 alone"}')
    assert found == ["m.yaml:1:18: error: \\uDD17 is half of a UTF-16 surrogate pair with no other half: not a character"]


def test_huge_string_is_refused():
    found = messages("a: " + "x" * (loader.MAX_SCALAR_CHARS + 1) + "\n")
    assert found == [f"m.yaml:1:4: error: string of {loader.MAX_SCALAR_CHARS + 1:,} characters is longer "
                     f"than the limit of {loader.MAX_SCALAR_CHARS:,}"]


def test_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200 + "\n")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert str(info.value.diagnostics[0]) == (f"{path}: error: file is 204 bytes, larger than the limit of 100 "
                                             "(set THREATMODEL_MAX_FILE_BYTES to allow more)")


@pytest.mark.parametrize("content, expected", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", ": error: not a text file (contains NUL bytes)"),
    (b"a: \xff\xfe caf\xe9\n", ":1:4: error: not UTF-8 text (byte 0xff at offset 3); save the file as UTF-8"),
    ("a: 1\n".encode("utf-16"), ": error: the file is UTF-16 (little-endian) text (it starts with a byte-order mark); "
                                "save it as UTF-8"),
    ("a: 1\n".encode("utf-16-be"), ": error: the file looks like UTF-16 (big-endian) text without a byte-order mark; "
                                   "save it as UTF-8"),
    ("a: 1\n".encode("utf-32"), ": error: the file is UTF-32 (little-endian) text (it starts with a byte-order mark); "
                                "save it as UTF-8"),
    (b"a: \x1b[31mred\n", ":1:4: error: control character U+001B (ESC) is not allowed"),
    (b"a: b\x7f\n", ":1:5: error: control character U+007F (DEL) is not allowed"),
])
def test_files_that_are_not_text(tmp_path, content, expected):
    path = tmp_path / "bin.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert str(info.value.diagnostics[0]).startswith(f"{path}{expected}")
    assert "\n" not in str(info.value.diagnostics[0])


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InputError) as info:
        load_mapping(path)
    assert str(info.value.diagnostics[0]) == f"{path}:1:1: error: expected a mapping at the top of the file, found a list"


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError) as info:
        load_mapping(tmp_path / "nope.yaml")
    assert str(info.value.diagnostics[0]).endswith("nope.yaml: error: no such file")
    with pytest.raises(InputError) as info:
        load_mapping(tmp_path)
    assert str(info.value.diagnostics[0]).endswith(": error: not a regular file (a directory)")


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffa: 1\n".encode("utf-8"))
    assert load_mapping(path) == {"a": 1}


def test_nesting_just_past_the_limit_is_refused_by_our_own_check():
    depth = loader.MAX_DEPTH + 5
    found = messages("a: " + "[" * depth + "]" * depth)
    assert found == [f"m.yaml:1:{3 + loader.MAX_DEPTH}: error: nesting deeper than {loader.MAX_DEPTH} levels"]
