"""The data-flow graph by concern: structure (:mod:`.structure`, a leaf), who can reach what
(:mod:`.reach`, with the actors of :mod:`.actors`), what contents depend on (:mod:`.lineage`),
and :mod:`.dataflow`, which composes them into the :class:`DataFlowGraph` the analysis reads.

Everything loads on first use: only the structure needs networkx, and the vocabulary of
:mod:`.reach` is read by the predicates, which must not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from threatmodel.graph.dataflow import DataFlowGraph
    from threatmodel.graph.structure import UNTRUSTED, Crossing, EntryPoint

__all__ = ["DataFlowGraph", "Crossing", "EntryPoint", "UNTRUSTED"]


def __getattr__(name: str) -> object:
    if name == "DataFlowGraph":
        from threatmodel.graph import dataflow

        return dataflow.DataFlowGraph
    if name in __all__:
        from threatmodel.graph import structure

        return getattr(structure, name)
    raise AttributeError(f"module 'threatmodel.graph' has no attribute {name!r}")
