"""The data-flow graph of a system and the facts the threat rules are built on.

Nodes are components, edges are flows (a bidirectional flow becomes two edges that share the
flow's key). Every fact here is computed from the graph alone: which flows cross which trust
boundaries, where data enters from a less trusted zone, what each untrusted source can reach,
which write paths lead into datasets and models, feedback loops, and shortest attack paths.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable

import networkx as nx

from .catalog import Kind
from .system import TRUST_ORDER, Component, Flow, System

UNTRUSTED = TRUST_ORDER["internet"]
HIGH_VALUE_TRAITS = frozenset({"holds_model_weights", "holds_training_data", "holds_secrets"})


@dataclass(frozen=True)
class Crossing:
    """A flow (in one direction) that crosses one or more trust boundaries."""

    flow: str
    source: str
    target: str
    boundaries: tuple[str, ...]
    direction: str  # "inbound" (towards more trust), "outbound" or "lateral"


@dataclass(frozen=True)
class EntryPoint:
    """Where data enters a component from a less trusted zone."""

    component: str
    flow: str
    source: str


class DataFlowGraph:
    def __init__(self, system: System, kinds: dict[str, Kind]) -> None:
        self.system = system
        self.kinds = kinds
        graph = nx.MultiDiGraph()
        for component in system.components:
            graph.add_node(component.id)
        for flow in system.flows:
            graph.add_edge(flow.source, flow.target, key=flow.key)
            if flow.bidirectional:
                graph.add_edge(flow.target, flow.source, key=flow.key)
        self.graph = graph
        self._trust = {c.id: TRUST_ORDER[system.trust_of(c)] for c in system.components}
        self._traits = {c.id: frozenset(kinds[c.kind].traits) for c in system.components}
        self._boundary_chain = {b.id: self._chain(b.id) for b in system.boundaries}
        self._paths: dict[tuple[str, str], list[str] | None] = {}
        self._closures: dict[tuple[object, ...], frozenset[str]] = {}
        self._assets: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------------ element facts

    def component(self, component_id: str) -> Component:
        return self.system.component(component_id)

    def trust(self, component_id: str) -> int:
        return self._trust[component_id]

    def traits(self, component_id: str) -> frozenset[str]:
        return self._traits[component_id]

    def dfd(self, component_id: str) -> str:
        return self.kinds[self.component(component_id).kind].dfd

    def attribute(self, component_id: str, name: str) -> object:
        return getattr(self.component(component_id), name)

    def zone(self, component_id: str) -> str:
        return self.system.zone_of(self.component(component_id))

    def label(self, component_id: str) -> str:
        return self.component(component_id).id

    def _chain(self, boundary_id: str) -> tuple[str, ...]:
        chain: list[str] = []
        current: str | None = boundary_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.system.boundary(current).parent
        return tuple(chain)

    def boundaries_of(self, component_id: str) -> tuple[str, ...]:
        """The component's boundary and every boundary it is nested in, innermost first."""
        boundary = self.component(component_id).boundary
        return self._boundary_chain[boundary] if boundary else ()

    # ------------------------------------------------------------------ flows

    def directed_flows(self) -> Iterable[tuple[str, str, str]]:
        """Every (source, target, flow key), bidirectional flows in both directions."""
        return self.graph.edges(keys=True)

    def flows_into(self, component_id: str) -> list[tuple[str, str]]:
        return sorted((source, key) for source, _, key in self.graph.in_edges(component_id, keys=True))

    def flows_out_of(self, component_id: str) -> list[tuple[str, str]]:
        return sorted((target, key) for _, target, key in self.graph.out_edges(component_id, keys=True))

    def crossing(self, source: str, target: str, flow_key: str) -> Crossing | None:
        outer = set(self.boundaries_of(source))
        inner = set(self.boundaries_of(target))
        crossed = tuple(sorted(outer ^ inner))
        if not crossed:
            return None
        delta = self.trust(target) - self.trust(source)
        direction = "inbound" if delta > 0 else "outbound" if delta < 0 else "lateral"
        return Crossing(flow_key, source, target, crossed, direction)

    @cached_property
    def crossings(self) -> list[Crossing]:
        found = (self.crossing(s, t, k) for s, t, k in self.directed_flows())
        return sorted((c for c in found if c), key=lambda c: (c.flow, c.source, c.target))

    @cached_property
    def entry_points(self) -> list[EntryPoint]:
        """Components that receive data from a less trusted zone, with the flow that brings it."""
        points = {
            EntryPoint(t, k, s)
            for s, t, k in self.directed_flows()
            if self.trust(s) < self.trust(t)
        }
        return sorted(points, key=lambda e: (e.component, e.flow, e.source))

    @cached_property
    def untrusted_sources(self) -> list[str]:
        """Components in the least trusted zone from which data flows into the system."""
        return sorted(n for n in self.graph.nodes if self.trust(n) == UNTRUSTED and self.graph.out_degree(n))

    # ------------------------------------------------------------------ reachability

    def reachable_from(self, source: str) -> set[str]:
        """Components that data leaving ``source`` can reach, following flows."""
        return set(nx.descendants(self.graph, source))

    def data_reachable_from(self, source: str) -> set[str]:
        """Data assets carried on any flow that data from ``source`` can travel along."""
        nodes = self.reachable_from(source) | {source}
        carried: set[str] = set()
        for s, _t, key in self.graph.out_edges(nodes, keys=True):
            carried.update(self.system.flow(key).data)
        return carried

    def _search(self, start: str, neighbours: Callable[[str], Iterable[str]],
                is_goal: Callable[[str], bool]) -> list[str] | None:
        """Breadth-first search from ``start``; the path to the nearest goal, start first."""
        previous: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for neighbour in sorted(neighbours(node)):
                if neighbour in previous:
                    continue
                previous[neighbour] = node
                if is_goal(neighbour):
                    path = [neighbour]
                    while previous[path[-1]] is not None:
                        path.append(previous[path[-1]])  # type: ignore[arg-type]
                    return list(reversed(path))
                queue.append(neighbour)
        return None

    def _closure(self, key: tuple[object, ...], seeds: Callable[[str], bool], forward: bool) -> frozenset[str]:
        """Nodes reachable (by one or more flows) from any node satisfying ``seeds``.

        One multi-source search per question, cached: it lets a path search that cannot
        succeed return at once instead of walking the whole graph, which keeps the analysis
        linear in the size of the model.
        """
        if key not in self._closures:
            step = self.graph.successors if forward else self.graph.predecessors
            start = [n for n in self.graph.nodes if seeds(n)]
            seen: set[str] = set()
            queue = deque(start)
            while queue:
                for neighbour in step(queue.popleft()):
                    if neighbour not in seen:
                        seen.add(neighbour)
                        queue.append(neighbour)
            self._closures[key] = frozenset(seen)
        return self._closures[key]

    def path_from(self, target: str, is_source: Callable[[str], bool],
                  key: tuple[object, ...] | None = None) -> list[str] | None:
        """Shortest flow path ending at ``target`` whose first node satisfies ``is_source``.

        The search runs backwards along flows. With a ``key`` naming the kind of source, a
        target that no such source reaches is answered without searching.
        """
        if key is not None and target not in self._closure(key, is_source, forward=True):
            return None
        path = self._search(target, self.graph.predecessors, is_source)
        return list(reversed(path)) if path else None

    def lower_trust_path_to(self, target: str) -> list[str] | None:
        """A write path into ``target`` that starts in a less trusted zone."""
        key = ("lower", target)
        if key not in self._paths:
            level = self.trust(target)
            self._paths[key] = self.path_from(target, lambda n: self.trust(n) < level, ("trust-below", level))
        return self._paths[key]

    def attack_path_to(self, target: str) -> list[str] | None:
        """The shortest path from an untrusted source to ``target``.

        Paths that start at an actor (a person or external service) are preferred over paths
        that start at an untrusted data store such as a library index: they are the ones an
        attacker drives.
        """
        if self.trust(target) == UNTRUSTED:
            return None
        key = ("untrusted", target)
        if key not in self._paths:
            from_actor = self.path_from(
                target, lambda n: self.trust(n) == UNTRUSTED and self.dfd(n) == "external-entity", ("untrusted-actor",))
            self._paths[key] = from_actor or self.path_from(
                target, lambda n: self.trust(n) == UNTRUSTED, ("untrusted",))
        return self._paths[key]

    def upstream_with_trait(self, target: str, trait: str) -> list[str] | None:
        """Shortest path from a component with ``trait`` to ``target``."""
        return self.path_from(target, lambda n: trait in self.traits(n), ("trait", trait))

    def downstream_with_trait(self, source: str, traits: Iterable[str]) -> list[str] | None:
        """Shortest flow path from ``source`` to a component with any of ``traits``."""
        wanted = frozenset(traits)

        def is_goal(node: str) -> bool:
            return bool(wanted & self.traits(node))

        if source not in self._closure(("feeds", wanted), is_goal, forward=False):
            return None
        return self._search(source, self.graph.successors, is_goal)

    @cached_property
    def write_paths(self) -> dict[str, list[str]]:
        """For each dataset and model store: a write path into it from a less trusted zone."""
        result = {}
        for node in sorted(self.graph.nodes):
            if self.traits(node) & {"holds_training_data", "holds_model_weights"}:
                path = self.lower_trust_path_to(node)
                if path:
                    result[node] = path
        return result

    def feedback_path(self, target: str) -> list[str] | None:
        """A path by which inference output or user input flows back into training data."""
        if "holds_training_data" not in self.traits(target):
            return None
        return self.upstream_with_trait(target, "serves_predictions")

    @cached_property
    def feedback_loops(self) -> dict[str, list[str]]:
        loops = {}
        for node in sorted(self.graph.nodes):
            path = self.feedback_path(node)
            if path:
                loops[node] = path
        return loops

    @cached_property
    def high_value_assets(self) -> list[str]:
        return sorted(n for n in self.graph.nodes if self.traits(n) & HIGH_VALUE_TRAITS)

    @cached_property
    def attack_paths(self) -> dict[str, list[str]]:
        """The shortest path from an untrusted source to each high-value asset."""
        result = {}
        for node in self.high_value_assets:
            path = self.attack_path_to(node)
            if path:
                result[node] = path
        return result

    def is_sensitive(self, component_id: str) -> bool:
        """Whether the component stores or moves personal or highly confidential data."""
        return any(self.system.data_asset(a).pii or self.system.data_asset(a).confidentiality == "high"
                   for a in self.data_stored_or_carried(component_id))

    def sensitive_training_path(self, component_id: str) -> list[str] | None:
        """A path from training data holding personal or confidential data to the component."""
        return self.path_from(
            component_id,
            lambda n: "holds_training_data" in self.traits(n) and self.is_sensitive(n),
            ("sensitive-training-data",))

    def data_stored_or_carried(self, component_id: str) -> frozenset[str]:
        """Data assets a component stores, plus those on flows into or out of it."""
        if component_id not in self._assets:
            assets = set(self.component(component_id).data)
            for _s, _t, key in self.graph.in_edges(component_id, keys=True):
                assets.update(self.system.flow(key).data)
            for _s, _t, key in self.graph.out_edges(component_id, keys=True):
                assets.update(self.system.flow(key).data)
            self._assets[component_id] = frozenset(assets)
        return self._assets[component_id]

    def describe_path(self, path: list[str]) -> str:
        return " → ".join(path)

    def flow(self, key: str) -> Flow:
        return self.system.flow(key)
