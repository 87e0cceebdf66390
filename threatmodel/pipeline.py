"""One assessed model: catalog, system, graph, analysis and review, as every command sees it.

Every command that analyses a model (report, checklist, check, diff, controls) goes through
:func:`assess`, so they agree on what the findings are. Warnings are collected, not printed:
the caller decides what to do with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from threatmodel.analysis.match import Analysis, Finding, analyse
from threatmodel.catalog.load import LoadedCatalog, load_catalog
from threatmodel.core.errors import Diagnostic
from threatmodel.graph import DataFlowGraph
from threatmodel.review.statuses import (LoadedReview, ReviewResult, apply_review, default_status_path, evidence_entries,
                                         load_review)
from threatmodel.system.load import LoadedSystem, load_system
from threatmodel.evidence.judge import DEFAULT_MAX_AGE_DAYS, EvidenceVerdicts, judge_evidence, read_all

if TYPE_CHECKING:
    from datetime import datetime

    from threatmodel.review.plan import Plan


@dataclass
class Assessment:
    """The result of analysing one model, with its review applied."""

    catalog: LoadedCatalog
    system: LoadedSystem
    graph: DataFlowGraph
    analysis: Analysis
    review: ReviewResult
    review_file: LoadedReview | None
    model_path: Path
    warnings: list[Diagnostic] = field(default_factory=list)
    review_display: str = ""  # the review file as reports name it: relative to the model's folder
    evidence: EvidenceVerdicts = field(default_factory=EvidenceVerdicts)  # what the evidence files show

    @property
    def findings(self) -> list[Finding]:
        return self.analysis.findings

    @cached_property
    def plan(self) -> "Plan":
        """Fix these first: the steps that bring every open high-risk finding below high (threatmodel.review.plan)."""
        from threatmodel.review.plan import plan_fixes

        return plan_fixes(self.analysis, self.review, self.review_file, self.evidence)


def _display(review: Path, model: Path) -> str:
    try:
        return review.resolve().relative_to(model.resolve().parent).as_posix()
    except ValueError:
        return str(review)


def _class_warnings(graph: DataFlowGraph, loaded: LoadedSystem) -> list[Diagnostic]:
    """A warning where one flow among several alone decides who a person is (docs/format.md):
    a wrong or missing flow attribute there changes every finding that person leads to."""
    from threatmodel.core.errors import Location
    from threatmodel.graph.actors import deciding_flows

    titles = {c.id: c.title.lower() for c in graph.catalog.actor_classes.values()}
    return [Diagnostic(loaded.locations.get(key) or loaded.locations.get(person) or Location(loaded.path or "model"),
                       f"flow '{key}' alone makes '{person}' an {titles[mine]}; without it they would be an "
                       f"{titles[other]}: check its protocol and `authenticated`, or set `actor:` on '{person}'",
                       "warning")
            for person, key, mine, other in deciding_flows(graph)]


def assess(model: Path | LoadedSystem, catalog: LoadedCatalog | None = None,
           status: Path | LoadedReview | None = None, use_default_status: bool = True, *,
           evidence: list[Path] | None = None, now: "datetime | None" = None,
           max_age_days: int | None = None, frameworks: str | None = None) -> Assessment:
    """Analyse ``model``; ``status`` (or the default review file beside it) adds the review, and
    the evidence files it lists (plus ``evidence``) show which mitigations are in place.
    ``frameworks`` (``llm-2026,asi-2026``) runs only the threats mapped to those frameworks;
    an unknown one raises :class:`~threatmodel.catalog.frameworks.FrameworkError`."""
    loaded_catalog = catalog or load_catalog()
    left_out: dict[str, Any] = {}
    if frameworks:
        from threatmodel.catalog.frameworks import parse_frameworks, restrict

        restricted = restrict(loaded_catalog.catalog, parse_frameworks(loaded_catalog.catalog, frameworks))
        left_out = {k: t for k, t in loaded_catalog.catalog.threats.items() if k not in restricted.threats}
        loaded_catalog = LoadedCatalog(restricted, loaded_catalog.warnings, loaded_catalog.files)
    if isinstance(model, LoadedSystem):
        loaded_system, model_path = model, Path(model.path)
    else:
        model_path = Path(model)
        loaded_system = load_system(model_path, loaded_catalog.catalog.kinds,
                                    formats=loaded_catalog.catalog.formats)
    graph = DataFlowGraph(loaded_system.system, loaded_catalog.catalog)
    analysis = analyse(loaded_catalog.catalog, graph, loaded_system.exclusion_locations)
    if isinstance(status, LoadedReview):
        review_file: LoadedReview | None = status
        review_path: Path | None = Path(status.path)
    else:
        review_path = status or (default_status_path(model_path) if use_default_status else None)
        review_file = load_review(review_path) if review_path else None
    entries = evidence_entries(review_file, evidence or [])
    sources = read_all(entries, loaded_catalog.catalog.evidence)
    max_age = max_age_days or (review_file.review.evidence.max_age_days if review_file else DEFAULT_MAX_AGE_DAYS)
    verdicts = judge_evidence(analysis, sources, now, max_age)
    review = apply_review(analysis, review_file, verdicts, left_out)
    warnings = [*loaded_catalog.warnings, *loaded_system.warnings, *_class_warnings(graph, loaded_system),
                *analysis.warnings, *review.orphans]
    display = _display(review_path, model_path) if review_path else ""
    return Assessment(loaded_catalog, loaded_system, graph, analysis, review, review_file, model_path,
                      warnings, display, verdicts)
