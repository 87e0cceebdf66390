"""The data-flow graph as the analysis uses it: the structure, and what is derived from it.

:class:`DataFlowGraph` is the :class:`~threatmodel.graph.structure.Structure` of a system with
its derived views attached, each computed lazily and once: who can reach what
(:mod:`.reach`, with the actors of :mod:`.actors`), what an element's contents depend on
(:mod:`.lineage`), and the attack path to each high-value asset. The derived modules read only
the structure, so none of them imports another's result through the graph.
"""

from __future__ import annotations

from functools import cached_property

from threatmodel.graph.lineage import Lineage
from threatmodel.graph.reach import Reach
from threatmodel.graph.structure import Structure


class DataFlowGraph(Structure):
    @cached_property
    def reach(self) -> Reach:
        return Reach(self)

    @cached_property
    def lineage(self) -> Lineage:
        return Lineage(self)

    @cached_property
    def high_value_assets(self) -> list[str]:
        wanted = self.catalog.role("high_value")
        return sorted(n for n in self.graph.nodes if self.traits(n) & wanted)

    @cached_property
    def attack_paths(self) -> dict[str, list[str]]:
        """For each high-value asset: the path of the most likely actor that can control or read it."""
        result = {}
        for node in self.high_value_assets:
            best = self.reach.best(node, ("control", "read"))
            if best is not None:
                result[node] = list(best.path)
        return result
