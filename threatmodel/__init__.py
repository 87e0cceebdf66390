"""threatmodel: threat modeling for machine-learning systems.

The public API (documented in docs/api.md)::

    import threatmodel as tm

    system = tm.load_system("docs/examples/huskyai.yaml")
    assessment = tm.analyze(system)
    for finding in assessment.findings:
        print(finding.id, finding.score.severity)
    print(tm.render(assessment, "md"))

Library functions raise :class:`InputError` (with every located diagnostic) for invalid input;
they never print and never exit. Heavy modules are imported on first use, so ``import
threatmodel`` stays cheap for command-line start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal, Union

from threatmodel._version import __version__

if TYPE_CHECKING:
    from datetime import datetime

    from threatmodel.assessment import Assessment
    from threatmodel.catalog.atlas import AtlasIndex
    from threatmodel.catalog.load import LoadedCatalog
    from threatmodel.controls.derive import ScanStep, Watch
    from threatmodel.discover import Discovery
    from threatmodel.discover.drift import DriftReport
    from threatmodel.graph import DataFlowGraph
    from threatmodel.interop.review_map import Mapping
    from threatmodel.system.draft import Draft
    from threatmodel.threat_fixtures import FixtureRun
    from threatmodel.controls.manifest import ManifestCheck
    from threatmodel.renderers.registry import OutputFormat
    from threatmodel.review.statuses import LoadedReview
    from threatmodel.system.load import LoadedSystem

PathLike = Union[str, Path]
ReviewArgument = Union[PathLike, "LoadedReview", None, Literal[False]]

__all__ = [
    "__version__", "load_catalog", "load_system", "load_review", "analyze", "render", "output_formats",
    "audit_rules", "hash_manifest", "verify_manifest", "scan_steps", "discover_project", "drift", "system_schema",
    "report_schema", "gate", "contradicted", "diff", "new_findings", "snapshot_path", "accept_drift", "dataflow_graph",
    "import_model", "map_foreign_threats", "record_review", "review_path",
    "bundled_examples", "init_project", "import_atlas", "test_catalog", "InputError", "Diagnostic", "FrameworkError",
]


# the types the functions below take and return, importable from here (loaded on first use)
_LAZY = {"FrameworkError": "threatmodel.catalog.frameworks", "Assessment": "threatmodel.assessment",
         "LoadedCatalog": "threatmodel.catalog.load", "LoadedSystem": "threatmodel.system.load",
         "LoadedReview": "threatmodel.review.statuses", "StarterExists": "threatmodel.system.starter", "ManifestCheck": "threatmodel.controls.manifest"}


def __getattr__(name: str) -> object:
    # the error types, importable as threatmodel.InputError without loading anything heavy
    if name in ("InputError", "Diagnostic", "Location"):
        from threatmodel.core import errors

        return getattr(errors, name)
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'threatmodel' has no attribute {name!r}")


def load_catalog(extra: Iterable[PathLike] = ()) -> "LoadedCatalog":
    """The built-in catalog merged with user catalog files ``extra``, cross-checked.

    ``.catalog`` is the merged :class:`~threatmodel.catalog.model.Catalog`; ``.warnings`` lists
    non-fatal problems. Raises :class:`InputError` with every located problem.
    """
    from threatmodel.catalog.load import load_catalog as _load

    return _load([Path(p) for p in extra])


def load_system(path: PathLike, catalog: "LoadedCatalog | None" = None) -> "LoadedSystem":
    """Load and validate a system model (with its includes) against ``catalog``'s kinds and formats.

    ``.system`` is the validated :class:`~threatmodel.system.model.System`; ``.warnings`` and
    ``.locations`` (element id → file:line:col) come with it.
    """
    from threatmodel.system.load import load_system as _load

    loaded_catalog = (catalog or load_catalog()).catalog
    return _load(Path(path), loaded_catalog.kinds, formats=loaded_catalog.formats)


def system_schema(catalog: "LoadedCatalog | None" = None) -> str:
    """The JSON Schema of the system format (for editors and CI), knowing ``catalog``'s kinds and
    model formats (the built-in catalog's by default)."""
    from threatmodel.system.schema import system_json_schema

    return system_json_schema((catalog or load_catalog()).catalog)


def report_schema() -> str:
    """The JSON Schema of the JSON report (docs/report.schema.json)."""
    from threatmodel.report.model import report_json_schema

    return report_json_schema()


def dataflow_graph(system: "LoadedSystem | PathLike", catalog: "LoadedCatalog | None" = None) -> "DataFlowGraph":
    """The model's data-flow graph (networkx underneath, ``.nx``), with reach and attack paths on demand."""
    from threatmodel.graph import DataFlowGraph

    loaded_catalog = catalog or load_catalog()
    loaded = system if not isinstance(system, (str, Path)) else load_system(system, loaded_catalog)
    return DataFlowGraph(loaded.system, loaded_catalog.catalog)


def import_model(format_name: str, path: PathLike, catalog: "LoadedCatalog | None" = None) -> "Draft":
    """Another tool's threat model (otm, tmbom, threat-dragon, threagile, cyclonedx) as a draft in
    our terms, guesses noted; an unknown format raises a ``ChoiceError`` naming the known ones."""
    from threatmodel.interop import import_file

    kinds = set((catalog or load_catalog()).catalog.kinds)
    return import_file(format_name.strip().lower(), Path(path), kinds)


def map_foreign_threats(draft: "Draft", assessment: "Assessment") -> "Mapping":
    """The draft's foreign threats placed on our findings of the written model: ``.entries``
    (review decisions), ``.unmapped``, ``.mitigations``."""
    from threatmodel.interop.review_map import map_threats

    return map_threats(draft, assessment)


def review_path(model: PathLike) -> Path:
    """The review file a model uses by default: ``<model>.status.yaml`` or
    ``threatmodel.status.yaml`` beside it when one exists, else ``<model>.status.yaml``."""
    from threatmodel.review.statuses import default_status_path

    model = Path(model)
    return default_status_path(model) or model.with_name(f"{model.stem}.status.yaml")


def record_review(assessment: "Assessment", statuses: Iterable[str] = (), mitigations: Iterable[str] = (), *,
                  review: PathLike | None = None, why: str = "", evidence: str = "", owner: str = "",
                  ticket: str = "", reviewer: str = "", date: str = "") -> tuple[Path, int]:
    """Record decisions in the review file, keeping its comments and order: ``statuses`` as
    ``FINDING=STATUS`` (wildcards allowed), ``mitigations`` as ``MITIGATION[@COMPONENT]=STATE``.
    Every argument is checked against the assessment first (a ``ChoiceError`` says what is
    wrong, and nothing is written). Returns the review file and the number of changes."""
    import datetime as _dt

    from threatmodel.review.edit import Decision, plan_changes, update_review

    path = Path(review) if review is not None else review_path(assessment.model_path)
    decision = Decision(why=why, evidence=evidence, owner=owner, ticket=ticket, reviewer=reviewer,
                        date=date or _dt.date.today().isoformat())
    changes = plan_changes(assessment, list(statuses), list(mitigations), decision, str(assessment.model_path))
    for section, key, values in changes:
        update_review(path, section, key, values)
    return path, len(changes)


def bundled_examples() -> dict[str, str]:
    """The examples ``init --example`` copies: name → ``model`` (a model and its review file) or
    ``project`` (an ML project folder to run ``discover`` on)."""
    from threatmodel.system.starter import example_names, is_project

    return {name: "project" if is_project(name) else "model" for name in example_names()}


def init_project(directory: PathLike, example: str | None = None, force: bool = False) -> list[Path]:
    """Write a commented starter model and its JSON Schema into ``directory`` (or copy a bundled
    example); returns the files written. An existing file raises ``StarterExists`` unless
    ``force``; an unknown example raises a ``ChoiceError``."""
    from threatmodel.core.errors import ChoiceError, did_you_mean
    from threatmodel.system.starter import example_names, write_example, write_starter

    if example is not None and example not in example_names():
        raise ChoiceError(f"no bundled example '{example}' (known: {', '.join(example_names())})"
                          f"{did_you_mean(example, example_names())}")
    folder = Path(directory)
    return write_example(example, folder, force) if example else write_starter(folder, force)


def import_atlas(source: PathLike, previous: PathLike | None = None,
                 renames: PathLike | None = None) -> "AtlasIndex":
    """Build the ATLAS index from an official ATLAS.yaml; names in ``previous`` (default: the
    built-in index) and in a ``renames`` TSV are kept as aliases. ``dump_index(index)`` in
    :mod:`threatmodel.catalog.atlas` writes it as the catalog's atlas.yaml."""
    from threatmodel.catalog.atlas import import_atlas_file, load_index
    from threatmodel.catalog.load import ATLAS_INDEX_FILE
    from threatmodel.core.resources import catalog_dir

    earlier = load_index(Path(previous) if previous is not None else catalog_dir() / ATLAS_INDEX_FILE)
    return import_atlas_file(Path(source), earlier, Path(renames) if renames is not None else None)


def test_catalog(catalog: "LoadedCatalog", extra: Iterable[PathLike] = ()) -> "FixtureRun":
    """Run the threat fixtures of the built-in catalog and of the user catalog files ``extra``
    (a ``fixtures/`` folder beside each): ``.problems`` lists every failing check, located in the
    fixture; ``.warnings`` the user threats without one (docs/catalog.md)."""
    from threatmodel.threat_fixtures import run_fixtures

    return run_fixtures(catalog, [Path(p) for p in extra])


def load_review(path: PathLike) -> "LoadedReview":
    """Load a review file (statuses and implemented mitigations, see docs/review.md)."""
    from threatmodel.review.statuses import load_review as _load

    return _load(Path(path))


def analyze(system: "LoadedSystem | PathLike", catalog: "LoadedCatalog | None" = None,
            review: ReviewArgument = None, *, evidence: "list[PathLike] | None" = None,
            now: "datetime | None" = None, max_age_days: int | None = None,
            frameworks: str | None = None) -> "Assessment":
    """Match ``system`` against the catalog and apply a review.

    ``review``: a review file path or a loaded review; ``None`` (the default) uses the review
    file beside the model when there is one (``<model>.status.yaml`` or
    ``threatmodel.status.yaml``), as the command line does; ``False`` uses none.
    ``evidence``: tool outputs to read besides those the review file lists (docs/evidence.md);
    ``now`` and ``max_age_days`` set when evidence becomes stale (default: now, the review
    file's ``evidence.max_age_days`` or 30). ``frameworks`` (``"llm-2026,asi-2026"``) runs only the
    threats mapped to those frameworks (:class:`FrameworkError` names the known ones); review
    entries for the others are counted in ``.review.set_aside``, not reported as orphans.
    """
    from threatmodel.assessment import Assessment
    from threatmodel.pipeline import assess
    from threatmodel.review.statuses import LoadedReview

    loaded_catalog = catalog or load_catalog()
    if not isinstance(system, (str, Path)):
        subject: "LoadedSystem | Path" = system
    else:
        subject = Path(system)
    options = {"evidence": [Path(p) for p in evidence or []], "now": now, "max_age_days": max_age_days,
               "frameworks": frameworks}
    if review is False:
        assessed = assess(subject, loaded_catalog, None, use_default_status=False, **options)
    elif isinstance(review, LoadedReview) or review is None:
        assessed = assess(subject, loaded_catalog, review, **options)
    else:
        assessed = assess(subject, loaded_catalog, Path(review), **options)
    return Assessment.of(assessed)


def _report(report: "Assessment | dict[str, object]") -> dict[str, object]:
    if isinstance(report, dict):
        return report
    from threatmodel.report.build import assessment_data

    return assessment_data(report)


def gate(report: "Assessment | dict[str, object]", fail_on: str = "high",
         require_verified: bool = False) -> list[dict[str, object]]:
    """What fails ``threatmodel check``: open findings whose residual severity is at least
    ``fail_on`` (``low`` … ``critical``, or ``none``), and with ``require_verified`` the findings
    marked mitigated whose evidence does not bear it out. ``report``: an assessment or its
    ``report_data()``. Empty means the gate passes."""
    from threatmodel.review.gate import gate_failures

    return gate_failures(_report(report), fail_on, require_verified)  # type: ignore[arg-type]


def contradicted(report: "Assessment | dict[str, object]") -> list[str]:
    """``mitigation@element`` for every mitigation the evidence contradicts (``verify`` exits 1)."""
    from threatmodel.review.gate import contradicted_mitigations

    return contradicted_mitigations(_report(report))  # type: ignore[arg-type]


def diff(old: "Assessment | dict[str, object]", new: "Assessment | dict[str, object]",
         old_name: str = "", new_name: str = "") -> dict[str, object]:
    """Findings added, resolved and changed between two assessments (``threatmodel diff``'s JSON)."""
    from threatmodel.review.diff import diff_reports

    changes = diff_reports(_report(old), _report(new))  # type: ignore[arg-type]
    changes["old"], changes["new"] = old_name, new_name
    return changes


def new_findings(changes: dict[str, object], at_or_above: str) -> list[dict[str, object]]:
    """The findings a :func:`diff` adds at or above a severity (``none``: none)."""
    from threatmodel.review.gate import new_at_or_above

    return new_at_or_above(changes, at_or_above)  # type: ignore[arg-type]


def output_formats() -> list["OutputFormat"]:
    """Every registered report format (name, extension, media type, text or binary)."""
    from threatmodel.renderers.registry import formats

    return formats()


def render(assessment: "Assessment", format: str = "md", *, template_dir: PathLike | None = None) -> str | bytes:
    """The report in one of :func:`output_formats` (``md``, ``html``, ``json``, ``sarif``, …)."""
    from threatmodel.renderers.registry import RenderOptions, get_format

    rendered = get_format(format).render(
        assessment, RenderOptions(template_dir=Path(template_dir) if template_dir else None))
    if isinstance(rendered, (str, bytes)):
        return rendered
    return "".join(rendered)


def audit_rules(assessment: "Assessment") -> list["Watch"]:
    """Audit watches (auditd) for every declared artifact path, with the findings they serve."""
    from threatmodel.controls.derive import audit_watches

    return audit_watches(assessment.analysis)


def scan_steps(assessment: "Assessment") -> list["ScanStep"]:
    """Scanner invocations for each declared artifact, chosen by its format."""
    from threatmodel.controls.derive import scan_steps as _steps

    return _steps(assessment.analysis)


def hash_manifest(assessment: "Assessment") -> dict[str, object]:
    """A SHA-256 manifest of the declared artifact files that exist on this machine."""
    from threatmodel.controls.derive import manifest_targets
    from threatmodel.controls.manifest import build_manifest

    return build_manifest(manifest_targets(assessment.analysis), assessment.model_path.name)


def verify_manifest(path: PathLike) -> "ManifestCheck":
    """Re-hash the files a manifest lists: ``.changed``, ``.vanished``, ``.appeared``, ``.clean``."""
    from threatmodel.core.located_yaml import load_yaml_file
    from threatmodel.controls.manifest import verify_manifest as _verify

    return _verify(load_yaml_file(Path(path)), str(path))


def discover_project(path: PathLike, mlflow: str | None = None, output: PathLike | None = None) -> "Discovery":
    """Read an ML project folder (and an MLflow registry URI) into a draft model.

    ``.draft`` holds the components, flows and notes; ``.snapshot`` what was seen, for
    :func:`drift`; ``.warnings`` and ``.questions`` what a reviewer should check and answer.
    Paths in the draft are relative to the folder of ``output`` when the project lies inside it.
    """
    from threatmodel.discover import discover as _discover

    return _discover(Path(path), mlflow, Path(output) if output is not None else None)


def drift(system: "LoadedSystem | PathLike", path: PathLike, snapshot: PathLike | None = None,
          mlflow: str | None = None) -> "DriftReport":
    """Compare a model with the project it describes (and with the snapshot ``discover`` wrote):
    ``.items`` are the added, changed and removed things, ``.failing(threshold)`` those at a
    ``--fail-on`` threshold. ``snapshot`` defaults to MODEL.discovered.json beside the model."""
    from threatmodel.discover import inventory_of
    from threatmodel.discover.draft import snapshot_path
    from threatmodel.discover.drift import compare, read_snapshot

    loaded = system if not isinstance(system, (str, Path)) else load_system(system)
    model_path = Path(loaded.path)
    if snapshot is None and snapshot_path(model_path).is_file():
        snapshot = snapshot_path(model_path)
    previous = read_snapshot(Path(snapshot)) if snapshot is not None else None
    return compare(loaded.system, model_path, inventory_of(Path(path), mlflow), previous,
                   str(snapshot) if snapshot is not None else "")


def snapshot_path(model: PathLike) -> Path:
    """Where ``discover -o MODEL`` keeps what it saw, and ``drift`` looks: MODEL.discovered.json."""
    from threatmodel.discover.draft import snapshot_path as beside

    return beside(Path(model))


def accept_drift(report: "DriftReport") -> str:
    """The project as a :func:`drift` report saw it, as the new snapshot's JSON text (``drift
    --accept``, once the model is updated); things the model declares keep its names."""
    from threatmodel.discover.drift import accepted_snapshot
    from threatmodel.renderers.jsonout import to_json

    return to_json(accepted_snapshot(report))

