"""Data lineage: what an element's contents depend on, following flows.

Lineage answers "where does this dataset's content come from" and "does inference output flow
back into training data". It is never used to decide who can attack an element: that is
:mod:`.reach`, which follows actors, authentication and control.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from threatmodel.graph.structure import Structure


class Lineage:
    def __init__(self, graph: "Structure") -> None:
        self.graph = graph
        self._closures: dict[tuple[object, ...], frozenset[str]] = {}
        self._loops: dict[str, list[str] | None] = {}

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
        """Nodes reachable (by one or more flows) from any node satisfying ``seeds``: one
        multi-source search per question, cached, so that searches that cannot succeed return
        at once and the analysis stays linear in the size of the model."""
        if key not in self._closures:
            graph = self.graph.graph
            step = graph.successors if forward else graph.predecessors
            seen: set[str] = set()
            queue = deque(n for n in graph.nodes if seeds(n))
            while queue:
                for neighbour in step(queue.popleft()):
                    if neighbour not in seen:
                        seen.add(neighbour)
                        queue.append(neighbour)
            self._closures[key] = frozenset(seen)
        return self._closures[key]

    def path_from(self, target: str, is_source: Callable[[str], bool], key: tuple[object, ...]) -> list[str] | None:
        """Shortest flow path ending at ``target`` whose first node satisfies ``is_source``."""
        if target not in self._closure(key, is_source, forward=True):
            return None
        path = self._search(target, self.graph.graph.predecessors, is_source)
        return list(reversed(path)) if path else None

    def upstream_with_trait(self, target: str, trait: str) -> list[str] | None:
        """Shortest path from a component with ``trait`` to ``target``."""
        return self.path_from(target, lambda n: trait in self.graph.traits(n), ("trait", trait))

    def upstream_with_role(self, target: str, role: str) -> list[str] | None:
        return self.path_from(target, lambda n: self.graph.has_role(n, role), ("role", role))

    def downstream_with_trait(self, source: str, traits: Iterable[str]) -> list[str] | None:
        """Shortest flow path from ``source`` to a component with any of ``traits``."""
        wanted = frozenset(traits)

        def is_goal(node: str) -> bool:
            return bool(wanted & self.graph.traits(node))

        if source not in self._closure(("feeds", wanted), is_goal, forward=False):
            return None
        return self._search(source, self.graph.graph.successors, is_goal)

    def feedback_path(self, target: str) -> list[str] | None:
        """A path by which inference output or user input flows back into training data."""
        if target not in self._loops:
            self._loops[target] = (self.upstream_with_role(target, "inference")
                                   if self.graph.has_role(target, "training_data") else None)
        return self._loops[target]

    @property
    def feedback_loops(self) -> dict[str, list[str]]:
        return {n: p for n in sorted(self.graph.graph.nodes) if (p := self.feedback_path(n))}

    def sensitive_training_path(self, component_id: str) -> list[str] | None:
        """A path from training data holding personal or confidential data to the component."""
        return self.path_from(
            component_id,
            lambda n: self.graph.has_role(n, "training_data") and self.graph.is_sensitive(n),
            ("sensitive-training-data",))
