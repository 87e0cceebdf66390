"""Evidence: the outputs of real tools, read back in to show whether a control is in place.

Each reader is a small module that turns one tool's documented output into
:class:`~threatmodel.evidence.model.Observation` records: "this tool, on this date, looked at
this artifact (or package) for this mitigation, and it passed or failed". What the
observations mean for each mitigation on each element is decided in
:mod:`threatmodel.evidence.judge`. The formats, with real examples, are in docs/evidence.md.
"""

from __future__ import annotations

from threatmodel.evidence.model import EvidenceEntry, EvidenceSource, Observation
from threatmodel.evidence.read import READERS, TOOLS, read_evidence

__all__ = ["EvidenceEntry", "EvidenceSource", "Observation", "READERS", "TOOLS", "read_evidence"]
