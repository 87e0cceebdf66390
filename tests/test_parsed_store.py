"""The parsed store: a catalog file is taken from it only when its text is unchanged."""

from __future__ import annotations

from threatmodel.catalog.load import load_catalog
from threatmodel.core import parsed
from threatmodel.core.located_yaml import locate, parse_yaml
from threatmodel.core.resources import catalog_dir


def test_a_store_gives_the_same_catalog_as_parsing(tmp_path, monkeypatch):
    store = tmp_path / parsed.STORE_NAME
    parsed.write_store(parsed.catalog_files(catalog_dir()), store)
    fresh = load_catalog()
    monkeypatch.setattr(parsed, "_store_path", lambda: store)
    files = parsed.ParsedFiles()
    for path, name in parsed.catalog_files(catalog_dir()):
        files.parse(path, name)
    assert files.taken == len(parsed.catalog_files(catalog_dir()))
    stored = load_catalog()
    assert stored.catalog == fresh.catalog and stored.warnings == fresh.warnings and stored.files == fresh.files


def test_a_changed_file_is_parsed_afresh_with_its_own_locations(tmp_path, monkeypatch):
    source = tmp_path / "kinds.yaml"
    source.write_text("kinds:\n  - id: a\n", encoding="utf-8")
    store = tmp_path / parsed.STORE_NAME
    parsed.write_store([(source, "catalog/kinds.yaml")], store)
    source.write_text("\n\nkinds:\n  - id: b\n", encoding="utf-8")
    files = parsed.ParsedFiles(store)
    document = files.parse(source, "catalog/kinds.yaml")
    assert files.taken == 0
    assert document == parse_yaml(source.read_text(encoding="utf-8"), "catalog/kinds.yaml")
    assert locate(document, ("kinds", 0, "id")).line == 4


def test_an_unreadable_store_means_parsing(tmp_path):
    store = tmp_path / parsed.STORE_NAME
    store.write_bytes(b"not a pickle")
    source = tmp_path / "a.yaml"
    source.write_text("a: 1\n", encoding="utf-8")
    files = parsed.ParsedFiles(store)
    assert files.parse(source, "a.yaml") == {"a": 1} and files.taken == 0
