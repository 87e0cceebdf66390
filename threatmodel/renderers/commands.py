"""The outputs of the commands other than ``report``, one function per command.

Each takes what its command computed (report data, a diff, a catalog, a graph, a drift report)
and the format name, and returns the text; the registry (:mod:`threatmodel.renderers.registry`,
``COMMAND_OUTPUTS``) lists which formats each command has and points here. The CLI picks from the
registry and never imports these modules itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from threatmodel.catalog.atlas import AtlasIndex
    from threatmodel.catalog.model import Catalog
    from threatmodel.controls.manifest import ManifestCheck
    from threatmodel.discover import Discovery
    from threatmodel.discover.drift import DriftReport
    from threatmodel.graph import DataFlowGraph
    from threatmodel.interop.review_map import Mapping
    from threatmodel.pipeline import Assessment
    from threatmodel.system.draft import Draft


def checklist(data: dict[str, Any], name: str, role: str | None = None, by_role: bool = False) -> str:
    from threatmodel.renderers.review_text import checklist_text

    return checklist_text(data, name, role=role, by_role=by_role)


def verify(data: dict[str, Any], name: str) -> str:
    from threatmodel.renderers.review_text import verify_text

    return verify_text(data, name)


def check(data: dict[str, Any], name: str, threshold: str = "high", require_verified: bool = False) -> str:
    from threatmodel.renderers.review_text import check_text

    return check_text(data, threshold, require_verified)


def diff(changes: dict[str, Any], name: str) -> str:
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    return to_json(changes) if name == "json" else render("diff.md.j2", changes)


def graph(dataflow: "DataFlowGraph", name: str) -> str:
    from threatmodel.renderers.listings import graph_export

    return graph_export(dataflow, name)


def _catalog_text(data: object, name: str, templates: dict[str, str]) -> str:
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    return to_json(data) if name == "json" else render(templates[name], data)


def catalog_list(catalog: "Catalog", name: str, stride: str | None = None, atlas: str | None = None,
                 framework: str | None = None) -> str:
    """Raises :class:`~threatmodel.core.errors.ChoiceError` for a filter that names nothing."""
    from threatmodel.renderers.listings import catalog_listing, filter_threats

    threats = filter_threats(catalog, stride=stride, atlas=atlas, framework=framework)
    return _catalog_text(catalog_listing(catalog, threats), name,
                         {"table": "catalog_list.txt.j2", "md": "catalog_list.md.j2"})


def catalog_show(catalog: "Catalog", name: str, entry_id: str) -> str:
    from threatmodel.renderers.listings import catalog_entry

    return _catalog_text(catalog_entry(catalog, entry_id), name,
                         {"text": "catalog_show.txt.j2", "md": "catalog_show.md.j2"})


def atlas_show(catalog: "Catalog", name: str, atlas_id: str) -> str:
    from threatmodel.renderers.listings import atlas_entry_view, find_atlas_entry

    entry = find_atlas_entry(catalog.atlas, atlas_id)
    return _catalog_text(atlas_entry_view(catalog, entry), name, {"text": "atlas_show.txt.j2", "md": "atlas_show.txt.j2"})


def crosswalk(catalog: "Catalog", name: str, framework: str | None = None) -> str:
    from threatmodel.catalog.frameworks import crosswalk_csv, crosswalk_rows
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.listings import filter_threats
    from threatmodel.renderers.templates import render

    rows = crosswalk_rows(catalog, filter_threats(catalog, framework=framework))
    frameworks = [{"id": f.id, "title": f.title, "edition": f.edition, "short": f.short} for f in catalog.frameworks.values()]
    if name == "json":
        return to_json({"atlas_version": catalog.atlas.atlas_version, "frameworks": frameworks, "threats": rows})
    if name == "csv":
        return crosswalk_csv(rows)
    return render("crosswalk.md.j2", {"rows": rows, "frameworks": frameworks, "atlas_version": catalog.atlas.atlas_version})


def scan(assessment: "Assessment", name: str, model_name: str, manifest_name: str) -> str:
    from threatmodel.renderers.controls import scan_text

    return scan_text(assessment, model_name, manifest_name, name)


def audit_rules(assessment: "Assessment", name: str, model_name: str) -> str:
    from threatmodel.renderers.controls import audit_rules_text

    return audit_rules_text(assessment, model_name)


def ausearch(assessment: "Assessment", name: str, model_name: str) -> str:
    from threatmodel.renderers.controls import ausearch_text

    return ausearch_text(assessment, model_name)


def hash_manifest(document: dict[str, Any], name: str) -> str:
    from threatmodel.renderers.jsonout import to_json

    return to_json(document)


def manifest_check(check: "ManifestCheck", name: str, manifest_name: str) -> str:
    """JSON: the result as evidence for verify; text: one line per file that differs."""
    if name == "json":
        from threatmodel.controls.manifest import check_document
        from threatmodel.renderers.jsonout import to_json

        return to_json(check_document(check, manifest_name))
    from threatmodel.core.escape import terminal

    lines = [f"{label}: {terminal(path)}" + (" (declared, but not on this machine: nothing was hashed)"
                                             if label == "missing" else "")
             for label, paths in (("changed", check.changed), ("vanished", check.vanished),
                                  ("appeared", check.appeared), ("missing", check.missing)) for path in paths]
    if check.clean:
        lines.append(f"{terminal(manifest_name)}: all files match")
    return "".join(line + "\n" for line in lines)


def imported(draft: "Draft", name: str, source_name: str) -> str:
    from threatmodel.renderers.drafts import draft_yaml

    return draft_yaml(draft, source_name)


def imported_review(mapping: "Mapping", name: str, draft: "Draft", source_name: str) -> str:
    """The review file of the foreign threats that land on our findings (and those that do not)."""
    from threatmodel._version import __version__
    from threatmodel.renderers.templates import render

    return render("import.status.yaml.j2", {"version": __version__, "source_format": draft.source_format,
                                            "source_name": source_name, "entries": mapping.entries,
                                            "unmapped": mapping.unmapped, "mitigations": mapping.mitigations})


def atlas_index(index: "AtlasIndex", name: str) -> str:
    from threatmodel.catalog.atlas import dump_index

    return dump_index(index)


def drift(report: "DriftReport", name: str, threshold: str = "any") -> str:
    from threatmodel.renderers.drift import render_drift

    return render_drift(report, name, threshold)


def discovered(found: "Discovery", name: str) -> str:
    """The drafted model, with its guesses, questions and what was skipped in comments."""
    from threatmodel._version import __version__
    from threatmodel.renderers.templates import render

    draft = found.draft
    project = found.inventory.project
    sections = {"boundaries": draft.boundaries, "data": draft.data, "components": draft.components, "flows": draft.flows}
    return render("discover.yaml.j2", {
        "version": __version__, "source_name": project.root.name, "system": draft.system, "sections": sections,
        "warnings": found.warnings, "questions": found.questions, "skipped": draft.lost,
        "skipped_count": project.skipped_count + (len(draft.lost) - len(project.skipped))})


def discovery_snapshot(found: "Discovery", name: str) -> str:
    """What discover saw (MODEL.discovered.json), for drift to compare with later."""
    from threatmodel.renderers.jsonout import to_json

    return to_json(found.snapshot)

