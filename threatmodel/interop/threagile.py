"""Import a Threagile model (threagile_version 1.0.0 YAML).

Technical assets become components (kind from the technology, guessed), their communication links
flows (protocol kept, ``-encrypted`` protocols encrypted, an authentication other than ``none``
authenticated, data received back making the flow bidirectional), trust boundaries boundaries
(nested as Threagile nests them; no trust level in Threagile: guessed internal), data assets data
assets (Threagile's five-level scales to ours). Threagile generates its own risks: its
``risk_tracking`` keys name Threagile rules, which have no counterpart here, and are reported;
``individual_risk_categories`` with their STRIDE letter become foreign threats.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import load_mapping, locate
from threatmodel.system.draft import Draft, Entity, IdMaker, SourceThreat, interop_table, list_dangling
from threatmodel.interop.foreign import Foreign, ListOf, MapOf, OptText, Text, check, duplicates, raise_if

STRIDE = {"spoofing": "S", "tampering": "T", "repudiation": "R", "information-disclosure": "I",
          "denial-of-service": "D", "elevation-of-privilege": "E"}


class Link(Foreign):
    target: Text
    protocol: OptText = None
    authentication: OptText = None
    data_assets_sent: ListOf(Text) = []
    data_assets_received: ListOf(Text) = []


class Asset(Foreign):
    id: Text
    type: OptText = None
    technology: OptText = None
    technologies: ListOf(Text) = []
    description: OptText = None
    used_as_client_by_human: Optional[bool] = None
    internet: Optional[bool] = None
    encryption: OptText = None
    out_of_scope: Optional[bool] = None
    justification_out_of_scope: OptText = None
    data_assets_stored: ListOf(Text) = []
    data_assets_processed: ListOf(Text) = []
    communication_links: MapOf(Link) = {}


class DataAsset(Foreign):
    id: Text
    description: OptText = None
    confidentiality: OptText = None
    integrity: OptText = None
    availability: OptText = None


class Boundary(Foreign):
    id: Text
    type: OptText = None
    technical_assets_inside: ListOf(Text) = []
    trust_boundaries_nested: ListOf(Text) = []


class Risk(Foreign):
    most_relevant_technical_asset: OptText = None


class RiskCategory(Foreign):
    stride: OptText = None
    cwe: OptText = None
    description: OptText = None
    mitigation: OptText = None
    risks_identified: MapOf(Risk) = {}


class Overview(Foreign):
    description: OptText = None


class Author(Foreign):
    name: OptText = None


class Threagile(Foreign):
    threagile_version: Text
    title: OptText = None
    includes: ListOf(Text) = []
    author: Optional[Author] = None
    technical_overview: Optional[Overview] = None
    technical_assets: MapOf(Asset) = {}
    data_assets: MapOf(DataAsset) = {}
    trust_boundaries: MapOf(Boundary) = {}
    individual_risk_categories: MapOf(RiskCategory) = {}
    risk_tracking: MapOf(Any) = {}


def import_threagile(path: Path) -> Draft:
    table = interop_table("threagile")
    name = str(path)
    document = load_mapping(path, name)
    if "includes" in document and "technical_assets" not in document:
        raise InputError([Diagnostic(locate(document, ("includes",), key=True) or Location(name, 1, 1),
                                     "this Threagile model is split over several files ('includes:'); threatmodel "
                                     "reads one file: import the file that defines technical_assets, or merge them")])
    if "technical_assets" not in document or "threagile_version" not in document:
        raise InputError([Diagnostic(Location(name, 1, 1),
                                     "not a Threagile model: 'threagile_version' and 'technical_assets' are required")])
    model = check(Threagile, document, name)
    raise_if(duplicates(document, name, [(("technical_assets", t, "id"), a.id) for t, a in model.technical_assets.items()],
                        "technical asset id")
             + duplicates(document, name, [(("data_assets", t, "id"), a.id) for t, a in model.data_assets.items()],
                          "data asset id")
             + duplicates(document, name, [(("trust_boundaries", t, "id"), b.id) for t, b in model.trust_boundaries.items()],
                          "trust boundary id"))
    problems: list[Diagnostic] = []
    draft = Draft("threagile", name, {"name": model.title or "Imported from Threagile",
                                      "description": " ".join((model.technical_overview.description or "").split()
                                                              if model.technical_overview else []),
                                      "owner": (model.author.name or "") if model.author else ""})
    if model.includes:
        draft.lost.append(f"includes {', '.join(model.includes)}: only this file was read")
    ids = IdMaker()
    asset_ids = {a.id: ids.make(a.id, title, "element") for title, a in model.technical_assets.items()}
    data_ids = {d.id: ids.make(d.id, title, "data") for title, d in model.data_assets.items()}
    boundary_ids = {b.id: ids.make(b.id, title, "zone") for title, b in model.trust_boundaries.items()}

    def data_refs(values: list[str], path: tuple[Any, ...]) -> list[str]:
        for index, value in enumerate(values):
            if value not in data_ids:
                problems.append(Diagnostic(locate(document, path + (index,)) or Location(name),
                                           f"unknown data asset '{value}'"))
        return [data_ids[v] for v in values if v in data_ids]

    member_of: dict[str, str] = {}
    parent_of: dict[str, str] = {}
    for title, boundary in model.trust_boundaries.items():
        ours = boundary_ids[boundary.id]
        for index, inside in enumerate(boundary.technical_assets_inside):
            if inside not in asset_ids:
                problems.append(Diagnostic(locate(document, ("trust_boundaries", title, "technical_assets_inside", index))
                                           or Location(name), f"trust boundary '{title}' names unknown technical asset '{inside}'"))
            else:
                member_of[asset_ids[inside]] = ours
        for index, nested in enumerate(boundary.trust_boundaries_nested):
            if nested in boundary_ids:
                parent_of[boundary_ids[nested]] = ours
            else:
                problems.append(Diagnostic(locate(document, ("trust_boundaries", title, "trust_boundaries_nested", index))
                                           or Location(name), f"trust boundary '{title}' nests unknown boundary '{nested}'"))
    for title, boundary in model.trust_boundaries.items():
        ours = boundary_ids[boundary.id]
        entity = Entity({"id": ours, "name": title, "trust": "internal"},
                        {"trust": f"Threagile boundaries have no trust level ({boundary.type}): guessed internal"})
        if ours in parent_of:
            entity.values["parent"] = parent_of[ours]
        draft.boundaries.append(entity)
    for title, item in model.data_assets.items():
        values: dict[str, Any] = {"id": data_ids[item.id], "name": title}
        notes = {}
        if item.description and item.description != title:
            values["description"] = item.description
        for key, scale in (("confidentiality", "confidentiality"), ("integrity", "integrity"), ("availability", "integrity")):
            level = table[scale].get(str(getattr(item, key)))
            if level:
                values[key] = level
                notes[key] = f"from Threagile {key} '{getattr(item, key)}'"
        draft.data.append(Entity(values, notes))
    for title, asset in model.technical_assets.items():
        ours = asset_ids[asset.id]
        technology = asset.technology or (asset.technologies[0] if asset.technologies else "")
        kind = table["technologies"].get(technology)
        if kind == table["human_client"] and asset.used_as_client_by_human is not True:
            kind = None
        kind = kind or table["types"].get(str(asset.type), "process")
        if asset.type == "external-entity" and asset.used_as_client_by_human is True:
            kind = table["human_client"]
        entity = Entity({"id": ours, "name": title, "kind": kind},
                        {"kind": f"guessed from Threagile technology \"{technology}\" and type \"{asset.type}\""})
        if ours in member_of:
            entity.values["boundary"] = member_of[ours]
        if asset.description and asset.description != title:
            entity.values["description"] = asset.description
        if technology:
            entity.values["technology"] = technology
        held = data_refs(asset.data_assets_stored, ("technical_assets", title, "data_assets_stored"))
        held += data_refs(asset.data_assets_processed, ("technical_assets", title, "data_assets_processed"))
        if held:
            entity.values["data"] = sorted(set(held))
        if asset.internet is True:
            if ours in member_of:
                draft.lost.append(f"{ours} is marked internet: true but sits in trust boundary {member_of[ours]}; "
                                  "it keeps the boundary")
            elif asset.type == "process":  # an internet-facing service (external entities are outside anyway)
                entity.values["exposure"] = "public"
                entity.notes["exposure"] = "from Threagile internet: true"
        if asset.encryption and asset.encryption != "none":
            draft.lost.append(f"{ours}: encryption at rest '{asset.encryption}' (not part of our model)")
        if asset.out_of_scope is True:
            draft.lost.append(f"{ours} is out of scope in Threagile ({asset.justification_out_of_scope or 'no reason'}); "
                              "exclude its findings in the model if that still holds")
        draft.components.append(entity)
    for title, asset in model.technical_assets.items():
        source = asset_ids[asset.id]
        for link_title, link in asset.communication_links.items():
            target = asset_ids.get(link.target)
            where = ("technical_assets", title, "communication_links", link_title)
            if target is None:
                problems.append(Diagnostic(locate(document, where + ("target",)) or Location(name),
                                           f"link '{link_title}' targets unknown technical asset '{link.target}'"))
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", link_title.lower()).strip("-")
            entity = Entity({"id": ids.make(f"{asset.id}>{slug}", f"{source}-{slug}", "flow"),
                             "from": source, "to": target, "name": link_title})
            protocol = link.protocol or ""
            if protocol:
                entity.values["protocol"] = protocol
                if protocol.endswith("-encrypted") or protocol in table.get("encrypted_protocols", []):
                    entity.values["encrypted"] = True
                    entity.notes["encrypted"] = f"from Threagile protocol '{protocol}'"
            if link.authentication:
                entity.values["authenticated"] = link.authentication != "none"
                entity.notes["authenticated"] = f"from Threagile authentication '{link.authentication}'"
            sent = data_refs(link.data_assets_sent, where + ("data_assets_sent",))
            received = data_refs(link.data_assets_received, where + ("data_assets_received",))
            carried = sorted(set(sent) | set(received))
            if carried:
                entity.values["data"] = carried
            if received:
                entity.values["bidirectional"] = True
                entity.notes["bidirectional"] = "data comes back on the link (data_assets_received)"
            draft.flows.append(entity)
    list_dangling(draft, problems)
    for category, entry in model.individual_risk_categories.items():
        letter = STRIDE.get(str(entry.stride))
        for risk_title, risk in entry.risks_identified.items():
            element = asset_ids.get(str(risk.most_relevant_technical_asset))
            if element is None:
                draft.lost.append(f"risk '{risk_title}' ({category}) names no known technical asset")
                continue
            draft.threats.append(SourceThreat(element, f"{category}: {risk_title}", (letter,) if letter else (), "open",
                                              " ".join((entry.mitigation or "").split()), "",
                                              " ".join((entry.description or "").split()),
                                              (entry.cwe,) if entry.cwe else ()))
    if model.risk_tracking:
        decided = sorted(model.risk_tracking)
        draft.lost.append(f"{len(decided)} risk_tracking entries name Threagile's own risk rules "
                          f"({', '.join(decided[:3])}…), which threatmodel does not run; review our findings instead")
    return draft
