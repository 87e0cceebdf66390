"""The data-flow graph by concern: structure (:mod:`.structure`), who can reach what
(:mod:`.reach`, with the actors of :mod:`.actors`), and what contents depend on (:mod:`.lineage`).

``DataFlowGraph`` and friends load on first use: only :mod:`.structure` needs networkx, and the
vocabulary of :mod:`.reach` is read by the catalog loader, which must not pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .structure import UNTRUSTED, Crossing, DataFlowGraph, EntryPoint

__all__ = ["DataFlowGraph", "Crossing", "EntryPoint", "UNTRUSTED"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from . import structure

        return getattr(structure, name)
    raise AttributeError(f"module 'threatmodel.graph' has no attribute {name!r}")
