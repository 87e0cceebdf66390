"""The data-flow graph of a system: elements, flows, trust zones and boundary crossings.

Nodes are components, edges are flows (a bidirectional flow becomes two edges that share the
flow's key). This module is a leaf: who can reach what (:mod:`.reach`) and what an element's
contents depend on (:mod:`.lineage`) are computed from it, and :mod:`.dataflow` attaches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

import networkx as nx

from threatmodel.catalog.model import Catalog
from threatmodel.system.model import TRUST_ORDER, Component, Flow, System


UNTRUSTED = TRUST_ORDER["internet"]


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


class Structure:
    def __init__(self, system: System, catalog: Catalog) -> None:
        self.system = system
        self.catalog = catalog
        self.kinds = catalog.kinds
        graph = nx.MultiDiGraph()
        for component in system.components:
            graph.add_node(component.id)
        for flow in system.flows:
            graph.add_edge(flow.source, flow.target, key=flow.key)
            if flow.bidirectional:
                graph.add_edge(flow.target, flow.source, key=flow.key)
        self.graph = graph
        self._trust = {c.id: TRUST_ORDER[system.trust_of(c)] for c in system.components}
        self._traits = {c.id: frozenset(self.kinds[c.kind].traits) for c in system.components}
        self._roles = {c.id: self.kinds[c.kind].roles for c in system.components}
        self._dfd = {c.id: self.kinds[c.kind].dfd for c in system.components}
        self._produced: dict[str, frozenset[str]] = {}
        self.memo: dict[tuple[object, ...], object] = {}  # per-graph caches of the analysis and scoring
        self._boundary_chain = {b.id: self._chain(b.id) for b in system.boundaries}
        self._assets: dict[str, frozenset[str]] = {}

    # ------------------------------------------------------------------ element facts

    def component(self, component_id: str) -> Component:
        return self.system.component(component_id)

    def has_component(self, element: str) -> bool:
        return element in self._trust

    def trust(self, component_id: str) -> int:
        return self._trust[component_id]

    def traits(self, component_id: str) -> frozenset[str]:
        return self._traits[component_id]

    def has_what_it_needs(self, needs: list[str], component_id: str) -> bool:
        """The component, or a component it sends to (either way of a two-way flow), has one of the
        traits (a mitigation's ``needs``); true when nothing is needed or the element is not a component."""
        if not needs or component_id not in self._traits:
            return True
        wanted = set(needs)
        if self._traits[component_id] & wanted:
            return True
        neighbours = {f.target for f in self.system.flows if f.source == component_id} | {
            f.source for f in self.system.flows if f.target == component_id and f.bidirectional}
        return any(self._traits.get(n, frozenset()) & wanted for n in neighbours)

    def has_role(self, component_id: str, role: str) -> bool:
        return role in self._roles[component_id]

    def dfd(self, component_id: str) -> str:
        return self._dfd[component_id]

    def attribute(self, component_id: str, name: str) -> object:
        return getattr(self.component(component_id), name)

    def zone(self, component_id: str) -> str:
        return self.system.zone_of(self.component(component_id))

    def outside(self, component_id: str) -> bool:
        return self.component(component_id).boundary is None

    def executes_on_load(self, component_id: str) -> bool:
        """A model file whose format runs code when it is loaded (catalog/formats.yaml)."""
        artifact_format = self.catalog.formats.get(self.component(component_id).format or "")
        return bool(artifact_format and artifact_format.executes_code_on_load)

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

    def flow(self, key: str) -> Flow:
        return self.system.flow(key)

    def directed_flows(self) -> Iterable[tuple[str, str, str]]:
        """Every (source, target, flow key), bidirectional flows in both directions."""
        return self.graph.edges(keys=True)

    def flows_into(self, component_id: str) -> list[tuple[str, str]]:
        return sorted((source, key) for source, _, key in self.graph.in_edges(component_id, keys=True))

    def flows_out_of(self, component_id: str) -> list[tuple[str, str]]:
        return sorted((target, key) for _, target, key in self.graph.out_edges(component_id, keys=True))

    def _protocol(self, key: str) -> object:
        """The first well-known protocol named in the flow's ``protocol`` ("VS Code (SSH)": ssh)."""
        import re

        for word in re.findall(r"[a-z0-9][a-z0-9-]*", self.flow(key).protocol.lower()):
            if word in self.catalog.protocols:
                return self.catalog.protocols[word]
        return None

    def flow_value(self, key: str, name: str) -> tuple[bool | None, str]:
        """A flow's ``encrypted`` or ``authenticated``: what it states, else what its protocol
        implies, else unknown (None); with where the value comes from."""
        stated = getattr(self.flow(key), name)
        if stated is not None:
            return stated, "stated"
        protocol = self._protocol(key)
        implied = getattr(protocol, name, None) if protocol is not None else None
        if implied is not None:
            return implied, f"implied by protocol {self.flow(key).protocol}"
        return None, "unknown"

    def is_identity(self, key: str) -> bool:
        """Whether the flow's protocol carries only identity (OIDC, OAuth, SAML tokens), not content."""
        return bool(getattr(self._protocol(key), "identity", False))

    def is_login(self, key: str) -> bool:
        """Whether the flow's protocol gives whoever connects a shell (SSH, RDP)."""
        protocol = self._protocol(key)
        return bool(getattr(protocol, "login", False))

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
        points = {EntryPoint(t, k, s) for s, t, k in self.directed_flows() if self.trust(s) < self.trust(t)}
        return sorted(points, key=lambda e: (e.component, e.flow, e.source))

    def answered_collectors(self, component_id: str) -> list[tuple[str, str]]:
        """(collector, flow) pairs where a data collector calls this component: the answer is data
        the collector gathers, whichever way the flow is drawn."""
        if self.dfd(component_id) != "external-entity":
            return []
        return [(source, key) for source, key in self.flows_into(component_id) if self.has_role(source, "collector")]

    def relays(self, component_id: str) -> bool:
        """An outside service (not a person) that passes what it receives on into the system: a
        ticketing, e-mail or form service between the public and a model relays their input."""
        return (self.dfd(component_id) == "external-entity" and self.has_role(component_id, "supplier")
                and not self.has_role(component_id, "people")
                and any(self.dfd(target) != "external-entity" and not self.is_identity(key)
                        for target, key in self.flows_out_of(component_id)))

    def internet_entries(self, component_id: str) -> list[tuple[str, str]]:
        """(person, flow) pairs by which someone outside every boundary connects to the component."""
        return [(source, key) for source, key in self.flows_into(component_id)
                if self.outside(source) and self.has_role(source, "people")]

    # ------------------------------------------------------------------ data

    def data_held(self, component_id: str) -> frozenset[str]:
        return frozenset(self.component(component_id).data)

    def data_produced(self, component_id: str) -> frozenset[str]:
        """Data assets the component stores or sends out."""
        if component_id not in self._produced:
            assets = set(self.component(component_id).data)
            for _s, _t, key in self.graph.out_edges(component_id, keys=True):
                assets.update(self.flow(key).data)
            self._produced[component_id] = frozenset(assets)
        return self._produced[component_id]

    def data_stored_or_carried(self, component_id: str) -> frozenset[str]:
        """Data assets a component stores, plus those on flows into or out of it."""
        if component_id not in self._assets:
            assets = set(self.data_produced(component_id))
            for _s, _t, key in self.graph.in_edges(component_id, keys=True):
                assets.update(self.flow(key).data)
            self._assets[component_id] = frozenset(assets)
        return self._assets[component_id]

    def is_sensitive(self, component_id: str) -> bool:
        """Whether the component stores or moves personal or highly confidential data."""
        return any(self.system.data_asset(a).pii or self.system.data_asset(a).confidentiality == "high"
                   for a in self.data_stored_or_carried(component_id))

    def describe_path(self, path: Iterable[str]) -> str:
        return " → ".join(path)
