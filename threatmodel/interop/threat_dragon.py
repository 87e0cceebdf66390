"""Import a Threat Dragon v2 model (the ``.json`` Threat Dragon saves).

Actors become people, processes processes, stores data stores (guessed: Threat Dragon has no ML
roles); flows keep their protocol, encryption and direction; boundary boxes become boundaries
whose members are the elements drawn inside them (or ``containedElements`` when present);
boundary curves have no members and are reported. Threats in each element's ``data.threats``
become foreign threats with their STRIDE letter (from the English type label) and status.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import load_mapping
from threatmodel.system.draft import Draft, Entity, IdMaker, SourceThreat, interop_table, is_internet, status_of
from threatmodel.interop.foreign import Foreign, ListOf, OptText, Text, check, raise_if, duplicates


class Threat(Foreign):
    title: OptText = None
    type: OptText = None
    status: OptText = None
    description: OptText = None
    mitigation: OptText = None


class CellData(Foreign):
    type: OptText = None
    name: OptText = None
    description: OptText = None
    threats: ListOf(Threat) = []
    outOfScope: Optional[bool] = None
    reasonOutOfScope: OptText = None
    isEncrypted: Optional[bool] = None
    isBidirectional: Optional[bool] = None
    isSigned: Optional[bool] = None
    protocol: OptText = None
    containedElements: ListOf(Text) = []
    storesCredentials: Optional[bool] = None


class Point(Foreign):
    x: Optional[float] = None
    y: Optional[float] = None


class Size(Foreign):
    width: Optional[float] = None
    height: Optional[float] = None


class End(Foreign):
    cell: OptText = None


class Cell(Foreign):
    id: Text
    shape: OptText = None
    data: Optional[CellData] = None
    position: Optional[Point] = None
    size: Optional[Size] = None
    source: Optional[End] = None
    target: Optional[End] = None


class Diagram(Foreign):
    title: OptText = None
    cells: ListOf(Cell)


class Detail(Foreign):
    diagrams: ListOf(Diagram)


class Summary(Foreign):
    title: OptText = None
    description: OptText = None
    owner: OptText = None


class Model(Foreign):
    summary: Optional[Summary] = None
    detail: Detail


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


V1_FIELDS = ("description", "threats", "outOfScope", "reasonOutOfScope", "isEncrypted", "protocol",
             "isBidirectional", "isSigned", "storesCredentials", "isPublicNetwork")


def _v1_label(cell: dict[str, Any]) -> Any:
    attrs = cell.get("attrs") if isinstance(cell.get("attrs"), dict) else {}
    text = attrs.get("text") if isinstance(attrs.get("text"), dict) else {}
    if text.get("text") is not None:
        return text.get("text")
    for label in cell.get("labels") or []:
        inner = (label.get("attrs") or {}).get("text") if isinstance(label, dict) and isinstance(label.get("attrs"), dict) else None
        if isinstance(inner, dict) and inner.get("text") is not None:
            return inner.get("text")
    return cell.get("name")


def _from_v1(document: Any) -> Any:
    """A Threat Dragon 1.x model (cells in ``diagramJson``, their fields at the top of each cell, ends
    by ``id``) in the 2.x shape, so that one reading serves both. The v1 file keeps its locations
    for everything the shapes share (the diagram list); converted cells are located at their diagram."""
    for diagram in document["detail"]["diagrams"] or []:
        if not isinstance(diagram, dict) or "cells" in diagram:
            continue
        if not isinstance(diagram.get("diagramJson"), dict):  # a diagram never drawn on
            diagram["cells"] = []
            continue
        cells = []
        for cell in diagram["diagramJson"].get("cells") or []:
            if not isinstance(cell, dict):
                cells.append(cell)
                continue
            data = {"type": cell.get("type"), "name": _v1_label(cell)}
            data.update({key: cell[key] for key in V1_FIELDS if key in cell})
            converted = {key: cell[key] for key in ("id", "position", "size") if key in cell}
            for end in ("source", "target"):
                if isinstance(cell.get(end), dict) and "id" in cell[end]:
                    converted[end] = {"cell": cell[end]["id"]}
            converted["data"] = data
            cells.append(converted)
        diagram["cells"] = cells
    return document


def import_threat_dragon(path: Path) -> Draft:
    table = interop_table("threat-dragon")
    name = str(path)
    document = load_mapping(path, name)
    if isinstance(document.get("detail"), dict) and isinstance(document["detail"].get("diagrams"), list):
        document = _from_v1(document)
    detail = document.get("detail")
    if not isinstance(detail, dict) or "diagrams" not in detail:
        raise InputError([Diagnostic(Location(name, 1, 1), "not a Threat Dragon v2 model: 'detail.diagrams' is missing")])
    model = check(Model, document, name)
    raise_if([d for index, diagram in enumerate(document["detail"]["diagrams"] or []) if isinstance(diagram, dict)
              for d in duplicates(document, name, [(("detail", "diagrams", index, "cells", i, "id"), str(c.get("id")))
                                                   for i, c in enumerate(diagram.get("cells") or []) if isinstance(c, dict)],
                                  "cell id")])
    summary = model.summary or Summary()
    draft = Draft("threat-dragon", name, {"name": summary.title or "Imported from Threat Dragon",
                                          "description": summary.description or "", "owner": summary.owner or ""})
    ids = IdMaker()
    for diagram in model.detail.diagrams:
        _diagram(draft, diagram, ids, table)
    return draft


def _raw(cell: Cell) -> dict[str, Any]:
    return cell.model_dump(exclude_none=True)


def _diagram(draft: Draft, diagram: Diagram, ids: IdMaker, table: dict[str, Any]) -> None:
    title = diagram.title or "untitled diagram"
    cells = [c for c in diagram.cells if c.data is not None]
    boxes = [c for c in cells if c.data.type == "tm.BoundaryBox"]
    box_ids: dict[str, str | None] = {}
    for index, box in enumerate(boxes):
        label = " ".join((box.data.name or "").split())
        if label and is_internet(label):
            box_ids[box.id] = None  # a box that is the internet: what it holds is outside every boundary
            continue
        box_ids[box.id] = ids.make(box.id, label or f"boundary-{index + 1}", "zone")
        draft.boundaries.append(Entity({"id": box_ids[box.id], "name": label or box_ids[box.id], "trust": "internal"},
                                       {"trust": "Threat Dragon boundaries have no trust level: guessed internal"}))
    curves = [c for c in cells if c.data.type == "tm.Boundary"]
    if curves:
        draft.lost.append(f"{len(curves)} boundary line(s) in '{title}': a line has no members, "
                          "so its zones are not known; place the components in boundaries by hand")
    known = set(table["element_types"]) | {"tm.BoundaryBox", "tm.Boundary", "tm.Flow"}
    for cell in cells:
        if cell.data.type not in known:
            label = " ".join((cell.data.name or "").split())
            draft.lost.append(f"a {cell.data.type or 'untyped'} cell" + (f" '{label}'" if label else "")
                              + f" in '{title}' (not an element of a data-flow diagram)")
            for threat in cell.data.threats:
                draft.lost.append(f"threat '{threat.title}' on that {cell.data.type or 'untyped'} cell")
    element_ids: dict[str, str] = {}
    for cell in cells:
        data = cell.data
        if data.type not in table["element_types"]:
            continue
        label = " ".join((data.name or "").split()) or str(data.type)
        our_id = ids.make(cell.id, label, "element")
        element_ids[cell.id] = our_id
        entity = Entity({"id": our_id, "name": label, "kind": str(table["element_types"][data.type])},
                        {"kind": f"guessed from Threat Dragon {data.type} (no ML role in the source)"})
        centre = _centre(_raw(cell))
        container: str | None = next((box_ids[b.id] for b in boxes if cell.id in b.data.containedElements), None)
        placed = any(cell.id in b.data.containedElements for b in boxes)
        if not placed and centre is not None:
            inside = [b for b in boxes if _inside(centre, _raw(b))]
            if inside:  # the smallest box that contains it: boxes drawn inside boxes are nested zones
                smallest = min(inside, key=lambda b: float(b.size.width or 0) * float(b.size.height or 0))
                container = box_ids[smallest.id]
                entity.notes["boundary" if container else "name"] = (
                    "from where it is drawn" if container else "drawn inside a box that is the internet: outside every boundary")
        if container is not None:
            entity.values["boundary"] = container
        if data.description:
            entity.values["description"] = data.description
        if data.type == "tm.Store" and data.isSigned is True:
            entity.values["signed"] = True
        if data.storesCredentials is True:
            draft.lost.append(f"{our_id} stores credentials (Threat Dragon): if it holds keys or tokens, make it "
                              "(or a part of it) a component of kind secret so that their theft is analysed")
        if data.outOfScope is True:
            draft.lost.append(f"{our_id} is out of scope in Threat Dragon ({data.reasonOutOfScope or 'no reason given'}); "
                              "add an exclusion for its findings if that still holds")
        draft.components.append(entity)
        _threats(draft, data, our_id, table)
    encrypted_protocols = [str(p).lower() for p in table["encrypted_protocols"]]
    for cell in cells:
        data = cell.data
        if data.type != "tm.Flow":
            continue
        source = cell.source.cell if cell.source else None
        target = cell.target.cell if cell.target else None
        label = " ".join((data.name or "").split())
        if source not in element_ids or target not in element_ids:
            draft.lost.append(f"flow '{label or cell.id}' in '{title}' has an end attached to no element "
                              "(a dangling arrow)")
            for threat in data.threats:
                draft.lost.append(f"threat '{threat.title}' ({threat.status or 'no status'}) on that dangling flow "
                                  f"'{label or cell.id}'")
            continue
        our_id = ids.make(cell.id, label or f"{element_ids[source]}-to-{element_ids[target]}", "flow")
        entity = Entity({"id": our_id, "from": element_ids[source], "to": element_ids[target]})
        if label:
            entity.values["name"] = label
        protocol = (data.protocol or "").strip()
        if protocol:
            entity.values["protocol"] = protocol
        if data.isEncrypted is True:
            entity.values["encrypted"] = True
        elif protocol and any(re.search(rf"(?<![a-z0-9]){re.escape(p)}(?![a-z0-9])", protocol.lower())
                              for p in encrypted_protocols):
            entity.values["encrypted"] = True
            entity.notes["encrypted"] = (f"from protocol '{protocol}' (the box 'encrypted' is unticked, which Threat "
                                         "Dragon also shows when nobody said)")
        if data.isBidirectional is True:
            entity.values["bidirectional"] = True
        if data.outOfScope is True:
            draft.lost.append(f"flow {our_id} is out of scope in Threat Dragon ({data.reasonOutOfScope or 'no reason given'})")
        draft.flows.append(entity)
        _threats(draft, data, our_id, table)


def _threats(draft: Draft, data: CellData, element: str, table: dict[str, Any]) -> None:
    for threat in data.threats:
        kind = (threat.type or "").strip().lower()
        letter = table["threat_types"].get(kind)
        status = status_of(threat.status)
        if status is None:
            draft.lost.append(f"threat '{threat.title}' on {element}: unknown status '{threat.status}', taken as open")
            status = "open"
        note = " ".join((threat.mitigation or "").split())
        draft.threats.append(SourceThreat(element, threat.title or kind or "untitled threat", (letter,) if letter else (),
                                          status, note, "", " ".join((threat.description or "").split())))
