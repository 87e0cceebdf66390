"""Risk scores: likelihood × impact, each 1-5, with an explanation of every adjustment.

Likelihood starts from the threat's exploitability (OWASP scale), moves with the actor who has
to carry the attack out (catalog/actors.yaml) and drops for each control declared on the element
or, for controls that protect what is behind them, on the actor's path. Impact starts from the
threat's technical impact and moves with the ratings of the data the threat endangers: for each
STRIDE letter, the data the element holds, produces or handles (catalog/stride.yaml). Critical
needs a declared high rating on that data. The method, with worked examples, is docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from threatmodel.catalog.model import Catalog, Threat
from threatmodel.system.model import RATING_ORDER

if TYPE_CHECKING:
    from threatmodel.graph import DataFlowGraph
    from threatmodel.graph.reach import Access

SEVERITY_BANDS: tuple[tuple[int, str], ...] = ((20, "critical"), (12, "high"), (6, "medium"), (0, "low"))
LIKELIHOOD_CREDIT_LIMIT = 3  # controls in place (declared, recorded or verified) lower likelihood by at most this
IMPACT_CREDIT_LIMIT = 1  # corrective controls lower impact by at most this
IMPACT_ADJUSTMENT = {"high": 0, "medium": -1, "low": -2}


@dataclass(frozen=True)
class Score:
    likelihood: int
    impact: int
    value: int
    severity: str
    likelihood_reasons: tuple[str, ...]
    impact_reasons: tuple[str, ...]
    base_likelihood: int = 0  # before any control (0: same as likelihood)
    base_impact: int = 0  # before any corrective control (0: same as impact)
    critical_allowed: bool = True  # critical needs data rated high

    def rated(self, likelihood: int, impact: int) -> tuple[int, str]:
        """(value, severity) for another likelihood and impact of the same finding."""
        value = likelihood * impact
        severity = severity_of(value)
        return value, ("high" if severity == "critical" and not self.critical_allowed else severity)

    @property
    def explanation(self) -> str:
        return (f"likelihood {self.likelihood} ({'; '.join(self.likelihood_reasons)}) × "
                f"impact {self.impact} ({'; '.join(self.impact_reasons)}) = {self.value}, {self.severity}")


@dataclass(frozen=True)
class Control:
    """A mitigation the model declares in place, and where."""

    mitigation: str
    component: str  # or flow
    attribute: str
    value: Any
    on_path: bool

    def describe(self, access: "Access | None", graph: "DataFlowGraph") -> str:
        said = f"{self.attribute}: {str(self.value).lower() if isinstance(self.value, bool) else self.value}"
        where = f" on {graph.describe_path(access.path)}" if self.on_path and access is not None else ""
        return f"{self.mitigation} ({self.component} has {said}{where})"


@dataclass(frozen=True)
class Credit:
    """What one mitigation in place earns against one threat, by its class and role."""

    mitigation: str
    likelihood: int
    impact: int
    reason: str

    @property
    def earns(self) -> bool:
        return bool(self.likelihood or self.impact)


def control_credit(catalog: Catalog, threat: Threat, mitigation_id: str) -> Credit:
    """The one rule for every control, wherever the fact comes from (the model, the review file or
    evidence): a preventive control lowers likelihood, by 2 when it addresses the threat's
    mechanism (primary) and by 1 when it only helps; a detective one counts only against
    repudiation, which is what detection answers; a corrective one lowers impact where damage is
    the point (denial, deletion) or where it is the threat's primary answer."""
    control = catalog.mitigations[mitigation_id].control
    primary = threat.role(mitigation_id) == "primary"
    role = "primary" if primary else "supporting"
    if control == "preventive":
        return Credit(mitigation_id, 2 if primary else 1, 0, f"{role} preventive")
    if control == "detective":
        if "R" in threat.stride:
            return Credit(mitigation_id, 2 if primary else 1, 0, f"{role} detective (answers repudiation)")
        return Credit(mitigation_id, 0, 0, "detective: makes the attack noticed, prevents nothing")
    if primary or "D" in threat.stride:
        return Credit(mitigation_id, 0, 1, f"{role} corrective (limits the damage)")
    return Credit(mitigation_id, 0, 0, "corrective: limits other damage than this threat's")


def credited(catalog: Catalog, threat: Threat, in_place: list[str]) -> tuple[int, int, list[Credit]]:
    """(likelihood credit, impact credit, each control's credit) for the controls in place.
    Mitigations one attribute declares together (``rate_limiting`` declares query and request
    limits) are one control: they earn once, the best of them, however the fact was recorded."""
    credits = [control_credit(catalog, threat, m) for m in dict.fromkeys(in_place)]
    best: dict[str, Credit] = {}
    for item in credits:
        declared = catalog.mitigations[item.mitigation].declared_by
        group = "|".join(sorted(declared[0])) if declared else item.mitigation
        if group not in best or (item.likelihood, item.impact) > (best[group].likelihood, best[group].impact):
            best[group] = item
    counted = list(best.values())
    likelihood = min(sum(c.likelihood for c in counted), LIKELIHOOD_CREDIT_LIMIT)
    impact = min(sum(c.impact for c in counted), IMPACT_CREDIT_LIMIT)
    return likelihood, impact, [c if c in counted else Credit(c.mitigation, 0, 0, f"{c.reason}, counted once with "
                                                         "what the same declaration covers") for c in credits]


def describe_credits(credits: list[Credit]) -> str:
    return "; ".join(f"{c.mitigation} ({c.reason}" + (f", −{c.likelihood} likelihood" if c.likelihood else "")
                     + (f", −{c.impact} impact" if c.impact else "") + ")" for c in credits)


def severity_of(value: int) -> str:
    return next(name for floor, name in SEVERITY_BANDS if value >= floor)


def _clamp(value: int) -> int:
    return max(1, min(5, value))


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else f"−{-value}"


def _subjects(graph: "DataFlowGraph", element: str, is_flow: bool, access: "Access | None",
              info_key: str, catalog: Catalog) -> list[tuple[str, bool]]:
    """(element, on path?) pairs where an attribute declaring a control counts."""
    subjects = [(element, False)]
    info = catalog.attributes.get(info_key)
    if not is_flow and access is not None and info is not None and info.on_path:
        subjects += [(node, True) for node in access.path[1:-1] if graph.has_component(node)]
    return subjects


def declared_controls(catalog: Catalog, graph: "DataFlowGraph", threat: Threat, element: str, is_flow: bool,
                      access: "Access | None" = None,
                      fitting: tuple[str, ...] | None = None) -> tuple[list[Control], list[tuple[str, str]]]:
    """The threat's fitting mitigations declared in place (on the element, or on the attacker's
    path for controls that protect what is behind them), and the (component, attribute) pairs
    left unknown that could have declared one."""
    traits = frozenset() if is_flow else graph.traits(element)
    dfd = "data-flow" if is_flow else graph.dfd(element)
    controls: list[Control] = []
    unknown: set[tuple[str, str]] = set()
    for mitigation_id in threat.mitigations:
        mitigation = catalog.mitigations[mitigation_id]
        if not mitigation.declared_by and not mitigation.declared_by_format:
            continue
        if fitting is not None and mitigation_id not in fitting:
            continue
        if fitting is None and not mitigation.fits_element(traits, dfd, is_flow):
            continue
        if mitigation.declared_by_format and not is_flow:
            artifact_format = getattr(graph.component(element), "format", None)
            known = catalog.formats.get(artifact_format or "")
            if known is not None and not known.executes_code_on_load:
                controls.append(Control(mitigation_id, element, "format", artifact_format, False))
                continue
        found = None
        missing: set[tuple[str, str]] = set()
        for declared in mitigation.declared_by:
            for attribute, value in declared.items():
                key = f"{'flow' if is_flow else 'component'}.{attribute}"
                for subject, on_path in _subjects(graph, element, is_flow, access, key, catalog):
                    if is_flow:
                        actual = graph.flow_value(subject, attribute)[0] if attribute in ("encrypted", "authenticated") \
                            else getattr(graph.flow(subject), attribute, None)
                    else:
                        actual = getattr(graph.component(subject), attribute, None)
                    if actual == value and found is None:
                        found = Control(mitigation_id, subject, attribute, value, on_path)
                    elif actual is None and is_asked(catalog, graph, key, subject, is_flow):
                        missing.add((subject, attribute))
        if found is not None:
            controls.append(found)
        else:
            unknown |= missing  # a question only where the answer could still earn credit
    return controls, sorted(unknown)


def is_asked(catalog: Catalog, graph: "DataFlowGraph", key: str, subject: str, is_flow: bool) -> bool:
    info = catalog.attributes.get(key)
    if info is None or not info.question:
        return False
    return is_flow or not info.traits or bool(graph.traits(subject) & set(info.traits))


def _maturity(catalog: Catalog, graph: "DataFlowGraph", threat: Threat) -> tuple[int, str]:
    """ATLAS's maturity of the threat's techniques, where the index knows it: seen in real attacks
    (realized) is said; only shown feasible in research lowers the likelihood by one."""
    key = ("maturity", threat.id)
    if key not in graph.memo:
        from threatmodel.catalog.atlas import AtlasTechnique

        levels = {}
        for link in threat.atlas:
            entry = catalog.atlas.get(link.id)
            if isinstance(entry, AtlasTechnique) and entry.maturity:
                levels[link.id] = entry.maturity
        if not levels:
            result: tuple[int, str] = (0, "")
        elif all(level == "feasible" for level in levels.values()):
            result = (-1, f"ATLAS rates {', '.join(levels)} feasible only (shown in research, not yet in real attacks)")
        else:
            realized = [i for i, level in levels.items() if level == "realized"]
            result = (0, f"ATLAS: {', '.join(realized)} realized in real attacks" if realized else "")
        graph.memo[key] = result
    return graph.memo[key]  # type: ignore[return-value]


def _actor_adjustment(catalog: Catalog, graph: "DataFlowGraph", element: str, is_flow: bool,
                      access: "Access | None") -> tuple[int, str]:
    if access is not None:
        actor_class = catalog.actor_classes[access.actor.actor_class]
        return actor_class.likelihood, f"{access.actor.id} is {actor_class.title.lower()}: {actor_class.why}"
    if is_flow:
        flow = graph.flow(element)
        ends = (flow.source, flow.target)
        if any(graph.outside(end) for end in ends):
            return 0, "the flow runs outside every boundary (the internet)"
        return -1, "the flow runs between internal zones (the attacker needs a foothold on that network)"
    component = graph.component(element)
    if component.actor is not None or graph.has_role(element, "dependency") or graph.has_role(element, "supplier"):
        actor_class = catalog.actor_classes[component.actor or ("dependency" if graph.has_role(element, "dependency")
                                                                 else "supplier")]
        return actor_class.likelihood, f"{element} is {actor_class.title.lower()}: {actor_class.why}"
    return 0, "no actor path needed: the threat's own exploitability"


def _data_at_stake(catalog: Catalog, graph: "DataFlowGraph", threat: Threat, element: str,
                   is_flow: bool) -> list[tuple[Any, str]]:
    """(asset, property) pairs the threat endangers on this element (cached per STRIDE letters)."""
    key = ("stake", tuple(threat.stride), element, is_flow)
    if key not in graph.memo:
        graph.memo[key] = _compute_data_at_stake(catalog, graph, threat, element, is_flow)
    return graph.memo[key]  # type: ignore[return-value]


def _compute_data_at_stake(catalog: Catalog, graph: "DataFlowGraph", threat: Threat, element: str,
                           is_flow: bool) -> list[tuple[Any, str]]:
    categories = {c.letter: c for c in catalog.stride.categories}
    pairs = []
    for letter in threat.stride:
        category = categories[letter]
        if is_flow:
            assets = set(graph.flow(element).data)
        else:
            assets = set()
            if "held" in category.data:
                assets |= graph.data_held(element)
            if "produced" in category.data:
                assets |= graph.data_produced(element)
            if "handled" in category.data:
                assets |= graph.data_stored_or_carried(element)
        pairs += [(graph.system.data_asset(a), prop) for a in assets for prop in category.data_at_risk]
    return pairs


def score(catalog: Catalog, graph: "DataFlowGraph", threat: Threat, element: str, is_flow: bool,
          controls: list[Control], access: "Access | None" = None,
          assumed: tuple[str, ...] = (), unknown: list[tuple[str, str]] | None = None) -> Score:
    ratings = threat.ratings
    likelihood_reasons = [f"exploitability {ratings.exploitability}"]
    adjustment, why = _actor_adjustment(catalog, graph, element, is_flow, access)
    likelihood_reasons.append(f"{_signed(adjustment)} {why}" if adjustment else why)
    maturity_shift, maturity_why = _maturity(catalog, graph, threat)
    if maturity_why:
        likelihood_reasons.append(f"{_signed(maturity_shift)} {maturity_why}" if maturity_shift else maturity_why)
    adjustment += maturity_shift
    if assumed:  # an assumption scores lower than the stated fact, so stating it moves the score
        adjustment -= 1
        likelihood_reasons.append(f"−1 assumed (not stated): {', '.join(assumed)}; say it in the model to score it in full")
    base_likelihood = _clamp(ratings.exploitability + adjustment)
    credit, impact_credit, credits = credited(catalog, threat, [c.mitigation for c in controls])
    by_id = {c.mitigation: c for c in controls}
    for item in credits:
        control = by_id[item.mitigation]
        earned = f"−{item.likelihood}" if item.likelihood else "no credit,"
        likelihood_reasons.append(f"{earned} declared in place: {item.mitigation}, {item.reason} "
                                  f"({control.describe(access, graph).split(' (', 1)[1]}")
    if sum(c.likelihood for c in credits) > credit:
        likelihood_reasons.append(f"controls lower likelihood by at most {LIKELIHOOD_CREDIT_LIMIT}")
    if unknown:
        likelihood_reasons.append("no credit for unknown " + ", ".join(f"{a} on {c}" for c, a in unknown))
    likelihood = _clamp(base_likelihood - credit)

    impact_reasons = [f"technical impact {ratings.technical_impact}"]
    pairs = _data_at_stake(catalog, graph, threat, element, is_flow)

    def rating(asset: Any, prop: str) -> str:
        return "high" if prop == "confidentiality" and asset.pii else getattr(asset, prop)

    if pairs:
        worst_asset, worst_prop = max(pairs, key=lambda ap: (RATING_ORDER[rating(*ap)], ap[1], ap[0].id))
        level = rating(worst_asset, worst_prop)
        shift = IMPACT_ADJUSTMENT[level]
        text = f"{worst_asset.id} {worst_prop} {level}" + (
            " (personal data)" if worst_asset.pii and worst_prop == "confidentiality" else "")
        impact_reasons.append(f"{_signed(shift)} {text}" if shift else text)
    else:
        level = "medium"
        shift = IMPACT_ADJUSTMENT[level]
        impact_reasons.append(f"{_signed(shift)} no data at stake declared here (taken as medium)")
    base_impact = _clamp(ratings.technical_impact + shift)
    impact = _clamp(base_impact - impact_credit)
    if impact_credit:
        impact_reasons.append(f"−{impact_credit} declared in place: " + ", ".join(
            c.mitigation for c in credits if c.impact))
    value = likelihood * impact
    severity = severity_of(value)
    if severity == "critical" and level != "high":
        severity = "high"
        impact_reasons.append("critical needs data rated high")
    return Score(likelihood, impact, value, severity, tuple(likelihood_reasons), tuple(impact_reasons),
                 base_likelihood, base_impact, level == "high")
