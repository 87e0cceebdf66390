"""Plain data views of the catalog, the ATLAS index and the data-flow graph.

Every output format (JSON, Markdown, text, Mermaid, DOT) is rendered from these dictionaries,
so the formats cannot disagree. Key order is fixed and lists are sorted: the same input gives
byte-identical output.
"""

from __future__ import annotations

import re

from typing import Any

from threatmodel.catalog.atlas import AtlasIndex, AtlasMitigation, AtlasTactic, AtlasTechnique
from threatmodel.catalog.model import Catalog, Mitigation, Threat
from threatmodel.core.errors import ChoiceError
from threatmodel.graph import DataFlowGraph
from threatmodel.report.graph_data import atlas_technique_data, graph_data


def threat_summary(catalog: Catalog, threat: Threat) -> dict[str, Any]:
    return {
        "id": threat.id,
        "title": threat.title,
        "short_title": threat.name,
        "source": threat.source,
        "stride": threat.stride,
        "ratings": {
            "exploitability": threat.ratings.exploitability,
            "detectability": threat.ratings.detectability,
            "technical_impact": threat.ratings.technical_impact,
        },
        "atlas": [link.id for link in threat.atlas],
        "mitigations": list(threat.mitigations),
    }


def threat_detail(catalog: Catalog, threat: Threat) -> dict[str, Any]:
    atlas = catalog.atlas
    return {
        "type": "threat",
        "id": threat.id,
        "title": threat.title,
        "short_title": threat.name,
        "aliases": list(threat.aliases),
        "source": threat.source,
        "summary": threat.summary,
        "scenarios": [s.model_dump() for s in threat.scenarios],
        "stride": [{"letter": s, "name": catalog.stride_name(s)} for s in threat.stride],
        "lifecycle": list(threat.lifecycle),
        "frameworks": [{"id": e, "title": catalog.entry_title(e)} for e in threat.frameworks],
        "cosai": list(threat.cosai),
        "ratings": threat.ratings.model_dump(exclude_none=True),
        "atlas": [dict(atlas_technique_data(atlas, link.id), why=link.why) for link in threat.atlas],
        "mitigations": [{"id": m, "title": catalog.mitigations[m].title} for m in threat.mitigations],
        "references": [r.model_dump() for r in threat.references],
        "applies_to": [rule.model_dump(exclude_defaults=True) | {"element": rule.element}
                       for rule in threat.applies_to],
        "not_applicable": threat.not_applicable,
    }


def mitigation_summary(mitigation: Mitigation) -> dict[str, Any]:
    return {
        "id": mitigation.id,
        "title": mitigation.title,
        "control": mitigation.control,
        "owner": mitigation.owner,
        "atlas": [link.id for link in mitigation.atlas],
    }


def mitigation_detail(catalog: Catalog, mitigation: Mitigation) -> dict[str, Any]:
    return {
        "type": "mitigation",
        "id": mitigation.id,
        "title": mitigation.title,
        "what": mitigation.what,
        "verify": mitigation.verify,
        "control": mitigation.control,
        "owner": mitigation.owner,
        "effort": mitigation.effort,
        "lifecycle": list(mitigation.lifecycle),
        "atlas": [{"id": link.id, "name": catalog.atlas.full_name(link.id)} for link in mitigation.atlas],
        "references": [r.model_dump() for r in mitigation.references],
        "threats": [{"id": t.id, "title": t.title} for t in catalog.threats_for_mitigation(mitigation.id)],
    }


def catalog_listing(catalog: Catalog, threats: list[Threat]) -> dict[str, Any]:
    return {
        "atlas_version": catalog.atlas.atlas_version,
        "threats": [threat_summary(catalog, t) for t in threats],
        "mitigations": [mitigation_summary(m) for m in sorted(catalog.mitigations.values(), key=lambda m: m.id)],
    }


def atlas_entry_view(catalog: Catalog, entry: AtlasTactic | AtlasTechnique | AtlasMitigation) -> dict[str, Any]:
    atlas = catalog.atlas
    view: dict[str, Any] = {"atlas_version": atlas.atlas_version, "id": entry.id,
                            "name": atlas.full_name(entry.id), "aliases": list(entry.aliases)}
    if isinstance(entry, AtlasTechnique):
        view["type"] = "technique"
        view["parent"] = entry.parent
        view["tactics"] = [{"id": t.id, "name": t.name} for t in atlas.tactics_of(entry.id)]
        view["subtechniques"] = [{"id": t.id, "name": t.name} for t in atlas.techniques if t.parent == entry.id]
        view["atlas_mitigations"] = [{"id": m.id, "name": m.name} for m in atlas.mitigations
                                     if entry.id in m.techniques]
        # as `catalog list --atlas` selects: threats linked to the technique or to one of its sub-techniques
        family = {entry.id} | {t.id for t in atlas.techniques if t.parent == entry.id}
        view["threats"] = [{"id": t.id, "title": t.title,
                            "through": [] if any(link.id == entry.id for link in t.atlas)
                            else sorted({link.id for link in t.atlas if link.id in family})}
                           for t in catalog.threats.values() if any(link.id in family for link in t.atlas)]
    elif isinstance(entry, AtlasMitigation):
        view["type"] = "mitigation"
        view["techniques"] = [{"id": t, "name": atlas.full_name(t)} for t in entry.techniques]
        view["mitigations"] = [{"id": m.id, "title": m.title} for m in catalog.mitigations.values()
                               if any(link.id == entry.id for link in m.atlas)]
    else:
        view["type"] = "tactic"
        view["techniques"] = [{"id": t.id, "name": t.name} for t in atlas.techniques if entry.id in t.tactics]
    return view


class CatalogFilterError(ChoiceError):
    """A catalog or ATLAS lookup that names nothing: the message says what was wrong."""


def filter_threats(catalog: Catalog, stride: str | None = None, atlas: str | None = None,
                   framework: str | None = None) -> list[Threat]:
    """The catalog's threats (OWASP first, then by id), optionally only those with a STRIDE
    letter, linked to an ATLAS technique or its sub-techniques, or mapped to frameworks
    (``llm-2026,asi-2026``)."""
    from threatmodel.catalog.frameworks import FrameworkError, covers, parse_frameworks

    order = {"owasp-ml-top10-2023": 0, "owasp-genai": 1}
    threats = sorted(catalog.threats.values(), key=lambda t: (order.get(t.source, 2), t.id))
    if framework is not None:
        try:
            chosen = parse_frameworks(catalog, framework)
        except FrameworkError as exc:
            raise CatalogFilterError(str(exc)) from None
        threats = [t for t in threats if covers(catalog, t, chosen)]
    if stride is not None:
        letter = stride.strip().upper()
        if len(letter) != 1 or letter not in "STRIDE":
            raise CatalogFilterError(f"--stride takes one of S, T, R, I, D, E, not '{stride}'")
        threats = [t for t in threats if letter in t.stride]
    if atlas is not None:
        if catalog.atlas.get(atlas) is None:
            raise CatalogFilterError(f"unknown ATLAS id '{atlas}'")
        threats = [t for t in threats if any(link.id == atlas or link.id.startswith(atlas + ".") for link in t.atlas)]
    return threats


def catalog_entry(catalog: Catalog, entry_id: str) -> dict[str, Any]:
    """The detail view of a threat (by id, any case) or a mitigation."""
    from threatmodel.core.errors import did_you_mean

    key = entry_id.strip()
    threat = catalog.threats.get(key) or catalog.threats.get(key.upper())
    if threat is not None:
        return threat_detail(catalog, threat)
    if re.fullmatch(r"(?i)(ML|LLM|ASI)(0[1-9]|10)(:\d{4})?", key) and key.upper() not in catalog.threats:
        from threatmodel.catalog.frameworks import FrameworkError, entry_view

        try:
            return entry_view(catalog, key)
        except FrameworkError as exc:
            raise CatalogFilterError(str(exc)) from None
    if key in catalog.mitigations:
        return mitigation_detail(catalog, catalog.mitigations[key])
    known = [*catalog.threats, *catalog.mitigations]
    raise CatalogFilterError(f"no threat or mitigation '{entry_id}'{did_you_mean(entry_id, known)}")


def find_atlas_entry(atlas: AtlasIndex, query: str) -> Any:
    """An ATLAS entry by id, current name or former name; a removed id says what replaced it."""
    key = query.strip()
    entry = atlas.get(key)
    if entry is not None:
        return entry
    by_name = atlas.find_by_name(key)
    if len(by_name) == 1:
        return atlas.get(by_name[0])
    removed = atlas.removed_entry(key)
    if removed is not None:
        successors = atlas.find_by_name(removed.name)
        hint = f"; '{removed.name}' is now {successors[0]}" if successors else ""
        raise CatalogFilterError(f"{removed.id} '{removed.name}' was removed from ATLAS{hint}")
    raise CatalogFilterError(f"no ATLAS id or name '{query}' in ATLAS {atlas.atlas_version}")


def graph_export(graph: DataFlowGraph, output_format: str) -> str:
    """The data-flow graph as Mermaid ('mermaid'), Graphviz ('dot') or JSON with computed facts."""
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    data = graph_data(graph, facts=True)
    if output_format == "json":
        hidden = ("top_boundaries", "boundary_index", "outside_nodes", "boundary_nodes")
        return to_json({key: value for key, value in data.items() if key not in hidden})
    return render("dfd.mmd.j2" if output_format == "mermaid" else "dfd.dot.j2", data)
