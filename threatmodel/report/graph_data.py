"""The data-flow graph and ATLAS techniques as plain data, for the report and for `threatmodel graph`.

Key order is fixed and lists are sorted: the same input gives byte-identical output.
"""

from __future__ import annotations

from typing import Any

from threatmodel.catalog.atlas import AtlasIndex
from threatmodel.graph import DataFlowGraph


def atlas_technique_data(atlas: AtlasIndex, technique_id: str) -> dict[str, Any]:
    return {
        "id": technique_id,
        "name": atlas.full_name(technique_id),
        "tactics": [{"id": t.id, "name": t.name} for t in atlas.tactics_of(technique_id)],
    }


def graph_data(graph: DataFlowGraph, *, facts: bool = False) -> dict[str, Any]:
    """Nodes grouped by boundary and flows; with ``facts`` also what the graph computes (crossings,
    entry points, actors, reach, feedback loops, attack paths), which only `threatmodel graph
    --format json` prints: a report reads none of it, and attack paths cost a search per asset."""
    system = graph.system
    nodes = [
        {
            "id": c.id, "name": c.label, "kind": c.kind, "dfd": graph.dfd(c.id),
            "boundary": c.boundary, "trust": system.trust_of(c),
        }
        for c in sorted(system.components, key=lambda c: c.id)
    ]
    members: dict[str | None, list[dict[str, Any]]] = {}
    for node in nodes:
        members.setdefault(node["boundary"], []).append(node)
    children: dict[str | None, list[str]] = {}
    for b in sorted(system.boundaries, key=lambda b: b.id):
        children.setdefault(b.parent, []).append(b.id)
    boundaries = [
        {"id": b.id, "name": b.label, "trust": b.trust, "parent": b.parent,
         "components": [n["id"] for n in members.get(b.id, [])], "children": children.get(b.id, [])}
        for b in sorted(system.boundaries, key=lambda b: b.id)
    ]
    flows = [
        {"id": f.key, "from": f.source, "to": f.target, "name": f.label, "protocol": f.protocol,
         "data": list(f.data), "encrypted": f.encrypted, "authenticated": f.authenticated,
         "bidirectional": f.bidirectional}
        for f in sorted(system.flows, key=lambda f: f.key)
    ]
    data: dict[str, Any] = {
        "system": system.info.name,
        "boundaries": boundaries,
        "top_boundaries": [b for b in boundaries if b["parent"] is None],
        "boundary_index": {b["id"]: b for b in boundaries},
        "outside": [n["id"] for n in members.get(None, [])],
        "outside_nodes": members.get(None, []),
        "boundary_nodes": {b.id: members.get(b.id, []) for b in system.boundaries},
        "nodes": nodes,
        "flows": flows,
    }
    if facts:
        data["facts"] = {
            "crossings": [{"flow": c.flow, "from": c.source, "to": c.target,
                           "boundaries": list(c.boundaries), "direction": c.direction}
                          for c in graph.crossings],
            "entry_points": [{"component": e.component, "flow": e.flow, "from": e.source}
                             for e in graph.entry_points],
            "actors": [{"id": a.id, "class": a.actor_class, "location": a.location, "derived": a.derived,
                        "capabilities": graph.reach.capabilities(a)} for a in graph.reach.actors],
            "reach": {actor_class: {"input": sorted(n for n, level in levels.items() if level == 1),
                                    "control": sorted(n for n, level in levels.items() if level == 2)}
                      for actor_class in sorted({a.actor_class for a in graph.reach.actors})
                      for levels in [graph.reach.reached(actor_class)]},
            "feedback_loops": graph.lineage.feedback_loops,
            "attack_paths": graph.attack_paths,
        }
    return data
