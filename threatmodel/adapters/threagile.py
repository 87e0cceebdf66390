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
from typing import Any

from ..errors import Diagnostic, InputError, Location
from ..loader import load_mapping, locate
from .draft import Draft, Entity, IdMaker, SourceThreat

STRIDE = {"spoofing": "S", "tampering": "T", "repudiation": "R", "information-disclosure": "I",
          "denial-of-service": "D", "elevation-of-privilege": "E"}


def _map(document: Any, key: str, name: str, problems: list[Diagnostic]) -> dict[str, dict[str, Any]]:
    value = document.get(key) or {}
    if not isinstance(value, dict):
        problems.append(Diagnostic(locate(document, (key,)) or Location(name, 1, 1), f"'{key}' must be a mapping"))
        return {}
    return {str(title): item for title, item in value.items() if isinstance(item, dict)}


def import_threagile(path: Path) -> Draft:
    from ..resources import catalog_dir

    table = load_mapping(catalog_dir() / "interop" / "threagile.yaml", "catalog/interop/threagile.yaml")
    name = str(path)
    document = load_mapping(path, name)
    if "technical_assets" not in document or "threagile_version" not in document:
        raise InputError([Diagnostic(Location(name, 1, 1),
                                     "not a Threagile model: 'threagile_version' and 'technical_assets' are required")])
    problems: list[Diagnostic] = []
    draft = Draft("threagile", name, {"name": str(document.get("title") or "Imported from Threagile"),
                                      "description": " ".join(str((document.get("technical_overview") or {}).get("description", "")
                                                                  if isinstance(document.get("technical_overview"), dict) else "").split()),
                                      "owner": str((document.get("author") or {}).get("name", "")
                                                   if isinstance(document.get("author"), dict) else "")})
    ids = IdMaker()
    assets = _map(document, "technical_assets", name, problems)
    data_assets = _map(document, "data_assets", name, problems)
    boundaries = _map(document, "trust_boundaries", name, problems)
    asset_ids = {str(a.get("id")): ids.make(str(a.get("id")), title, "element") for title, a in assets.items()}
    data_ids = {str(d.get("id")): ids.make(str(d.get("id")), title, "data") for title, d in data_assets.items()}
    boundary_ids = {str(b.get("id")): ids.make(str(b.get("id")), title, "zone") for title, b in boundaries.items()}
    member_of: dict[str, str] = {}
    parent_of: dict[str, str] = {}
    for title, boundary in boundaries.items():
        ours = boundary_ids[str(boundary.get("id"))]
        for inside in boundary.get("technical_assets_inside") or []:
            if str(inside) not in asset_ids:
                problems.append(Diagnostic(locate(document, ("trust_boundaries", title, "technical_assets_inside")) or Location(name),
                                           f"trust boundary '{title}' names unknown technical asset '{inside}'"))
            else:
                member_of[asset_ids[str(inside)]] = ours
        for nested in boundary.get("trust_boundaries_nested") or []:
            if str(nested) in boundary_ids:
                parent_of[boundary_ids[str(nested)]] = ours
    for title, boundary in boundaries.items():
        ours = boundary_ids[str(boundary.get("id"))]
        entity = Entity({"id": ours, "name": title, "trust": "internal"},
                        {"trust": f"Threagile boundaries have no trust level ({boundary.get('type')}): guessed internal"})
        if ours in parent_of:
            entity.values["parent"] = parent_of[ours]
        draft.boundaries.append(entity)
    for title, item in data_assets.items():
        values: dict[str, Any] = {"id": data_ids[str(item.get("id"))], "name": title}
        notes = {}
        for key, scale in (("confidentiality", "confidentiality"), ("integrity", "integrity"), ("availability", "integrity")):
            level = table[scale].get(str(item.get(key)))
            if level:
                values[key] = level
                notes[key] = f"from Threagile {key} '{item.get(key)}'"
        draft.data.append(Entity(values, notes))
    for title, asset in assets.items():
        ours = asset_ids[str(asset.get("id"))]
        technology = str(asset.get("technology") or (asset.get("technologies") or [""])[0])
        kind = table["technologies"].get(technology)
        if kind == table["human_client"] and asset.get("used_as_client_by_human") is not True:
            kind = None
        kind = kind or table["types"].get(str(asset.get("type")), "process")
        if asset.get("type") == "external-entity" and asset.get("used_as_client_by_human") is True:
            kind = table["human_client"]
        entity = Entity({"id": ours, "name": title, "kind": kind},
                        {"kind": f"guessed from Threagile technology \"{technology}\" and type \"{asset.get('type')}\""})
        if ours in member_of:
            entity.values["boundary"] = member_of[ours]
        if asset.get("description") and asset.get("description") != title:
            entity.values["description"] = str(asset["description"])
        if technology:
            entity.values["technology"] = technology
        stored = [data_ids[str(d)] for d in asset.get("data_assets_stored") or [] if str(d) in data_ids]
        if stored:
            entity.values["data"] = stored
        if asset.get("out_of_scope") is True:
            draft.lost.append(f"{ours} is out of scope in Threagile ({asset.get('justification_out_of_scope') or 'no reason'}); "
                              "exclude its findings in the model if that still holds")
        draft.components.append(entity)
    for title, asset in assets.items():
        source = asset_ids[str(asset.get("id"))]
        links = asset.get("communication_links") or {}
        if not isinstance(links, dict):
            continue
        for link_title, link in links.items():
            if not isinstance(link, dict):
                continue
            target = asset_ids.get(str(link.get("target")))
            if target is None:
                problems.append(Diagnostic(locate(document, ("technical_assets", title, "communication_links", link_title, "target"))
                                           or Location(name), f"link '{link_title}' targets unknown technical asset "
                                                              f"'{link.get('target')}'"))
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", str(link_title).lower()).strip("-")
            entity = Entity({"id": ids.make(f"{asset.get('id')}>{slug}", f"{source}-{slug}", "flow"),
                             "from": source, "to": target, "name": str(link_title)})
            protocol = str(link.get("protocol") or "")
            if protocol:
                entity.values["protocol"] = protocol
                if protocol.endswith("-encrypted"):
                    entity.values["encrypted"] = True
                    entity.notes["encrypted"] = f"from Threagile protocol '{protocol}'"
            authentication = str(link.get("authentication") or "")
            if authentication:
                entity.values["authenticated"] = authentication != "none"
                entity.notes["authenticated"] = f"from Threagile authentication '{authentication}'"
            sent = [data_ids[str(d)] for d in link.get("data_assets_sent") or [] if str(d) in data_ids]
            received = [data_ids[str(d)] for d in link.get("data_assets_received") or [] if str(d) in data_ids]
            carried = sorted(set(sent) | set(received))
            if carried:
                entity.values["data"] = carried
            if received:
                entity.values["bidirectional"] = True
                entity.notes["bidirectional"] = "data comes back on the link (data_assets_received)"
            draft.flows.append(entity)
    if problems:
        raise InputError(sorted(problems))
    for category, entry in _map(document, "individual_risk_categories", name, []).items():
        letter = STRIDE.get(str(entry.get("stride")))
        for risk_title, risk in (entry.get("risks_identified") or {}).items():
            if not isinstance(risk, dict):
                continue
            element = asset_ids.get(str(risk.get("most_relevant_technical_asset")))
            if element is None:
                draft.lost.append(f"risk '{risk_title}' ({category}) names no known technical asset")
                continue
            draft.threats.append(SourceThreat(element, f"{category}: {risk_title}", (letter,) if letter else (), "open"))
    tracking = document.get("risk_tracking") or {}
    if isinstance(tracking, dict) and tracking:
        decided = sorted(str(key) for key in tracking)
        draft.lost.append(f"{len(decided)} risk_tracking entries name Threagile's own risk rules "
                          f"({', '.join(decided[:3])}…), which threatmodel does not run; review our findings instead")
    return draft
