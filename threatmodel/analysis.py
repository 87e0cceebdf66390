"""Catalog × data-flow graph → findings, with the evidence of why each applies and why others do not.

One finding per threat and element: the reasons of every rule that matched are merged. A
bidirectional flow is one element, so it yields one finding. Findings the model excludes are
kept, marked excluded with the team's reason; threats that raised nothing get the reasons they
did not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, Rule, Threat
from .errors import Diagnostic, InputError, Location, did_you_mean
from .graph import DataFlowGraph
from .predicates import REGISTRY, Verdict
from .scoring import SEVERITY_ORDER, Score, declared_controls, score

MAX_NEAR_MISSES = 3


@dataclass(frozen=True)
class Finding:
    id: str
    threat: Threat
    element: str
    element_type: str  # "component" or "flow"
    evidence: tuple[str, ...]
    attack_path: tuple[str, ...]
    controls_in_place: tuple[str, ...]
    score: Score
    actor: str | None = None  # the actor whose reach the attack path follows
    open_questions: tuple[str, ...] = ()  # unknown attributes that affected the score


@dataclass(frozen=True)
class Excluded:
    finding: Finding
    reason: str


@dataclass(frozen=True)
class NotApplicable:
    threat: Threat
    reasons: tuple[str, ...]


@dataclass
class Analysis:
    catalog: Catalog
    graph: DataFlowGraph
    findings: list[Finding]
    excluded: list[Excluded]
    not_applicable: list[NotApplicable]
    warnings: list[Diagnostic] = field(default_factory=list)
    actors: list[Any] = field(default_factory=list)
    open_questions: list[Any] = field(default_factory=list)


class _Matcher:
    """Evaluates rules, caching predicate verdicts shared by several threats."""

    def __init__(self, catalog: Catalog, graph: DataFlowGraph) -> None:
        self.catalog = catalog
        self.graph = graph
        self.cache: dict[tuple[str, str, str], Verdict] = {}
        self.by_kind: dict[str, list[str]] = {}
        for component in graph.system.components:
            self.by_kind.setdefault(component.kind, []).append(component.id)
        self.flow_keys = sorted(f.key for f in graph.system.flows)

    def verdict(self, name: str, element: str, parameter: Any) -> Verdict:
        key = (name, element, repr(parameter))
        if key not in self.cache:
            self.cache[key] = REGISTRY[name].evaluate(self.graph, element, parameter)
        return self.cache[key]

    def candidates(self, rule: Rule) -> list[str]:
        if rule.element == "flow":
            return self.flow_keys
        kinds = [k for k in self.catalog.kinds.values()
                 if (not rule.kinds or k.id in rule.kinds) and set(rule.traits) <= set(k.traits)]
        return sorted(c for kind in kinds for c in self.by_kind.get(kind.id, []))

    def describe_element(self, element: str, rule: Rule) -> str:
        if rule.element == "flow":
            flow = self.graph.flow(element)
            return f"{element} is a flow from {flow.source} to {flow.target}"
        title = self.catalog.kinds[self.graph.component(element).kind].title.lower()
        article = "an" if title[:1] in "aeiou" else "a"
        traits = f" ({', '.join(t.replace('_', ' ') for t in rule.traits)})" if rule.traits else ""
        return f"{element} is {article} {title}{traits}"

    def evaluate(self, rule: Rule, element: str) -> tuple[bool, list[str], int]:
        """Whether the rule holds, with its reasons (or the first failure) and how many conditions held."""
        reasons = [self.describe_element(element, rule)]
        for held, (name, parameter) in enumerate(rule.when.items()):
            verdict = self.verdict(name, element, parameter)
            if not verdict.holds:
                return False, [verdict.reason], held
            reasons.append(verdict.reason)
        return True, reasons, len(rule.when)


def _closest(near_misses: list[tuple[int, str]]) -> tuple[str, ...]:
    """The reasons of the candidates that came closest to matching, best first, without repeats."""
    reasons: list[str] = []
    for _held, reason in sorted(near_misses, key=lambda miss: -miss[0]):
        if reason not in reasons:
            reasons.append(reason)
        if len(reasons) == MAX_NEAR_MISSES:
            break
    return tuple(reasons)


def _rule_subject(catalog: Catalog, rule: Rule) -> str:
    if rule.element == "flow":
        return "flow"
    if rule.kinds:
        return "component of kind " + " or ".join(rule.kinds)
    if rule.traits:
        return "component with the trait " + " and ".join(f"'{t}'" for t in rule.traits)
    return "component"


def analyse(catalog: Catalog, graph: DataFlowGraph,
            exclusion_locations: list[Location] | None = None) -> Analysis:
    system = graph.system
    matcher = _Matcher(catalog, graph)
    exclusions = {(e.threat, e.element): e for e in system.exclusions}
    _check_exclusions(catalog, system, exclusion_locations or [])

    findings: list[Finding] = []
    excluded: list[Excluded] = []
    not_applicable: list[NotApplicable] = []
    used_exclusions: set[tuple[str, str]] = set()
    for threat in sorted(catalog.threats.values(), key=lambda t: t.id):
        matched: dict[str, tuple[str, list[str]]] = {}
        near_misses: list[tuple[int, str]] = []  # (conditions that held, why the next one failed)
        for rule in threat.applies_to:
            candidates = matcher.candidates(rule)
            if not candidates:
                near_misses.append((-1, f"no {_rule_subject(catalog, rule)} in the model"))
            for element in candidates:
                holds, reasons, held = matcher.evaluate(rule, element)
                if holds:
                    _kind, merged = matched.setdefault(element, (rule.element, []))
                    merged.extend(r for r in reasons if r not in merged)
                else:
                    near_misses.append((held, reasons[0]))
        for element, (element_type, evidence) in sorted(matched.items()):
            finding = _finding(catalog, graph, threat, element, element_type, evidence)
            exclusion = exclusions.get((threat.id, element))
            if exclusion is not None:
                used_exclusions.add((threat.id, element))
                excluded.append(Excluded(finding, exclusion.reason))
            else:
                findings.append(finding)
        if not matched:
            not_applicable.append(NotApplicable(threat, _closest(near_misses)))

    findings.sort(key=lambda f: (-f.score.value, -SEVERITY_ORDER[f.score.severity], f.id))
    warnings = [
        Diagnostic(location, f"exclusion of {e.threat} for '{e.element}' matches no finding", "warning")
        for e, location in zip(system.exclusions, exclusion_locations or [Location("model")] * len(system.exclusions))
        if (e.threat, e.element) not in used_exclusions
    ]
    return Analysis(catalog, graph, findings, excluded, not_applicable, warnings)


def _finding(catalog: Catalog, graph: DataFlowGraph, threat: Threat, element: str, element_type: str,
             evidence: list[str]) -> Finding:
    is_flow = element_type == "flow"
    path: list[str] | None = None
    if not is_flow:
        path = graph.attack_path_to(element) or graph.lower_trust_path_to(element)
    controls = declared_controls(catalog, graph, threat, element, is_flow)
    return Finding(
        id=f"{threat.id}@{element}",
        threat=threat,
        element=element,
        element_type=element_type,
        evidence=tuple(evidence),
        attack_path=tuple(path or ()),
        controls_in_place=tuple(controls),
        score=score(catalog, graph, threat, element, is_flow, controls),
    )


def _check_exclusions(catalog: Catalog, system: Any, locations: list[Location]) -> None:
    problems = []
    for index, exclusion in enumerate(system.exclusions):
        if exclusion.threat not in catalog.threats:
            location = locations[index] if index < len(locations) else Location("model")
            problems.append(Diagnostic(location, f"unknown threat '{exclusion.threat}' in exclusion"
                                                 f"{did_you_mean(exclusion.threat, catalog.threats)}"))
    if problems:
        raise InputError(problems)
