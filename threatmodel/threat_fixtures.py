"""Threat fixtures: for each threat, a small system that must raise it and a near miss that must not.

The built-in catalog keeps one fixture per threat in ``catalog/fixtures/THREAT.yaml``; a user
catalog keeps its own in a ``fixtures/`` folder beside its file. ``threatmodel catalog validate
--test`` runs them all, so a team that writes a threat proves it fires where it should, and only
there. A fixture::

    threat: MY-THREAT
    raises:
      finding: MY-THREAT@element       # must be among the findings of this model
      model: {system: …, components: …, flows: …}
    near_miss:
      why: what makes it not apply     # shown when the threat is raised anyway
      model: {…}                       # the threat must not be raised, and must be "not applicable"

Problems are located in the fixture file (``file:line:col: error: …``).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from threatmodel.catalog.load import LoadedCatalog
from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import YamlMap, load_mapping, locate
from threatmodel.core.resources import catalog_dir
from threatmodel.pipeline import assess

FIXTURE_FOLDER = "fixtures"


@dataclass
class FixtureRun:
    """What running the fixtures found: how many ran, and every problem, located."""

    ran: list[str] = field(default_factory=list)  # threat ids whose fixtures passed or failed
    problems: list[Diagnostic] = field(default_factory=list)  # errors: a fixture that fails
    warnings: list[Diagnostic] = field(default_factory=list)  # a user threat without a fixture

    @property
    def passed(self) -> bool:
        return not self.problems


def fixture_folders(extra: Iterable[Path] = ()) -> list[tuple[Path, bool]]:
    """(folder, built-in?) for the built-in fixtures and the ``fixtures/`` beside each user catalog."""
    folders = [(catalog_dir() / FIXTURE_FOLDER, True)]
    for path in extra:
        folder = Path(path).resolve().parent / FIXTURE_FOLDER
        if folder.is_dir() and all(folder != known for known, _ in folders):
            folders.append((folder, False))
    return folders


def run_fixtures(loaded: LoadedCatalog, extra: Iterable[Path] = ()) -> FixtureRun:
    """Run every fixture of the built-in catalog and of the user catalogs ``extra``."""
    extra = [Path(p) for p in extra]
    run = FixtureRun()
    seen: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="threatmodel-fixtures-") as scratch:
        for folder, builtin in fixture_folders(extra):
            for path in sorted(folder.glob("*.yaml")):
                name = f"catalog/{FIXTURE_FOLDER}/{path.name}" if builtin else str(path)
                _run_one(loaded, path, name, Path(scratch), run, seen)
    user_threats = _threat_sources(loaded, extra)
    for threat_id in sorted(set(user_threats) - set(seen)):
        where = user_threats[threat_id]
        run.warnings.append(Diagnostic(where, f"threat '{threat_id}' has no fixture: add {FIXTURE_FOLDER}/{threat_id}.yaml "
                                              "beside its catalog file (catalog validate --test runs it)", "warning"))
    return run


def _threat_sources(loaded: LoadedCatalog, extra: list[Path]) -> dict[str, Location]:
    """The threats the user catalogs define, and where."""
    found: dict[str, Location] = {}
    for path in extra:
        try:
            document = load_mapping(path)
        except InputError:
            continue
        for index, entry in enumerate(document.get("threats") or []):
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"] in loaded.catalog.threats:
                found[entry["id"]] = locate(document, ("threats", index, "id")) or Location(str(path), 1, 1)
    return found


def _run_one(loaded: LoadedCatalog, path: Path, name: str, scratch: Path, run: FixtureRun,
             seen: dict[str, Path]) -> None:
    try:
        case = load_mapping(path, name)
    except InputError as exc:
        run.problems.extend(exc.diagnostics)
        return

    def at(*steps: Any) -> Location:
        return locate(case, steps) or Location(name, 1, 1)

    def problem(where: Location, message: str) -> None:
        run.problems.append(Diagnostic(where, message))

    threat = case.get("threat")
    if not isinstance(threat, str) or threat not in loaded.catalog.threats:
        problem(at("threat"), f"unknown threat {threat!r}: a fixture names a threat of the catalog")
        return
    if threat in seen:
        problem(at("threat"), f"a second fixture for '{threat}' (the first is {seen[threat]})")
        return
    seen[threat] = path
    run.ran.append(threat)
    raises, near = case.get("raises"), case.get("near_miss")
    if not isinstance(raises, YamlMap) or not isinstance(raises.get("finding"), str) or "model" not in raises:
        problem(at("raises"), "'raises' needs 'finding' (THREAT@element) and 'model'")
    else:
        assessment = _assess(loaded, raises["model"], scratch / f"{threat}.raises.yaml", at("raises", "model"), run)
        if assessment is not None:
            raised = {f.id for f in assessment.findings}
            if raises["finding"] not in raised:
                reasons = [r for n in assessment.analysis.not_applicable if n.threat.id == threat for r in n.reasons]
                problem(at("raises", "finding"), f"expected {raises['finding']}; this model raises "
                        f"{', '.join(sorted(f for f in raised if f.startswith(threat + '@'))) or 'no finding of it'}"
                        + (f" (not applicable: {'; '.join(reasons[:3])})" if reasons else ""))
    if not isinstance(near, YamlMap) or "model" not in near:
        problem(at("near_miss"), "'near_miss' needs 'why' and 'model': a system just short of the threat")
        return
    assessment = _assess(loaded, near["model"], scratch / f"{threat}.near-miss.yaml", at("near_miss", "model"), run)
    if assessment is not None:
        wrong = sorted(f.id for f in assessment.findings if f.threat.id == threat)
        if wrong:
            problem(at("near_miss", "model"), f"the near miss raises {', '.join(wrong)}; it should not, because "
                    f"{near.get('why') or 'it is a near miss'}")
        elif threat not in {n.threat.id for n in assessment.analysis.not_applicable}:
            problem(at("near_miss", "model"), f"'{threat}' is not even considered for the near miss (no element of "
                    "the kinds its rules name): make the near miss differ from 'raises' only where the threat does not apply")


def _assess(loaded: LoadedCatalog, model: Any, target: Path, where: Location, run: FixtureRun) -> Any:
    target.write_text(json.dumps(model), encoding="utf-8")  # JSON is YAML: the located loader reads it
    try:
        return assess(target, loaded, use_default_status=False)
    except InputError as exc:
        first = exc.errors[0] if exc.errors else exc.diagnostics[0]
        run.problems.append(Diagnostic(where, f"this model does not load: {first.message}"))
        return None
