"""The actors of a system: who can attack it, from where.

Derived from the model unless it says otherwise (docs/format.md):
- a person inside a boundary is an *insider* there;
- a person outside every boundary is an *operator* when every flow they start is authenticated
  and leads somewhere they work (a data store that does not take outsiders' content, a host that
  runs their code or deploys, an administrative entry point, or logs in with SSH); a *customer* when every flow is authenticated but leads only to
  services; otherwise *anonymous* (anyone on the internet can do what they do);
- an outside service that sends data in is a *supplier* (a data collector that calls it is
  answered by it, even when the flow is drawn only from the collector to the service);
- a third-party library or model is a *dependency*, and so is a tool or MCP server declared
  ``origin: third-party`` (someone else's code runs there);
- an outside service that passes on what it receives (a ticketing or e-mail service) relays
  the input of whoever sends it something: reach goes on through it;
- a component's ``actor:`` overrides the class, and ``actors:`` adds actors not drawn as components;
- a service declared ``exposure: public`` that no anonymous person reaches gets an implicit
  anonymous actor, "anyone on the internet".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threatmodel.graph.structure import Structure

INTERNET_ACTOR = "anyone-on-the-internet"


@dataclass(frozen=True)
class Actor:
    id: str
    name: str
    actor_class: str  # a catalog actor class (catalog/actors.yaml)
    location: str  # a boundary id, or "outside"
    node: str | None  # the component the actor is, when it is one
    enters: tuple[str, ...]  # for actors that are not components: what they connect to directly
    derived: bool  # derived from the model rather than declared

    @property
    def kind(self) -> str:
        return self.actor_class


def _person_class(graph: "Structure", node: str, without: str | None = None) -> str:
    if not graph.outside(node):
        return "insider"
    # signing in at an identity provider says how they authenticate, not what they do
    outgoing = [(target, key) for target, key in graph.flows_out_of(node)
                if key != without and not graph.is_identity(key)]
    if not outgoing:
        return "anonymous"
    # what the person does decides who they are: someone who logs in, writes stores, runs code or
    # deploys is an operator even when one of their flows does not authenticate (that flow's
    # target is then open to anyone on the internet too: see derive_actors)
    works_there = any((graph.dfd(target) == "data-store" and graph.attribute(target, "untrusted_content") is not True)
                      or graph.has_role(target, "runs_code")
                      or graph.has_role(target, "administers_targets") or graph.is_login(key)
                      for target, key in outgoing if graph.flow_value(key, "authenticated")[0] is True
                      or graph.is_login(key))
    if works_there:
        return "operator"
    if any(graph.flow_value(key, "authenticated")[0] is not True for _t, key in outgoing):
        return "anonymous"
    return "customer"


def deciding_flows(graph: "Structure") -> list[tuple[str, str, str, str]]:
    """People outside with several flows whose derived class one flow alone decides:
    (person, flow key, their class, their class without that flow), in model order."""
    found = []
    for component in sorted(graph.system.components, key=lambda c: c.id):
        node = component.id
        if component.actor is not None or not graph.has_role(node, "people") or not graph.outside(node):
            continue
        outgoing = [(target, key) for target, key in graph.flows_out_of(node) if not graph.is_identity(key)]
        if len(outgoing) < 2:
            continue
        mine = _person_class(graph, node)
        for _target, key in sorted(outgoing, key=lambda pair: pair[1]):
            other = _person_class(graph, node, without=key)
            if other != mine:
                found.append((node, key, mine, other))
    return found


def _open_doors(graph: "Structure", actors: list[Actor]) -> list[str]:
    """Components an operator outside reaches over a flow that does not authenticate: anyone on
    the internet can use the same door."""
    doors = set()
    for actor in actors:
        if actor.node and actor.actor_class == "operator" and actor.derived and graph.outside(actor.node):
            doors |= {target for target, key in graph.flows_out_of(actor.node)
                      if graph.flow_value(key, "authenticated")[0] is not True and not graph.is_login(key)}
    return sorted(doors)


def derive_actors(graph: "Structure") -> list[Actor]:
    actors: list[Actor] = []
    for component in sorted(graph.system.components, key=lambda c: c.id):
        node = component.id
        if graph.has_role(node, "people"):
            derived_class = _person_class(graph, node)
        elif graph.has_role(node, "dependency") or (graph.has_role(node, "third_party_when_declared")
                                                     and graph.attribute(node, "origin") == "third-party"):
            derived_class = "dependency"
        elif graph.has_role(node, "supplier"):
            derived_class = "supplier"
        else:
            continue
        if not graph.graph.out_degree(node) and not graph.answered_collectors(node):
            continue  # sends nothing into the system: no way in
        actors.append(Actor(node, component.label, component.actor or derived_class,
                            component.boundary or "outside", node, (), component.actor is None))
    for declared in sorted(graph.system.actors, key=lambda a: a.id):
        actors.append(Actor(declared.id, declared.label, declared.actor_class, declared.boundary or "outside",
                            None, tuple(declared.enters), False))
    public = [c.id for c in sorted(graph.system.components, key=lambda c: c.id)
              if c.exposure == "public" and graph.dfd(c.id) != "external-entity"]
    public += [door for door in _open_doors(graph, actors) if door not in public]
    anonymous_reach = _downstream(graph, [a.node for a in actors if a.actor_class == "anonymous" and a.node])
    unreached = tuple(p for p in public if p not in anonymous_reach)
    if unreached:
        actors.append(Actor(INTERNET_ACTOR, "Anyone on the internet", "anonymous", "outside", None, unreached, True))
    return actors


def _downstream(graph: "Structure", starts: list[str]) -> set[str]:
    """Every component that flows lead to from ``starts``, not passing through other actors
    (one traversal for all of them)."""
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        for target in graph.graph.successors(stack.pop()):
            if target not in seen and (graph.dfd(target) != "external-entity" or graph.relays(target)):
                seen.add(target)
                stack.append(target)
    return seen
