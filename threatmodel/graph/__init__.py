"""The data-flow graph by concern: structure (:mod:`.structure`), who can reach what
(:mod:`.reach`, with the actors of :mod:`.actors`), and what contents depend on (:mod:`.lineage`)."""

from .structure import UNTRUSTED, Crossing, DataFlowGraph, EntryPoint

__all__ = ["DataFlowGraph", "Crossing", "EntryPoint", "UNTRUSTED"]
