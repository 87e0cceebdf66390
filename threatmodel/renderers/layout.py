"""Lay out the data-flow diagram for the built-in SVG drawing (used when Graphviz is absent).

Each trust zone is a horizontal band (outside every boundary first, then the boundaries in
order of trust, a nested boundary right after its parent), so zones never overlap. Within a
band, components sit in columns by their flow order: the longest chain of flows leading to
them (each flow in its declared direction, so a request's reply does not reorder the columns),
computed with networkx on the graph with its cycles condensed. Components of one band
that share a column stack vertically. The result is plain data (boxes, bands, edges with
coordinates) that templates/dfd.svg.j2 draws; nothing here writes markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from ..graph import DataFlowGraph

NODE_WIDTH = 168
NODE_HEIGHT = 46
COLUMN_GAP = 72
ROW_GAP = 22
BAND_PADDING = 18
BAND_LABEL = 22
MARGIN = 16
MAX_LABEL = 24  # characters shown in a box; the full name is the box's tooltip


@dataclass(frozen=True)
class Box:
    id: str
    label: str
    title: str  # the full name and kind, shown on hover
    shape: str  # "entity", "process" or "store"
    x: float
    y: float
    flagged: bool  # has an open high or critical finding


@dataclass(frozen=True)
class Band:
    label: str
    x: float
    y: float
    width: float
    height: float
    outside: bool


@dataclass(frozen=True)
class Edge:
    label: str
    path: str  # an SVG path (numbers only): a cubic curve from the source's side to the target's
    label_x: float
    label_y: float
    both: bool


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    bands: list[Band]
    boxes: list[Box]
    edges: list[Edge]


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _columns(graph: "DataFlowGraph") -> dict[str, int]:
    """Each component's column: the longest chain of flows leading to it (cycles condensed)."""
    simple = nx.DiGraph()
    simple.add_nodes_from(graph.graph.nodes)
    simple.add_edges_from((f.source, f.target) for f in graph.system.flows)  # as drawn: a reply is not an order
    condensed = nx.condensation(simple)
    depth: dict[int, int] = {}
    for node in nx.topological_sort(condensed):
        depth[node] = max((depth[p] + 1 for p in condensed.predecessors(node)), default=0)
    mapping = condensed.graph["mapping"]
    return {component: depth[mapping[component]] for component in simple.nodes}


def _zones(graph: "DataFlowGraph") -> list[tuple[str | None, str]]:
    """(boundary id or None, label) in drawing order: outside first, then boundaries depth-first."""
    system = graph.system
    children: dict[str | None, list] = {}
    for boundary in sorted(system.boundaries, key=lambda b: (b.trust != "internet", b.id)):
        children.setdefault(boundary.parent, []).append(boundary)
    order: list[tuple[str | None, str]] = [(None, "outside every boundary")]

    def visit(parent: str | None, prefix: str) -> None:
        for boundary in children.get(parent, []):
            label = f"{prefix}{boundary.label} ({boundary.trust})"
            order.append((boundary.id, label))
            visit(boundary.id, f"{prefix}{boundary.label} / ")

    visit(None, "")
    return order


def layout(graph: "DataFlowGraph", flagged: set[str]) -> Layout:
    columns = _columns(graph)
    system = graph.system
    members: dict[str | None, list[str]] = {}
    for component in system.components:
        members.setdefault(component.boundary, []).append(component.id)
    width_columns = max(columns.values(), default=0) + 1
    content_width = width_columns * NODE_WIDTH + (width_columns - 1) * COLUMN_GAP
    band_width = content_width + 2 * BAND_PADDING
    boxes: list[Box] = []
    bands: list[Band] = []
    position: dict[str, tuple[float, float]] = {}
    y = MARGIN
    for boundary, label in _zones(graph):
        ids = sorted(members.get(boundary, []), key=lambda c: (columns[c], c))
        if not ids and boundary is None:
            continue
        stacks: dict[int, int] = {}
        for component_id in ids:
            stacks[columns[component_id]] = stacks.get(columns[component_id], 0) + 1
        rows = max(stacks.values(), default=1)
        height = BAND_LABEL + BAND_PADDING * 2 + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP
        bands.append(Band(label, MARGIN, y, band_width, height, boundary is None))
        used: dict[int, int] = {}
        for component_id in ids:
            column = columns[component_id]
            row = used.get(column, 0)
            used[column] = row + 1
            x = MARGIN + BAND_PADDING + column * (NODE_WIDTH + COLUMN_GAP)
            top = y + BAND_LABEL + BAND_PADDING + row * (NODE_HEIGHT + ROW_GAP)
            component = system.component(component_id)
            shape = {"external-entity": "entity", "data-store": "store"}.get(graph.dfd(component_id), "process")
            boxes.append(Box(component_id, _short(component.label), f"{component.label} ({component.kind})",
                             shape, x, top, component_id in flagged))
            position[component_id] = (x, top)
        y += height + ROW_GAP
    edges = []
    for flow in sorted(system.flows, key=lambda f: f.key):
        (sx, sy), (tx, ty) = position[flow.source], position[flow.target]
        y1, y2 = sy + NODE_HEIGHT / 2, ty + NODE_HEIGHT / 2
        if sx + NODE_WIDTH <= tx:  # left to right
            x1, x2 = sx + NODE_WIDTH, tx
            bend = (x2 - x1) / 2
            c1, c2 = x1 + bend, x2 - bend
        elif tx + NODE_WIDTH <= sx:  # right to left
            x1, x2 = sx, tx + NODE_WIDTH
            bend = (x1 - x2) / 2
            c1, c2 = x1 - bend, x2 + bend
        else:  # same column: out of the right side and back into it, bulging right
            x1, x2 = sx + NODE_WIDTH, tx + NODE_WIDTH
            c1, c2 = x1 + COLUMN_GAP * 0.8, x2 + COLUMN_GAP * 0.8
        path = f"M {x1:.1f} {y1:.1f} C {c1:.1f} {y1:.1f}, {c2:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}"
        # the curve's point at t = 1/2
        label_x = (x1 + 3 * c1 + 3 * c2 + x2) / 8
        label_y = (y1 + y2) / 2
        edges.append(Edge(_short(flow.label), path, label_x, label_y, flow.bidirectional))
    return Layout(band_width + 2 * MARGIN, y - ROW_GAP + MARGIN, bands, boxes, edges)
