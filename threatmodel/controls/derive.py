"""Controls a server or pipeline can run, derived from the declared artifacts and their findings.

From every declared path of a model artifact, dataset, notebook or secret this plans:
- audit watches (auditd): write/attribute changes (`-p wa`) for tampering and repudiation,
  reads (`-p r`) where a finding discloses information (theft of a model or key); keys derived
  from the component id;
- scan steps by artifact format (the scanners catalog/formats.yaml lists for each format), plus
  signature verification for signed models and a dependency audit for libraries;
- the artifacts a hash manifest covers.
Each control names the findings and the catalog mitigation it serves. Paths were checked for
safety when the model loaded (threatmodel.core.safe_paths), so they can be written into rules and scripts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from threatmodel.analysis.match import Analysis, Finding

MAX_KEY_LENGTH = 31  # auditd filter keys longer than this are refused by older auditctl versions


@dataclass(frozen=True)
class Watch:
    component: str
    kind: str
    path: str
    permissions: str  # "wa" or "r"
    key: str
    findings: tuple[str, ...]
    mitigation: str
    purpose: str


@dataclass(frozen=True)
class ScanStep:
    component: str
    name: str
    command: tuple[str, ...]  # argv; rendered with shell quoting
    tool: str  # the package that provides the command
    findings: tuple[str, ...]
    mitigation: str
    report: tuple[str, ...] = ()  # extra argv that writes the tool's own report to {report}
    evidence: str = ""  # the evidence file name the scan script saves (report or transcript)
    paths: tuple[str, ...] = ()  # what the tool looks at: the scan script hashes these beside the evidence
    runner: str = ""  # "signature": verified with the signer the scan script is configured with


def audit_key(component_id: str, suffix: str) -> str:
    key = f"tm-{component_id}-{suffix}"
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(component_id.encode()).hexdigest()[:6]
    room = MAX_KEY_LENGTH - len(f"tm--{digest}-{suffix}")
    return f"tm-{component_id[:room]}-{digest}-{suffix}"


def _findings_by_element(assessment: Analysis) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in assessment.findings:
        grouped.setdefault(finding.element, []).append(finding)
    return grouped


def _components_with(assessment: Analysis, role: str) -> list[Any]:
    """Components with declared paths whose kind has the role (catalog/kinds.yaml binds it to traits)."""
    graph = assessment.graph
    return sorted((c for c in graph.system.components if c.paths and graph.has_role(c.id, role)),
                  key=lambda c: c.id)


def audit_watches(assessment: Analysis) -> list[Watch]:
    by_element = _findings_by_element(assessment)
    watches = []
    for component in _components_with(assessment, "audit_watched"):
        findings = sorted(by_element.get(component.id, []), key=lambda f: f.id)
        changes = tuple(f.id for f in findings if set(f.threat.stride) & {"T", "R", "E"})
        # information disclosure of a stored artifact (model theft, stolen keys) is a read
        reads = tuple(f.id for f in findings if "I" in f.threat.stride)
        for path in sorted(component.paths):
            watches.append(Watch(component.id, component.kind, path, "wa", audit_key(component.id, "change"),
                                 changes, "file-audit-logging", "who changed it (tampering, repudiation)"))
            if reads:
                watches.append(Watch(component.id, component.kind, path, "r", audit_key(component.id, "read"),
                                     reads, "file-audit-logging", "who read it (theft)"))
    return watches


def manifest_targets(assessment: Analysis) -> list[tuple[str, str]]:
    """(component, path) pairs whose files a hash manifest covers."""
    return [(c.id, p) for c in _components_with(assessment, "manifest_covered") for p in sorted(c.paths)]


def scan_steps(assessment: Analysis) -> list[ScanStep]:
    """The checks a pipeline runs: per declared path, the scanners of the artifact's format
    (catalog/formats.yaml ``formats``), then the checks of the component's roles (``checks``)."""
    graph = assessment.graph
    catalog = assessment.catalog
    by_element = _findings_by_element(assessment)
    steps = []
    for component in sorted(graph.system.components, key=lambda c: c.id):
        ids = tuple(sorted(f.id for f in by_element.get(component.id, [])))
        if graph.has_role(component.id, "model_store"):
            artifact_format = catalog.formats.get(component.format or "")
            paths = sorted(component.paths)
            for number, path in enumerate(paths, 1):
                stem = component.id if len(paths) == 1 else f"{component.id}-{number}"
                for spec in artifact_format.scans if artifact_format else []:
                    steps.append(ScanStep(
                        component.id, f"scan {component.id} ({component.format}) for {spec.purpose}",
                        tuple(part.replace("{path}", path) for part in spec.argv), spec.tool, ids, spec.mitigation,
                        tuple(spec.report), f"{stem}.{spec.tool}.{'json' if spec.report else 'txt'}", (path,)))
                steps.extend(_checks(catalog, graph, component, ids, [path], stem, per_path=True))
        steps.extend(_checks(catalog, graph, component, ids, sorted(component.paths), component.id, per_path=False))
    return steps


def _checks(catalog: Any, graph: Any, component: Any, ids: tuple[str, ...], paths: list[str], stem: str,
            per_path: bool) -> list[ScanStep]:
    """The role checks of one component. A model store's checks go with each of its paths (after that
    path's format scans: ``per_path``); every other role's checks run over the matching paths."""
    steps = []
    for check in catalog.checks:
        if not graph.has_role(component.id, check.role) or (check.role == "model_store") != per_path:
            continue
        if any(graph.attribute(component.id, name) != value for name, value in check.when.items()):
            continue
        matching = [p for p in paths if p.endswith(check.suffix)] if check.suffix else paths
        runs = [(path, tuple(part.replace("{path}", path) for part in check.argv)) for path in matching]
        if not runs and check.argv_without_paths and not per_path:
            runs = [("", tuple(check.argv_without_paths))]
        for number, (path, argv) in enumerate(runs, 1):
            name = stem if len(runs) == 1 else f"{stem}-{number}"
            steps.append(ScanStep(component.id, check.name.replace("{component}", component.id), argv, check.tool,
                                  ids, check.mitigation, tuple(check.report),
                                  f"{name}.{check.tool}.{'json' if check.report else 'txt'}",
                                  (path,) if check.binds_path and path else (), check.runner))
    return steps


def controls_by_element(assessment: Analysis) -> dict[str, dict[str, list[str]]]:
    """For the report's checklist: element -> mitigation -> descriptions of generated controls."""
    result: dict[str, dict[str, list[str]]] = {}
    for watch in audit_watches(assessment):
        result.setdefault(watch.component, {}).setdefault(watch.mitigation, []).append(
            f"auditctl -w {watch.path} -p {watch.permissions} -k {watch.key}")
    for component, path in manifest_targets(assessment):
        result.setdefault(component, {}).setdefault("artifact-integrity-verification", []).append(
            f"hash manifest entry for {path} (threatmodel controls manifest)")
    for step in scan_steps(assessment):
        result.setdefault(step.component, {}).setdefault(step.mitigation, []).append(" ".join(step.command))
    return result
