"""Exports to other tools, each validated against its format's schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

import threatmodel as tm

from .conftest import EXAMPLES, REPO, example_models, shared_file

HUSKY = EXAMPLES / "huskyai.yaml"
LAYER_SCHEMA = json.loads((REPO / "tests" / "schemas" / "navigator-layer-4.5.schema.json").read_text())


@pytest.mark.parametrize("model", example_models(), ids=lambda p: p.stem)
def test_atlas_layers_validate(model):
    for residual in (False, True):
        from threatmodel.renderers.atlas_layer import atlas_layer

        layer = atlas_layer(tm.analyze(model), residual=residual)
        jsonschema.validate(layer, LAYER_SCHEMA)


def test_husky_layer_scores_each_technique_by_its_highest_finding():
    assessment = tm.analyze(HUSKY)
    layer = json.loads(tm.render(assessment, "atlas-layer"))
    atlas = assessment.catalog.catalog.atlas
    assert layer["domain"] == "atlas-atlas" and {"name": "atlas_data_version", "value": atlas.atlas_version} in layer["metadata"]
    by_technique: dict[str, int] = {}
    for finding in assessment.report.findings:
        for technique in finding.atlas:
            by_technique[technique.id] = max(by_technique.get(technique.id, 0), finding.score)
    scored = {e["techniqueID"]: e for e in layer["techniques"] if "score" in e}
    assert {t: e["score"] for t, e in scored.items()} == by_technique
    assert "ML01@web-server" in scored["AML.T0015"]["comment"]
    for entry in layer["techniques"]:
        assert atlas.get(entry["techniqueID"]) is not None
        if "tactic" in entry:
            from threatmodel.renderers.atlas_layer import tactic_shortname

            assert entry["tactic"] in {tactic_shortname(t.name) for t in atlas.tactics_of(entry["techniqueID"])}
        else:  # sub-techniques, shown under a parent that expands them
            parent = entry["techniqueID"].rsplit(".", 1)[0]
            assert any(e["techniqueID"] == parent and e.get("showSubtechniques") for e in layer["techniques"])


def test_residual_layer_leaves_out_what_the_review_resolved(cli, tmp_path):
    out = tmp_path / "residual.layer.json"
    assert cli("report", HUSKY, "-o", out, "--residual").exit_code == 0
    layer = json.loads(out.read_text())
    comments = " ".join(e.get("comment", "") for e in layer["techniques"])
    assert "ML05@model-file" not in comments  # accepted
    assert "ML01@web-server" in comments  # in progress
    assert layer["name"].endswith("(residual)")


def test_layer_matches_the_shape_of_atlas_own_layers():
    example = json.loads(shared_file("formats", "attack-navigator", "example-atlas-case-study-AML.CS0000.layer.json").read_text())
    ours = json.loads(tm.render(tm.analyze(HUSKY), "atlas-layer"))
    assert ours["domain"] == example["domain"]
    example_tactics = {e["tactic"] for e in example["techniques"] if "tactic" in e}
    assert example_tactics & {e["tactic"] for e in ours["techniques"] if "tactic" in e}
