"""Who can reach what: for every actor class, one multi-source traversal of the graph.

An actor reaches an element with one of three kinds of access:
- ``input``: data the actor chooses arrives there (a query, an upload, poisoned samples);
- ``control``: the actor can change it, run code in it or delete it (a shell on a host, write
  access to a file, a library's code running in a process);
- ``read``: the actor controls the element, or controls a process the element flows into, or
  sends input to a service that does not authenticate and reads the element (directly or
  through the stores behind it).

The traversal respects flow direction, authentication (an actor without credentials stops at an
authenticated flow or service) and what components do: a person who logs into a host controls
it; a controlled bastion or deployment host gives control of what it updates; controlled code or
a model format that runs code on load gives control of the process that loads it; anything
a controlled process writes is controlled. Input travels on along every flow but never becomes
control, except that a notebook or build host runs what a person sends it, a service that runs
submitted code (or an admin interface that asks no login) obeys its callers, and a tool acts as
the agent that calls it was told to. A process that loads a model store gets weights, not input:
changing a model is a threat to the model, not a query to whatever serves it.

A finding's attack path and evidence both come from :meth:`Reach.best`, so they cannot disagree.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from threatmodel.graph.actors import Actor, derive_actors

if TYPE_CHECKING:
    from threatmodel.graph.structure import Structure

INPUT, CONTROL = 1, 2
VERBS = {"input": "sends input to", "query": "sends requests to", "control": "controls", "read": "can read"}


@dataclass(frozen=True)
class Access:
    """How one actor reaches one element."""

    actor: Actor
    access: str  # "input", "control" or "read"
    path: tuple[str, ...]  # from the actor (or the component it enters) to the element
    flows: tuple[str, ...]  # the flow keys along the path
    likelihood: int  # the actor class's likelihood adjustment

    def describe(self, graph: "Structure", element: str) -> str:
        title = graph.catalog.actor_classes[self.actor.actor_class].title.lower()
        via = f" via {graph.describe_path(self.path)}" if len(self.path) > 2 else ""
        return f"{self.actor.id} ({title}) {VERBS[self.access]} {element}{via}"


class _ClassReach:
    """One traversal for all actors of one class: the level and predecessor of every node."""

    def __init__(self, graph: "Structure", actor_class: str, actors: list[Actor]) -> None:
        self.graph = graph
        self.actor_class = actor_class
        self.info = graph.catalog.actor_classes[actor_class]
        self.actors = {a.id: a for a in actors}
        self.level: dict[str, int] = {}
        self.previous: dict[str, tuple[str, str | None] | None] = {}  # node -> (node or actor id, flow)
        self.origin: dict[str, str] = {}  # node -> actor id
        self.by_origin: dict[str, list[str]] | None = None
        self._run()

    # -------------------------------------------------------------- rules

    def _first_level(self, source: str | None, target: str, flow: str | None) -> int | None:
        graph = self.graph
        if flow is not None and graph.is_identity(flow):
            return None  # tokens and assertions: no data the actor chooses arrives
        if graph.dfd(target) == "external-entity":
            return INPUT if graph.relays(target) else None  # what the relay passes on is the actor's
        if not self.info.credentials and graph.attribute(target, "self_registration") is not True:
            flow_auth = graph.flow_value(flow, "authenticated")[0] if flow else None
            if flow_auth is True or graph.attribute(target, "authenticated") is True:
                return None  # an account is needed, and nobody can simply sign up for one
        if self.actor_class == "dependency" and source is not None:
            runs_here = graph.dfd(target) == "process" and (
                graph.has_role(source, "carries_code")
                or (graph.has_role(source, "model_store") and graph.executes_on_load(source)))
            return CONTROL if runs_here else INPUT
        if self.info.logs_in or self._obeys_callers(target):
            return CONTROL
        if source is not None and graph.has_role(source, "people") and graph.has_role(target, "runs_code"):
            return CONTROL  # a notebook or build host runs what a person sends it
        return INPUT

    def _obeys_callers(self, target: str) -> bool:
        """Whoever calls it runs code in it or administers it: a service that runs submitted code
        (a Ray or Jupyter server), or an admin interface that does not ask who is calling."""
        graph = self.graph
        return graph.has_role(target, "obeys_callers") or (
            graph.attribute(target, "admin_interface") is True and graph.attribute(target, "authenticated") is not True)

    def _next_level(self, level: int, source: str, target: str) -> int | None:
        graph = self.graph
        if graph.dfd(target) == "external-entity":
            return None
        if level == CONTROL:
            if graph.dfd(target) == "data-store":
                return CONTROL
            if (graph.has_role(source, "administers_targets") or graph.has_role(source, "carries_code")
                    or (graph.has_role(source, "model_store") and graph.executes_on_load(source))):
                return CONTROL
        if self._loads_weights(source, target):
            return None  # weights are not queries: a changed model is the model's own threat, not input
        return INPUT

    def _loads_weights(self, source: str, target: str) -> bool:
        return self.graph.has_role(source, "model_store") and self.graph.dfd(target) == "process"

    # -------------------------------------------------------------- traversal

    def _set(self, node: str, level: int, previous: tuple[str, str | None] | None, origin: str) -> bool:
        if self.level.get(node, 0) >= level:
            return False
        self.level[node] = level
        if node in self.previous and previous is not None and self._leads_through(previous[0], node):
            return True  # the upgrade came round through the node itself: its way in stays the one it had
        self.previous[node] = previous
        self.origin[node] = origin
        return True

    def _leads_through(self, start: str, node: str) -> bool:
        """Whether the recorded way in to ``start`` passes ``node``."""
        seen = set()
        current: str | None = start
        while current is not None and current not in seen:
            if current == node:
                return True
            seen.add(current)
            step = self.previous.get(current)
            current = step[0] if step is not None else None
        return False

    def _run(self) -> None:
        graph = self.graph
        control: deque[str] = deque()
        inputs: list[str] = []

        def reached(node: str, level: int | None, previous: tuple[str, str | None] | None, origin: str) -> None:
            if level is not None and self._set(node, level, previous, origin):
                (control if level == CONTROL else inputs).append(node)

        for actor in sorted(self.actors.values(), key=lambda a: a.id):
            if actor.node is not None:
                self._set(actor.node, CONTROL, None, actor.id)
                for target, key in graph.flows_out_of(actor.node):
                    reached(target, self._first_level(actor.node, target, key), (actor.node, key), actor.id)
                for collector, key in graph.answered_collectors(actor.node):
                    reached(collector, INPUT, (actor.node, key), actor.id)
            for entered in actor.enters:
                reached(entered, self._first_level(None, entered, None), (actor.id, None), actor.id)
        while True:
            while control:
                node = control.popleft()
                origin = self.origin[node]
                for target, key in graph.flows_out_of(node):
                    reached(target, self._next_level(CONTROL, node, target), (node, key), origin)
                if graph.has_role(node, "administers_environment"):
                    for source, key in graph.flows_into(node):
                        if graph.dfd(source) == "data-store":
                            reached(source, CONTROL, (node, key), origin)
            queue = deque(n for n in inputs if self.level[n] == INPUT)
            inputs = []
            while queue:
                node = queue.popleft()
                for target, key in graph.flows_out_of(node):
                    if target not in self.level and (graph.dfd(target) != "external-entity" or graph.relays(target)) \
                            and not self._loads_weights(node, target) and not graph.is_identity(key):
                        self._set(target, INPUT, (node, key), self.origin[node])
                        queue.append(target)
            # a model whose output is run as code or commands hands whoever steers it the
            # interpreter it writes to: input to the model is control of that process
            for node in sorted(n for n, level in self.level.items() if level == INPUT and self._executes_output(n)):
                came_from = (self.previous.get(node) or (None, None))[0]
                for flow in graph.system.flows:  # as drawn: the answer going back is not code to run
                    target = flow.target
                    if (flow.source == node and target != came_from and graph.has_component(target)
                            and graph.dfd(target) == "process" and self.level.get(target, 0) < CONTROL):
                        reached(target, CONTROL, (node, flow.key), self.origin[node])
            # a tool acts with the arguments the agent chose, and the agent chose what its input
            # said: a tool that runs commands outside a sandbox is the attacker's shell, and what a
            # writing tool can write (the user's files, a database), even inside a sandbox, the
            # attacker can change or delete
            for node in sorted(n for n, level in self.level.items()
                               if level == INPUT and graph.has_role(n, "steered_by_prompts")):
                capabilities = set(graph.attribute(node, "capabilities") or [])  # type: ignore[arg-type]
                if "execute" in capabilities and graph.attribute(node, "sandboxed") is not True:
                    reached(node, CONTROL, self.previous.get(node), self.origin[node])
                elif capabilities & {"write", "execute"}:
                    for target, key in graph.flows_out_of(node):
                        if graph.dfd(target) == "data-store":
                            reached(target, CONTROL, (node, key), self.origin[node])
            if not control:
                break

    def _executes_output(self, node: str) -> bool:
        graph = self.graph
        consumers = graph.attribute(node, "output_to") or []
        return graph.has_role(node, "prompted") and bool({"shell", "code"} & set(consumers))  # type: ignore[arg-type]

    def path(self, node: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        nodes, flows = [node], []
        current = self.previous.get(node)
        while current is not None:
            previous, key = current
            if previous in nodes:  # an upgrade made the pointers loop: the path so far is the way in
                break
            nodes.append(previous)
            if key is not None:
                flows.append(key)
            current = self.previous.get(previous) if previous in self.level else None
        return tuple(reversed(nodes)), tuple(reversed(flows))

    def access(self, element: str, kind: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        level = self.level.get(element, 0)
        if kind == "input" and level >= INPUT:
            return self.path(element)
        if kind == "query":
            return self._request(element) if level >= INPUT else None
        if kind in ("control", "read") and level == CONTROL:
            return self.path(element)
        if kind == "read":
            readers = [t for t, _k in self.graph.flows_out_of(element) if self.level.get(t) == CONTROL]
            if readers:
                reader = min(readers, key=lambda r: (len(self.path(r)[0]), r))
                nodes, flows = self.path(reader)
                key = next(k for t, k in self.graph.flows_out_of(element) if t == reader)
                return nodes + (element,), flows + (key,)
            return self._served(element)
        return None

    def _request(self, element: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """Input the actor sends as a request (a query, a prompt), not as content: the way in
        neither loads a model store into a process (weights are not queries) nor passes through a
        content source that was filled from outside (a document, a page, a tool's result). The
        recorded way in, else a way in through one of the element's callers."""
        route = self.path(element)
        if self._is_request(route[0]):
            return route
        graph = self.graph
        for source, key in graph.flows_into(element):
            if self.level.get(source, 0) >= INPUT:
                nodes, flows = self.path(source)
                if element not in nodes and self._is_request(nodes + (element,)):
                    return nodes + (element,), flows + (key,)
        return None

    def _is_request(self, nodes: tuple[str, ...]) -> bool:
        graph = self.graph
        steps = [n for n in nodes if graph.has_component(n)]
        for index in range(1, len(steps)):
            before, node = steps[index - 1], steps[index]
            if self._loads_weights(before, node):
                return False
            if index < len(steps) - 1 and graph.has_role(node, "context_source") \
                    and graph.dfd(before) in ("external-entity", "data-store"):
                return False  # it returns stored or outside content: whoever wrote that is its author
        return True

    def _served(self, element: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """Read access through a service that does not authenticate (``authenticated: false``):
        whoever can send it input gets what it reads, directly or through the stores behind it
        (a Git or file server in front of a repository that holds keys)."""
        graph = self.graph
        seen = {element}
        queue: deque[tuple[str, tuple[str, ...], tuple[str, ...]]] = deque([(element, (element,), ())])
        while queue:
            node, trail, keys = queue.popleft()
            for target, key in graph.flows_out_of(node):
                if target in seen or not graph.has_component(target):
                    continue
                seen.add(target)
                if graph.dfd(target) == "process" and graph.attribute(target, "authenticated") is False \
                        and self.level.get(target, 0) >= INPUT:
                    nodes, flows = self.path(target)
                    return nodes + tuple(reversed(trail)), flows + tuple(reversed(keys + (key,)))
                if graph.dfd(target) == "data-store":
                    queue.append((target, trail + (target,), keys + (key,)))
        return None


class Reach:
    """Actor reachability for the whole graph; each class's traversal runs on first use."""

    def __init__(self, graph: "Structure") -> None:
        self.graph = graph
        self.actors = derive_actors(graph)
        self._by_class: dict[str, list[Actor]] = {}
        for actor in self.actors:
            self._by_class.setdefault(actor.actor_class, []).append(actor)
        self._traversals: dict[str, _ClassReach] = {}

    def _traversal(self, actor_class: str) -> _ClassReach:
        if actor_class not in self._traversals:
            self._traversals[actor_class] = _ClassReach(self.graph, actor_class, self._by_class[actor_class])
        return self._traversals[actor_class]

    def accesses(self, element: str, kinds: Iterable[str], classes: Iterable[str] | None = None) -> list[Access]:
        """Every actor class's best way to ``element`` with one of ``kinds`` of access, most likely first."""
        wanted = set(classes) if classes is not None else set(self._by_class)
        found = []
        for actor_class in sorted(wanted & set(self._by_class)):
            traversal = self._traversal(actor_class)
            for kind in kinds:
                route = traversal.access(element, kind)
                if route is not None:
                    path, flows = route
                    actor = traversal.actors[path[0]]  # every path starts at its actor
                    found.append(Access(actor, kind, path, flows, traversal.info.likelihood))
                    break
        return sorted(found, key=lambda a: (-a.likelihood, a.actor.id == "anyone-on-the-internet",
                                            len(a.path), a.actor.id))

    def best(self, element: str, kinds: Iterable[str], classes: Iterable[str] | None = None) -> Access | None:
        found = self.accesses(element, kinds, classes)
        return found[0] if found else None

    def reached(self, actor_class: str) -> dict[str, int]:
        """Every node this class reaches, with its level (1 input, 2 control)."""
        return dict(self._traversal(actor_class).level) if actor_class in self._by_class else {}

    def capabilities(self, actor: Actor) -> list[str]:
        """NIST-style capabilities an actor has, from what its class reaches from it."""
        traversal = self._traversal(actor.actor_class)
        if traversal.by_origin is None:  # grouped once per class, not scanned once per actor
            traversal.by_origin = {}
            for node, origin in traversal.origin.items():
                traversal.by_origin.setdefault(origin, []).append(node)
        graph = self.graph
        mine = traversal.by_origin.get(actor.id, [])
        found = set()
        for node in mine:
            level = traversal.level[node]
            if graph.has_role(node, "inference"):
                found.add("query_access")
            if graph.has_role(node, "training_data"):
                found.add("training_data_control")
            if graph.has_role(node, "prompted"):
                found.add("prompt_access")
            # content it writes, or sends into a source that takes outsiders' content, ends up in a prompt
            if graph.has_role(node, "context_source") and (
                    level == CONTROL or graph.attribute(node, "untrusted_content") is True
                    or graph.has_role(actor.id, "supplier")):
                found.add("content_control")
            if level == CONTROL:
                if graph.has_role(node, "model_store"):
                    found.add("model_control")
                if graph.has_role(node, "carries_code") or graph.has_role(node, "runs_code"):
                    found.add("source_code_control")
                if graph.has_role(node, "administers_targets"):
                    found.add("infrastructure_access")
        return [c for c in graph.catalog.capabilities if c in found]
