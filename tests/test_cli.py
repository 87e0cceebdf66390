"""The command line: outputs, exit codes, located errors, atomic files."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest
import yaml

from .conftest import EXAMPLES, REPO, example_models

HUSKY = EXAMPLES / "huskyai.yaml"


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("threatmodel 0.")


def test_catalog_list_formats(cli, catalog):
    table = cli("catalog", "list")
    assert table.exit_code == 0 and "ML10" in table.stdout and f"{len(catalog.threats)} threats" in table.stdout
    data = json.loads(cli("catalog", "list", "--format", "json").stdout)
    assert [t["id"] for t in data["threats"]][:2] == ["ML01", "ML02"]
    assert set(data["threats"][0]) == {"id", "title", "short_title", "source", "stride", "ratings", "atlas", "mitigations"}
    assert cli("catalog", "list", "--format", "md").stdout.startswith("| Id | Title |")


def test_catalog_list_filters(cli, catalog):
    # expectations come from the catalog, so that adding a threat needs no change here
    by_stride = json.loads(cli("catalog", "list", "--stride", "R", "--format", "json").stdout)
    assert {t["id"] for t in by_stride["threats"]} == {t.id for t in catalog.threats.values() if "R" in t.stride}
    assert "ARTIFACT-REPUDIATION" in {t["id"] for t in by_stride["threats"]}
    by_atlas = json.loads(cli("catalog", "list", "--atlas", "AML.T0020", "--format", "json").stdout)
    assert {t["id"] for t in by_atlas["threats"]} == {
        t.id for t in catalog.threats.values() if any(link.id == "AML.T0020" for link in t.atlas)}
    by_parent = json.loads(cli("catalog", "list", "--atlas", "AML.T0024", "--format", "json").stdout)
    assert {t["id"] for t in by_parent["threats"]} == {
        t.id for t in catalog.threats.values() if any(link.id.startswith("AML.T0024") for link in t.atlas)}
    assert {"ML03", "ML04", "ML05"} <= {t["id"] for t in by_parent["threats"]}
    assert cli("catalog", "list", "--atlas", "AML.T9999").exit_code == 2
    assert cli("catalog", "list", "--stride", "X").exit_code == 2


def test_catalog_show_threat_with_atlas_names_and_tactics(cli):
    data = json.loads(cli("catalog", "show", "ML10", "--format", "json").stdout)
    assert data["atlas"][0] == {"id": "AML.T0018", "name": "Manipulate AI Model",
                                "tactics": [{"id": "AML.TA0006", "name": "Persistence"},
                                            {"id": "AML.TA0001", "name": "AI Attack Staging"}], "why": ""}
    text = cli("catalog", "show", "ml02").stdout
    assert "AML.T0020 Poison Training Data" in text and "training-data-validation" in text
    assert "## ML01: ML01:2023 Input Manipulation Attack" in cli("catalog", "show", "ML01", "--format", "md").stdout


def test_catalog_show_mitigation_and_unknown_id(cli):
    data = json.loads(cli("catalog", "show", "file-audit-logging", "--format", "json").stdout)
    assert data["type"] == "mitigation" and "auditd" in data["what"]
    assert {t["id"] for t in data["threats"]} >= {"ARTIFACT-REPUDIATION", "ML10"}
    missing = cli("catalog", "show", "ML11")
    assert missing.exit_code == 2 and "no threat or mitigation 'ML11'" in missing.stderr


def test_catalog_validate(cli, write):
    assert cli("catalog", "validate").exit_code == 0
    bad = write("threats:\n  - id: ML01\n", "extra.yaml")
    result = cli("catalog", "validate", bad)
    assert result.exit_code == 2
    assert f"{bad}:2:5: error: missing required field 'title'" in result.stderr
    assert "Traceback" not in result.output
    # --catalog, as every command that reads the catalog takes it, checks the same file
    same = cli("catalog", "validate", "--catalog", bad)
    assert same.exit_code == 2 and f"{bad}:2:5: error: missing required field 'title'" in same.stderr


def test_atlas_show(cli):
    text = cli("atlas", "show", "AML.T0024.002").stdout
    assert text.startswith("AML.T0024.002 Exfiltration via AI Inference API: Extract AI Model")
    assert "Former names: Extract ML Model" in text
    old = cli("atlas", "show", "Backdoor ML Model")
    assert old.stdout.startswith("AML.T0018 Manipulate AI Model")
    removed = cli("atlas", "show", "AML.T0045")
    assert removed.exit_code == 2 and "is now AML.T0048.004" in removed.stderr


def test_atlas_import_round_trip(cli, tmp_path):
    from threatmodel.core.resources import catalog_dir

    # a minimal official-shaped file, imported over a copy of the current index
    source = tmp_path / "ATLAS.yaml"
    source.write_text("version: 9.0.0\nmatrices:\n- id: ATLAS\n  tactics: [{id: AML.TA0001, name: Staging}]\n"
                      "  techniques: [{id: AML.T0015, name: Evade Any Model, tactics: [AML.TA0001]}]\n"
                      "  mitigations: []\n")
    target = tmp_path / "atlas.yaml"
    target.write_text((catalog_dir() / "atlas.yaml").read_text())
    result = cli("atlas", "import", source, "--output", target)
    assert result.exit_code == 0
    index = yaml.safe_load(target.read_text())
    assert index["atlas_version"] == "9.0.0"
    assert index["techniques"][0] == {"id": "AML.T0015", "name": "Evade Any Model", "tactics": ["AML.TA0001"],
                                      "aliases": ["Evade ML Model", "Evade AI Model"]}
    assert any(r["id"] == "AML.T0018" for r in index["removed"])


def test_validate_examples_and_errors(cli, write):
    ok = cli("validate", HUSKY)
    assert ok.exit_code == 0 and "19 components, 24 flows" in ok.stdout
    bad = write("system: {name: x}\ncomponents:\n  - {id: a, kind: datset}\n  - {id: a, kind: person}\n")
    result = cli("validate", bad)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{bad}:3:19: error: unknown kind 'datset', did you mean 'dataset'?",
        f"{bad}:4:10: error: duplicate id 'a' (component; already used at {bad}:3:10)",
        "2 errors",
    ]


def test_validate_warnings_exit_zero(cli, write):
    path = write("system: {name: x}\ncomponents:\n  - {id: a, kind: person}\n")
    result = cli("validate", path)
    assert result.exit_code == 0 and "warning: component 'a' is not connected to any flow" in result.stderr


def test_graph_exports(cli, tmp_path):
    mermaid = cli("graph", HUSKY).stdout
    assert mermaid.startswith("flowchart TB") and 'subgraph n_b_production["Production (restricted)"]' in mermaid
    dot = cli("graph", HUSKY, "--format", "dot").stdout
    assert dot.startswith('digraph "Husky AI" {') and '"user" -> "api-gateway" [label="HTTPS upload and result", dir=both];' in dot
    out = tmp_path / "g.json"
    assert cli("graph", HUSKY, "--format", "json", "-o", out).exit_code == 0
    data = json.loads(out.read_text())
    assert data["facts"]["attack_paths"]["production-model"] == ["infra-admin", "bastion", "production-model"]
    assert cli("graph", HUSKY, "--format", "json").stdout == cli("graph", HUSKY, "--format", "json").stdout


def test_labels_are_escaped_in_mermaid_and_dot(cli, write):
    path = write('system: {name: "x\\" -> y"}\ncomponents:\n  - {id: a, kind: person, name: \'<script>"]|\'}\n'
                 '  - {id: b, kind: process}\nflows:\n  - {from: a, to: b, name: "a\\nb"}\n')
    mermaid = cli("graph", path).stdout
    assert 'n_a["#lt;script#gt;#quot;#93;#124;"]' in mermaid
    dot = cli("graph", path, "--format", "dot").stdout
    assert 'digraph "x\\" -> y" {' in dot and '"a" [label="<script>\\"]|", shape=box];' in dot
    assert '[label="a b"]' in dot  # labels are one line


def test_failed_run_leaves_no_partial_file(cli, write, tmp_path):
    out = tmp_path / "g.mmd"
    bad = write("system: {name: x}\ncomponents: [{id: a}]\n")
    assert cli("graph", bad, "-o", out).exit_code == 2
    assert not out.exists() and list(tmp_path.glob(".g.mmd*")) == []


def test_schema_validates_every_example(cli):
    schema = json.loads(cli("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    for example in example_models():
        jsonschema.validate(yaml.safe_load(example.read_text()), schema)


@pytest.mark.golden
def test_committed_schema_is_current(cli):
    from .conftest import check_golden

    check_golden(EXAMPLES.parent / "system.schema.json", cli("schema").stdout)


def test_init_writes_a_valid_starter(cli, tmp_path):
    result = cli("init", tmp_path / "new")
    assert result.exit_code == 0
    model = tmp_path / "new" / "threatmodel.yaml"
    assert model.read_text().startswith("# yaml-language-server: $schema=threatmodel.schema.json")
    assert cli("validate", model).exit_code == 0
    again = cli("init", tmp_path / "new")
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_console_entry_point_runs_without_traceback(write):
    bad = write("system: {name: x}\ncomponents: [{id: a, kind: nope}]\n")
    done = subprocess.run([sys.executable, "-m", "threatmodel.cli", "validate", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "unknown kind 'nope'" in done.stderr


def test_docs_list_every_kind_trait_and_predicate(catalog):
    from threatmodel.analysis.predicates import REGISTRY

    format_doc = (EXAMPLES.parent / "format.md").read_text()
    catalog_doc = (EXAMPLES.parent / "catalog.md").read_text()
    for kind in catalog.kinds:
        assert f"`{kind}`" in format_doc, kind
    for trait in catalog.traits:
        assert f"`{trait}`" in format_doc, trait
    for name in REGISTRY:
        assert f"`{name}`" in catalog_doc, name


def test_validate_strict_fails_while_open_questions_remain(cli, write):
    result = cli("validate", HUSKY, "--strict")
    assert result.exit_code == 1 and "open question: Must callers of web-server authenticate?" in result.stderr
    assert cli("validate", HUSKY).exit_code == 0
    answered = write("""
system: {name: answered}
boundaries: [{id: prod, trust: restricted}]
components:
  - {id: user, kind: person}
  - {id: api, kind: inference-service, boundary: prod, authenticated: false, rate_limiting: true,
     returns_scores: false, retrains_on_feedback: false}
flows:
  - {from: user, to: api, protocol: HTTPS}
""")
    result = cli("validate", answered, "--strict")
    assert result.exit_code == 0, result.stderr
    assert "0 open questions" in result.stdout


def test_validate_runs_every_check_the_report_runs(cli, write):
    # an exclusion naming an unknown threat is found by the analysis: validate must find it too
    model = write("system: {name: x}\ncomponents:\n  - {id: api, kind: inference-service}\n"
                  "exclusions:\n  - {threat: ML99, element: api, reason: none}\n")
    assert cli("report", model).exit_code == 2
    result = cli("validate", model)
    assert result.exit_code == 2 and "unknown threat 'ML99'" in result.stderr


def test_atlas_import_without_output_never_touches_the_installed_catalog(cli, tmp_path):
    import hashlib

    from threatmodel.core.resources import catalog_dir

    installed = catalog_dir() / "atlas.yaml"
    before = hashlib.sha256(installed.read_bytes()).hexdigest()
    source = tmp_path / "ATLAS.yaml"
    source.write_text("version: 9.0.0\nmatrices:\n- id: ATLAS\n  tactics: [{id: AML.TA0001, name: Staging}]\n"
                      "  techniques: [{id: AML.T0015, name: Evade Any Model, tactics: [AML.TA0001]}]\n"
                      "  mitigations: []\n")
    result = cli("atlas", "import", source)
    assert result.exit_code == 0 and "atlas_version: 9.0.0" in result.stdout
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == before


def test_atlas_show_reads_user_catalogs(cli, write):
    extra = write("threats: []\n", "extra.yaml")
    assert cli("atlas", "show", "AML.T0018", "--catalog", extra).exit_code == 0


def test_a_dataset_may_serve_several_purposes(cli, write):
    model = write("system: {name: p}\ncomponents:\n  - {id: d, kind: dataset, purpose: [training, validation]}\n")
    assert cli("validate", model).exit_code == 0


@pytest.mark.parametrize("name, message", [
    ("x.htm", "cannot tell the output format from the name"),
    ("x.yaml", "cannot tell the output format from the name"),
    ("report", "cannot tell the output format from the name"),
    ("x.sarif.json", "the name could mean json (.json) or sarif (.sarif): give --format"),
])
def test_an_output_name_that_names_no_format_or_two_is_refused(name, message, cli, tmp_path):
    from .conftest import EXAMPLES

    target = tmp_path / name
    result = cli("report", EXAMPLES / "huskyai.yaml", "-o", target)
    assert result.exit_code == 2 and f"{target}: error: {message}" in result.stderr and not target.exists()
    assert "sarif" in result.stderr and "--format" in result.stderr  # the formats are named
    given = cli("report", EXAMPLES / "huskyai.yaml", "-o", target, "--format", "sarif")
    assert given.exit_code == 0 and json.loads(target.read_text())["version"] == "2.1.0"


def test_framework_filter_does_not_call_left_out_review_entries_orphans(cli, tmp_path):
    import shutil

    from .conftest import EXAMPLES

    for name in ("huskyai.yaml", "huskyai.status.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    status = tmp_path / "huskyai.status.yaml"
    status.write_text(status.read_text().replace("findings:\n", "findings:\n  NOPE@nowhere:\n    status: open\n", 1))
    result = cli("report", tmp_path / "huskyai.yaml", "--framework", "ml-2023", "-f", "json")
    assert result.exit_code == 0
    assert "review entries are for threats outside --framework ml-2023; not applied here" in result.stderr
    orphans = [line for line in result.stderr.splitlines() if "orphan" in line]
    assert len(orphans) == 1 and "NOPE@nowhere" in orphans[0]  # a real orphan is still said


def test_init_help_and_readme_name_every_bundled_example(cli):
    from threatmodel.system.starter import example_names

    help_text = " ".join(cli("init", "--help").stdout.split()).replace("- ", "-")  # undo line wrapping
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `threatmodel init"))
    for name in example_names():
        assert name in help_text and name in row, name


def test_catalog_show_help_names_the_framework_entry_ids(cli):
    help_text = " ".join(cli("catalog", "show", "--help").stdout.split())
    assert "LLM07:2025" in help_text and "ASI01:2026" in help_text
    assert cli("catalog", "show", "ASI01:2026").exit_code == 0


def test_atlas_show_names_the_threats_catalog_list_selects(cli):
    """`atlas show` and `catalog list --atlas` agree: a threat linked to a sub-technique counts."""
    import json

    listed = {t["id"] for t in json.loads(cli("catalog", "list", "--atlas", "AML.T0018", "-f", "json").stdout)["threats"]}
    shown = cli("atlas", "show", "AML.T0018").stdout
    line = next(line for line in shown.splitlines() if line.startswith("Catalog threats: "))
    named = {part.split(" (")[0] for part in line.removeprefix("Catalog threats: ").split(", ") if not part.startswith("AML.")}
    assert "ML07" in listed and named == listed
    assert "ML07 (through AML.T0018.000)" in line


def test_counts_read_as_english_for_one(cli, write):
    one = write("""system: {name: one}
components:
  - {id: api, kind: inference-service, exposure: public}
""")
    out = cli("validate", one).stdout
    assert "1 component, 0 flows, 0 boundaries, 0 data assets" in out and "1 findings" not in out
    assert "1 open questions" not in out
