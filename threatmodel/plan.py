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
finding's element → its candidate mitigations in series → the finding → sink. A minimum cut
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
    trees: list[tuple[str, str]] = field(default_factory=list)  # (asset, Mermaid)
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

    def points(self, finding: "Finding") -> list[tuple[str, str]]:
        """(mitigation, element) pairs that would cut the finding's path."""
        pairs = [(m, finding.element) for m in finding.mitigations]
        for node in finding.attack_path[1:-1]:
            if not self.graph.has_component(node):
                continue
            pairs += [(m, node) for m in finding.threat.mitigations
                      if m in self.on_path and self.fits(m, node)]
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
                cheapest = entry[0]
                _add_cut_edge(network, previous, here, cheapest)
            elif not network.has_edge(previous, here):
                network.add_edge(previous, here)
            previous = here
        chain = previous
        for index, cut in enumerate(c for c in target.candidates if c.element == finding.element):
            step = ("try", finding.id, index)
            _add_cut_edge(network, chain, step, cut)
            chain = step
        network.add_edge(chain, ("finding", finding.id))
        network.add_edge(("finding", finding.id), "sink")
    _, (reachable, _) = nx.minimum_cut(network, "source", "sink")
    chosen = set()
    for u, v, data in network.edges(data=True):
        if u in reachable and v not in reachable and "cut" in data:
            chosen.add(data["cut"])
    return chosen


def _add_cut_edge(network: Any, u: Any, v: Any, cut: Cut) -> None:
    weight = EFFORT_WEIGHT[cut.effort]
    existing = network.get_edge_data(u, v)
    if existing is None or ("capacity" in existing and existing["capacity"] > weight):
        network.add_edge(u, v, capacity=weight, cut=cut)


def _covers(target: Target, chosen: set[tuple[str, str]]) -> bool:
    return any((c.mitigation, c.element) in chosen for c in target.candidates)


def _greedy(targets: list[Target]) -> set[Cut]:
    remaining = list(targets)
    chosen: set[Cut] = set()
    while remaining:
        counts: dict[Cut, int] = {}
        for target in remaining:
            for cut in target.candidates:
                counts[cut] = counts.get(cut, 0) + 1
        best = min(counts, key=lambda c: (EFFORT_WEIGHT[c.effort] / counts[c], -counts[c], c.mitigation, c.element))
        chosen.add(best)
        remaining = [t for t in remaining if best not in t.candidates]
    return chosen


def _prune(targets: list[Target], chosen: set[Cut]) -> set[Cut]:
    """Drop picks the others make redundant, most expensive first."""
    kept = set(chosen)
    for cut in sorted(chosen, key=lambda c: (-EFFORT_WEIGHT[c.effort], c.mitigation, c.element)):
        trial = {(c.mitigation, c.element) for c in kept if c != cut}
        if all(_covers(t, trial) for t in targets):
            kept.discard(cut)
    return kept


def _cost(chosen: set[Cut]) -> int:
    return sum(EFFORT_WEIGHT[c.effort] for c in chosen)


def _residuals(review: ReviewResult, added: set[tuple[str, str]], on_path: frozenset[str]) -> tuple[int, int]:
    """(sum of residual scores of open findings, open findings rated high or critical) when the
    (mitigation, element) pairs in ``added`` are recorded as implemented, credited as the review
    would: on the finding's element, or on its path for controls that protect what is behind them."""
    total = high = 0
    for reviewed in review.findings:
        if not reviewed.is_open:
            continue
        finding = reviewed.finding
        extra = [m for m in finding.mitigations if m not in reviewed.implemented and (
            (m, finding.element) in added
            or (m in on_path and any((m, node) in added for node in finding.attack_path[1:-1])))]
        if extra:
            reviewed = _residual(finding, reviewed.decision, reviewed.decided_by, list(reviewed.implemented) + extra,
                                 list(reviewed.planned), reviewed.checks)
        total += reviewed.residual_score
        high += SEVERITY_ORDER[reviewed.residual_severity] >= SEVERITY_ORDER[TARGET_SEVERITY]
    return total, high


def plan_fixes(analysis: "Analysis", review: ReviewResult, loaded: "LoadedReview | None" = None,
               verdicts: "EvidenceVerdicts | None" = None) -> Plan:
    context = _Context(analysis, loaded, verdicts)
    targets, already_cut, uncuttable = _targets(context, review)
    before = _residuals(review, set(), context.on_path)
    if not targets:
        return Plan(targets, already_cut, uncuttable, [], "nothing to cut", 0, *before)
    by_cut, by_greedy = _prune(targets, _min_cut(targets)), _prune(targets, _greedy(targets))
    chosen, method = (by_cut, "minimum cut") if _cost(by_cut) <= _cost(by_greedy) else (by_greedy, "greedy cover")
    steps: list[PlanStep] = []
    remaining = list(targets)
    pending = set(chosen)
    applied: set[tuple[str, str]] = set()
    while pending and remaining:
        groups: dict[str, list[Cut]] = {}
        for cut in pending:
            groups.setdefault(cut.mitigation, []).append(cut)

        def breaks(cuts: list[Cut]) -> list[Target]:
            pairs = {(c.mitigation, c.element) for c in cuts}
            return [t for t in remaining if _covers(t, pairs)]

        mitigation = min(groups, key=lambda m: (-len(breaks(groups[m])),
                                                sum(EFFORT_WEIGHT[c.effort] for c in groups[m]), m))
        cuts = sorted(groups[mitigation], key=lambda c: c.element)
        broken = breaks(cuts)
        pending -= set(cuts)
        if not broken:
            continue
        applied |= {(c.mitigation, c.element) for c in cuts}
        remaining = [t for t in remaining if t not in broken]
        total, high = _residuals(review, applied, context.on_path)
        steps.append(PlanStep(mitigation, [c.element for c in cuts], cuts[0].owner, cuts[0].effort,
                              [t.finding for t in broken], total, high))
    plan = Plan(targets, already_cut, uncuttable, steps, method, _cost(chosen), *before)
    plan.trees, plan.more_assets = _trees(analysis, targets + already_cut + uncuttable, chosen)
    return plan


def _trees(analysis: "Analysis", targets: list[Target], chosen: set[Cut]) -> tuple[list[tuple[str, str]], list[str]]:
    """An attack tree per high-value asset, in Mermaid: OR over actors and their entry points,
    AND over what each attack needs; the plan's cuts and existing cuts marked."""
    from .renderers.escape import mermaid_label

    by_asset: dict[str, list[Target]] = {}
    for target in targets:
        by_asset.setdefault(target.finding.element, []).append(target)
    ranked = sorted(by_asset, key=lambda a: (-max(t.finding.score.value for t in by_asset[a]), a))
    pairs = {(c.mitigation, c.element) for c in chosen}
    trees = []
    for asset in ranked[:MAX_TREES]:
        lines = ["flowchart TD", f'  goal["{mermaid_label(asset)}: attack succeeds"]', "  goal --> any{OR}"]
        counter = 0
        actors: dict[str, str] = {}
        entries: dict[tuple[str, str], str] = {}
        for target in sorted(by_asset[asset], key=lambda t: t.finding.id)[:MAX_TREE_FINDINGS]:
            finding = target.finding
            actor = finding.actor or "no actor needed"
            if actor not in actors:
                actors[actor] = f"a{len(actors)}"
                lines.append(f'  any --> {actors[actor]}["{mermaid_label(actor)} (OR)"]')
            entry_point = finding.attack_path[1] if len(finding.attack_path) > 1 else finding.element
            if (actor, entry_point) not in entries:
                entries[(actor, entry_point)] = f"e{len(entries)}"
                lines.append(f'  {actors[actor]} --> {entries[(actor, entry_point)]}["enters at '
                             f'{mermaid_label(entry_point)} (OR)"]')
            counter += 1
            node = f"f{counter}"
            lines.append(f'  {entries[(actor, entry_point)]} --> {node}["AND: {mermaid_label(finding.id)}"]')
            route = " → ".join(finding.attack_path) if finding.attack_path else finding.element
            lines.append(f'  {node} --> {node}r["reaches via {mermaid_label(route)}"]')
            lines.append(f'  {node} --> {node}t["{mermaid_label(finding.threat.name)} succeeds"]')
            lines.append(f'  {node} --> {node}m["no fitting mitigation in place"]')
            cutting = [c for c in target.candidates if (c.mitigation, c.element) in pairs]
            if target.cut_by:
                lines.append(f'  {node}m -.- {node}x["cut: {mermaid_label(target.cut_by[0])}"]:::done')
            elif cutting:
                lines.append(f'  {node}m -.- {node}x["plan cuts: {mermaid_label(cutting[0].mitigation)} on '
                             f'{mermaid_label(cutting[0].element)}"]:::cut')
        lines.append("  classDef cut stroke:#b42318,stroke-width:2px,stroke-dasharray:5 3")
        lines.append("  classDef done stroke:#1a7f37,stroke-width:2px")
        trees.append((asset, "\n".join(lines) + "\n"))
    return trees, ranked[MAX_TREES:]


def plan_data(plan: Plan, graph: Any) -> dict[str, Any]:
    """The plan as report data (the JSON report's ``plan`` key)."""
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
        "trees": [{"asset": asset, "mermaid": text} for asset, text in plan.trees],
        "more_assets": plan.more_assets,
    }
