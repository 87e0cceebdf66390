"""Import a TM-BOM (OWASP Threat Model Library schema v1), as Threat Dragon and the library write it.

A file from our own export carries our ids, kinds, attributes, trust levels and review statuses
under ``extensions`` and comes back exactly. Otherwise: trust zones become boundaries (trust is
not in the format: guessed internal; a zone named like the internet puts its elements outside),
actors people or outside services by their type, components processes, data stores stores, data
sets data assets, data flows flows; a trust boundary with authentication methods marks the flows
that cross it authenticated. TM-BOM threats carry no STRIDE letter, so they are listed, not
matched, unless the file came from us.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Diagnostic, InputError, Location
from ..loader import load_mapping, locate
from .draft import Draft, Entity, IdMaker, SourceThreat

EXTENSION = "threatmodel.dev/model/v1"
REQUIRED = ("trust_zones", "actors", "components", "data_stores", "data_flows")


def import_tmbom(path: Path) -> Draft:
    name = str(path)
    document = load_mapping(path, name)
    missing = [key for key in ("version", "scope", *REQUIRED) if key not in document]
    if missing:
        raise InputError([Diagnostic(Location(name, 1, 1), f"not a TM-BOM file: missing {', '.join(missing)}")])
    from ..resources import catalog_dir

    table = load_mapping(catalog_dir() / "interop" / "tmbom.yaml", "catalog/interop/tmbom.yaml")
    problems: list[Diagnostic] = []
    for key in REQUIRED + ("data_sets", "trust_boundaries", "threats", "controls"):
        if key in document and not isinstance(document[key], list):
            problems.append(Diagnostic(locate(document, (key,)) or Location(name), f"'{key}' must be a list"))
    if problems:
        raise InputError(problems)
    ours = document.get("extensions", {}).get(EXTENSION, {}) if isinstance(document.get("extensions"), dict) else {}
    scope = document["scope"] if isinstance(document["scope"], dict) else {}
    draft = Draft("tmbom", name, {"name": str(scope.get("title") or "Imported from TM-BOM"),
                                  "description": str(scope.get("description") or "")})
    ids = IdMaker()
    zones: dict[str, str | None] = {}
    trust = ours.get("trust", {})
    for zone in document["trust_zones"]:
        if not isinstance(zone, dict):
            continue
        symbol = str(zone.get("symbolic_name"))
        title = str(zone.get("title") or symbol)
        if symbol not in trust and ("internet" in f"{symbol} {title}".lower() or symbol == "internet"):
            zones[symbol] = None
            continue
        known = trust.get(symbol, {})
        our_id = ids.make(str(known.get("id") or symbol), title, "zone")
        zones[symbol] = our_id
        entity = Entity({"id": our_id, "name": title})
        if known.get("trust"):
            entity.values["trust"] = known["trust"]
        else:
            entity.values["trust"] = "internal"
            entity.notes["trust"] = "TM-BOM zones have no trust level: guessed internal"
        if known.get("parent"):
            entity.values["parent"] = known["parent"]
        if zone.get("description"):
            entity.values["description"] = str(zone["description"])
        draft.boundaries.append(entity)
    elements = ours.get("elements", {})
    element_ids: dict[str, str] = {}
    for key, default_kind in (("actors", None), ("components", str(table["components"])),
                              ("data_stores", str(table["data_stores"]))):
        for index, item in enumerate(document[key]):
            if not isinstance(item, dict):
                continue
            symbol = str(item.get("symbolic_name"))
            known = dict(elements.get(symbol, {}))
            our_id = ids.make(str(known.pop("id", None) or symbol), str(item.get("title", "")), "element")
            element_ids[symbol] = our_id
            entity = Entity({"id": our_id, "name": str(item.get("title") or symbol)})
            if "kind" in known:
                entity.values["kind"] = known.pop("kind")
            elif default_kind is None:
                actor_type = str(item.get("type", ""))
                entity.values["kind"] = str(table["actor_types"].get(actor_type, table["actor_fallback"]))
                entity.notes["kind"] = f"guessed from TM-BOM actor type \"{actor_type}\""
            else:
                entity.values["kind"] = default_kind
                entity.notes["kind"] = f"TM-BOM {key[:-1].replace('_', ' ')}: no ML role given, taken as a generic {default_kind}"
            zone = item.get("trust_zone")
            if zone is not None:
                if str(zone) not in zones:
                    problems.append(Diagnostic(locate(document, (key, index, "trust_zone")) or Location(name),
                                               f"unknown trust zone '{zone}'"))
                elif zones[str(zone)] is not None:
                    entity.values["boundary"] = zones[str(zone)]
            if item.get("description") and item.get("description") != entity.values.get("kind"):
                entity.values["description"] = str(item["description"])
            entity.values.update({k: v for k, v in known.items() if k not in ("boundary",)})
            draft.components.append(entity)
    data = ours.get("data", {})
    for item in document.get("data_sets") or []:
        if not isinstance(item, dict):
            continue
        symbol = str(item.get("symbolic_name"))
        known = dict(data.get(symbol, {}))
        entity = Entity({"id": ids.make(str(known.pop("id", None) or symbol), str(item.get("title", "")), "data"),
                         "name": str(item.get("title") or symbol)})
        if known:
            entity.values.update(known)
        else:
            sensitivity = [str(s) for s in item.get("data_sensitivity") or []]
            if "pii" in sensitivity or "phi" in sensitivity:
                entity.values["pii"] = True
            if sensitivity:
                entity.values["confidentiality"] = "high"
                entity.notes["confidentiality"] = f"guessed from data sensitivity {', '.join(sensitivity)}"
        draft.data.append(entity)
        for placement in item.get("placements") or []:
            store = element_ids.get(str((placement or {}).get("data_store")))
            holder = next((c for c in draft.components if c.id == store), None)
            if holder is not None and entity.id not in holder.values.setdefault("data", []):
                holder.values["data"].append(entity.id)
    flows_known = ours.get("flows", {})
    authenticated_pairs = {tuple(sorted((str(b.get("trust_zone_a")), str(b.get("trust_zone_b")))))
                           for b in document.get("trust_boundaries") or [] if isinstance(b, dict)
                           and [m for m in b.get("authentication_methods") or [] if m != "none"]}
    zone_of = {element_ids[str(i.get("symbolic_name"))]: str(i.get("trust_zone"))
               for key in ("actors", "components", "data_stores") for i in document[key] if isinstance(i, dict)}
    for index, flow in enumerate(document["data_flows"]):
        if not isinstance(flow, dict):
            continue
        ends = []
        for side in ("source", "destination"):
            reference = flow.get(side) if isinstance(flow.get(side), dict) else {}
            target = element_ids.get(str(reference.get("object")))
            if target is None:
                problems.append(Diagnostic(locate(document, ("data_flows", index, side)) or Location(name),
                                           f"data flow '{flow.get('symbolic_name')}' names unknown element "
                                           f"'{reference.get('object')}'"))
            ends.append(target)
        if None in ends:
            continue
        symbol = str(flow.get("symbolic_name"))
        known = dict(flows_known.get(symbol, {}))
        entity = Entity({"id": ids.make(str(known.pop("id", None) or symbol), str(flow.get("title", "")), "flow"),
                         "from": ends[0], "to": ends[1], "name": str(flow.get("title") or "")})
        if known:
            entity.values.update(known)
        else:
            if isinstance(flow.get("encrypted"), bool):
                entity.values["encrypted"] = flow["encrypted"]
            pair = tuple(sorted((zone_of.get(ends[0], ""), zone_of.get(ends[1], ""))))
            if pair in authenticated_pairs:
                entity.values["authenticated"] = True
                entity.notes["authenticated"] = "the trust boundary it crosses lists authentication methods"
        draft.flows.append(entity)
    if problems:
        raise InputError(sorted(problems))
    _threats(document, draft, element_ids, ours.get("findings", {}))
    return draft


def _threats(document: Any, draft: Draft, element_ids: dict[str, str], ours: dict[str, Any]) -> None:
    controls: dict[str, list[str]] = {}
    for control in document.get("controls") or []:
        if isinstance(control, dict):
            for threat in control.get("threats") or []:
                controls.setdefault(str(threat), []).append(str(control.get("status", "")))
    for threat in document.get("threats") or []:
        if not isinstance(threat, dict):
            continue
        symbol = str(threat.get("symbolic_name"))
        known = ours.get(symbol)
        states = controls.get(symbol, [])
        status = ("mitigated" if "active" in states else "accepted" if states and set(states) == {"assumed"} else "open")
        for affected in threat.get("components_affected") or []:
            element = element_ids.get(str(affected))
            if element is None:
                draft.lost.append(f"threat '{threat.get('title')}' names unknown element '{affected}'")
                continue
            if known:
                threat_id, _, element = str(known["finding"]).partition("@")
                draft.threats.append(SourceThreat(element, str(threat.get("title")), tuple(known.get("stride", [])),
                                                  str(known.get("status", status)), "", threat_id))
            else:
                draft.threats.append(SourceThreat(element, str(threat.get("title")), (), status,
                                                  f"controls: {', '.join(states) or 'none'}"))
    if document.get("threat_personas"):
        draft.lost.append("threat personas are not kept (our actors are derived from the model)")
    if document.get("risks"):
        draft.lost.append("risks (likelihood, impact) are not kept: threatmodel scores its own findings")
