"""Importers: real files from other tools, round trips through our own exports, hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import threatmodel as tm

from .conftest import EXAMPLES, example_models, shared_file


def _structure(model_path: Path) -> dict:
    system = tm.load_system(model_path).system
    return {
        "boundaries": sorted((b.id, b.parent or "") for b in system.boundaries),
        "components": sorted((c.id, c.kind, c.boundary or "") for c in system.components),
        "flows": sorted((f.source, f.target, f.bidirectional) for f in system.flows),
    }


@pytest.mark.parametrize("fmt", ["otm", "tmbom"])
@pytest.mark.parametrize("model", example_models(), ids=lambda p: p.stem)
def test_round_trip_keeps_the_structure(model, fmt, cli, tmp_path):
    exported = tmp_path / f"model.{fmt}.json"
    assert cli("report", model, "-o", exported).exit_code == 0
    imported = tmp_path / "imported.yaml"
    result = cli("import", fmt, exported, "-o", imported)
    assert result.exit_code == 0, result.stderr
    assert _structure(imported) == _structure(model)
    assert cli("report", imported).exit_code == 0


def test_otm_export_validates_against_the_published_schema():
    schema = json.loads(shared_file("formats", "otm", "otm_schema.json").read_text())
    for model in example_models():
        jsonschema.validate(json.loads(tm.render(tm.analyze(model), "otm")), schema)


def test_tmbom_export_validates_against_the_published_schema():
    schema = json.loads(shared_file("formats", "tm-bom", "threat-model.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for model in example_models():
        document = json.loads(tm.render(tm.analyze(model), "tmbom"))
        assert list(validator.iter_errors(document)) == []


@pytest.mark.parametrize("fmt", ["otm", "tmbom"])
def test_round_trip_carries_review_decisions(fmt, cli, tmp_path):
    exported = tmp_path / f"h.{fmt}.json"
    cli("report", EXAMPLES / "huskyai.yaml", "-o", exported)
    imported = tmp_path / "h.yaml"
    result = cli("import", fmt, exported, "-o", imported)
    review = yaml.safe_load((tmp_path / "h.status.yaml").read_text())
    assert review["findings"]["ML05@model-file"]["status"] == "accepted"
    assert review["findings"]["ML10@production-model"]["status"] == "mitigated"
    assert "threat not mapped" not in result.stderr
    assert cli("check", imported, "--fail-on", "none").exit_code == 0


@pytest.mark.parametrize("fmt, folder, name", [
    ("otm", "otm", "example-from-mtmt-mvp.otm.json"), ("otm", "otm", "example-nested-trustzones.otm.json"),
    ("tmbom", "tm-bom", "example-cryptocurrency-wallet.tmbom.json"),
    ("tmbom", "tm-bom", "example-ephemeral-browser-isolation.tmbom.json"),
    ("threat-dragon", "threat-dragon", "example-three-tier-web-app.td2.json"),
    ("threat-dragon", "../external-models", "threat-dragon-demo.json"),
    ("threagile", "../external-models", "threagile-example-model.yaml"),
    ("cyclonedx", "cyclonedx", "example-mlbom-model-card-with-dataset.cdx.json"),
])
def test_real_files_import_and_report(fmt, folder, name, cli, tmp_path):
    source = shared_file("formats", folder, name)
    target = tmp_path / "imported.yaml"
    result = cli("import", fmt, source, "-o", target)
    assert result.exit_code == 0, result.stderr
    assert "guessed" in target.read_text()
    assert cli("validate", target).exit_code == 0
    report = cli("report", target, "-f", "json")
    assert report.exit_code == 0 and json.loads(report.stdout)["findings"] is not None


@pytest.mark.parametrize("text, message", [
    ('{"project": {"name": "x", "id": "x"}}', "not an OTM file"),
    ('{"otmVersion": "0.2.0", "project": {"name": "x", "id": "x"}, "components": {"a": 1}}', "components: expected a list, found a mapping"),
    ("[1, 2]", "expected a mapping at the top of the file"),
])
def test_hostile_or_broken_otm_files_are_located_errors(text, message, cli, tmp_path):
    source = tmp_path / "bad.otm.json"
    source.write_text(text)
    target = tmp_path / "out.yaml"
    result = cli("import", "otm", source, "-o", target)
    assert result.exit_code == 2 and message in result.stderr and str(source) in result.stderr
    assert not target.exists()


def test_unknown_import_format_is_refused(cli, tmp_path):
    result = cli("import", "visio", tmp_path / "x")
    assert result.exit_code == 2 and "unknown import format 'visio'" in result.stderr


@pytest.mark.parametrize("text, message", [
    ('{"version": "1.0"}', "not a TM-BOM file: missing scope"),
    ('{"version": "1.0", "scope": {}, "trust_zones": [], "actors": {}, "components": [], "data_stores": [], '
     '"data_flows": []}', "actors: expected a list, found a mapping"),
])
def test_broken_tmbom_files_are_located_errors(text, message, cli, tmp_path):
    source = tmp_path / "bad.tmbom.json"
    source.write_text(text)
    result = cli("import", "tmbom", source, "-o", tmp_path / "out.yaml")
    assert result.exit_code == 2 and message in result.stderr and str(source) in result.stderr


TD_MODEL = {
    "version": "2.6.2",
    "summary": {"title": "Two zones", "owner": "team"},
    "detail": {"diagrams": [{"id": 0, "title": "Main", "diagramType": "STRIDE", "cells": [
        {"id": "b1", "shape": "trust-boundary-box", "position": {"x": 0, "y": 0}, "size": {"width": 300, "height": 300},
         "data": {"type": "tm.BoundaryBox", "name": "Office"}},
        {"id": "b2", "shape": "trust-boundary-box", "position": {"x": 400, "y": 0}, "size": {"width": 300, "height": 300},
         "data": {"type": "tm.BoundaryBox", "name": "Cloud"}},
        {"id": "p1", "shape": "process", "position": {"x": 50, "y": 50}, "size": {"width": 100, "height": 100},
         "data": {"type": "tm.Process", "name": "Client app"}},
        {"id": "s1", "shape": "store", "position": {"x": 450, "y": 50}, "size": {"width": 100, "height": 80},
         "data": {"type": "tm.Store", "name": "Records"}},
        {"id": "f1", "shape": "flow", "source": {"cell": "p1"}, "target": {"cell": "s1"},
         "data": {"type": "tm.Flow", "name": "upload", "protocol": "FTP", "isEncrypted": False,
                  "threats": [{"title": "Sniffed upload", "type": "Information disclosure", "status": "Mitigated",
                               "mitigation": "moved to SFTP next quarter"},
                              {"title": "Altered upload", "type": "Tampering", "status": "Open"}]}},
    ]}]},
}


def test_threat_dragon_boxes_become_boundaries_and_threats_map_onto_findings(cli, tmp_path):
    source = tmp_path / "model.json"
    source.write_text(json.dumps(TD_MODEL))
    target = tmp_path / "model.yaml"
    result = cli("import", "threat-dragon", source, "-o", target)
    assert result.exit_code == 0, result.stderr
    system = tm.load_system(target).system
    assert {c.id: c.boundary for c in system.components} == {"p1": "b1", "s1": "b2"}
    assessment = tm.analyze(target)
    assert "TRANSIT-TAMPERING@f1" in {f.id for f in assessment.findings}  # FTP across boundaries
    # both foreign threats land on it: one mitigated, one open; the most open status wins, so
    # the finding stays open, its entry saying where both came from; nothing is left unmapped
    entry = yaml.safe_load((tmp_path / "model.status.yaml").read_text())["findings"]["TRANSIT-TAMPERING@f1"]
    assert entry["status"] == "open"
    assert "'Sniffed upload' was mitigated" in entry["justification"] and "'Altered upload' was open" in entry["justification"]
    assert "match no finding" not in result.stderr


@pytest.mark.parametrize("text, message", [
    ('{"summary": {"title": "x"}}', "not a Threat Dragon v2 model"),
    ('{"detail": {"diagrams": [{"cells": 3}]}}', "detail.diagrams[0].cells: expected a list, found a number"),
])
def test_broken_threat_dragon_files_are_located_errors(text, message, cli, tmp_path):
    source = tmp_path / "bad.json"
    source.write_text(text)
    result = cli("import", "threat-dragon", source, "-o", tmp_path / "out.yaml")
    assert result.exit_code == 2 and message in result.stderr


def test_threagile_links_boundaries_and_data_are_read(cli, tmp_path):
    source = shared_file("external-models", "threagile-example-model.yaml")
    target = tmp_path / "tg.yaml"
    assert cli("import", "threagile", source, "-o", target).exit_code == 0
    system = tm.load_system(target).system
    kinds = {c.id: c.kind for c in system.components}
    assert kinds["customer-client"] == "person" and kinds["git-repo"] == "source-repository"
    assert kinds["jenkins-build-server"] == "build-host" and kinds["sql-database"] == "data-store"
    assert any(b.parent for b in system.boundaries)  # nesting kept
    link = next(f for f in system.flows if f.source == "customer-client")
    assert link.protocol == "https" and link.authenticated is True and link.bidirectional
    assert system.data_asset("customer-contracts").confidentiality == "high"


@pytest.mark.parametrize("text, message", [
    ("title: x\n", "not a Threagile model"),
    ("threagile_version: 1.0.0\ntechnical_assets: [1]\n", "technical_assets: expected a mapping, found a list"),
])
def test_broken_threagile_files_are_located_errors(text, message, cli, tmp_path):
    source = tmp_path / "bad.yaml"
    source.write_text(text)
    result = cli("import", "threagile", source, "-o", tmp_path / "out.yaml")
    assert result.exit_code == 2 and message in result.stderr


def test_cyclonedx_model_card_bootstraps_training_lineage(cli, tmp_path):
    source = shared_file("formats", "cyclonedx", "example-mlbom-model-card-with-dataset.cdx.json")
    target = tmp_path / "bom.yaml"
    assert cli("import", "cyclonedx", source, "-o", target).exit_code == 0
    system = tm.load_system(target).system
    kinds = {c.id: c.kind for c in system.components}
    assert kinds["support-ticket-classifier"] == "pretrained-model"
    assert kinds["support-ticket-training-data"] == "dataset"
    flows = {(f.source, f.target) for f in system.flows}
    # the model card's datasets are read by an added training job that writes the model
    assert ("support-ticket-training-data", "support-ticket-classifier-training") in flows
    assert ("support-ticket-classifier-training", "support-ticket-classifier") in flows
    assert ("support-ticket-classifier", "support-triage-service") in flows


@pytest.mark.parametrize("text, message", [
    ('{"bomFormat": "SPDX"}', "not a CycloneDX BOM"),
    ('{"bomFormat": "CycloneDX", "components": {}}', "components: expected a list, found a mapping"),
])
def test_broken_cyclonedx_files_are_located_errors(text, message, cli, tmp_path):
    source = tmp_path / "bad.cdx.json"
    source.write_text(text)
    result = cli("import", "cyclonedx", source, "-o", tmp_path / "out.yaml")
    assert result.exit_code == 2 and message in result.stderr


# One row per importer: a real foreign file (tests/fixtures/foreign, see NOTICE.md) and the draft it
# must give, tests/golden/imports/FORMAT.yaml. Adding an importer is its module, one row here and
# its golden (UPDATE_GOLDEN=1 python -m pytest -m golden writes it; read the diff).
IMPORT_SAMPLES = {
    "otm": "td-example-open-threat-model.otm.json",
    "tmbom": "td-huskyai.tmbom.json",
    "threat-dragon": "td-v2-threat-model.json",
    "threagile": "threagile-example.yaml",
    "cyclonedx": "cdx-ml-1.6.json",
}


def test_every_importer_has_a_sample():
    from threatmodel.interop import IMPORTERS

    assert set(IMPORT_SAMPLES) == set(IMPORTERS)


@pytest.mark.golden
@pytest.mark.parametrize("fmt", sorted(IMPORT_SAMPLES))
def test_each_importer_gives_its_expected_draft(fmt, tmp_path):
    from threatmodel.renderers.registry import command_output

    from .conftest import REPO, check_golden

    sample = REPO / "tests" / "fixtures" / "foreign" / IMPORT_SAMPLES[fmt]
    draft = tm.import_model(fmt, sample)
    text = command_output("import", "yaml").render(draft, source_name=sample.name)
    check_golden(REPO / "tests" / "golden" / "imports" / f"{fmt}.yaml", text)
    written = tmp_path / "draft.yaml"
    written.write_text(text, encoding="utf-8")
    assert tm.load_system(written).system.components  # the draft loads as a model
