"""The fixed words every layer shares, spelled once: severities, finding statuses, mitigation
states, verification states, owner roles.

Each is a ``Literal`` (for the pydantic models and so the JSON Schemas) and the tuple of its values
in the order reports show them (for tables, counts and the CLI's choices). What the words *do*
lives with the layer that decides it: severity bands in analysis.scoring, status rules in
review.statuses.
"""

from __future__ import annotations

from typing import Literal, get_args

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[str, ...] = get_args(Severity)  # most severe first
SEVERITY_ORDER: dict[str, int] = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}  # low 1 … critical 4
# a gate's threshold: a severity, or none (never fail)
THRESHOLDS: tuple[str, ...] = (*reversed(SEVERITIES), "none")

FindingStatus = Literal["open", "in-progress", "mitigated", "accepted", "false-positive", "not-applicable"]
STATUSES: tuple[str, ...] = get_args(FindingStatus)
OPEN_STATUSES = frozenset({"open", "in-progress"})  # what a gate and the plan still count
NEEDS_JUSTIFICATION = frozenset({"accepted", "false-positive"})  # a review must say why

MitigationState = Literal["implemented", "partial", "planned", "not-applicable"]
MITIGATION_STATES: tuple[str, ...] = get_args(MitigationState)

Verification = Literal["verified", "contradicted", "stale", "claimed", "missing"]
VERIFICATION_STATES: tuple[str, ...] = get_args(Verification)

# what makes `drift` fail: new things only, changes (and removals), or any drift
DRIFT_THRESHOLDS: tuple[str, ...] = ("any", "added", "changed")

OwnerRole = Literal["data-scientist", "ml-engineer", "mlops", "security", "product"]
OWNER_ROLES: tuple[str, ...] = get_args(OwnerRole)
OWNER_TITLES: dict[str, str] = {"data-scientist": "Data scientists", "ml-engineer": "ML engineers",
                                "mlops": "MLOps / platform", "security": "Security", "product": "Product"}

# what an actor can do to a component it reaches: send it input, query it, control it, read it
ACCESS_KINDS: tuple[str, ...] = ("input", "query", "control", "read")
