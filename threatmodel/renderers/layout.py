"""Lay out the data-flow diagram for the built-in SVG drawing (used when Graphviz is absent).

Top-down, so that it reads at a page's width without zoom: each trust zone is a horizontal band
(outside every boundary first, then the boundaries in order of trust, a nested boundary right after
its parent), and the bands are stacked. Within a band, components are read left to right and top
to bottom in their flow order (the longest chain of flows leading to them, each flow in its
declared direction, computed with networkx on the graph with its cycles condensed), a row
wrapping after as many boxes as fit in ``MAX_WIDTH``. A box shows the component's id (unique, so two boxes never read the same) on up to
three lines; the report's legend gives the full names. The result is plain data (boxes, bands,
edges with coordinates) that templates/dfd.svg.j2 draws; nothing here writes markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from threatmodel.graph import DataFlowGraph

MAX_WIDTH = 1000  # the drawing's width at most: the HTML report's column, so text keeps its size
NODE_WIDTH = 150
NODE_HEIGHT = 54
COLUMN_GAP = 40
ROW_GAP = 44  # room for a flow's label between rows
BAND_PADDING = 16
BAND_LABEL = 22
MARGIN = 12
LINE_CHARS = 20  # characters on one line of a box at 12 px
MAX_LINES = 3
EDGE_LABEL_CHARS = 22
MAX_COLUMNS = max(1, int((MAX_WIDTH - 2 * MARGIN - 2 * BAND_PADDING + COLUMN_GAP) // (NODE_WIDTH + COLUMN_GAP)))


@dataclass(frozen=True)
class Box:
    id: str
    lines: tuple[str, ...]  # the id, broken after hyphens, underscores, dots or spaces
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
    label: str  # shortened to EDGE_LABEL_CHARS; the full label is the flow's tooltip
    title: str
    path: str  # an SVG path (numbers only): a cubic curve from the source's side to the target's
    label_x: float
    label_y: float
    both: bool


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    node_width: float
    node_height: float
    bands: list[Band]
    boxes: list[Box]
    edges: list[Edge]


def _short(text: str, width: int = EDGE_LABEL_CHARS) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def box_lines(text: str) -> tuple[str, ...]:
    """The text on lines of at most LINE_CHARS, broken after a hyphen, underscore, dot or space;
    beyond MAX_LINES, the middle is elided so that both ends (which tell ids apart) stay."""
    lines: list[str] = []
    line = ""
    for word in re.findall(r"[^\s._-]*[\s._-]|[^\s._-]+", text):
        while len(word) > LINE_CHARS:  # a run with no break in it
            if line:
                lines.append(line.rstrip())
                line = ""
            lines.append(word[:LINE_CHARS])
            word = word[LINE_CHARS:]
        if line and len(line) + len(word.rstrip()) > LINE_CHARS:
            lines.append(line.rstrip())
            line = ""
        line += word
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > MAX_LINES:
        keep = LINE_CHARS - 1
        lines = lines[: MAX_LINES - 2] + [lines[MAX_LINES - 2][:keep] + "…", text[-LINE_CHARS:]]
    return tuple(lines) or ("",)


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
    depth = _columns(graph)
    system = graph.system
    members: dict[str | None, list[str]] = {}
    for component in system.components:
        members.setdefault(component.boundary, []).append(component.id)
    grids: list[tuple[str | None, str, list[list[str]]]] = []
    for boundary, label in _zones(graph):
        ids = sorted(members.get(boundary, []), key=lambda c: (depth[c], c))
        if not ids and boundary is None:
            continue
        rows: list[list[str]] = []
        for component_id in ids:
            if not rows or len(rows[-1]) == MAX_COLUMNS:
                rows.append([])
            rows[-1].append(component_id)
        grids.append((boundary, label, rows or [[]]))
    columns = max((len(row) for _, _, rows in grids for row in rows), default=1) or 1
    band_width = columns * NODE_WIDTH + (columns - 1) * COLUMN_GAP + 2 * BAND_PADDING
    boxes: list[Box] = []
    bands: list[Band] = []
    position: dict[str, tuple[float, float]] = {}
    y = MARGIN
    for boundary, label, rows in grids:
        height = BAND_LABEL + BAND_PADDING * 2 + len(rows) * NODE_HEIGHT + (len(rows) - 1) * ROW_GAP
        bands.append(Band(label, MARGIN, y, band_width, height, boundary is None))
        for row_index, row in enumerate(rows):
            top = y + BAND_LABEL + BAND_PADDING + row_index * (NODE_HEIGHT + ROW_GAP)
            for column, component_id in enumerate(row):
                x = MARGIN + BAND_PADDING + column * (NODE_WIDTH + COLUMN_GAP)
                component = system.component(component_id)
                shape = {"external-entity": "entity", "data-store": "store"}.get(graph.dfd(component_id), "process")
                boxes.append(Box(component_id, box_lines(component_id), f"{component.label} ({component.kind})",
                                 shape, x, top, component_id in flagged))
                position[component_id] = (x, top)
        y += height + ROW_GAP
    edges = []
    for flow in sorted(system.flows, key=lambda f: f.key):
        (sx, sy), (tx, ty) = position[flow.source], position[flow.target]
        if sy + NODE_HEIGHT <= ty:  # downwards: bottom centre to top centre
            x1, y1, x2, y2 = sx + NODE_WIDTH / 2, sy + NODE_HEIGHT, tx + NODE_WIDTH / 2, ty
            bend = (y2 - y1) / 2
            path = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + bend:.1f}, {x2:.1f} {y2 - bend:.1f}, {x2:.1f} {y2:.1f}"
        elif ty + NODE_HEIGHT <= sy:  # upwards: top centre to bottom centre
            x1, y1, x2, y2 = sx + NODE_WIDTH / 2, sy, tx + NODE_WIDTH / 2, ty + NODE_HEIGHT
            bend = (y1 - y2) / 2
            path = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 - bend:.1f}, {x2:.1f} {y2 + bend:.1f}, {x2:.1f} {y2:.1f}"
        else:  # the same row: from one side to the other, arching above the row
            left_to_right = sx < tx
            x1 = sx + (NODE_WIDTH if left_to_right else 0)
            x2 = tx + (0 if left_to_right else NODE_WIDTH)
            y1 = y2 = sy + NODE_HEIGHT / 2
            lift = min(ROW_GAP, 12 + abs(x2 - x1) / 6)
            path = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 - lift:.1f}, {x2:.1f} {y2 - lift:.1f}, {x2:.1f} {y2:.1f}"
            y1 = y2 = y1 - lift * 0.75
        edges.append(Edge(_short(flow.label), f"{flow.source} → {flow.target}: {flow.label}", path, (x1 + x2) / 2, (y1 + y2) / 2, flow.bidirectional))
    return Layout(band_width + 2 * MARGIN, y - ROW_GAP + MARGIN, NODE_WIDTH, NODE_HEIGHT, bands, boxes, edges)
