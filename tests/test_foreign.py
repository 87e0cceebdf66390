"""Foreign files as they really are: real files from other projects (tests/fixtures/foreign,
licences in its NOTICE.md), hostile variants of them, and round trips through our own exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import threatmodel as tm
from threatmodel.interop import import_file
from threatmodel.core.errors import InputError
from threatmodel.renderers.drafts import draft_yaml

from .conftest import EXAMPLES, example_models

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"

# format, file, components, flows, boundaries, data assets, foreign threats, threats that land on
# findings of ours, and words that must appear in what the draft lists as not kept
REAL = [
    ("tmbom", "td-huskyai.tmbom.json", 17, 23, 2, 7, 9, 7,
     ["assumption: All services within the trust boundary validate tokens", "2 threat personas", "3 risks",
      "placed in unknown data store 'uploaded-images-redis'"]),
    ("threat-dragon", "td-v2-threat-model.json", 7, 9, 0, 0, 13, 0,
     ["3 boundary line(s)", "dangling arrow", "threat 'Data flow should use HTTP/S' (Mitigated) on that dangling flow"]),
    ("threat-dragon", "td-v1-demo-threat-model.json", 7, 10, 0, 0, 14, 0,
     ["4 boundary line(s)", "worker-config stores credentials", "flow read-worker-config is out of scope"]),
    ("otm", "td-otm-test-model.otm.json", 5, 2, 1, 3, 2, 0,
     ["unknown trust zone 'private-trustzone' (line 232, column 22): left out", "tags tag1-df, tag2-df"]),
    ("threat-dragon", "td-generic-cms.json", 5, 5, 0, 0, 0, 0, ["a tm.Text cell"]),
    ("otm", "td-mobile-cloud.otm.json", 4, 6, 1, 0, 43, 0, ["representations"]),
    ("otm", "td-example-open-threat-model.otm.json", 4, 2, 1, 2, 2, 0, ["representations"]),
    ("otm", "sl-cloudformation_for_mappings_tests.otm.json", 18, 1, 1, 0, 0, 0,
     ["which is no component of the file"]),
    ("otm", "sl-expected_altsource_components.otm.json", 10, 0, 1, 0, 0, 0, ["representations"]),
    ("otm", "sl-otm_file_example.otm.json", 22, 22, 1, 0, 0, 0, ["our flows have no tags"]),
    ("cyclonedx", "cdx-ml-1.6.json", 3, 2, 0, 1, 0, 0, []),
    ("cyclonedx", "cdx-saasbom.json", 7, 6, 0, 6, 0, 0, []),
    ("cyclonedx", "cdx-service-1.6.json", 2, 1, 0, 1, 0, 0, []),
    ("threagile", "threagile-example.yaml", 14, 20, 5, 12, 2, 0,
     ["out of scope in Threagile", "encryption at rest 'transparent'", "risk_tracking"]),
    ("threagile", "threagile-stub.yaml", 2, 1, 1, 1, 1, 0, []),
]


def draft_values(draft) -> dict:
    return {section: [dict(e.values) for e in getattr(draft, section)]
            for section in ("boundaries", "data", "components", "flows") if getattr(draft, section)}


def assert_parses_back(draft, text: str) -> None:
    """The draft, read as YAML, is exactly what the importer meant to write: no key, value or
    element more or less."""
    written = yaml.safe_load(text)
    assert {k: v for k, v in written.items() if k != "system"} == draft_values(draft)
    assert written["system"] == {k: v for k, v in draft.system.items() if v}


@pytest.mark.parametrize("fmt, name, components, flows, boundaries, data, threats, landed, lost", REAL,
                         ids=[row[1] for row in REAL])
def test_real_foreign_files(fmt, name, components, flows, boundaries, data, threats, landed, lost, cli, tmp_path):
    source = FOREIGN / name
    draft = import_file(fmt, source)
    assert (len(draft.components), len(draft.flows), len(draft.boundaries), len(draft.data), len(draft.threats)) == (
        components, flows, boundaries, data, threats)
    text = "\n".join(draft.lost)
    for words in lost:
        assert words in text
    target = tmp_path / "imported.yaml"
    result = cli("import", fmt, source, "-o", target)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_parses_back(draft, target.read_text())
    for line in draft.lost:  # every loss is said, in the draft's header and on stderr
        assert " ".join(line.split())[:60] in " ".join(target.read_text().split())
        assert " ".join(line.split())[:60] in " ".join(result.stderr.split())
    if threats:
        assert f"import: {landed} of {threats} foreign threats land on findings of ours" in result.stderr
        review = (tmp_path / "imported.status.yaml").read_text()
        # every foreign threat is in the review file: landed in a justification, or listed by hand
        for threat in draft.threats:
            assert threat.title.split("\n")[0][:30] in review.replace("\\n", " ") or landed == threats
    assert cli("validate", target).exit_code == 0


def _foreign_document(name: str):
    text = (FOREIGN / name).read_text()
    return json.loads(text) if name.endswith(".json") else yaml.safe_load(text)


def _paths(node, prefix=()):
    """Every path into a document, parents first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield from _paths(value, prefix + (index,))


def _replace(document, path, value):
    copy = json.loads(json.dumps(document, default=str))
    node = copy
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copy


HOSTILE_VALUES = [7, {"x": 1}, ["x"], None, 'x"\n  - id: injected\n    kind: llm\n#\x1b[31m']
SMALL = [("tmbom", "td-huskyai.tmbom.json"), ("threat-dragon", "td-v2-threat-model.json"),
         ("otm", "td-example-open-threat-model.otm.json"), ("cyclonedx", "cdx-saasbom.json"),
         ("cyclonedx", "cdx-ml-1.6.json"), ("threagile", "threagile-stub.yaml")]


@pytest.mark.parametrize("fmt, name", SMALL, ids=[n for _, n in SMALL])
def test_every_field_of_the_wrong_type_is_a_located_error_or_a_faithful_draft(fmt, name, tmp_path):
    document = _foreign_document(name)
    every = [p for p in _paths(document) if p]
    paths = every[::max(1, len(every) // 50)]  # about 50, spread over the whole document
    suffix = ".json" if name.endswith(".json") else ".yaml"
    checked = 0
    for path in paths:
        for value in HOSTILE_VALUES:
            mutated = tmp_path / f"m{suffix}"
            mutated.write_text(json.dumps(_replace(document, path, value), default=str))
            try:
                draft = import_file(fmt, mutated)
            except InputError as exc:
                assert exc.diagnostics and all(d.location.file == str(mutated) for d in exc.diagnostics), path
                continue
            text = draft_yaml(draft, mutated.name)
            assert_parses_back(draft, text)
            assert "injected" not in {c.get("id") for c in yaml.safe_load(text).get("components", [])}
            checked += 1
    assert checked > 0


def _tmbom(**extra) -> dict:
    base = {"version": "1.0", "scope": {"title": "T", "description": "d"},
            "trust_zones": [{"symbolic_name": "z", "title": "Zone", "description": ""}],
            "actors": [], "components": [{"symbolic_name": "a", "title": "A", "description": "", "trust_zone": "z"}],
            "data_stores": [{"symbolic_name": "s", "title": "S", "description": "", "type": "object", "trust_zone": "z"}],
            "data_flows": [{"symbolic_name": "f", "title": "F", "description": "", "source": {"object": "a"},
                            "destination": {"object": "s"}, "has_sensitive_data": False, "encrypted": True}]}
    base.update(extra)
    return base


def test_extension_keys_cannot_inject_yaml(cli, tmp_path):
    hostile = 'x: 1\n- id: evil\n  kind: llm\n#'
    document = _tmbom(extensions={"threatmodel.dev/model/v1": {"elements": {"a": {hostile: "v", "kind": "process",
                                                                                  "rate_limiting": "not a bool"}}}})
    source = tmp_path / "x.tmbom.json"
    source.write_text(json.dumps(document))
    target = tmp_path / "x.yaml"
    result = cli("import", "tmbom", source, "-o", target)
    assert result.exit_code == 0, result.stderr
    written = yaml.safe_load(target.read_text())
    assert [c["id"] for c in written["components"]] == ["a", "s"]
    assert all(hostile not in c and "rate_limiting" not in c for c in written["components"])
    assert "is not an attribute of ours" in result.stderr and "'not a bool' is not a valid value" in result.stderr


@pytest.mark.parametrize("fmt, document, message", [
    ("tmbom", _tmbom(components=[{"symbolic_name": "a", "title": "A", "description": "", "trust_zone": "z"},
                                 {"symbolic_name": "a", "title": "B", "description": "", "trust_zone": "z"}]),
     "duplicate element 'a'"),
    ("otm", {"otmVersion": "0.2.0", "project": {"name": "p", "id": "p"},
             "components": [{"id": "c", "name": "c"}, {"id": "c", "name": "d"}]}, "duplicate component 'c'"),
    ("threat-dragon", {"detail": {"diagrams": [{"cells": [{"id": "1", "data": {"type": "tm.Process"}},
                                                          {"id": "1", "data": {"type": "tm.Store"}}]}]}},
     "duplicate cell id '1'"),
    ("cyclonedx", {"bomFormat": "CycloneDX", "components": [{"type": "library", "name": "a", "bom-ref": "r"},
                                                            {"type": "library", "name": "b", "bom-ref": "r"}]},
     "duplicate bom-ref 'r'"),
    ("threagile", {"threagile_version": "1.0.0", "technical_assets": {"A": {"id": "a"}, "B": {"id": "a"}}},
     "duplicate technical asset id 'a'"),
])
def test_duplicate_ids_are_errors_in_the_source_and_nothing_is_written(fmt, document, message, cli, tmp_path):
    source = tmp_path / "dup.json"
    source.write_text(json.dumps(document, indent=1))
    target = tmp_path / "out.yaml"
    result = cli("import", fmt, source, "-o", target)
    assert result.exit_code == 2 and message in result.stderr
    assert f"{source}:" in result.stderr and "first defined at line" in result.stderr
    assert not target.exists()


def test_surrogate_pairs_escapes_and_an_existing_model(cli, tmp_path):
    source = tmp_path / "bom.json"
    source.write_text(json.dumps({"bomFormat": "CycloneDX", "components": [
        {"type": "library", "name": "hug \U0001F917"}, {"type": "library", "name": "red \x1b[31m\x07"}]}))
    assert "\\ud83e\\udd17" in source.read_text()  # as json.dumps writes an emoji
    target = tmp_path / "out.yaml"
    result = cli("import", "cyclonedx", source, "-o", target)
    assert result.exit_code == 0, result.stderr
    names = [c["name"] for c in yaml.safe_load(target.read_text())["components"]]
    assert names == ["hug \U0001F917", "red \x1b[31m\x07"]  # kept exactly, written as escapes
    assert "\x1b" not in target.read_text() and "\x1b" not in result.stderr
    target.write_text("hand-edited\n")
    refused = cli("import", "cyclonedx", source, "-o", target)
    assert refused.exit_code == 2 and "--force" in refused.stderr and target.read_text() == "hand-edited\n"
    assert cli("import", "cyclonedx", source, "-o", target, "--force").exit_code == 0


def test_unticked_boxes_are_unknown_and_internet_is_matched_as_words(cli, tmp_path):
    cells = [
        {"id": "net", "shape": "trust-boundary-box", "data": {"type": "tm.BoundaryBox", "name": "Internet"},
         "position": {"x": 0, "y": 0}, "size": {"width": 300, "height": 300}},
        {"id": "u", "data": {"type": "tm.Actor", "name": "Browser"}, "position": {"x": 50, "y": 50},
         "size": {"width": 50, "height": 50}},
        {"id": "gap", "data": {"type": "tm.BoundaryBox", "name": "Air-gapped enclave (no internet access)"},
         "position": {"x": 400, "y": 0}, "size": {"width": 300, "height": 300}},
        {"id": "p", "data": {"type": "tm.Process", "name": "Scoring service"}, "position": {"x": 450, "y": 50},
         "size": {"width": 50, "height": 50}},
        {"id": "f1", "data": {"type": "tm.Flow", "name": "https call", "protocol": "HTTPS", "isEncrypted": False},
         "source": {"cell": "u"}, "target": {"cell": "p"}},
        {"id": "f2", "data": {"type": "tm.Flow", "name": "plain", "protocol": "HTTP", "isEncrypted": False},
         "source": {"cell": "p"}, "target": {"cell": "u"}},
    ]
    source = tmp_path / "td.json"
    source.write_text(json.dumps({"summary": {"title": "T"}, "detail": {"diagrams": [{"title": "d", "cells": cells}]}}))
    draft = import_file("threat-dragon", source)
    components = {c.id: c.values for c in draft.components}
    assert "boundary" not in components["u"]  # drawn inside "Internet": outside every boundary
    assert components["p"]["boundary"] == "gap" and [b.id for b in draft.boundaries] == ["gap"]
    assert components["p"]["kind"] == "inference-service"  # "scoring" in its name
    flows = {f.values["name"]: f.values for f in draft.flows}
    assert flows["https call"]["encrypted"] is True and "encrypted" not in flows["plain"]


def test_tmbom_threats_without_elements_land_on_the_whole_system(cli, tmp_path):
    document = _tmbom(
        actors=[{"symbolic_name": "eng", "title": "Engineer", "description": "", "type": "engineer", "trust_zone": "z"}],
        components=[{"symbolic_name": "a", "title": "Training notebook", "description": "", "trust_zone": "z"}],
        data_stores=[{"symbolic_name": "s", "title": "Model weights", "description": "", "type": "object", "trust_zone": "z"}],
        data_flows=[{"symbolic_name": "f0", "title": "edits", "description": "", "source": {"object": "eng"},
                     "destination": {"object": "a"}, "has_sensitive_data": False, "encrypted": True},
                    {"symbolic_name": "f", "title": "saves", "description": "", "source": {"object": "a"},
                     "destination": {"object": "s"}, "has_sensitive_data": False, "encrypted": True}],
        threats=[{"symbolic_name": "t1", "title": "Notebook tampering to insert a backdoor", "description": "",
                  "threat_persona": "p", "event": "e", "sources": []},
                 {"symbolic_name": "t2", "title": "Cross-site scripting in the help page", "description": "",
                  "threat_persona": "p", "event": "e", "sources": []}],
        controls=[{"symbolic_name": "c1", "title": "Hash notebooks", "description": "", "threats": ["t1"],
                   "status": "active", "priority": "high"},
                  {"symbolic_name": "c2", "title": "Orphan control", "description": "", "threats": ["nothing"],
                   "status": "suggested", "priority": "low"}])
    source = tmp_path / "t.tmbom.json"
    source.write_text(json.dumps(document))
    target = tmp_path / "t.yaml"
    result = cli("import", "tmbom", source, "-o", target)
    assert result.exit_code == 0, result.stderr
    review = yaml.safe_load((tmp_path / "t.status.yaml").read_text())
    entry = review["findings"]["DEV-HOST-COMPROMISE@a"]
    # the whole system's threat keeps the finding open and says what the source decided
    assert entry["status"] == "open" and "was mitigated" in entry["justification"] and "'notebook'" in entry["justification"]
    assert review["findings"]["ML10@s"]["status"] == "open"  # "backdoor": model poisoning of the weights it writes
    assert "Cross-site scripting in the help page" in (tmp_path / "t.status.yaml").read_text()
    assert "control 'Orphan control' (suggested) names no threat of the file" in result.stderr


@pytest.mark.parametrize("fmt", ["otm", "tmbom"])
@pytest.mark.parametrize("model", example_models(), ids=lambda p: p.stem)
def test_round_trip_keeps_every_finding_status_and_residual(model, fmt, cli, tmp_path):
    review = model.with_name(f"{model.stem}.status.yaml")
    before = tm.analyze(model, review=review if review.exists() else None)
    exported = tmp_path / f"m.{fmt}.json"
    exported.write_text(tm.render(before, fmt))
    back = tmp_path / "back.yaml"
    result = cli("import", fmt, exported, "-o", back)
    assert result.exit_code == 0, result.stderr
    back_review = tmp_path / "back.status.yaml"
    after = tm.analyze(back, review=back_review if back_review.exists() else None)

    def seen(assessment):
        return sorted((f.finding.id, f.status, f.residual_score) for f in assessment.review.findings)

    assert seen(after) == seen(before)
    if review.exists() and fmt == "otm":
        decided = {f.finding.id: f.decision.justification for f in before.review.findings if f.decision}
        carried = yaml.safe_load(back_review.read_text())["findings"]
        for finding, justification in decided.items():
            if justification and finding in carried:
                assert carried[finding]["justification"] == justification


def test_our_otm_opens_as_a_drawing_in_threat_dragon(tmp_path):
    """What Threat Dragon's OTM import reads (td.vue/src/service/migration/otm): diagrams from
    top-level representations of type diagram; a cell per component and zone that has a
    representation on it; a zone's representation for every parent of a placed element (it walks
    them without checking); shapes guessed from 'database' / 'service' in the representation id."""
    assessment = tm.analyze(EXAMPLES / "huskyai.yaml")
    document = json.loads(tm.render(assessment, "otm"))
    diagrams = [r["id"] for r in document["representations"] if r["type"] == "diagram"]
    assert len(diagrams) == 1
    zones = {z["id"]: z for z in document["trustZones"]}
    for item in document["components"] + document["trustZones"]:
        placed = [r for r in item.get("representations") or [] if r["representation"] == diagrams[0]]
        assert len(placed) == 1 and {"x", "y"} <= set(placed[0]["position"]) and placed[0]["size"]["width"] > 0
        parent = (item.get("parent") or {}).get("trustZone")
        while parent:
            assert any(r["representation"] == diagrams[0] for r in zones[parent]["representations"])
            parent = (zones[parent].get("parent") or {}).get("trustZone")
    kinds = {c.id: assessment.catalog.catalog.kinds[c.kind].dfd for c in assessment.system.system.components}
    for component in document["components"]:
        representation = component["representations"][0]["id"]
        expected = {"data-store": "database", "process": "service"}.get(kinds[component["id"]], "actor")
        assert representation.endswith(expected)
    ids = {c["id"] for c in document["components"]}
    assert all(f["source"] in ids and f["destination"] in ids for f in document["dataflows"])


def test_aws_types_and_hosted_components_from_startleft(cli, tmp_path):
    draft = import_file("otm", FOREIGN / "sl-otm_file_example.otm.json")
    kinds = {c.id: c.values["kind"] for c in draft.components}
    assert "process" in kinds.values() and "person" in kinds.values() and "api-gateway" in kinds.values()
    hosted = [c for c in draft.components if "hosted in" in " ".join(c.notes.values())]
    assert hosted and all("boundary" in c.values for c in hosted if "takes the zone" in c.notes.get("boundary", ""))


def test_the_interop_tables_name_only_what_the_catalog_has():
    from threatmodel.system.draft import interop_table

    catalog = tm.load_catalog([]).catalog
    meanings = interop_table("threats")["threats"]
    assert set(meanings) <= set(catalog.threats), "a phrase list for a threat the catalog does not have"
    assert set(catalog.threats) <= set(meanings), "every threat of the catalog can be recognised in foreign files"
    kinds = set()
    for shape in ("process", "data-store"):
        kinds |= {str(entry["kind"]) for entry in interop_table("words")[shape]}
    for name in ("otm", "tmbom", "threat-dragon", "threagile", "cyclonedx"):
        table = interop_table(name)
        for key in ("component_types", "element_types", "actor_types", "technologies", "types"):
            kinds |= {str(v) for v in (table.get(key) or {}).values()}
    assert kinds <= set(catalog.kinds), sorted(kinds - set(catalog.kinds))
    dfd = {k.id: k.dfd for k in catalog.kinds.values()}
    for shape in ("process", "data-store"):  # a sharpened kind keeps the shape the source drew
        assert {dfd[str(e["kind"])] for e in interop_table("words")[shape]} == {shape}


@pytest.mark.skipif(__import__("shutil").which("node") is None, reason="needs Node.js")
@pytest.mark.parametrize("model", example_models(), ids=lambda p: p.stem)
def test_threat_dragon_own_import_opens_our_otm(model, tmp_path):
    """Threat Dragon's own OTM import code (tests/fixtures/threat-dragon-otm, run under Node)
    draws every component, zone and flow of our export, with its threats."""
    import subprocess

    assessment = tm.analyze(model)
    exported = tmp_path / "m.otm.json"
    exported.write_text(tm.render(assessment, "otm"))
    folder = Path(__file__).parent / "fixtures" / "threat-dragon-otm"
    run = subprocess.run(["node", "--no-warnings", "--loader", "./loader.mjs", "import-otm.mjs", str(exported)],
                         cwd=folder, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "not found" not in run.stderr and "could not find" not in run.stderr, run.stderr
    opened = json.loads(run.stdout)
    [diagram] = opened["detail"]["diagrams"]
    document = json.loads(exported.read_text())
    cells = diagram["cells"]
    by_type: dict[str, int] = {}
    for cell in cells:
        by_type[cell["data"]["type"]] = by_type.get(cell["data"]["type"], 0) + 1
    assert by_type.get("tm.BoundaryBox", 0) == len(document["trustZones"])
    assert by_type.get("tm.Flow", 0) == len(document["dataflows"])
    assert sum(by_type.get(t, 0) for t in ("tm.Process", "tm.Store", "tm.Actor")) == len(document["components"])
    assert all(cell["target"]["cell"] for cell in cells if cell["data"]["type"] == "tm.Flow")
    dfd = {c.id: assessment.catalog.catalog.kinds[c.kind].dfd for c in assessment.system.system.components}
    shape = {"process": "tm.Process", "data-store": "tm.Store"}
    kinds = {c.id: c.kind for c in assessment.system.system.components}
    for cell in cells:
        if cell["id"] in dfd and "service" not in kinds[cell["id"]]:  # Threat Dragon draws a "…service" type as a process
            assert cell["data"]["type"] == shape.get(dfd[cell["id"]], "tm.Actor"), cell["id"]
    threats = sum(len(cell["data"].get("threats") or []) for cell in cells)
    assert threats == len(assessment.findings)


@pytest.mark.parametrize("title, letters, note, expected", [
    ("Sniffing of network traffic", (), "", {"TRANSIT-TAMPERING"}),
    ("Sniffing of network traffic", ("D",), "", set()),  # the category must agree
    ("Credential theft", ("I",), "", {"CREDENTIAL-THEFT"}),
    ("Adversarial examples cause misclassification", (), "", {"ML01"}),
    ("Training data poisoning", ("T",), "", {"ML02"}),
    ("Model stealing through the prediction API", (), "", {"ML05"}),
    ("Backdoored model file", (), "", {"ML10"}),
    ("Malicious pickle in a downloaded model", (), "", {"ML06"}),
    ("Prompt injection through the chat box", (), "", {"PROMPT-INJECTION"}),
    ("Membership inference against the classifier", (), "", {"ML04"}),
    ("Generic spoofing threat", ("S",), "", set()),
    ("Generic threat", (), "Sign model files before they are loaded", {"ML10", "TRANSIT-TAMPERING"}),
    ("Supply chain attack on third-party libraries", (), "Validate TLS certificates", {"ML06"}),  # title decides
])
def test_foreign_threats_mean_what_a_reviewer_would_say(title, letters, note, expected):
    from threatmodel.system.draft import SourceThreat
    from threatmodel.interop.review_map import meanings, vocabulary

    catalog = tm.load_catalog([]).catalog
    found = meanings(SourceThreat("x", title, letters, "open", note), list(catalog.threats.values()), vocabulary(),
                     catalog.mitigations)
    assert set(found) == expected, found


def test_a_file_claiming_to_be_ours_cannot_break_the_draft(cli, tmp_path):
    ours = {"trust": {"z": {"id": "zone", "trust": "internal", "parent": "ghost-zone"}},
            "elements": {"a": {"kind": "nonsense", "data": ["ghost-data"]}, "s": {"id": "a"}},
            "flows": {"f": {"id": "f", "from": "a", "to": "nowhere"}}}
    source = tmp_path / "x.tmbom.json"
    source.write_text(json.dumps(_tmbom(extensions={"threatmodel.dev/model/v1": ours})))
    target = tmp_path / "x.yaml"
    result = cli("import", "tmbom", source, "-o", target)
    assert result.exit_code == 0, result.stderr
    assert "kind 'nonsense' is not a kind of the catalog" in result.stderr
    assert "parent 'ghost-zone' is no other boundary" in result.stderr
    assert "ghost-data is no data asset" in result.stderr
    system = tm.load_system(target).system
    assert len({c.id for c in system.components}) == 2  # the two elements keep distinct ids
    assert cli("validate", target).exit_code == 0


@pytest.mark.parametrize("fmt, text, message", [
    ("otm", '{"otmVersion": "0.2.0", "project": {"name": "x", "id": "x"}, "components": '
            '[{"id": "a", "name": "a", "parent": {"trustZone": "nowhere"}}]}', "unknown trust zone 'nowhere'"),
    ("otm", '{"otmVersion": "0.2.0", "project": {"name": "x", "id": "x"}, "components": [{"id": "a", "name": "a", '
            '"parent": {"trustZone": "z"}}], "trustZones": [{"id": "z", "name": "z"}], '
            '"dataflows": [{"id": "f", "source": "a", "destination": "ghost"}]}', "unknown component 'ghost'"),
    ("tmbom", '{"version": "1.0", "scope": {}, "trust_zones": [], "actors": [{"symbolic_name": "a", "title": "a", '
              '"type": "user", "trust_zone": "nowhere"}], "components": [], "data_stores": [], "data_flows": []}',
     "unknown trust zone 'nowhere'"),
    ("tmbom", '{"version": "1.0", "scope": {}, "trust_zones": [], "actors": [{"symbolic_name": "a", "title": "a", '
              '"type": "user"}], "components": [], "data_stores": [], "data_flows": [{"symbolic_name": "f", '
              '"source": {"type": "actor", "object": "a"}, "destination": {"type": "actor", "object": "ghost"}}]}',
     "unknown element 'ghost'"),
    ("threagile", "threagile_version: 1.0.0\ntechnical_assets:\n  A:\n    id: a\n    type: process\n"
                  "    communication_links:\n      L: {target: ghost}\n", "targets unknown technical asset 'ghost'"),
    ("threagile", "threagile_version: 1.0.0\ntechnical_assets:\n  A:\n    id: a\n    data_assets_stored: [nothing]\n",
     "unknown data asset 'nothing'"),
    ("cyclonedx", '{"bomFormat": "CycloneDX", "components": [{"type": "library", "name": "a", "bom-ref": "a"}], '
                  '"dependencies": [{"ref": "a", "dependsOn": ["ghost"]}]}',
     "dependency names 'ghost', which is no component or service of the BOM"),
])
def test_dangling_references_are_left_out_and_said_where(fmt, text, message, cli, tmp_path):
    source = tmp_path / "dangling.json"
    source.write_text(text)
    target = tmp_path / "out.yaml"
    result = cli("import", fmt, source, "-o", target)
    assert result.exit_code == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if message in line]
    assert said and re.search(r"\(line \d+, column \d+\): left out$", said[0])
    assert message in target.read_text()  # in the draft's header too
    assert cli("validate", target).exit_code == 0
