"""Risk scores: likelihood × impact, each 1-5, with an explanation of every adjustment.

Likelihood starts from the threat's exploitability (OWASP scale) and moves with the element's
exposure and the controls the model declares in place. Impact starts from the threat's technical
impact and moves with the ratings of the data at stake for the threat's STRIDE letters. The
method is documented in docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, Threat
from .graph import UNTRUSTED, DataFlowGraph
from .system import RATING_ORDER

SEVERITY_BANDS: tuple[tuple[int, str], ...] = ((20, "critical"), (12, "high"), (6, "medium"), (0, "low"))
SEVERITY_ORDER: dict[str, int] = {"critical": 4, "high": 3, "medium": 2, "low": 1}
MAX_CONTROL_CREDIT = 2

IMPACT_ADJUSTMENT = {"high": 0, "medium": -1, "low": -2}


@dataclass(frozen=True)
class Score:
    likelihood: int
    impact: int
    value: int
    severity: str
    likelihood_reasons: tuple[str, ...]
    impact_reasons: tuple[str, ...]

    @property
    def explanation(self) -> str:
        return (f"likelihood {self.likelihood} ({'; '.join(self.likelihood_reasons)}) × "
                f"impact {self.impact} ({'; '.join(self.impact_reasons)}) = {self.value}, {self.severity}")


def severity_of(value: int) -> str:
    return next(name for floor, name in SEVERITY_BANDS if value >= floor)


def _clamp(value: int) -> int:
    return max(1, min(5, value))


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else f"−{-value}"


def declared_controls(catalog: Catalog, graph: DataFlowGraph, threat: Threat, element: str,
                      is_flow: bool) -> list[str]:
    """The threat's mitigations that the element declares in place through its attributes."""
    subject = graph.flow(element) if is_flow else graph.component(element)
    in_place = []
    for mitigation_id in threat.mitigations:
        attributes = catalog.mitigations[mitigation_id].declared_by
        if any(getattr(subject, a, None) is True for a in attributes):
            in_place.append(mitigation_id)
    return in_place


def _exposure(graph: DataFlowGraph, element: str, is_flow: bool) -> tuple[int, str]:
    if is_flow:
        flow = graph.flow(element)
        ends = (flow.source, flow.target)
        if any(graph.trust(end) == UNTRUSTED for end in ends):
            return 0, "the flow touches the internet-level zone"
        if any(graph.crossing(s, t, element) for s, t in (ends, ends[::-1])):
            return -1, "the flow crosses a boundary between internal zones"
        return -2, "the flow stays inside one trust zone"
    if graph.trust(element) == UNTRUSTED:
        return 0, f"{element} sits outside every boundary"
    if graph.attribute(element, "exposure") == "public" or graph.attack_path_to(element):
        return 0, f"{element} is reachable from the internet-level zone"
    if graph.lower_trust_path_to(element):
        return -1, f"{element} is reachable only from internal zones"
    return -2, f"{element} is not reachable from any less trusted zone"


def _data_at_stake(graph: DataFlowGraph, element: str, is_flow: bool) -> list[str]:
    return sorted(graph.flow(element).data) if is_flow else sorted(graph.data_stored_or_carried(element))


def score(catalog: Catalog, graph: DataFlowGraph, threat: Threat, element: str, is_flow: bool,
          controls: list[str]) -> Score:
    ratings = threat.ratings
    likelihood_reasons = [f"exploitability {ratings.exploitability}"]
    adjustment, why = _exposure(graph, element, is_flow)
    likelihood_reasons.append(f"{_signed(adjustment)} {why}" if adjustment else why)
    credit = min(len(controls), MAX_CONTROL_CREDIT)
    if credit:
        likelihood_reasons.append(f"−{credit} declared in place: {', '.join(controls)}")
    likelihood = _clamp(ratings.exploitability + adjustment - credit)

    impact_reasons = [f"technical impact {ratings.technical_impact}"]
    at_risk = {c.letter: c.data_at_risk for c in catalog.stride.categories}  # catalog/stride.yaml
    properties = sorted({p for letter in threat.stride for p in at_risk[letter]})
    assets = [graph.system.data_asset(a) for a in _data_at_stake(graph, element, is_flow)]
    if assets:
        def rating(asset, prop):
            return "high" if prop == "confidentiality" and asset.pii else getattr(asset, prop)
        worst_asset, worst_prop = max(((a, p) for a in assets for p in properties),
                                      key=lambda ap: (RATING_ORDER[rating(*ap)], ap[0].id))
        level = rating(worst_asset, worst_prop)
        shift = IMPACT_ADJUSTMENT[level]
        text = f"{worst_asset.id} {worst_prop} {level}" + (" (personal data)" if worst_asset.pii and worst_prop == "confidentiality" else "")
        impact_reasons.append(f"{_signed(shift)} {text}" if shift else text)
    else:
        shift = IMPACT_ADJUSTMENT["medium"]
        impact_reasons.append(f"{_signed(shift)} no data assets declared at stake (taken as medium)")
    impact = _clamp(ratings.technical_impact + shift)
    value = likelihood * impact
    return Score(likelihood, impact, value, severity_of(value), tuple(likelihood_reasons), tuple(impact_reasons))
