"""Fix these first: the mitigations that bring every open finding below high, cheapest first.

**What is targeted.** The open findings whose *residual* risk (after the review's statuses,
the controls in place and the evidence, docs/review.md) is high or critical. A finding whose
claimed control the evidence contradicts is a target again; one that controls already bring
below high is listed as handled, with what handles it.

**What a step can be.** A mitigation the catalog lists against the threat that is not yet in
place (declared in the model, recorded implemented or verified: one fact, one effect) and that
earns something by its class (scoring.control_credit): preventive controls lower likelihood,
detective ones count only against repudiation, corrective ones lower impact. A detective
control is therefore never offered as a cut. It sits where the team can apply it: on the
finding's element, on a component in front of it for controls that protect what is behind them
(``on_path`` attributes), and never inside a third-party element for a mitigation that needs
control of the element (``applied: inside``): such a step moves to the nearest component of the
team's own on the attack path, and says so.

**How steps are chosen.** A lazy greedy cover over the still-high targets: each round takes the
candidate that addresses the mechanism (primary for a target it lowers) before one that only
helps, then the cheapest (catalog ``effort``), then the broadest; picks that later ones make
unnecessary are pruned, most expensive first. It repeats until no target can be lowered. Every
finding still high then gets a decision: why it cannot be brought lower, and the two honest
choices, accepting it with a reason in the review file or the design change the catalog names.
The residual after each step is computed by the same rule as the review's.
"""

from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from threatmodel.catalog.model import EFFORT_WEIGHT
from threatmodel.review.statuses import ReviewedFinding, ReviewResult, in_place, on_path_mitigations, residual_rating
from threatmodel.analysis.scoring import control_credit
from threatmodel.core.vocabulary import SEVERITY_ORDER

if TYPE_CHECKING:
    from threatmodel.analysis.match import Analysis, Finding
    from threatmodel.review.statuses import LoadedReview
    from threatmodel.evidence.judge import EvidenceVerdicts

TARGET_SEVERITY = "high"  # open findings whose residual is at or above this are what the plan must bring down
MAX_TREES = 20  # attack trees for the most exposed goals (threats); the JSON plan lists the rest by id
MAX_TREE_FINDINGS = 25
UPSTREAM_ATTACKER = "upstream attacker (a compromised maintainer or registry account)"


def _is_high(severity: str) -> bool:
    return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[TARGET_SEVERITY]


@dataclass(frozen=True)
class Cut:
    """A mitigation applied on one element (for the findings of ``protects``)."""

    mitigation: str
    element: str  # where it is applied
    effort: str
    owner: str
    moved_from: str = ""  # the third-party element it protects, when placed on the team's component in front


@dataclass
class Target:
    finding: "Finding"
    reviewed: ReviewedFinding
    present: list[str]  # mitigations in place (declared, implemented or verified)
    candidates: list[Cut]  # deployable steps that would lower it
    not_deployable: list[str] = field(default_factory=list)  # "mitigation: why it cannot be placed"
    handled_by: list[str] = field(default_factory=list)  # "mitigation (verified|claimed|declared)"


@dataclass
class Lowered:
    finding: "Finding"
    before: int
    after: int
    severity: str


@dataclass
class PlanStep:
    mitigation: str
    elements: list[str]
    owner: str
    effort: str
    control: str
    why: str  # the mechanism it addresses, from the catalog
    moved: list[str]  # "placed on X in front of third-party Y"
    lowers: list[Lowered]
    residual_total: int
    residual_high: int


@dataclass
class Decision:
    """A finding the plan cannot bring below high: why, and what the owner can choose."""

    finding: "Finding"
    residual_score: int
    residual_severity: str
    reason: str
    redesign: str


@dataclass
class Plan:
    targets: list[Target]  # open findings whose residual was high or critical before the plan
    handled: list[Target]  # open findings rated high before controls that controls bring below high
    steps: list[PlanStep]
    decisions: list[Decision]
    cost: int
    residual_before: int
    high_before: int
    high_after: int
    trees: list["TreeGoal"] = field(default_factory=list)  # one per attacker goal (a threat)
    more_goals: list[str] = field(default_factory=list)  # threats beyond MAX_TREES, most exposed first


class _Context:
    def __init__(self, analysis: "Analysis") -> None:
        self.analysis = analysis
        self.catalog = analysis.catalog
        self.graph = analysis.graph
        self.on_path = on_path_mitigations(self.catalog)

    def controlled(self, element: str) -> bool:
        """The team runs the element and can change it (not a third-party service or an outside entity)."""
        if not self.graph.has_component(element):
            return True  # a flow: its ends decide, and the team chooses how it talks
        return self.graph.dfd(element) != "external-entity" and self.graph.attribute(element, "origin") != "third-party"

    def fits(self, mitigation: str, element: str) -> bool:
        graph = self.graph
        m = self.catalog.mitigations[mitigation]
        return m.fits_element(graph.traits(element), graph.dfd(element), False) and graph.has_what_it_needs(m.needs, element)

    def declarable_on(self, mitigation: str, node: str) -> bool:
        """The node could declare the mitigation with an attribute that protects what is behind it
        (autonomy on an agent, rate limiting on a gateway), not merely fit it."""
        traits = self.graph.traits(node)
        for declared in self.catalog.mitigations[mitigation].declared_by:
            for attribute in declared:
                info = self.catalog.attributes.get(f"component.{attribute}")
                if info is not None and info.on_path and (not info.traits or traits & set(info.traits)):
                    return True
        return False

    def cut(self, mitigation: str, element: str, moved_from: str = "") -> Cut:
        m = self.catalog.mitigations[mitigation]
        return Cut(mitigation, element, m.effort, m.owner, moved_from)

    def placements(self, finding: "Finding", mitigation: str) -> tuple[list[Cut], str]:
        """Where the team can apply ``mitigation`` against the finding, or why nowhere."""
        cuts: list[Cut] = []
        element = finding.element
        applied = self.catalog.mitigations[mitigation].applied
        if mitigation in finding.mitigations:
            if self.controlled(element) or applied == "at-use":
                cuts.append(self.cut(mitigation, element))
            else:
                front = self._front(finding, mitigation)
                if front:
                    cuts.append(self.cut(mitigation, front, element))
        if mitigation in self.on_path:
            for node in finding.attack_path[1:-1]:
                if self.graph.has_component(node) and self.controlled(node) and self.fits(mitigation, node) \
                        and self.declarable_on(mitigation, node):
                    cuts.append(self.cut(mitigation, node))
        if cuts:
            return list(dict.fromkeys(cuts)), ""
        if mitigation in finding.mitigations:
            return [], f"{mitigation} needs control of {element}, which is third-party, and no component of the team's sits in front of it"
        return [], ""

    def _front(self, finding: "Finding", mitigation: str) -> str:
        """The nearest component of the team's on the attack path in front of the element (one the
        mitigation fits first), else the team's component that sends to it."""
        path = [n for n in reversed(finding.attack_path[:-1]) if self.graph.has_component(n) and self.controlled(n)]
        senders = sorted(source for source, _ in self.graph.flows_into(finding.element)
                         if self.graph.has_component(source) and self.controlled(source))
        for node in path + senders:
            if self.fits(mitigation, node):
                return node
        return (path + senders)[0] if path + senders else ""


def _applies(cut: Cut, finding: "Finding", on_path: frozenset[str]) -> bool:
    """Whether ``cut`` counts for ``finding``, as the review would credit it."""
    if cut.mitigation not in finding.threat.mitigations:
        return False
    if cut.moved_from:
        return cut.moved_from == finding.element and cut.mitigation in finding.mitigations
    if cut.element == finding.element:
        return cut.mitigation in finding.mitigations
    return cut.mitigation in on_path and cut.element in finding.attack_path[1:-1]


def _shape(reviewed: ReviewedFinding) -> tuple[Any, ...]:
    """Everything a residual rating reads (statuses.residual_rating), besides the steps added."""
    finding = reviewed.finding
    score = finding.score
    return (finding.threat.id, score.likelihood, score.impact, score.base_likelihood, score.base_impact,
            score.critical_allowed, tuple(finding.mitigations), tuple(finding.controls_in_place),
            reviewed.implemented, tuple((c.mitigation, c.state) for c in reviewed.checks))


class _State:
    """Residual of every open finding as steps are added, recomputed only where a step touches."""

    def __init__(self, context: _Context, review: ReviewResult) -> None:
        self.context = context
        self.open = [r for r in review.findings if r.is_open]
        self.extra: list[list[str]] = [[] for _ in self.open]
        self.current = [(r.residual_score, r.residual_severity) for r in self.open]
        self.present = [in_place(r.finding, r.implemented, r.checks)[0] for r in self.open]
        self.primary = [any(r.finding.threat.role(m) == "primary" for m in present)
                        for r, present in zip(self.open, self.present)]
        self.initial_primary = tuple(self.primary)
        numbers: dict[tuple[Any, ...], int] = {}
        self.shapes = [numbers.setdefault(_shape(r), len(numbers)) for r in self.open]
        self.ratings: dict[tuple[Any, ...], tuple[int, str]] = {}
        self.reached: dict[Cut, list[int]] = {}
        self.reached_sets: dict[Cut, frozenset[int]] = {}
        self.by_node: dict[str, list[int]] = {}
        for position, reviewed in enumerate(self.open):
            for node in dict.fromkeys((reviewed.finding.element, *reviewed.finding.attack_path[1:-1])):
                self.by_node.setdefault(node, []).append(position)

    def restarted(self) -> "_State":
        """The state before any step, sharing what steps never change (the findings, their
        shapes, ratings tried and which findings each cut reaches)."""
        fresh = copy.copy(self)
        fresh.extra = [[] for _ in self.open]
        fresh.current = [(r.residual_score, r.residual_severity) for r in self.open]
        fresh.primary = list(self.initial_primary)
        return fresh

    def reach(self, cut: Cut) -> list[int]:
        """The findings a cut counts for: fixed, whatever steps are added (touched() leaves out
        those that already have its mitigation)."""
        reached = self.reached.get(cut)
        if reached is None:
            nodes = [cut.moved_from] if cut.moved_from else [cut.element]
            reached = self.reached[cut] = [p for node in nodes for p in self.by_node.get(node, ())
                                           if _applies(cut, self.open[p].finding, self.context.on_path)]
            self.reached_sets[cut] = frozenset(reached)
        return reached

    def touched(self, cut: Cut) -> list[int]:
        return [p for p in self.reach(cut) if cut.mitigation not in self.extra[p]]

    def rating(self, position: int, extra: list[str], mitigation: str) -> tuple[int, str]:
        """The finding's residual with ``extra`` and then ``mitigation`` (in neither yet, nor in
        place) added; findings of one shape (same threat, score and controls) rate alike, so each
        shape is rated once."""
        key = (self.shapes[position], tuple(extra), mitigation)
        found = self.ratings.get(key)
        if found is None:
            reviewed = self.open[position]
            found = self.ratings[key] = residual_rating(self.context.catalog, reviewed.finding,
                                                        list(reviewed.implemented) + extra + [mitigation],
                                                        reviewed.checks)
        return found

    def outcome_of(self, position: int, cuts: list[Cut]) -> tuple[int, bool]:
        """What applying ``cuts`` in order from the start leaves of one finding, exactly as
        apply() would (its residual if still high, else -1; whether a primary control helped):
        only the cuts that reach it matter."""
        current = (self.open[position].residual_score, self.open[position].residual_severity)
        primary = self.initial_primary[position]
        extra: list[str] = []
        role = self.open[position].finding.threat.role
        for cut in cuts:
            mitigation = cut.mitigation
            if mitigation in extra:
                continue
            self.reach(cut)
            if position not in self.reached_sets[cut]:
                continue
            after = current if mitigation in self.present[position] else self.rating(position, extra, mitigation)
            extra.append(mitigation)
            if after[0] < current[0] and role(mitigation) == "primary":
                primary = True
            current = after
        return (current[0] if _is_high(current[1]) else -1, primary)

    def with_step(self, position: int, mitigation: str) -> tuple[int, str]:
        if mitigation in self.present[position] or mitigation in self.extra[position]:
            return self.current[position]
        return self.rating(position, self.extra[position], mitigation)

    def apply(self, cut: Cut) -> list[tuple[int, int, int, str]]:
        """Add the step; (position, before, after, severity) of each finding it lowers."""
        lowered = []
        for position in self.touched(cut):
            before = self.current[position][0]
            after = self.with_step(position, cut.mitigation)
            self.extra[position].append(cut.mitigation)
            if after[0] < before and self.open[position].finding.threat.role(cut.mitigation) == "primary":
                self.primary[position] = True
            if after[0] < before:
                lowered.append((position, before, after[0], after[1]))
            self.current[position] = after
        return lowered

    def totals(self) -> tuple[int, int]:
        return sum(v for v, _ in self.current), sum(_is_high(s) for _, s in self.current)


def _targets(context: _Context, review: ReviewResult) -> tuple[list[Target], list[Target]]:
    targets, handled = [], []
    for reviewed in review.findings:
        finding = reviewed.finding
        if not reviewed.is_open:
            continue
        high_now = _is_high(reviewed.residual_severity)
        if not high_now and not _is_high(finding.score.severity) and not finding.controls_in_place:
            continue
        present, _ = in_place(finding, reviewed.implemented, reviewed.checks)
        states = {c.mitigation: c.state for c in reviewed.checks}
        handled_by = [f"{m} ({'declared' if m in finding.controls_in_place and states.get(m) != 'verified' else states.get(m, 'claimed')})"
                      for m in present if control_credit(context.catalog, finding.threat, m).earns]
        target = Target(finding, reviewed, present, [], [], handled_by)
        if not high_now:
            base = finding.score.rated(finding.score.base_likelihood or finding.score.likelihood,
                                       finding.score.base_impact or finding.score.impact)[1]
            if _is_high(base) and handled_by:
                handled.append(target)
            continue
        for mitigation in finding.threat.mitigations:
            if mitigation in present:
                continue
            if not control_credit(context.catalog, finding.threat, mitigation).earns:
                continue  # detective outside repudiation, corrective outside damage: not a step that lowers it
            cuts, why_not = context.placements(finding, mitigation)
            target.candidates += cuts
            if why_not:
                target.not_deployable.append(why_not)
        target.candidates = list(dict.fromkeys(target.candidates))
        targets.append(target)
    return targets, handled


def _choose(state: _State, targets: list[Target]) -> list[Cut]:
    """Lazy greedy cover: primary before supporting, then cheaper, then broader. A target is done
    when it is below high and a mitigation that addresses its mechanism is in place (where one
    can be applied): a supporting control alone never settles a high finding."""
    position_of = {id(state.open[p].finding): p for p in range(len(state.open))}
    wants_primary = {position_of[id(t.finding)] for t in targets
                     if any(t.finding.threat.role(c.mitigation) == "primary" for c in t.candidates)}
    target_positions = {position_of[id(t.finding)] for t in targets}
    candidates = list(dict.fromkeys(c for t in targets for c in t.candidates))

    def key(cut: Cut) -> tuple[int, int, int, str, str] | None:
        lowers = primary = 0
        for position in state.touched(cut):
            if position not in target_positions:
                continue
            is_primary = state.open[position].finding.threat.role(cut.mitigation) == "primary"
            high = _is_high(state.current[position][1])
            lacking = position in wants_primary and not state.primary[position] and is_primary
            if not (high or lacking):
                continue
            if state.with_step(position, cut.mitigation)[0] < state.current[position][0]:
                lowers += 1
                primary += is_primary
        if not lowers:
            return None
        return (0 if primary else 1, EFFORT_WEIGHT[cut.effort], -lowers, cut.mitigation, cut.element)

    heap = [(k, index) for index, cut in enumerate(candidates) if (k := key(cut)) is not None]
    heapq.heapify(heap)
    chosen: list[Cut] = []
    while heap:
        priority, index = heapq.heappop(heap)
        cut = candidates[index]
        fresh = key(cut)
        if fresh is None:
            continue
        if fresh != priority:  # its benefit dropped since it was pushed
            heapq.heappush(heap, (fresh, index))
            continue
        chosen.append(cut)
        state.apply(cut)
    return chosen


def _prune(start: _State, chosen: list[Cut], targets: list[Target]) -> list[Cut]:
    """Drop picks that no longer matter, most expensive first: a pick matters when without it a
    target would stay high (or higher), or would lose the only control addressing its mechanism.
    Only the findings a pick reaches can change without it, so only those are replayed."""
    wanted = {id(t.finding) for t in targets}
    kept = list(chosen)
    for cut in sorted(chosen, key=lambda c: (-EFFORT_WEIGHT[c.effort], c.mitigation, c.element)):
        trial = [c for c in kept if c != cut]
        positions = [p for p in start.reach(cut) if id(start.open[p].finding) in wanted]
        if all(start.outcome_of(p, trial) == start.outcome_of(p, kept) for p in positions):
            kept = trial
    return kept


def plan_fixes(analysis: "Analysis", review: ReviewResult, loaded: "LoadedReview | None" = None,
               verdicts: "EvidenceVerdicts | None" = None) -> Plan:
    """The plan over the review's residual risk (``loaded`` and ``verdicts`` are already in ``review``)."""
    context = _Context(analysis)
    targets, handled = _targets(context, review)
    state = _State(context, review)
    total_before, high_before = state.totals()
    chosen = _choose(state, targets)
    if len(chosen) <= 400:  # pruning re-runs the plan per pick; beyond this the greedy picks stand
        chosen = _prune(state, chosen, targets)
    steps, final = _steps(state, chosen)  # the residual of a set of steps does not depend on order
    position_of = {id(r.finding): p for p, r in enumerate(final.open)}
    decisions = [_decision(t, *final.current[position_of[id(t.finding)]]) for t in targets
                 if _is_high(final.current[position_of[id(t.finding)]][1])]
    plan = Plan(targets, handled, steps, decisions, sum(EFFORT_WEIGHT[c.effort] for c in chosen),
                total_before, high_before, final.totals()[1])
    plan.trees, plan.more_goals = _trees(context, targets + handled, chosen)
    return plan


def _steps(start: _State, chosen: list[Cut]) -> tuple[list[PlanStep], _State]:
    """Group the picks by mitigation, in the order first picked; residuals cumulative. Also the
    state after every step."""
    groups: dict[str, list[Cut]] = {}
    for cut in chosen:
        groups.setdefault(cut.mitigation, []).append(cut)
    state = start.restarted()
    steps = []
    for mitigation, cuts in groups.items():
        lowered: dict[int, tuple[int, int, str]] = {}
        for cut in sorted(cuts, key=lambda c: c.element):
            for position, before, after, severity in state.apply(cut):
                first = lowered.get(position, (before, after, severity))[0]
                lowered[position] = (first, after, severity)
        total, high = state.totals()
        entry = state.context.catalog.mitigations[mitigation]
        lows = sorted((Lowered(state.open[p].finding, b, a, s) for p, (b, a, s) in lowered.items()),
                      key=lambda low: (-low.before, low.finding.id))
        steps.append(PlanStep(mitigation, sorted({c.element for c in cuts}), entry.owner, entry.effort, entry.control,
                              _why(mitigation, lows), sorted(f"on {c.element}, in front of third-party {c.moved_from}"
                                                             for c in cuts if c.moved_from),
                              lows, total, high))
    return steps, state


def _why(mitigation: str, lowered: list[Lowered]) -> str:
    """The catalog's reason for the threat it matters most to (primary first)."""
    ranked = sorted(lowered, key=lambda low: (low.finding.threat.role(mitigation) != "primary", -low.before))
    for low in ranked:
        reason = low.finding.threat.why(mitigation)
        if reason:
            role = low.finding.threat.role(mitigation)
            return f"{role} against {low.finding.threat.name}: {reason}"
    return ""


def _decision(target: Target, score: int, severity: str) -> Decision:
    finding = target.finding
    if target.not_deployable and not target.candidates:
        reason = "; ".join(dict.fromkeys(target.not_deployable))
    elif target.candidates:
        reason = f"with every mitigation the team can apply, the residual is still {score} ({severity})"
        if target.not_deployable:
            reason += "; " + "; ".join(dict.fromkeys(target.not_deployable))
    else:
        reason = "every mitigation the catalog lists that fits here is already in place"
    return Decision(finding, score, severity, reason, finding.threat.redesign)


@dataclass
class TreeRoute:
    actor: str
    entry_point: str
    route: str  # the attack path, "a → b → c"


@dataclass
class TreeAttack:
    """One AND node of an attack tree: a finding, the ways actors get there (OR), and what stops it."""

    finding: str
    element: str
    severity: str  # the residual severity after review
    score: int  # the residual score
    routes: list[TreeRoute]
    in_place: str  # controls in place (declared, claimed, verified) that lower it, or ""
    cut: str  # "done" (brought below high already), "cut" (the plan brings it down), "open"
    cut_label: str


@dataclass
class TreeGoal:
    """An attack tree per attacker goal (a catalog threat): OR over the elements where it succeeds."""

    threat: str
    title: str
    attacks: list[TreeAttack] = field(default_factory=list)


def _trees(context: _Context, targets: list[Target], chosen: list[Cut]) -> tuple[list[TreeGoal], list[str]]:
    """An attack tree per attacker goal (the most exposed first): OR over the elements where the
    threat succeeds; each is an AND of a way in (OR over every actor's path) and no control that
    stops it, with the controls in place and the plan's steps. Drawn in Mermaid by
    templates/attack_tree.mmd.j2."""
    by_goal: dict[str, list[Target]] = {}
    for target in targets:
        by_goal.setdefault(target.finding.threat.id, []).append(target)
    ranked = sorted(by_goal, key=lambda g: (-max(t.finding.score.value for t in by_goal[g]), g))
    at_place: dict[str, list[int]] = {}  # a cut counts only where it is placed or for what it stands in front of
    for index, cut in enumerate(chosen):
        at_place.setdefault(cut.moved_from or cut.element, []).append(index)
    trees = []
    for goal in ranked[:MAX_TREES]:
        members = sorted(by_goal[goal], key=lambda t: (-t.reviewed.residual_score, t.finding.id))
        tree = TreeGoal(goal, members[0].finding.threat.name)
        for target in members[:MAX_TREE_FINDINGS]:
            finding = target.finding
            places = {finding.element, *finding.attack_path[1:-1]}
            cutting = [c for index in sorted({i for node in places for i in at_place.get(node, ())})
                       if _applies(c := chosen[index], finding, context.on_path)]
            if target.handled_by and not _is_high(target.reviewed.residual_severity):
                cut, label = "done", ", ".join(target.handled_by)
            elif cutting:
                cut, label = "cut", ", ".join(dict.fromkeys(f"{c.mitigation} on {c.element}" for c in cutting))
            else:
                cut, label = "open", ""
            paths = [(finding.actor, finding.attack_path)] if finding.actor else []
            paths += list(finding.other_paths)
            if not paths:
                paths = [(_no_actor(context, finding.element), ())]
            routes = [TreeRoute(actor, path[1] if len(path) > 1 else finding.element,
                                " → ".join(path) if path else finding.element) for actor, path in paths]
            tree.attacks.append(TreeAttack(finding.id, finding.element, target.reviewed.residual_severity,
                                           target.reviewed.residual_score, routes,
                                           ", ".join(target.handled_by), cut, label))
        trees.append(tree)
    return trees, ranked[MAX_TREES:]


def _no_actor(context: _Context, element: str) -> str:
    """Who carries out an attack no modelled actor's path explains: for third-party code, models
    and services, whoever controls them upstream."""
    graph = context.graph
    if graph.has_component(element) and (graph.has_role(element, "dependency") or graph.has_role(element, "supplier")):
        return UPSTREAM_ATTACKER
    return "an attacker with a foothold (no modelled actor's path)"
