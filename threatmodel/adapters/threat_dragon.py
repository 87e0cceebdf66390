"""Import a Threat Dragon v2 model (the ``.json`` Threat Dragon saves).

Actors become people, processes processes, stores data stores (guessed: Threat Dragon has no ML
roles); flows keep their protocol, encryption and direction; boundary boxes become boundaries
whose members are the elements drawn inside them (or ``containedElements`` when present);
boundary curves have no members and are reported. Threats in each element's ``data.threats``
become foreign threats with their STRIDE letter (from the English type label) and status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Diagnostic, InputError, Location
from ..loader import load_mapping, locate
from .draft import Draft, Entity, IdMaker, SourceThreat, status_of


def _centre(cell: dict[str, Any]) -> tuple[float, float] | None:
    position, size = cell.get("position"), cell.get("size")
    if not (isinstance(position, dict) and isinstance(size, dict)):
        return None
    try:
        return float(position["x"]) + float(size["width"]) / 2, float(position["y"]) + float(size["height"]) / 2
    except (KeyError, TypeError, ValueError):
        return None


def _inside(point: tuple[float, float], box: dict[str, Any]) -> bool:
    position, size = box.get("position") or {}, box.get("size") or {}
    try:
        x, y = float(position["x"]), float(position["y"])
        return x <= point[0] <= x + float(size["width"]) and y <= point[1] <= y + float(size["height"])
    except (KeyError, TypeError, ValueError):
        return False


def import_threat_dragon(path: Path) -> Draft:
    from ..resources import catalog_dir

    table = load_mapping(catalog_dir() / "interop" / "threat-dragon.yaml", "catalog/interop/threat-dragon.yaml")
    name = str(path)
    document = load_mapping(path, name)
    detail = document.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("diagrams"), list):
        raise InputError([Diagnostic(Location(name, 1, 1), "not a Threat Dragon v2 model: 'detail.diagrams' is missing")])
    summary = document.get("summary") if isinstance(document.get("summary"), dict) else {}
    draft = Draft("threat-dragon", name, {"name": str(summary.get("title") or "Imported from Threat Dragon"),
                                          "description": str(summary.get("description") or ""),
                                          "owner": str(summary.get("owner") or "")})
    ids = IdMaker()
    problems: list[Diagnostic] = []
    for d_index, diagram in enumerate(detail["diagrams"]):
        cells = diagram.get("cells") if isinstance(diagram, dict) else None
        if not isinstance(cells, list):
            problems.append(Diagnostic(locate(document, ("detail", "diagrams", d_index)) or Location(name),
                                       "a diagram without a 'cells' list"))
            continue
        boxes = [c for c in cells if isinstance(c, dict) and (c.get("data") or {}).get("type") == "tm.BoundaryBox"]
        box_ids = {}
        for index, box in enumerate(boxes):
            title = str((box.get("data") or {}).get("name") or f"Boundary {index + 1}")
            box_ids[str(box.get("id"))] = ids.make(str(box.get("id")), title if title.strip() else f"boundary-{index + 1}", "zone")
            draft.boundaries.append(Entity({"id": box_ids[str(box.get("id"))], "name": title.strip() or box_ids[str(box.get("id"))],
                                            "trust": "internal"},
                                           {"trust": "Threat Dragon boundaries have no trust level: guessed internal"}))
        curves = [c for c in cells if isinstance(c, dict) and (c.get("data") or {}).get("type") == "tm.Boundary"]
        if curves:
            draft.lost.append(f"{len(curves)} boundary line(s) in '{diagram.get('title')}': a line has no members, "
                              "so its zones are not known; place the components in boundaries by hand")
        element_ids: dict[str, str] = {}
        for index, cell in enumerate(cells):
            data = cell.get("data") if isinstance(cell, dict) else None
            if not isinstance(data, dict) or data.get("type") not in table["element_types"]:
                continue
            label = " ".join(str(data.get("name") or "").split()) or str(data.get("type"))
            our_id = ids.make(str(cell.get("id")), label, "element")
            element_ids[str(cell.get("id"))] = our_id
            entity = Entity({"id": our_id, "name": label, "kind": str(table["element_types"][data["type"]])},
                            {"kind": f"guessed from Threat Dragon {data['type']} (no ML role in the source)"})
            centre = _centre(cell)
            container = next((box_ids[str(b.get("id"))] for b in boxes
                              if str(cell.get("id")) in ((b.get("data") or {}).get("containedElements") or [])), None)
            if container is None and centre is not None:
                inside = [b for b in boxes if _inside(centre, b)]
                if inside:  # the smallest box that contains it: boxes drawn inside boxes are nested zones
                    smallest = min(inside, key=lambda b: float(b["size"]["width"]) * float(b["size"]["height"]))
                    container = box_ids[str(smallest.get("id"))]
                    entity.notes["boundary"] = "from where it is drawn"
            if container is not None:
                entity.values["boundary"] = container
            if data.get("description"):
                entity.values["description"] = str(data["description"])
            if data.get("type") == "tm.Store" and data.get("isSigned") is True:
                entity.values["signed"] = True
            draft.components.append(entity)
            _threats(draft, data, our_id, table)
        for index, cell in enumerate(cells):
            data = cell.get("data") if isinstance(cell, dict) else None
            if not isinstance(data, dict) or data.get("type") != "tm.Flow":
                continue
            source = str((cell.get("source") or {}).get("cell", "")) if isinstance(cell.get("source"), dict) else ""
            target = str((cell.get("target") or {}).get("cell", "")) if isinstance(cell.get("target"), dict) else ""
            label = " ".join(str(data.get("name") or "").split())
            if source not in element_ids or target not in element_ids:
                draft.lost.append(f"flow '{label or cell.get('id')}' in '{diagram.get('title')}' has an end attached "
                                  "to no element (a dangling arrow)")
                continue
            our_id = ids.make(str(cell.get("id")), label or f"{element_ids[source]}-to-{element_ids[target]}", "flow")
            entity = Entity({"id": our_id, "from": element_ids[source], "to": element_ids[target]})
            if label:
                entity.values["name"] = label
            if data.get("protocol"):
                entity.values["protocol"] = str(data["protocol"])
            if isinstance(data.get("isEncrypted"), bool):
                entity.values["encrypted"] = data["isEncrypted"]
            if data.get("isBidirectional") is True:
                entity.values["bidirectional"] = True
            draft.flows.append(entity)
            _threats(draft, data, our_id, table)
    if problems:
        raise InputError(problems)
    return draft


def _threats(draft: Draft, data: dict[str, Any], element: str, table: dict[str, Any]) -> None:
    for threat in data.get("threats") or []:
        if not isinstance(threat, dict):
            continue
        kind = str(threat.get("type") or "").strip().lower()
        letter = table["threat_types"].get(kind)
        status = status_of(threat.get("status"))
        if status is None:
            draft.lost.append(f"threat '{threat.get('title')}' on {element}: unknown status '{threat.get('status')}'")
            status = "open"
        note = " ".join(str(threat.get("mitigation") or "").split())
        draft.threats.append(SourceThreat(element, str(threat.get("title") or kind), (letter,) if letter else (),
                                          status, note))
