"""Catalog × data-flow graph → findings, with the evidence of why each applies and why others do not.

One finding per threat and element: the reasons of every rule that matched are merged. A
bidirectional flow is one element, so it yields one finding. Findings the model excludes are
kept, marked excluded with the team's reason; threats that raised nothing get the reasons they
did not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from threatmodel.catalog.model import Catalog, Rule, Threat
from threatmodel.core.errors import Diagnostic, InputError, Location, did_you_mean
from threatmodel.graph import DataFlowGraph
from threatmodel.graph.reach import Access
from threatmodel.analysis.predicates import REGISTRY, Verdict
from threatmodel.analysis.scoring import Score, declared_controls, is_asked, score
from threatmodel.core.vocabulary import SEVERITY_ORDER

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
    mitigations: tuple[str, ...] = ()  # the threat's mitigations that fit this element
    actor: str | None = None  # the actor whose reach the attack path follows
    other_paths: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (actor, path) of every other actor that reaches it
    open_questions: tuple[str, ...] = ()  # "attribute on element" pairs left unknown that mattered here


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
    actors: list["ActorView"] = field(default_factory=list)
    open_questions: list["OpenQuestion"] = field(default_factory=list)


@dataclass(frozen=True)
class ActorView:
    id: str
    name: str
    kind: str
    location: str
    capabilities: tuple[str, ...]
    derived: bool


@dataclass(frozen=True)
class OpenQuestion:
    element: str
    attribute: str
    question: str
    affects: tuple[str, ...]


@dataclass(frozen=True)
class _Match:
    holds: bool
    reasons: list[str]
    held: int
    access: Access | None
    assumed: tuple[str, ...]
    also: tuple[Access, ...] = ()
    blocked: tuple[str, ...] = ()  # "attribute on element" pairs whose answer alone decides it


def _wanted(parameter: Any) -> str:
    if isinstance(parameter, dict):
        return ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in parameter.items())
    return str(parameter)


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
                 if (not rule.kinds or k.id in rule.kinds) and set(rule.traits) <= set(k.traits)
                 and (not rule.dfd or k.dfd in rule.dfd)]
        return sorted(c for kind in kinds for c in self.by_kind.get(kind.id, []))

    def describe_element(self, element: str, rule: Rule) -> str:
        key = ("describe", element, rule.element, tuple(rule.traits))
        if key not in self.graph.memo:
            self.graph.memo[key] = self._describe_element(element, rule)
        return self.graph.memo[key]  # type: ignore[return-value]

    def _describe_element(self, element: str, rule: Rule) -> str:
        if rule.element == "flow":
            flow = self.graph.flow(element)
            return f"{element} is a flow from {flow.source} to {flow.target}"
        title = self.catalog.kinds[self.graph.component(element).kind].title.lower()
        article = "an" if title[:1] in "aeiou" else "a"
        traits = f" ({', '.join(t.replace('_', ' ') for t in rule.traits)})" if rule.traits else ""
        return f"{element} is {article} {title}{traits}"

    def evaluate(self, rule: Rule, element: str) -> "_Match":
        """Whether the rule holds, with its reasons (or the first failure) and how many conditions held.

        A condition that fails only because attributes the rule assumes are unknown holds, and
        says so; the rule's other conditions must still hold on their own."""
        reasons = [self.describe_element(element, rule)]
        access: Access | None = None
        also: list[Access] = []
        assumed: list[str] = []
        blocked: list[str] = []
        first_blocked = ""
        for held, (name, parameter) in enumerate(rule.when.items()):
            verdict = self.verdict(name, element, parameter)
            if not verdict.holds:
                if verdict.unknown and set(verdict.unknown) <= set(rule.assume):
                    assumed += [f"{a} on {verdict.unknown_on or element}" for a in verdict.unknown]
                    reasons.append(f"{verdict.reason} (assumed {_wanted(parameter)})")
                    continue
                if verdict.unknown:  # unknown, not false: the rest decides whether the answer matters
                    blocked += [f"{a} on {verdict.unknown_on or element}" for a in verdict.unknown]
                    first_blocked = first_blocked or verdict.reason
                    continue
                return _Match(False, [verdict.reason], held, None, ())
            reasons.append(verdict.reason)
            if verdict.access is not None:
                also += [verdict.access, *verdict.also] if access is not None else list(verdict.also)
            access = access or verdict.access
        if blocked:  # every other condition holds: the model's answer decides, so it is a question
            return _Match(False, [first_blocked], len(rule.when) - 1, None, (), blocked=tuple(blocked))
        if assumed and len(assumed) == len(rule.when):
            return _Match(False, ["only assumptions would make it apply"], 0, None, ())
        return _Match(True, reasons, len(rule.when), access, tuple(assumed), tuple(also))


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
    if rule.dfd:
        return " or ".join(rule.dfd)
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
    fitting_cache: dict[tuple[str, frozenset[str], str], tuple[str, ...]] = {}
    blocking: dict[str, list[str]] = {}  # "attribute on element" -> the findings a yes would raise
    for threat in sorted(catalog.threats.values(), key=lambda t: t.id):
        matched: dict[str, tuple[str, list[str], list[_Match]]] = {}
        near_misses: list[tuple[int, str]] = []  # (conditions that held, why the next one failed)
        undecided: dict[str, set[str]] = {}  # element -> attributes whose answer alone decides
        for rule in threat.applies_to:
            candidates = matcher.candidates(rule)
            if not candidates:
                near_misses.append((-1, f"no {_rule_subject(catalog, rule)} in the model"))
            for element in candidates:
                match = matcher.evaluate(rule, element)
                if match.holds:
                    _kind, merged, matches = matched.setdefault(element, (rule.element, [], []))
                    merged.extend(r for r in match.reasons if r not in merged)
                    matches.append(match)
                else:
                    near_misses.append((match.held, match.reasons[0]))
                    if match.blocked:
                        undecided.setdefault(element, set()).update(match.blocked)
        for element, (element_type, evidence, matches) in sorted(matched.items()):
            finding = _finding(catalog, graph, threat, element, element_type, evidence, matches, fitting_cache)
            exclusion = exclusions.get((threat.id, element))
            if exclusion is not None:
                used_exclusions.add((threat.id, element))
                excluded.append(Excluded(finding, exclusion.reason))
            else:
                findings.append(finding)
        for element, pairs in undecided.items():
            if element not in matched:
                for pair in pairs:
                    blocking.setdefault(pair, []).append(f"{threat.id}@{element} undecided")
        if not matched:
            not_applicable.append(NotApplicable(threat, _closest(near_misses)))

    findings = _once_per_chain(graph, findings)
    findings.sort(key=lambda f: (-f.score.value, -SEVERITY_ORDER[f.score.severity], f.id))
    warnings = [
        Diagnostic(location, f"exclusion of {e.threat} for '{e.element}' matches no finding", "warning")
        for e, location in zip(system.exclusions, exclusion_locations or [Location("model")] * len(system.exclusions))
        if (e.threat, e.element) not in used_exclusions
    ]
    return Analysis(catalog, graph, findings, excluded, not_applicable, warnings,
                    _actors(graph), _open_questions(catalog, graph, findings, blocking))


def _once_per_chain(graph: DataFlowGraph, findings: list[Finding]) -> list[Finding]:
    """For threats marked ``once_per_chain``: a finding on a component whose every input (flows
    in their declared direction) comes from components with the same finding is the attack that
    entered there, carried on; it is reported once, on the first, which says where it continues."""
    by_threat: dict[str, dict[str, Finding]] = {}
    for finding in findings:
        if finding.threat.once_per_chain and finding.element_type == "component":
            by_threat.setdefault(finding.threat.id, {})[finding.element] = finding
    dropped: dict[str, list[str]] = {}  # kept finding id -> elements folded into it
    removed: set[str] = set()
    for threat_id, on in by_threat.items():
        for element, finding in sorted(on.items()):
            senders = {f.source for f in graph.system.flows if f.target == element and f.source != element}
            if senders and senders <= set(on) and senders - {on[s].element for s in senders if on[s].id in removed}:
                removed.add(finding.id)
                for sender in sorted(senders):
                    if on[sender].id not in removed:
                        dropped.setdefault(on[sender].id, []).append(element)
    result = []
    for finding in findings:
        if finding.id in removed:
            continue
        if finding.id in dropped:
            targets = ", ".join(dropped[finding.id])
            finding = replace(finding, evidence=finding.evidence + (
                f"the same attack continues into {targets}, which only {finding.element} prompts (reported once, here)",))
        result.append(finding)
    return result


def _best_access(matches: list[_Match]) -> Access | None:
    accesses = [m.access for m in matches if m.access is not None]
    return min(accesses, key=lambda a: (-a.likelihood, a.actor.id == "anyone-on-the-internet", len(a.path),
                                        a.actor.id)) if accesses else None


def _finding(catalog: Catalog, graph: DataFlowGraph, threat: Threat, element: str, element_type: str,
             evidence: list[str], matches: list[_Match],
             fitting_cache: dict[tuple[str, frozenset[str], str], tuple[str, ...]]) -> Finding:
    is_flow = element_type == "flow"
    access = _best_access(matches)
    # the evidence leads with the reach the score and attack path follow
    if access is not None:
        lead = access.describe(graph, element)
        evidence = [evidence[0], lead] + [e for e in evidence[1:] if e != lead]
    assumed = tuple(sorted({a for m in matches if m.holds for a in m.assumed})) if all(m.assumed for m in matches) else ()
    traits = frozenset() if is_flow else graph.traits(element)
    dfd = "data-flow" if is_flow else graph.dfd(element)
    fitting = _fitting(catalog, threat, traits, dfd, is_flow, fitting_cache)
    if not is_flow:
        fitting = tuple(m for m in fitting if graph.has_what_it_needs(catalog.mitigations[m].needs, element))
    controls, unknown = declared_controls(catalog, graph, threat, element, is_flow, access, fitting)
    questions = tuple(f"{attribute} on {subject}" for subject, attribute in unknown) + assumed
    return Finding(
        id=f"{threat.id}@{element}",
        threat=threat,
        element=element,
        element_type=element_type,
        evidence=tuple(evidence),
        attack_path=tuple(access.path) if access is not None else (),
        controls_in_place=tuple(c.mitigation for c in controls),
        score=score(catalog, graph, threat, element, is_flow, controls, access, assumed, unknown),
        mitigations=fitting,
        actor=access.actor.id if access is not None else None,
        other_paths=_other_paths(access, matches),
        open_questions=tuple(dict.fromkeys(questions)),
    )


def _other_paths(access: Access | None, matches: list[_Match]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every other actor that reaches the element by a rule that holds, once each, with its path."""
    seen = {access.actor.id} if access is not None else set()
    found = []
    for candidate in [m.access for m in matches if m.access is not None] + [a for m in matches for a in m.also]:
        if candidate.actor.id not in seen:
            seen.add(candidate.actor.id)
            found.append((candidate.actor.id, tuple(candidate.path)))
    return tuple(found)


def _fitting(catalog: Catalog, threat: Threat, traits: frozenset[str], dfd: str, is_flow: bool,
             cache: dict[tuple[str, frozenset[str], str], tuple[str, ...]]) -> tuple[str, ...]:
    """The threat's mitigations that fit an element of these traits (cached per analysis: a
    model has few combinations of kind and threat)."""
    key = (threat.id, traits, dfd)
    if key not in cache:
        cache[key] = tuple(m for m in threat.mitigations if catalog.mitigations[m].fits_element(traits, dfd, is_flow))
    return cache[key]


def _actors(graph: DataFlowGraph) -> list[ActorView]:
    reach = graph.reach
    return [ActorView(a.id, a.name, a.actor_class, a.location, tuple(reach.capabilities(a)), a.derived)
            for a in reach.actors]


def _open_questions(catalog: Catalog, graph: DataFlowGraph, findings: list[Finding],
                    blocking: dict[str, list[str]] | None = None) -> list[OpenQuestion]:
    """Unknown attributes that some finding depended on, unknown attributes whose answer alone
    decides whether a threat applies (affecting "THREAT@element undecided"), plus boundary-crossing
    flows whose encryption is unknown: each with the question to ask and the findings it affects."""
    affects: dict[tuple[str, str], list[str]] = {}
    for finding in findings:
        for pair in finding.open_questions:
            attribute, _, element = pair.partition(" on ")
            affects.setdefault((element, attribute), []).append(finding.id)
    for pair, would in (blocking or {}).items():
        attribute, _, element = pair.partition(" on ")
        is_flow = not graph.has_component(element)
        if is_asked(catalog, graph, f"{'flow' if is_flow else 'component'}.{attribute}", element, is_flow):
            affects.setdefault((element, attribute), []).extend(would)
    for crossing in graph.crossings:
        if graph.flow_value(crossing.flow, "encrypted")[0] is None:
            affects.setdefault((crossing.flow, "encrypted"), [])
    questions = []
    for (element, attribute), finding_ids in sorted(affects.items()):
        kind = "component" if graph.has_component(element) else "flow"
        info = catalog.attributes.get(f"{kind}.{attribute}")
        text = info.question if info and info.question else f"What is {attribute} of {{element}}?"
        questions.append(OpenQuestion(element, attribute, text.replace("{element}", element),
                                      tuple(sorted(set(finding_ids)))))
    return questions


def _check_exclusions(catalog: Catalog, system: Any, locations: list[Location]) -> None:
    problems = []
    for index, exclusion in enumerate(system.exclusions):
        if exclusion.threat not in catalog.threats:
            location = locations[index] if index < len(locations) else Location("model")
            problems.append(Diagnostic(location, f"unknown threat '{exclusion.threat}' in exclusion"
                                                 f"{did_you_mean(exclusion.threat, catalog.threats)}"))
    if problems:
        raise InputError(problems)
