"""The MITRE ATLAS index: tactics, techniques and mitigations by id and current name.

``catalog/atlas.yaml`` is not written by hand: :func:`import_atlas` builds it from an official
``ATLAS.yaml`` release, keeping the names an id had before as aliases (so a reference written
against an older ATLAS release is recognised and reported with its current name) and the ids a
release dropped as ``removed``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import locate, parse_yaml, read_text

TECHNIQUE_ID = re.compile(r"^AML\.T\d{4}(\.\d{3})?$")
TACTIC_ID = re.compile(r"^AML\.TA\d{4}$")
MITIGATION_ID = re.compile(r"^AML\.M\d{4}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AtlasTactic(_Frozen):
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)


class AtlasTechnique(_Frozen):
    id: str
    name: str
    parent: str | None = None
    tactics: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    maturity: Literal["feasible", "demonstrated", "realized"] | None = None  # how far ATLAS has seen it used
    platforms: list[str] = Field(default_factory=list)  # format 6: Predictive AI, Generative AI, Agentic AI, …


class AtlasMitigation(_Frozen):
    id: str
    name: str
    techniques: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)


class AtlasRemoved(_Frozen):
    id: str
    name: str
    note: str = ""


class AtlasIndex(_Frozen):
    """A project-made extract of one ATLAS release: ids, names, links; no prose."""

    atlas_version: str
    source_sha256: str = ""
    tactics: list[AtlasTactic]
    techniques: list[AtlasTechnique]
    mitigations: list[AtlasMitigation]
    removed: list[AtlasRemoved] = Field(default_factory=list)

    def model_post_init(self, _context: Any) -> None:
        object.__setattr__(self, "_by_id", {
            **{t.id: t for t in self.tactics},
            **{t.id: t for t in self.techniques},
            **{m.id: m for m in self.mitigations},
        })
        object.__setattr__(self, "_removed", {r.id: r for r in self.removed})

    def get(self, atlas_id: str) -> AtlasTactic | AtlasTechnique | AtlasMitigation | None:
        return self._by_id.get(atlas_id)  # type: ignore[attr-defined,no-any-return]

    def removed_entry(self, atlas_id: str) -> AtlasRemoved | None:
        return self._removed.get(atlas_id)  # type: ignore[attr-defined,no-any-return]

    def full_name(self, atlas_id: str) -> str:
        """A sub-technique's name with its parent's, as the ATLAS site shows it."""
        entry = self.get(atlas_id)
        if entry is None:
            return atlas_id
        if isinstance(entry, AtlasTechnique) and entry.parent:
            return f"{self.full_name(entry.parent)}: {entry.name}"
        return entry.name

    def tactics_of(self, technique_id: str) -> list[AtlasTactic]:
        """A technique's tactics; sub-techniques inherit their parent's."""
        entry = self.get(technique_id)
        if not isinstance(entry, AtlasTechnique):
            return []
        if not entry.tactics and entry.parent:
            return self.tactics_of(entry.parent)
        return [t for t in (self.get(tid) for tid in entry.tactics) if isinstance(t, AtlasTactic)]

    def find_by_name(self, name: str) -> list[str]:
        """Ids whose current name, full name or an alias equals ``name`` (case-insensitive)."""
        wanted = name.casefold()
        hits = []
        for atlas_id, entry in self._by_id.items():  # type: ignore[attr-defined]
            names = [entry.name, self.full_name(atlas_id), *entry.aliases]
            if any(n.casefold() == wanted for n in names):
                hits.append(atlas_id)
        return sorted(hits)


# --------------------------------------------------------------------------- import


def _require(condition: bool, location: Location | None, message: str, errors: list[Diagnostic]) -> bool:
    if not condition:
        errors.append(Diagnostic(location or Location("ATLAS.yaml"), message))
    return condition


def _previous_names(previous: AtlasIndex | None) -> dict[str, list[str]]:
    """Every name each id has had in the previous index (its name and aliases)."""
    names: dict[str, list[str]] = {}
    if previous is None:
        return names
    for entry in [*previous.tactics, *previous.techniques, *previous.mitigations]:
        names[entry.id] = [*entry.aliases, entry.name]
    return names


def parse_renames(text: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Read a renames table (kind, id, current_name, previous_names) into aliases and removals.

    ``previous_names`` holds ``;``-separated names, each optionally followed by
    ``(until vX.Y.Z)``. A ``current_name`` starting with ``(REMOVED`` marks a removed id.
    """
    aliases: dict[str, list[str]] = {}
    removed: dict[str, str] = {}
    rows = csv.reader(io.StringIO(text), delimiter="\t")
    next(rows, None)
    for row in rows:
        if len(row) < 4:
            continue
        _kind, atlas_id, current, previous = row[:4]
        old_names = [re.sub(r"\s*\(until v[\d.]+\)\s*$", "", n).strip() for n in previous.split(";")]
        old_names = [n for n in old_names if n]
        if current.startswith("(REMOVED"):
            removed[atlas_id] = old_names[-1] if old_names else ""
        else:
            aliases.setdefault(atlas_id, []).extend(old_names)
    return aliases, removed


def import_atlas(
    document: Any,
    *,
    source_sha256: str = "",
    previous: AtlasIndex | None = None,
    renames: tuple[dict[str, list[str]], dict[str, str]] | None = None,
    filename: str = "ATLAS.yaml",
) -> AtlasIndex:
    """Build an index from a parsed official ATLAS.yaml.

    Names that changed since ``previous`` (or are listed in ``renames``) become aliases; ids of
    ``previous`` that the release no longer has are kept as ``removed``.
    """
    errors: list[Diagnostic] = []
    if isinstance(document, dict) and "format-version" in document:
        return import_atlas_v6(document, source_sha256=source_sha256, previous=previous, renames=renames)
    if not _require(isinstance(document, dict) and "matrices" in document and "version" in document,
                    getattr(document, "location", None),
                    "not an ATLAS.yaml file: expected top-level keys 'version' and 'matrices'", errors):
        raise InputError(errors)
    matrices = document["matrices"]
    if not _require(isinstance(matrices, list) and matrices and isinstance(matrices[0], dict),
                    locate(document, ("matrices",)), "'matrices' must be a non-empty list", errors):
        raise InputError(errors)
    matrix = matrices[0]
    alias_table = _previous_names(previous)
    extra_aliases, removed_names = renames or ({}, {})
    for atlas_id, names in extra_aliases.items():
        alias_table.setdefault(atlas_id, []).extend(names)

    def aliases_for(atlas_id: str, name: str) -> list[str]:
        seen = {name}
        result = []
        for alias in alias_table.get(atlas_id, []):
            if alias not in seen:
                seen.add(alias)
                result.append(alias)
        return result

    def entries(key: str, pattern: re.Pattern[str]) -> Iterable[tuple[int, dict[str, Any]]]:
        items = matrix.get(key)
        if not _require(isinstance(items, list), locate(document, ("matrices", 0, key)),
                        f"'matrices[0].{key}' must be a list", errors):
            return
        for index, item in enumerate(items):
            where = locate(document, ("matrices", 0, key, index))
            if not _require(isinstance(item, dict) and isinstance(item.get("id"), str)
                            and isinstance(item.get("name"), str), where,
                            f"{key} entry without a string 'id' and 'name'", errors):
                continue
            if _require(bool(pattern.match(item["id"])), where,
                        f"unexpected {key} id '{item['id']}'", errors):
                yield index, item

    tactics = [AtlasTactic(id=t["id"], name=t["name"], aliases=aliases_for(t["id"], t["name"]))
               for _, t in entries("tactics", TACTIC_ID)]
    techniques = [
        AtlasTechnique(
            id=t["id"], name=t["name"], parent=t.get("subtechnique-of"),
            tactics=list(t.get("tactics") or []), aliases=aliases_for(t["id"], t["name"]),
            maturity=_maturity(t.get("maturity")),
        )
        for _, t in entries("techniques", TECHNIQUE_ID)
    ]
    mitigations = []
    for _, m in entries("mitigations", MITIGATION_ID):
        linked = [ref["id"] for ref in m.get("techniques") or [] if isinstance(ref, dict) and "id" in ref]
        # ATLAS 5.6.0 nests some technique references under 'ml-lifecycle' by mistake
        # (AML.M0018, AML.M0034); they are technique links all the same.
        linked += [ref["id"] for ref in m.get("ml-lifecycle") or [] if isinstance(ref, dict) and "id" in ref]
        mitigations.append(AtlasMitigation(
            id=m["id"], name=m["name"], techniques=sorted(set(linked)),
            aliases=aliases_for(m["id"], m["name"]),
        ))
    if errors:
        raise InputError(errors)

    current_ids = {e.id for e in [*tactics, *techniques, *mitigations]}
    removed = {r.id: r for r in (previous.removed if previous else [])}
    if previous is not None:
        for entry in [*previous.tactics, *previous.techniques, *previous.mitigations]:
            if entry.id not in current_ids:
                removed[entry.id] = AtlasRemoved(
                    id=entry.id, name=entry.name,
                    note=f"not in ATLAS {document['version']} (last seen in {previous.atlas_version})",
                )
    for atlas_id, name in removed_names.items():
        if atlas_id not in current_ids:
            removed.setdefault(atlas_id, AtlasRemoved(id=atlas_id, name=name, note="removed from ATLAS"))
    return AtlasIndex(
        atlas_version=str(document["version"]),
        source_sha256=source_sha256,
        tactics=tactics,
        techniques=sorted(techniques, key=lambda t: t.id),
        mitigations=sorted(mitigations, key=lambda m: m.id),
        removed=sorted(removed.values(), key=lambda r: r.id),
    )


MATURITIES = ("feasible", "demonstrated", "realized")


def _maturity(value: Any) -> str | None:
    text = value.strip().lower() if isinstance(value, str) else None
    return text if text in MATURITIES else None


def _aliases(previous: AtlasIndex | None, renames: tuple[dict[str, list[str]], dict[str, str]] | None) -> dict[str, list[str]]:
    table = _previous_names(previous)
    for atlas_id, names in (renames or ({}, {}))[0].items():
        table.setdefault(atlas_id, []).extend(names)
    return table


def _removed(previous: AtlasIndex | None, current_ids: set[str], version: str,
             removed_names: dict[str, str]) -> list[AtlasRemoved]:
    removed = {r.id: r for r in (previous.removed if previous else [])}
    if previous is not None:
        for entry in [*previous.tactics, *previous.techniques, *previous.mitigations]:
            if entry.id not in current_ids:
                removed[entry.id] = AtlasRemoved(id=entry.id, name=entry.name,
                                                 note=f"not in ATLAS {version} (last seen in {previous.atlas_version})")
    for atlas_id, name in removed_names.items():
        if atlas_id not in current_ids:
            removed.setdefault(atlas_id, AtlasRemoved(id=atlas_id, name=name, note="removed from ATLAS"))
    return sorted(removed.values(), key=lambda r: r.id)


def import_atlas_v6(document: Any, *, source_sha256: str = "", previous: AtlasIndex | None = None,
                    renames: tuple[dict[str, list[str]], dict[str, str]] | None = None) -> AtlasIndex:
    """Build an index from an ATLAS distribution of format 6 (content versioned YYYY.MM).

    Objects are maps keyed by id; a technique's tactics come from its ``achieves``
    relationships and a sub-technique's parent from ``specializes``; techniques carry
    ``maturity`` and ``platforms``; mitigation links come from ``mitigates``. Every check the
    format calls for is made, and all problems are reported together, located.
    """
    errors: list[Diagnostic] = []
    where = getattr(document, "location", None)
    version_text = str(document.get("format-version", ""))
    if not _require(version_text.split(".")[0] == "6", locate(document, ("format-version",)) or where,
                    f"unsupported ATLAS format-version '{version_text}' (this reader knows 6.x)", errors):
        raise InputError(errors)
    collection = document.get("collection")
    release = collection.get("version") if isinstance(collection, dict) else None
    _require(isinstance(release, str) and bool(re.fullmatch(r"\d{4}\.\d{2}", release or "")),
             locate(document, ("collection",)) or where,
             "collection.version must be the content release, YYYY.MM", errors)
    maps: dict[str, dict[str, Any]] = {}
    for key, pattern in (("tactics", TACTIC_ID), ("techniques", TECHNIQUE_ID), ("mitigations", MITIGATION_ID)):
        value = document.get(key)
        if not _require(isinstance(value, dict), locate(document, (key,)) or where, f"'{key}' must be a map of id to object",
                        errors):
            maps[key] = {}
            continue
        good = {}
        for object_id, item in value.items():
            here = locate(document, (key, object_id)) or where
            if not _require(isinstance(item, dict) and item.get("id") == object_id and isinstance(item.get("name"), str),
                            here, f"{key}: '{object_id}' must be an object whose 'id' is its key and with a 'name'",
                            errors):
                continue
            if _require(bool(pattern.match(object_id)), here, f"unexpected {key} id '{object_id}'", errors):
                good[object_id] = item
        maps[key] = good
    relationships = document.get("relationships") or {}
    _require(isinstance(relationships, dict), locate(document, ("relationships",)) or where,
             "'relationships' must be a map of source id to relationship types", errors)
    known = {*maps["tactics"], *maps["techniques"], *maps["mitigations"]}
    achieves: dict[str, list[str]] = {}
    parents: dict[str, str] = {}
    mitigates: dict[str, set[str]] = {}
    for source, types in (relationships.items() if isinstance(relationships, dict) else []):
        if not isinstance(types, dict):
            continue
        for kind, links in types.items():
            for index, link in enumerate(links if isinstance(links, list) else []):
                here = locate(document, ("relationships", source, kind, index)) or where
                if not isinstance(link, dict):
                    continue
                target = link.get("target")
                if kind in ("achieves", "specializes", "mitigates"):
                    if not _require(source in known and target in known, here,
                                    f"relationship {kind} names an unknown object ({source} -> {target})", errors):
                        continue
                if kind == "achieves":
                    achieves.setdefault(source, []).append(target)
                elif kind == "specializes":
                    parents[source] = target
                elif kind == "mitigates":
                    mitigates.setdefault(source, set()).add(target)
    alias_table = _aliases(previous, renames)

    def aliases_for(atlas_id: str, name: str) -> list[str]:
        return list(dict.fromkeys(a for a in alias_table.get(atlas_id, []) if a != name))

    techniques = []
    for technique_id, item in maps["techniques"].items():
        here = locate(document, ("techniques", technique_id)) or where
        maturity = _maturity(item.get("maturity"))
        _require(maturity is not None, here, f"technique {technique_id} has no maturity (Feasible, Demonstrated or "
                                             "Realized)", errors)
        platforms = item.get("platforms")
        _require(isinstance(platforms, list) and bool(platforms), here,
                 f"technique {technique_id} has no platforms", errors)
        if technique_id.count(".") == 2:  # AML.T0051.000
            _require(technique_id in parents, here, f"sub-technique {technique_id} has no 'specializes' link", errors)
        techniques.append(AtlasTechnique(
            id=technique_id, name=item["name"], parent=parents.get(technique_id),
            tactics=sorted(set(achieves.get(technique_id, []))), aliases=aliases_for(technique_id, item["name"]),
            maturity=maturity, platforms=[p for p in platforms if isinstance(p, str)] if isinstance(platforms, list) else []))
    if errors:
        raise InputError(errors)
    order = {t.get("target"): t.get("position", 0) for t in ((relationships.get("ATLAS-matrix") or {}).get("sequences")
                                                              or []) if isinstance(t, dict)}
    tactics = sorted((AtlasTactic(id=t_id, name=t["name"], aliases=aliases_for(t_id, t["name"]))
                      for t_id, t in maps["tactics"].items()), key=lambda t: (order.get(t.id, 999), t.id))
    mitigations = [AtlasMitigation(id=m_id, name=m["name"], techniques=sorted(mitigates.get(m_id, set())),
                                   aliases=aliases_for(m_id, m["name"])) for m_id, m in maps["mitigations"].items()]
    current_ids = {*maps["tactics"], *maps["techniques"], *maps["mitigations"]}
    return AtlasIndex(
        atlas_version=str(release), source_sha256=source_sha256, tactics=tactics,
        techniques=sorted(techniques, key=lambda t: t.id), mitigations=sorted(mitigations, key=lambda m: m.id),
        removed=_removed(previous, current_ids, str(release), (renames or ({}, {}))[1]),
    )


def import_atlas_file(path: Path, previous: AtlasIndex | None = None,
                      renames_path: Path | None = None) -> AtlasIndex:
    text = read_text(path)
    document = parse_yaml(text, str(path))
    renames = parse_renames(read_text(renames_path)) if renames_path else None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return import_atlas(document, source_sha256=digest, previous=previous, renames=renames,
                        filename=str(path))


_HEADER = """\
# MITRE ATLAS index used by threatmodel: ids, current names, former names (aliases) and links.
# Generated by `threatmodel atlas import ATLAS.yaml` from the official ATLAS data
# (https://github.com/mitre-atlas/atlas-data, Apache-2.0). Do not edit by hand: re-import
# when ATLAS publishes a new release; former names and removed ids are carried forward.
"""


def dump_index(index: AtlasIndex) -> str:
    """Deterministic YAML text for an index (stable key order, no timestamps)."""
    data = index.model_dump(exclude_defaults=False)
    for group in ("tactics", "techniques", "mitigations"):
        for entry in data[group]:
            if not entry.get("aliases"):
                entry.pop("aliases", None)
            if group == "techniques":
                for key in ("parent", "maturity"):
                    if entry.get(key) is None:
                        entry.pop(key)
                for key in ("tactics", "platforms"):
                    if not entry.get(key):
                        entry.pop(key)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return _HEADER + body


def load_index(path: Path, display_name: str | None = None,
               parse: "Callable[[Path, str], Any] | None" = None) -> AtlasIndex:
    """The ATLAS index file; ``parse`` (path, name) → located document, when not parse_yaml."""
    name = display_name or str(path)
    document = parse(path, name) if parse is not None else parse_yaml(read_text(path, name), name)
    from threatmodel.core.diagnostics import validate_model  # local: keeps this module light to import

    return validate_model(AtlasIndex, document, name)


__all__ = [
    "AtlasIndex", "AtlasMitigation", "AtlasRemoved", "AtlasTactic", "AtlasTechnique",
    "dump_index", "import_atlas", "import_atlas_file", "load_index", "parse_renames",
]


def case_study_coverage(atlas_document: Any, threats: Any) -> list[tuple[str, str, int, list[str]]]:
    """For every technique an ATLAS case study uses: (id, full name, case studies using it, the
    catalog threats linking it, directly or through its parent technique), most used first.

    ``atlas_document`` is an official ATLAS.yaml (format 5) as parsed; ``threats`` the catalog's
    threats. The documentation's coverage table is written from this (docs/catalog.md)."""
    matrix = atlas_document["matrices"][0]
    names = {t["id"]: t["name"] for t in matrix["techniques"]}
    studies: dict[str, set[str]] = {}
    for study in atlas_document.get("case-studies", []):
        for step in study.get("procedure", []):
            studies.setdefault(step["technique"], set()).add(study["id"])
    linking: dict[str, list[str]] = {}
    for threat in threats:
        for link in threat.atlas:
            linking.setdefault(link.id, []).append(threat.id)
    rows = []
    for technique, used_by in studies.items():
        parent = technique.rsplit(".", 1)[0] if technique.count(".") == 2 else ""
        name = f"{names[parent]}: {names[technique]}" if parent and parent in names else names.get(technique, technique)
        linked = sorted(set(linking.get(technique, [])) | set(linking.get(parent, [])))
        rows.append((technique, name, len(used_by), linked))
    return sorted(rows, key=lambda row: (-row[2], row[0]))
