"""Run the whole pipeline for one model: catalog, system, graph, analysis, review.

Every command that analyses a model (report, checklist, check, diff) goes through here, so they
agree on what the findings are. Warnings are collected, not printed: the caller decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .analysis import Assessment, analyse
from .catalog_load import LoadedCatalog, load_catalog
from .errors import Diagnostic
from .graph import DataFlowGraph
from .review import LoadedReview, ReviewResult, apply_review, default_status_path, load_review
from .system_load import LoadedSystem, load_system


@dataclass
class Run:
    catalog: LoadedCatalog
    system: LoadedSystem
    graph: DataFlowGraph
    assessment: Assessment
    review: ReviewResult
    review_file: LoadedReview | None
    warnings: list[Diagnostic] = field(default_factory=list)
    review_display: str = ""  # the review file as reports name it: relative to the model's folder


def _display(review: Path, model: Path) -> str:
    try:
        return review.resolve().relative_to(model.resolve().parent).as_posix()
    except ValueError:
        return str(review)


def run(model: Path, extra_catalogs: Iterable[Path] = (), status: Path | None = None,
        use_default_status: bool = True, catalog: LoadedCatalog | None = None) -> Run:
    """Analyse ``model``; ``status`` (or the default review file beside it) adds the review."""
    loaded_catalog = catalog or load_catalog(list(extra_catalogs))
    loaded_system = load_system(model, loaded_catalog.catalog.kinds)
    graph = DataFlowGraph(loaded_system.system, loaded_catalog.catalog.kinds)
    assessment = analyse(loaded_catalog.catalog, graph, loaded_system.exclusion_locations)
    review_path = status or (default_status_path(model) if use_default_status else None)
    review_file = load_review(review_path) if review_path else None
    review = apply_review(assessment, review_file)
    warnings = [*loaded_catalog.warnings, *loaded_system.warnings, *assessment.warnings, *review.orphans]
    display = _display(review_path, model) if review_path else ""
    return Run(loaded_catalog, loaded_system, graph, assessment, review, review_file, warnings, display)
