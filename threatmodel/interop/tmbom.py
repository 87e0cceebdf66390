"""Import a TM-BOM (OWASP Threat Model Library schema v1), as Threat Dragon and the library write it.

A file from our own export carries our ids, kinds, attributes, trust levels and review statuses
under ``extensions`` and comes back exactly. Otherwise: trust zones become boundaries (trust is
not in the format: guessed internal; a zone that is the internet puts its elements outside),
actors people or outside services by their type, components processes, data stores stores, data
sets data assets, data flows flows; a trust boundary with authentication methods marks the flows
that cross it authenticated. Threats keep their CWEs and their controls' titles (for matching by
meaning); a threat that names no component applies to the whole system. Assumptions, diagrams,
personas and risks cannot be carried and are listed, one by one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import load_mapping
from threatmodel.system.draft import REVIEW_STATES, Draft, Entity, IdMaker, SourceThreat, interop_table, is_internet, list_dangling
from threatmodel.interop.foreign import Foreign, ListOf, MapOf, OptText, Text, check, duplicates, raise_if

EXTENSION = "threatmodel.dev/model/v1"
REQUIRED = ("trust_zones", "actors", "components", "data_stores", "data_flows")


class Scope(Foreign):
    title: OptText = None
    description: OptText = None


class Zone(Foreign):
    symbolic_name: Text
    title: OptText = None
    description: OptText = None


class Element(Foreign):
    symbolic_name: Text
    title: OptText = None
    description: OptText = None
    type: OptText = None
    trust_zone: OptText = None


class Placement(Foreign):
    data_store: OptText = None


class DataSet(Foreign):
    symbolic_name: Text
    title: OptText = None
    description: OptText = None
    data_sensitivity: ListOf(Text) = []
    placements: ListOf(Placement) = []


class End(Foreign):
    object: Text


class DataFlow(Foreign):
    symbolic_name: Text
    title: OptText = None
    description: OptText = None
    source: End
    destination: End
    encrypted: Optional[bool] = None


class TrustBoundary(Foreign):
    trust_zone_a: OptText = None
    trust_zone_b: OptText = None
    authentication_methods: ListOf(Text) = []


class Weakness(Foreign):
    cwe_id: OptText = None


class Threat(Foreign):
    symbolic_name: Text
    title: OptText = None
    description: OptText = None
    components_affected: ListOf(Text) = []
    weaknesses: ListOf(Weakness) = []


class Control(Foreign):
    symbolic_name: Text
    title: OptText = None
    description: OptText = None
    threats: ListOf(Text) = []
    status: OptText = None


class Assumption(Foreign):
    description: OptText = None


class Diagram(Foreign):
    title: OptText = None


class TmBom(Foreign):
    version: Text
    scope: Scope
    trust_zones: ListOf(Zone)
    actors: ListOf(Element)
    components: ListOf(Element)
    data_stores: ListOf(Element)
    data_sets: ListOf(DataSet) = []
    data_flows: ListOf(DataFlow)
    trust_boundaries: ListOf(TrustBoundary) = []
    threats: ListOf(Threat) = []
    controls: ListOf(Control) = []
    assumptions: ListOf(Assumption) = []
    diagrams: ListOf(Diagram) = []
    threat_personas: ListOf(Any) = []
    risks: ListOf(Any) = []
    extensions: MapOf(Any) = {}


def _symbols(document: Any, keys: tuple[str, ...]) -> list[tuple[tuple[Any, ...], str]]:
    return [((key, index, "symbolic_name"), str(item.get("symbolic_name")))
            for key in keys for index, item in enumerate(document.get(key) or []) if isinstance(item, dict)]


def import_tmbom(path: Path) -> Draft:
    name = str(path)
    document = load_mapping(path, name)
    missing = [key for key in ("version", "scope", *REQUIRED) if key not in document]
    if missing:
        raise InputError([Diagnostic(Location(name, 1, 1), f"not a TM-BOM file: missing {', '.join(missing)}")])
    bom = check(TmBom, document, name)
    raise_if(duplicates(document, name, _symbols(document, ("trust_zones",)), "trust zone")
             + duplicates(document, name, _symbols(document, ("actors", "components", "data_stores")), "element")
             + duplicates(document, name, _symbols(document, ("data_sets",)), "data set")
             + duplicates(document, name, _symbols(document, ("data_flows",)), "data flow")
             + duplicates(document, name, _symbols(document, ("threats",)), "threat")
             + duplicates(document, name, _symbols(document, ("controls",)), "control"))
    table = interop_table("tmbom")
    problems: list[Diagnostic] = []
    raw_ours = bom.extensions.get(EXTENSION)
    ours = raw_ours if isinstance(raw_ours, dict) else {}

    def our(section: str) -> dict[str, Any]:
        value = ours.get(section)
        return {str(k): v for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}

    draft = Draft("tmbom", name, {"name": bom.scope.title or "Imported from TM-BOM",
                                  "description": bom.scope.description or ""})
    ids = IdMaker()
    zones: dict[str, str | None] = {}
    trust = our("trust")
    for zone in bom.trust_zones:
        title = zone.title or zone.symbolic_name
        if zone.symbolic_name not in trust and (is_internet(title) or is_internet(zone.symbolic_name)):
            zones[zone.symbolic_name] = None
            continue
        known = trust.get(zone.symbolic_name, {})
        our_id = ids.make(str(known.get("id") or zone.symbolic_name), title, "zone")
        zones[zone.symbolic_name] = our_id
        entity = Entity({"id": our_id, "name": title})
        if known.get("trust"):
            entity.values["trust"] = known["trust"]
        else:
            entity.values["trust"] = "internal"
            entity.notes["trust"] = "TM-BOM zones have no trust level: guessed internal"
        if known.get("parent"):
            entity.values["parent"] = known["parent"]
        if zone.description:
            entity.values["description"] = zone.description
        draft.boundaries.append(entity)
    elements = our("elements")
    element_ids: dict[str, str] = {}
    zone_of: dict[str, str] = {}
    for key, default_kind in (("actors", None), ("components", str(table["components"])),
                              ("data_stores", str(table["data_stores"]))):
        for index, item in enumerate(getattr(bom, key)):
            symbol = item.symbolic_name
            known = dict(elements.get(symbol, {}))
            our_id = ids.make(str(known.pop("id", None) or symbol), item.title or "", "element")
            element_ids[symbol] = our_id
            entity = Entity({"id": our_id, "name": item.title or symbol})
            if "kind" in known:
                entity.values["kind"] = known.pop("kind")
            elif default_kind is None:
                actor_type = item.type or ""
                entity.values["kind"] = str(table["actor_types"].get(actor_type, table["actor_fallback"]))
                entity.notes["kind"] = f"guessed from TM-BOM actor type \"{actor_type}\""
            else:
                entity.values["kind"] = default_kind
                entity.notes["kind"] = f"TM-BOM {key[:-1].replace('_', ' ')}: no ML role given, taken as a generic {default_kind}"
            if item.trust_zone is not None:
                zone_of[our_id] = item.trust_zone
                if item.trust_zone not in zones:
                    problems.append(Diagnostic(_at(document, (key, index, "trust_zone"), name),
                                               f"unknown trust zone '{item.trust_zone}'"))
                elif zones[item.trust_zone] is not None:
                    entity.values["boundary"] = zones[item.trust_zone]
            if item.description and item.description != entity.values.get("kind"):
                entity.values["description"] = item.description
            entity.values.update({k: v for k, v in known.items() if k != "boundary"})
            draft.components.append(entity)
    data = our("data")
    for item in bom.data_sets:
        known = dict(data.get(item.symbolic_name, {}))
        entity = Entity({"id": ids.make(str(known.pop("id", None) or item.symbolic_name), item.title or "", "data"),
                         "name": item.title or item.symbolic_name})
        if item.description:
            entity.values["description"] = item.description
        if known:
            entity.values.update(known)
        else:
            if "pii" in item.data_sensitivity or "phi" in item.data_sensitivity:
                entity.values["pii"] = True
            if item.data_sensitivity:
                entity.values["confidentiality"] = "high"
                entity.notes["confidentiality"] = f"guessed from data sensitivity {', '.join(item.data_sensitivity)}"
        draft.data.append(entity)
        for placement in item.placements:
            store = element_ids.get(str(placement.data_store))
            holder = next((c for c in draft.components if c.id == store), None)
            if holder is None:
                draft.lost.append(f"data set '{item.symbolic_name}' is placed in unknown data store '{placement.data_store}'")
            elif entity.id not in holder.values.setdefault("data", []):
                holder.values["data"].append(entity.id)
    flows_known = our("flows")
    authenticated_pairs = {tuple(sorted((str(b.trust_zone_a), str(b.trust_zone_b)))) for b in bom.trust_boundaries
                           if [m for m in b.authentication_methods if m != "none"]}
    for index, flow in enumerate(bom.data_flows):
        ends = []
        for side in ("source", "destination"):
            target = element_ids.get(getattr(flow, side).object)
            if target is None:
                problems.append(Diagnostic(_at(document, ("data_flows", index, side, "object"), name),
                                           f"data flow '{flow.symbolic_name}' names unknown element "
                                           f"'{getattr(flow, side).object}'"))
            ends.append(target)
        if None in ends:
            continue
        known = dict(flows_known.get(flow.symbolic_name, {}))
        entity = Entity({"id": ids.make(str(known.pop("id", None) or flow.symbolic_name), flow.title or "", "flow"),
                         "from": ends[0], "to": ends[1], "name": flow.title or ""})
        if known:
            entity.values.update({k: v for k, v in known.items() if k not in ("from", "to")})  # the ends are the file's
        else:
            if flow.encrypted is not None:  # a required field of the format: an answer, not an unticked box
                entity.values["encrypted"] = flow.encrypted
            pair = tuple(sorted((zone_of.get(ends[0], ""), zone_of.get(ends[1], ""))))
            if pair in authenticated_pairs:
                entity.values["authenticated"] = True
                entity.notes["authenticated"] = "the trust boundary it crosses lists authentication methods"
        draft.flows.append(entity)
    list_dangling(draft, problems)
    _threats(bom, draft, element_ids, our("findings"))
    for assumption in bom.assumptions:
        draft.lost.append(f"assumption: {assumption.description or '(no description)'} (assumptions are not part of our model)")
    for diagram in bom.diagrams:
        draft.lost.append(f"diagram '{diagram.title or 'untitled'}' (our report draws its own)")
    if bom.threat_personas:
        draft.lost.append(f"{len(bom.threat_personas)} threat personas (our actors are derived from the model)")
    if bom.risks:
        draft.lost.append(f"{len(bom.risks)} risks with likelihood and impact (threatmodel scores its own findings)")
    return draft


def _at(document: Any, path: tuple[Any, ...], name: str) -> Location:
    from threatmodel.core.located_yaml import locate

    return locate(document, path) or Location(name, 1, 1)


def _threats(bom: TmBom, draft: Draft, element_ids: dict[str, str], ours: dict[str, Any]) -> None:
    controls: dict[str, list[Control]] = {}
    known_threats = {t.symbolic_name for t in bom.threats}
    for control in bom.controls:
        for threat in control.threats:
            controls.setdefault(threat, []).append(control)
        if not [t for t in control.threats if t in known_threats]:
            draft.lost.append(f"control '{control.title or control.symbolic_name}' ({control.status or 'no status'}) "
                              "names no threat of the file")
    for threat in bom.threats:
        known = ours.get(threat.symbolic_name)
        linked = controls.get(threat.symbolic_name, [])
        states = [c.status or "" for c in linked]
        status = ("mitigated" if "active" in states else "accepted" if states and set(states) == {"assumed"} else "open")
        note = "; ".join(f"control '{c.title or c.symbolic_name}' {c.status or ''}".strip() for c in linked)
        title = threat.title or threat.symbolic_name
        cwes = tuple(w.cwe_id for w in threat.weaknesses if w.cwe_id)
        affected = threat.components_affected or ([""] if not known else [])
        for element_symbol in affected:
            element = element_ids.get(element_symbol) if element_symbol else ""
            if element is None:
                draft.lost.append(f"threat '{title}' names unknown element '{element_symbol}'")
                continue
            if known:
                threat_id, _, element = str(known.get("finding", "")).partition("@")
                recorded = known.get("mitigations") if isinstance(known.get("mitigations"), dict) else {}
                draft.threats.append(SourceThreat(element, title, tuple(str(s) for s in known.get("stride", [])),
                                                  str(known.get("status", status)), str(known.get("justification") or ""),
                                                  threat_id, mitigations=tuple((str(m), str(state)) for m, state in recorded.items()
                                                                               if state in REVIEW_STATES)))
            else:
                draft.threats.append(SourceThreat(element, title, (), status, note, "",
                                                  threat.description or "", cwes))
