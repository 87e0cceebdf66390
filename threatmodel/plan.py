"""Fix these first: the fewest, cheapest mitigations that cut every attack path to what matters.

**What is cut.** The attacks that matter are the open findings rated high or critical before
the review's credit: an actor reaches a high-value element along an attack path and carries out
a threat there. A mitigation *cuts* such a path when the catalog lists it against the threat
and it sits on the path: on the element itself, or on a component in front of it for controls
that protect what is behind them (``on_path`` attributes in catalog/attributes.yaml: rate
limiting or authentication on a gateway). A path is already cut when the review records such a
mitigation as implemented there or evidence verifies it (and nothing contradicts it). Controls
the model declares are already in the score, so they do not count as cuts.

**How the plan is chosen.** The candidate cuts (fitting mitigations not yet in place, weighted
by the catalog's ``effort``) become edges of a flow network: source → actor → each component
on the path (entering a component costs its cheapest on-path control for that threat) → the
finding's element → sink (costing the cheapest candidate on the element). A minimum cut
of that network (networkx) is a cheapest set of cuts when no mitigation serves two threats; a
greedy cover, which can let one mitigation serve several threats, is computed as well, and the
cheaper of the two, with redundant picks removed, is the plan. Steps are ordered by how many
paths each newly cuts. The plan never claims a step helps more than it does: the residual risk
after each step is computed by the same rule as the review's (docs/review.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .catalog import EFFORT_WEIGHT
from .review import OPEN_STATUSES, ReviewedFinding, ReviewResult, _residual, on_path_mitigations
from .scoring import SEVERITY_ORDER

if TYPE_CHECKING:
    from .analysis import Analysis, Finding
    from .review import LoadedReview
    from .verification import EvidenceVerdicts

TARGET_SEVERITY = "high"  # findings at or above this (before review credit) are the attacks that matter
MAX_TREES = 20  # attack trees for the most exposed assets; the JSON plan lists the rest by name
MAX_TREE_FINDINGS = 25


@dataclass(frozen=True)
class Cut:
    mitigation: str
    element: str  # where it is applied
    effort: str
    owner: str


@dataclass
class Target:
    finding: "Finding"
    reviewed: ReviewedFinding
    candidates: list[Cut]  # cheapest first
    cut_by: list[str] = field(default_factory=list)  # "mitigation@element (state)" already cutting it


@dataclass
class PlanStep:
    mitigation: str
    elements: list[str]
    owner: str
    effort: str
    breaks: list["Finding"]
    residual_total: int
    residual_high: int


@dataclass
class Plan:
    targets: list[Target]
    already_cut: list[Target]
    uncuttable: list[Target]
    steps: list[PlanStep]
    method: str
    cost: int
    residual_before: int
    high_before: int
    trees: list[tuple[str, list["TreeActor"]]] = field(default_factory=list)  # (asset, OR over actors)
    more_assets: list[str] = field(default_factory=list)


class _Context:
    def __init__(self, analysis: "Analysis", loaded: "LoadedReview | None", verdicts: "EvidenceVerdicts | None") -> None:
        self.analysis = analysis
        self.catalog = analysis.catalog
        self.graph = analysis.graph
        self.loaded = loaded
        self.verdicts = verdicts
        self.on_path = on_path_mitigations(self.catalog)

    def reviewed_state(self, mitigation: str, element: str) -> str:
        from .review import _matching, _wildcards

        if self.loaded is None:
            return ""
        entries = self.loaded.review.mitigations
        keys = _matching(entries, _wildcards(entries), f"{mitigation}@{element}") or (
            [mitigation] if mitigation in entries else [])
        return entries[keys[0]].state if keys else ""

    def verdict(self, mitigation: str, element: str, finding: str) -> str:
        if self.verdicts is None:
            return ""
        found = self.verdicts.get(mitigation, element, finding)
        return found.state if found is not None else ""

    def fits(self, mitigation: str, element: str) -> bool:
        graph = self.graph
        return self.catalog.mitigations[mitigation].fits_element(graph.traits(element), graph.dfd(element), False)

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

    def points(self, finding: "Finding") -> list[tuple[str, str]]:
        """(mitigation, element) pairs that would cut the finding's path."""
        pairs = [(m, finding.element) for m in finding.mitigations]
        for node in finding.attack_path[1:-1]:
            if not self.graph.has_component(node):
                continue
            pairs += [(m, node) for m in finding.threat.mitigations
                      if m in self.on_path and self.fits(m, node) and self.declarable_on(m, node)]
        return pairs

    def cut(self, mitigation: str, element: str) -> Cut:
        m = self.catalog.mitigations[mitigation]
        return Cut(mitigation, element, m.effort, m.owner)


def _targets(context: _Context, review: ReviewResult) -> tuple[list[Target], list[Target], list[Target]]:
    floor = SEVERITY_ORDER[TARGET_SEVERITY]
    open_targets, already_cut, uncuttable = [], [], []
    for reviewed in review.findings:
        finding = reviewed.finding
        if reviewed.status not in OPEN_STATUSES or SEVERITY_ORDER[finding.score.severity] < floor:
            continue
        if finding.element_type != "component":
            continue
        candidates, cut_by = [], []
        for mitigation, element in context.points(finding):
            verdict = context.verdict(mitigation, element, finding.id)
            if mitigation in finding.controls_in_place and verdict != "contradicted":
                continue  # declared in the model: already in the score, neither a cut nor a candidate
            implemented = context.reviewed_state(mitigation, element) == "implemented"
            if verdict == "contradicted":
                candidates.append(context.cut(mitigation, element))
            elif verdict == "verified" or implemented:
                cut_by.append(f"{mitigation}@{element} ({'verified' if verdict == 'verified' else 'claimed'})")
            elif mitigation not in finding.controls_in_place:
                candidates.append(context.cut(mitigation, element))
        target = Target(finding, reviewed, sorted(set(candidates), key=lambda c: (EFFORT_WEIGHT[c.effort], c.mitigation,
                                                                                  c.element)), cut_by)
        (already_cut if cut_by else open_targets if target.candidates else uncuttable).append(target)
    return open_targets, already_cut, uncuttable


def _min_cut(targets: list[Target]) -> set[Cut]:
    """The union of a minimum cut per threat: cuts never cross threats (a mitigation cuts the
    paths of the threats the catalog lists it against), so each threat's network is solved alone."""
    by_threat: dict[str, list[Target]] = {}
    for target in targets:
        by_threat.setdefault(target.finding.threat.id, []).append(target)
    chosen: set[Cut] = set()
    for group in by_threat.values():
        chosen |= _threat_min_cut(group)
    return chosen


def _threat_min_cut(targets: list[Target]) -> set[Cut]:
    import networkx as nx

    network = nx.DiGraph()
    for target in targets:
        finding = target.finding
        threat = finding.threat.id
        path = list(finding.attack_path) or [finding.element]
        start = ("actor", finding.actor or f"(no actor: {finding.element})")
        network.add_edge("source", start)
        previous = start
        for node in path[1:] if finding.attack_path else path:
            here = ("at", threat, node)
            entry = [c for c in target.candidates if c.element == node and node != finding.element]
            if entry:
                _add_cut_edge(network, previous, here, entry[0])
            elif not network.has_edge(previous, here):
                network.add_edge(previous, here)
            previous = here
        # candidates at the element are alternatives in series: a cut takes the cheapest of them
        at_element = [c for c in target.candidates if c.element == finding.element]
        if at_element:
            _add_cut_edge(network, previous, "sink", at_element[0])
        else:
            network.add_edge(previous, "sink")
    _, (reachable, _) = nx.minimum_cut(network, "source", "sink", flow_func=nx.flow.shortest_augmenting_path)
    return {data["cut"] for u, v, data in network.edges(data=True)
            if u in reachable and v not in reachable and "cut" in data}


def _add_cut_edge(network: Any, u: Any, v: Any, cut: Cut) -> None:
    weight = EFFORT_WEIGHT[cut.effort]
    existing = network.get_edge_data(u, v)
    if existing is None or ("capacity" in existing and existing["capacity"] > weight):
        network.add_edge(u, v, capacity=weight, cut=cut)


def _index(targets: list[Target]) -> dict[Cut, set[int]]:
    """For each candidate cut, the targets (by position) it would cut."""
    index: dict[Cut, set[int]] = {}
    for position, target in enumerate(targets):
        for cut in target.candidates:
            index.setdefault(cut, set()).add(position)
    return index


def _greedy(targets: list[Target], index: dict[Cut, set[int]]) -> set[Cut]:
    """Weighted greedy set cover: repeatedly the cut with the lowest effort per newly cut path."""
    import heapq

    def key(cut: Cut, count: int) -> tuple[float, int, str, str]:
        return (EFFORT_WEIGHT[cut.effort] / count, -count, cut.mitigation, cut.element)

    uncut = set(range(len(targets)))
    counts = {cut: len(members) for cut, members in index.items()}
    heap = [(key(cut, count), cut) for cut, count in counts.items()]
    heapq.heapify(heap)
    chosen: set[Cut] = set()
    while uncut and heap:
        priority, cut = heapq.heappop(heap)
        count = counts[cut]
        if count == 0:
            continue
        if priority != key(cut, count):  # stale entry: its count dropped since it was pushed
            heapq.heappush(heap, (key(cut, count), cut))
            continue
        chosen.add(cut)
        for position in index[cut] & uncut:
            uncut.discard(position)
            for other in targets[position].candidates:
                counts[other] -= 1
    return chosen


def _prune(targets: list[Target], chosen: set[Cut], index: dict[Cut, set[int]]) -> set[Cut]:
    """Drop picks the others make redundant, most expensive first."""
    covered = [0] * len(targets)
    for cut in chosen:
        for position in index.get(cut, ()):
            covered[position] += 1
    kept = set(chosen)
    for cut in sorted(chosen, key=lambda c: (-EFFORT_WEIGHT[c.effort], c.mitigation, c.element)):
        members = index.get(cut, set())
        if all(covered[position] >= 2 for position in members):
            kept.discard(cut)
            for position in members:
                covered[position] -= 1
    return kept


def _cost(chosen: set[Cut]) -> int:
    return sum(EFFORT_WEIGHT[c.effort] for c in chosen)


class _Residuals:
    """Residual risk of the open findings when (mitigation, element) pairs are recorded as
    implemented, credited as the review would: on the finding's element, or on its path for
    controls that protect what is behind them. Only the findings a pair touches are recomputed."""

    def __init__(self, review: ReviewResult, on_path: frozenset[str]) -> None:
        self.on_path = on_path
        self.open = [r for r in review.findings if r.is_open]
        self.by_node: dict[str, list[int]] = {}
        for position, reviewed in enumerate(self.open):
            for node in {reviewed.finding.element, *reviewed.finding.attack_path[1:-1]}:
                self.by_node.setdefault(node, []).append(position)
        self.base_total = sum(r.residual_score for r in self.open)
        self.base_high = sum(self._high(r) for r in self.open)

    @staticmethod
    def _high(reviewed: ReviewedFinding) -> int:
        return int(SEVERITY_ORDER[reviewed.residual_severity] >= SEVERITY_ORDER[TARGET_SEVERITY])

    def after(self, added: set[tuple[str, str]]) -> tuple[int, int]:
        total, high = self.base_total, self.base_high
        touched = {p for _, element in added for p in self.by_node.get(element, ())}
        for position in touched:
            reviewed = self.open[position]
            finding = reviewed.finding
            extra = [m for m in finding.mitigations if m not in reviewed.implemented and (
                (m, finding.element) in added
                or (m in self.on_path and any((m, node) in added for node in finding.attack_path[1:-1])))]
            if not extra:
                continue
            changed = _residual(finding, reviewed.decision, reviewed.decided_by, list(reviewed.implemented) + extra,
                                list(reviewed.planned), reviewed.checks)
            total += changed.residual_score - reviewed.residual_score
            high += self._high(changed) - self._high(reviewed)
        return total, high


def plan_fixes(analysis: "Analysis", review: ReviewResult, loaded: "LoadedReview | None" = None,
               verdicts: "EvidenceVerdicts | None" = None) -> Plan:
    context = _Context(analysis, loaded, verdicts)
    targets, already_cut, uncuttable = _targets(context, review)
    residuals = _Residuals(review, context.on_path)
    before = residuals.base_total, residuals.base_high
    if not targets:
        return Plan(targets, already_cut, uncuttable, [], "nothing to cut", 0, *before)
    index = _index(targets)
    by_cut = _prune(targets, _min_cut(targets), index)
    by_greedy = _prune(targets, _greedy(targets, index), index)
    chosen, method = (by_cut, "minimum cut") if _cost(by_cut) <= _cost(by_greedy) else (by_greedy, "greedy cover")
    groups: dict[str, list[Cut]] = {}
    for cut in chosen:
        groups.setdefault(cut.mitigation, []).append(cut)
    reach = {m: set().union(*(index[c] for c in cuts)) for m, cuts in groups.items()}
    steps: list[PlanStep] = []
    uncut = set(range(len(targets)))
    applied: set[tuple[str, str]] = set()
    while groups and uncut:
        mitigation = min(groups, key=lambda m: (-len(reach[m] & uncut),
                                                sum(EFFORT_WEIGHT[c.effort] for c in groups[m]), m))
        cuts = sorted(groups.pop(mitigation), key=lambda c: c.element)
        broken = sorted(reach[mitigation] & uncut)
        if not broken:
            continue
        uncut -= set(broken)
        applied |= {(c.mitigation, c.element) for c in cuts}
        total, high = residuals.after(applied)
        steps.append(PlanStep(mitigation, [c.element for c in cuts], cuts[0].owner, cuts[0].effort,
                              [targets[p].finding for p in broken], total, high))
    plan = Plan(targets, already_cut, uncuttable, steps, method, _cost(chosen), *before)
    plan.trees, plan.more_assets = _trees(analysis, targets + already_cut + uncuttable, chosen)
    return plan


@dataclass
class TreeAttack:
    """One AND node of an attack tree: a finding, how the actor gets there, and what cuts it."""

    finding: str
    route: str
    threat: str
    cut: str  # "done" (already cut), "cut" (the plan cuts it) or ""
    cut_label: str


@dataclass
class TreeEntry:
    entry_point: str
    attacks: list[TreeAttack] = field(default_factory=list)


@dataclass
class TreeActor:
    actor: str
    entries: list[TreeEntry] = field(default_factory=list)


def _trees(analysis: "Analysis", targets: list[Target],
           chosen: set[Cut]) -> tuple[list[tuple[str, list[TreeActor]]], list[str]]:
    """An attack tree per high-value asset (the most exposed first): OR over actors and their
    entry points, AND over what each attack needs, with the plan's and existing cuts. Drawn in
    Mermaid by templates/attack_tree.mmd.j2."""
    by_asset: dict[str, list[Target]] = {}
    for target in targets:
        by_asset.setdefault(target.finding.element, []).append(target)
    ranked = sorted(by_asset, key=lambda a: (-max(t.finding.score.value for t in by_asset[a]), a))
    pairs = {(c.mitigation, c.element) for c in chosen}
    trees = []
    for asset in ranked[:MAX_TREES]:
        actors: dict[str, TreeActor] = {}
        entries: dict[tuple[str, str], TreeEntry] = {}
        for target in sorted(by_asset[asset], key=lambda t: t.finding.id)[:MAX_TREE_FINDINGS]:
            finding = target.finding
            actor = finding.actor or "no actor needed"
            tree_actor = actors.setdefault(actor, TreeActor(actor))
            entry_point = finding.attack_path[1] if len(finding.attack_path) > 1 else finding.element
            if (actor, entry_point) not in entries:
                entries[(actor, entry_point)] = TreeEntry(entry_point)
                tree_actor.entries.append(entries[(actor, entry_point)])
            cutting = [c for c in target.candidates if (c.mitigation, c.element) in pairs]
            cut, label = (("done", target.cut_by[0]) if target.cut_by else
                          ("cut", f"{cutting[0].mitigation} on {cutting[0].element}") if cutting else ("", ""))
            entries[(actor, entry_point)].attacks.append(TreeAttack(
                finding.id, " → ".join(finding.attack_path) if finding.attack_path else finding.element,
                finding.threat.name, cut, label))
        trees.append((asset, list(actors.values())))
    return trees, ranked[MAX_TREES:]


def plan_data(plan: Plan, graph: Any) -> dict[str, Any]:
    """The plan as report data (the JSON report's ``plan`` key)."""
    from .renderers.templates import render

    def path_of(finding: "Finding") -> str:
        return " → ".join(finding.attack_path) if finding.attack_path else finding.element

    return {
        "method": plan.method,
        "targets": len(plan.targets) + len(plan.already_cut) + len(plan.uncuttable),
        "open_paths": len(plan.targets),
        "cost": plan.cost,
        "residual_before": {"total": plan.residual_before, "high_or_critical": plan.high_before},
        "steps": [
            {"order": index, "mitigation": step.mitigation, "elements": step.elements, "owner": step.owner,
             "effort": step.effort,
             "breaks": [{"finding": f.id, "actor": f.actor, "path": path_of(f)} for f in step.breaks],
             "residual_after": {"total": step.residual_total, "high_or_critical": step.residual_high}}
            for index, step in enumerate(plan.steps, 1)
        ],
        "already_cut": [{"finding": t.finding.id, "path": path_of(t.finding), "by": t.cut_by}
                        for t in plan.already_cut],
        "uncuttable": [{"finding": t.finding.id, "path": path_of(t.finding),
                        "reason": "every fitting mitigation is already declared in the model"}
                       for t in plan.uncuttable],
        "trees": [{"asset": asset, "mermaid": render("attack_tree.mmd.j2", {"asset": asset, "actors": actors})}
                  for asset, actors in plan.trees],
        "more_assets": plan.more_assets,
    }
