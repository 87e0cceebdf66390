"""The built-in catalog's facts, and every error path of loading a user catalog."""

from __future__ import annotations

import csv
import re

import pytest

from threatmodel.catalog.load import load_catalog
from threatmodel.core.errors import InputError

from .conftest import shared_file

OFFICIAL = {  # id: (title, exploitability, detectability, technical impact) from the risk-factor tables
    "ML01": ("ML01:2023 Input Manipulation Attack", 5, 3, 5),
    "ML02": ("ML02:2023 Data Poisoning Attack", 3, 2, 4),
    "ML03": ("ML03:2023 Model Inversion Attack", 4, 2, 4),
    "ML04": ("ML04:2023 Membership Inference Attack", 4, 3, 4),
    "ML05": ("ML05:2023 Model Theft", 4, 3, 4),
    "ML06": ("ML06:2023 ML Supply Chain Attacks", 4, 5, 5),
    "ML07": ("ML07:2023 Transfer Learning Attack", 5, 1, 5),
    "ML08": ("ML08:2023 Model Skewing", 5, 2, 5),
    "ML09": ("ML09:2023 Output Integrity Attack", 5, 3, 3),
    "ML10": ("ML10:2023 Model Poisoning", 5, 3, 3),
}


def test_builtin_catalog_loads_without_warnings():
    loaded = load_catalog()
    assert loaded.warnings == []
    assert set(OFFICIAL) <= set(loaded.catalog.threats)
    for required in ("ARTIFACT-REPUDIATION", "CREDENTIAL-THEFT", "INFERENCE-DOS", "TRANSIT-TAMPERING",
                     "DEV-HOST-COMPROMISE"):
        assert required in loaded.catalog.threats


@pytest.mark.parametrize("threat_id", sorted(OFFICIAL))
def test_owasp_titles_and_ratings(catalog, threat_id):
    title, exploitability, detectability, impact = OFFICIAL[threat_id]
    threat = catalog.threats[threat_id]
    assert threat.title == title
    assert (threat.ratings.exploitability, threat.ratings.detectability, threat.ratings.technical_impact) == (
        exploitability, detectability, impact)
    assert threat.stride and len(threat.mitigations) >= 2 and threat.atlas


def test_ratings_agree_with_the_official_summary_table(catalog):
    text = shared_file("owasp-ml-top10.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        match = re.match(r"\| (ML\d\d) \| .*? \| ([\d*]+)/(\d)/([\d*]+) \| \*{0,2}(\d) \(.*?\| .*? \| (\d) \(.*?\| \*{0,2}(\d) \(", line)
        if not match:
            continue
        threat = catalog.threats[match.group(1)]
        table = tuple(int(match.group(i)) for i in (5, 6, 7))
        assert (threat.ratings.exploitability, threat.ratings.detectability, threat.ratings.technical_impact) == table


def test_ml06_records_both_of_its_contradictory_ratings(catalog):
    ratings = catalog.threats["ML06"].ratings
    assert ratings.alternatives == [{"source": "OWASP ML06:2023 page front matter", "exploitability": 6,
                                     "detectability": 5, "technical_impact": 4}]
    assert "uses the table" in ratings.note


def test_former_titles_are_aliases(catalog):
    assert "Adversarial Attack" in catalog.threats["ML01"].aliases
    assert "Model Stealing" in catalog.threats["ML05"].aliases
    assert "AI Supply Chain Attacks" in catalog.threats["ML06"].aliases
    assert "Neural Net Reprogramming" in catalog.threats["ML10"].aliases


def test_every_brief_atlas_link_is_in_the_catalog_with_its_current_id(catalog):
    path = shared_file("owasp-ml-top10-atlas.tsv")
    with path.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream, delimiter="\t"))
    assert rows
    for row in rows:
        links = {link.id for link in catalog.threats[row["ml_id"]].atlas}
        assert row["resolved_id"] in links, row


def test_every_atlas_link_names_the_current_atlas_name(catalog):
    for item in [*catalog.threats.values(), *catalog.mitigations.values()]:
        for link in item.atlas:
            assert catalog.atlas.get(link.id) is not None, (item.id, link.id)
            assert link.name in (catalog.atlas.get(link.id).name, catalog.atlas.full_name(link.id)), (item.id, link)


def test_ml02_has_justified_atlas_links(catalog):
    links = catalog.threats["ML02"].atlas
    assert "AML.T0020" in [link.id for link in links]
    assert all(link.why for link in links)


def test_mitigations_map_to_atlas_mitigations(catalog):
    for mitigation in catalog.mitigations.values():
        for link in mitigation.atlas:
            assert link.id.startswith("AML.M")
        assert mitigation.what and mitigation.verify and mitigation.lifecycle


# --------------------------------------------------------------- user catalog errors

THREAT = """
threats:
  - id: {id}
    title: A user threat
    source: user
    summary: Something bad.
    stride: [T]
    lifecycle: [training]
    ratings: {{exploitability: 3, detectability: 3, technical_impact: 3, source: us}}
    atlas: {atlas}
    mitigations: {mitigations}
    applies_to:
      - {rule}
"""


def user_threat(write, *, id="X-ONE", atlas="[]", mitigations="[storage-access-control, model-validation]",
                rule="traits: [holds_training_data]"):
    return write(THREAT.format(id=id, atlas=atlas, mitigations=mitigations, rule=rule), "extra.yaml")


def errors_of(*paths):
    with pytest.raises(InputError) as info:
        load_catalog(list(paths))
    return [str(d).split("extra.yaml:", 1)[-1] for d in info.value.diagnostics]


def test_a_valid_user_catalog_merges(write):
    loaded = load_catalog([user_threat(write)])
    assert "X-ONE" in loaded.catalog.threats


@pytest.mark.parametrize("kwargs, expected", [
    ({"id": "ML02"}, "2:9: error: duplicate threat id 'ML02' (already defined at catalog/threats-owasp-ml.yaml:"),
    ({"mitigations": "[storage-acess-control, model-validation]"},
     "10:19: error: unknown mitigation 'storage-acess-control', did you mean 'storage-access-control'?"),
    ({"mitigations": "[model-validation]"}, "10:18: error: threat 'X-ONE' needs at least 2 mitigations"),
    ({"atlas": "[AML.T9999]"}, "9:13: error: unknown ATLAS technique id 'AML.T9999' (ATLAS 5.6.0)"),
    ({"atlas": "[{id: AML.T0020, name: Erode ML Model Integrity}]"},
     "9:13: error: AML.T0020 is 'Poison Training Data' in ATLAS 5.6.0, not 'Erode ML Model Integrity'"),
    ({"atlas": "[AML.T0045]"}, "9:13: error: ATLAS technique AML.T0045 was removed from ATLAS (it was 'ML "
     "Intellectual Property Theft'); 'ML Intellectual Property Theft' is now AML.T0048.004 'External Harms: AI "
     "Intellectual Property Theft'"),
    ({"atlas": "[AML.M0004]"}, "9:13: error: AML.M0004 is not an ATLAS technique"),
    ({"rule": "kinds: [datset]"}, "12:17: error: unknown kind 'datset', did you mean 'dataset'?"),
    ({"rule": "traits: [holds_weights]"}, "12:18: error: unknown trait 'holds_weights', did you mean 'holds_model_weights'?"),
    ({"rule": "when: {reached_bye: {access: input}}"}, "12:16: error: unknown predicate 'reached_bye', did you mean 'reached_by'?"),
    ({"rule": "when: {reached_by: {access: everywhere}}"},
     "12:28: error: predicate 'reached_by': access must be one or more of input, query, control, read, found 'everywhere'"),
    ({"rule": "when: {exposure: true}"}, "12:26: error: predicate 'exposure': expected one of 'public', 'internal', found True"),
    ({"rule": "when: {attribute: {rate_limit: true}}"},
     "12:27: error: predicate 'attribute': unknown attribute 'rate_limit', did you mean 'rate_limiting'?"),
    ({"rule": "when: {crosses_boundary: true}"},
     "12:34: error: predicate 'crosses_boundary' applies to flows, but this rule is for components"),
    ({"rule": "{element: flow, kinds: [dataset]}"},
     "12:9: error: threats[0].applies_to[0]: a flow rule cannot name kinds or traits; use the predicates 'from_trait' / 'to_trait'"),
])
def test_user_catalog_errors_are_located(write, kwargs, expected):
    found = errors_of(user_threat(write, **kwargs))
    assert any(e.startswith(expected) for e in found), found


def test_schema_errors_in_a_user_catalog(write):
    path = write("""
        threats:
          - id: bad id
            title: T
            source: somewhere
            summary: S
            stride: [X]
            lifecycle: [training]
            ratings: {exploitability: 9, detectability: 1, technical_impact: 1, source: s}
            mitigations: [a, b]
            applies_to: [{}]
            colour: red
        """, "extra.yaml")
    found = errors_of(path)
    assert ("2:9: error: threats[0].id: invalid value 'bad id': a threat id is upper-case letters and digits, "
            "words joined by '-' (ML02, MY-THREAT)") in found
    assert "4:13: error: threats[0].source: invalid value 'somewhere'; expected 'owasp-ml-top10-2023', 'owasp-genai', 'stride-baseline' or 'user'" in found
    assert "6:14: error: threats[0].stride[0]: invalid value 'X'; expected 'S', 'T', 'R', 'I', 'D' or 'E'" in found
    assert "8:31: error: threats[0].ratings.exploitability: Input should be less than or equal to 5" in found
    assert "11:5: error: unknown key 'colour' (allowed: aliases, applies_to, atlas, cosai, frameworks, id, lifecycle, links, mitigations, " \
           "not_applicable, once_per_chain, ratings, redesign, references, scenarios, short_title, source, stride, summary, title)" in found


def test_former_atlas_name_is_a_warning_with_the_current_name(write):
    loaded = load_catalog([user_threat(write, atlas="[{id: AML.T0015, name: Evade ML Model}]")])
    assert [str(w).split("extra.yaml:")[-1] for w in loaded.warnings] == [
        "9:13: warning: AML.T0015 'Evade ML Model' is a former ATLAS name; it is now 'Evade AI Model'"]


def test_all_errors_of_all_files_are_reported_at_once(write):
    first = user_threat(write, mitigations="[nope-one, nope-two]")
    second = write("threats: [1]\nmitigations: {}\n", "second.yaml")
    with pytest.raises(InputError) as info:
        load_catalog([first, second])
    text = str(info.value)
    assert "unknown mitigation 'nope-one'" in text and "unknown mitigation 'nope-two'" in text
    assert "second.yaml:1:11: error: threats[0]: expected a mapping, found a number" in text
    assert "second.yaml:2:14: error: mitigations: expected a list, found a mapping" in text


def test_broken_yaml_in_a_user_catalog(write):
    path = write("threats:\n  - id: [\n", "extra.yaml")
    assert errors_of(path) == ["3:1: error: YAML syntax: did not find expected node content (while parsing a flow node)"]


def test_every_model_format_has_a_catalog_entry(catalog):
    from threatmodel.system.model import MODEL_FORMATS

    assert set(catalog.formats) == set(MODEL_FORMATS)
    assert catalog.formats["pickle"].executes_code_on_load and not catalog.formats["safetensors"].executes_code_on_load
    assert [s.tool for s in catalog.formats["pytorch"].scans] == ["modelscan", "picklescan"]


def test_a_user_catalog_adds_a_model_format(write):
    """A format the built-in catalog does not know is one entry in a user catalog: models may then
    declare it, and whether loading it runs code decides what a poisoned base model controls."""
    import json

    from threatmodel.pipeline import assess
    from threatmodel.system.schema import system_json_schema

    extra = load_catalog([write("formats:\n  - {id: mlx-code, executes_code_on_load: true}\n"
                                "  - {id: mlx-plain, executes_code_on_load: false}\n", "extra.yaml")])
    text = ("system: {name: S}\nboundaries: [{id: prod}]\ncomponents:\n  - {id: base, kind: pretrained-model, format: FMT}\n"
            "  - {id: trainer, kind: training-job, boundary: prod}\n  - {id: keys, kind: secret, boundary: prod}\n"
            "flows:\n  - {from: base, to: trainer}\n  - {from: keys, to: trainer}\n")
    runs_code = write(text.replace("FMT", "mlx-code"), "code.yaml")
    with pytest.raises(InputError) as info:  # the built-in catalog alone does not know it
        assess(runs_code)
    assert "code.yaml:4:48: error: unknown model format 'mlx-code'" in str(info.value)

    def stolen(path):
        return {f.element for f in assess(path, extra).findings if f.threat.id == "CREDENTIAL-THEFT"}

    assert stolen(runs_code) == {"keys"}  # code in the base model runs in the trainer, beside the keys
    assert stolen(write(text.replace("FMT", "mlx-plain"), "plain.yaml")) == set()
    schema = json.loads(system_json_schema(extra.catalog))
    assert {"mlx-code", "mlx-plain", "pickle"} <= set(schema["$defs"]["Component"]["properties"]["format"]["anyOf"][0]["enum"])


@pytest.mark.parametrize("text, expected", [
    ("attributes:\n  - {name: autonomy, element: component, type: boolean, question: Q?}\n",
     "2:12: error: duplicate attribute id 'component.autonomy' (already defined at catalog/attributes.yaml:"),
    ("attributes:\n  - {name: autonomyy, element: component, question: Q?}\n",
     "2:12: error: unknown component attribute 'autonomyy', did you mean 'autonomy'?"),
    ("kinds:\n  - {id: bot, dfd: process, title: Bot, defaults: {autonomy: sometimes}}\n",
     "error: invalid default 'sometimes' for attribute 'autonomy' (expected one of suggest, approval, act)"),
    ("kinds:\n  - {id: bot, dfd: process, title: Bot, defaults: {authenticated: 1}}\n",
     "error: invalid default 1 for attribute 'authenticated' (expected a bool)"),
    ("kinds:\n  - {id: bot, dfd: process, title: Bot, defaults: {capabilities: [read, fly]}}\n",
     "error: invalid default ['read', 'fly'] for attribute 'capabilities' (expected one of read, write, execute"),
])
def test_attribute_errors_in_a_user_catalog(write, text, expected):
    found = errors_of(write(text, "extra.yaml"))
    assert any(expected in e for e in found), found


@pytest.mark.parametrize("text, expected", [
    ("formats:\n  - {id: pickle, executes_code_on_load: true}\n",
     "2:10: error: duplicate format id 'pickle' (already defined at catalog/formats.yaml:"),
    ("formats:\n  - id: onnx2\n    executes_code_on_load: false\n    scans: [{tool: t, argv: [t], purpose: p, mitigation: m}]\n",
     "4:29: error: formats[0].scans[0].argv: argv must contain {path}"),
])
def test_format_errors_in_a_user_catalog(write, text, expected):
    found = errors_of(write(text, "extra.yaml"))
    assert any(e.startswith(expected) for e in found), found


def _traits_in(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for v in value for item in _traits_in(v)}
    if isinstance(value, dict):
        return {item for v in value.values() for item in _traits_in(v)}
    return set()


def test_every_trait_is_used_by_a_threat_a_role_or_a_mitigation(catalog):
    used = {trait for role in catalog.roles.values() for trait in role}
    for threat in catalog.threats.values():
        for rule in threat.applies_to:
            used |= set(rule.traits) | (_traits_in(rule.when) & set(catalog.traits))
    for mitigation in catalog.mitigations.values():
        used |= set(mitigation.fits) & set(catalog.traits)
    assert set(catalog.traits) - used == set()


def test_no_trait_or_kind_name_is_a_literal_in_python(catalog):
    # code asks for roles; only the catalog (and the loader's role table) names traits and kinds.
    # DFD types ("process", "data-store") and lifecycle stages ("monitoring") are fixed
    # vocabularies, not kinds, even where a kind shares the name.
    import ast

    from .conftest import REPO

    from typing import get_args

    from threatmodel.catalog.model import Lifecycle

    # "tool" is also a key of SARIF and of our JSON (the tool that wrote a file) and "agent" a value
    # of the fixed output_to vocabulary; both name kinds too.
    vocabulary = {"process", "data-store", "external-entity", "data-flow", "tool", "agent", *get_args(Lifecycle)}
    forbidden = (set(catalog.traits) | set(catalog.kinds)) - vocabulary
    offenders = []
    for path in sorted((REPO / "threatmodel").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in forbidden:
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
    assert offenders == []


def test_renaming_a_trait_fails_at_load_with_a_located_error_or_keeps_working(tmp_path):
    import shutil

    from threatmodel.core import resources

    folder = tmp_path / "catalog"
    shutil.copytree(resources.catalog_dir(), folder)
    kinds = folder / "kinds.yaml"
    kinds.write_text(kinds.read_text(encoding="utf-8").replace("holds_secrets", "keeps_credentials"), encoding="utf-8")
    # every use renamed consistently in the copy: it still loads and binds the role
    for path in folder.glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace("holds_secrets", "keeps_credentials"), encoding="utf-8")
    catalog = _load_folder(folder, tmp_path / "ok").catalog
    assert "keeps_credentials" in catalog.role("audit_watched")
    # renamed in the traits table only: a located error names the role and the trait
    broken = tmp_path / "broken"
    shutil.copytree(resources.catalog_dir(), broken)
    text = (broken / "kinds.yaml").read_text(encoding="utf-8")
    (broken / "kinds.yaml").write_text(text.replace("  holds_secrets:", "  keeps_credentials:", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        _load_folder(broken, tmp_path / "bad")
    messages = [str(d) for d in info.value.diagnostics]
    assert any("catalog/kinds.yaml:" in m and "unknown trait 'holds_secrets'" in m for m in messages), messages


def _load_folder(folder, scratch):
    from unittest import mock

    from threatmodel.catalog import load as catalog_load

    with mock.patch.object(catalog_load, "catalog_dir", return_value=folder):
        return catalog_load.load_catalog()


def test_loading_the_catalog_does_not_import_networkx():
    import subprocess
    import sys

    code = "import sys, threatmodel as tm; tm.load_catalog(); print('networkx' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_every_bundled_mitigation_names_its_owner_role_and_effort():
    import yaml

    from threatmodel.core.resources import catalog_dir

    document = yaml.safe_load((catalog_dir() / "mitigations.yaml").read_text())
    for mitigation in document["mitigations"]:
        assert mitigation.get("owner") in ("data-scientist", "ml-engineer", "mlops", "security", "product"), mitigation["id"]
        assert mitigation.get("effort") in ("low", "medium", "high"), mitigation["id"]


def test_every_evidence_reader_speaks_to_a_catalog_mitigation():
    from threatmodel import load_catalog
    from threatmodel.evidence import READERS

    catalog = load_catalog().catalog
    for reader in READERS:
        assert catalog.evidence[reader.TOOL] in catalog.mitigations, reader.TOOL
        assert reader.SUBJECT in ("path", "package")


def test_every_threat_names_what_addresses_its_mechanism_with_reasons_and_a_redesign():
    from threatmodel.analysis.scoring import control_credit

    catalog = load_catalog().catalog
    for threat in catalog.threats.values():
        assert threat.redesign.strip(), f"{threat.id} names no design change"
        assert [link.id for link in threat.links] == threat.mitigations
        for link in threat.links:
            assert link.why.strip(), f"{threat.id}: no reason for {link.id}"
        primary = threat.primary
        assert primary, f"{threat.id} has no primary mitigation"
        # a primary mitigation must lower what it claims to: a detective control is primary
        # only against repudiation, a corrective one only where damage is the point
        for mitigation in primary:
            credit = control_credit(catalog, threat, mitigation)
            assert credit.likelihood or credit.impact, f"{threat.id}: primary {mitigation} earns nothing"
        assert any(catalog.mitigations[m].control == "preventive" or "R" in threat.stride
                   or ("D" in threat.stride and catalog.mitigations[m].control == "corrective") for m in primary), threat.id


USER_THREAT = """threats:
  - id: MODEL-CARD-LEAK
    title: Model card reveals training data sources
    source: user
    summary: A public model card names the data the model was trained on.
    stride: [I]
    lifecycle: [deployment]
    ratings: {exploitability: 3, detectability: 4, technical_impact: 2, source: our estimate}
    mitigations:
      - {id: output-minimisation, role: primary, why: the card states only what users need}
      - {id: inference-access-control, role: supporting, why: only known readers see it}
    applies_to:
      - traits: [serves_predictions]
        when: {attribute: {returns_scores: true}}
"""
FIXTURE = """threat: MODEL-CARD-LEAK
raises:
  finding: MODEL-CARD-LEAK@api
  model:
    system: {name: fixture}
    components:
      - {id: api, kind: inference-service, returns_scores: RAISES}
near_miss:
  why: a service that returns only labels
  model:
    system: {name: fixture}
    components:
      - {id: api, kind: inference-service, returns_scores: false}
"""


def test_catalog_validate_test_runs_a_user_catalogs_fixtures(cli, tmp_path):
    extra = tmp_path / "team.yaml"
    extra.write_text(USER_THREAT, encoding="utf-8")
    untested = cli("catalog", "validate", extra, "--test")
    assert untested.exit_code == 0, untested.stderr
    assert f"{extra}:2:9: warning: threat 'MODEL-CARD-LEAK' has no fixture" in untested.stderr
    assert "fixtures: 43 threats tested, all pass" in untested.stdout  # the built-in ones still run
    (tmp_path / "fixtures").mkdir()
    fixture = tmp_path / "fixtures" / "MODEL-CARD-LEAK.yaml"
    fixture.write_text(FIXTURE.replace("RAISES", "true"), encoding="utf-8")
    passed = cli("catalog", "validate", "--catalog", extra, "--test")
    assert passed.exit_code == 0, passed.stderr
    assert "fixtures: 44 threats tested, all pass" in passed.stdout and "no fixture" not in passed.stderr
    fixture.write_text(FIXTURE.replace("RAISES", "false"), encoding="utf-8")  # the rule can no longer fire
    failed = cli("catalog", "validate", extra, "--test")
    assert failed.exit_code == 1
    assert (f"{fixture}:3:12: error: expected MODEL-CARD-LEAK@api; this model raises no finding of it"
            in failed.stderr), failed.stderr
    assert "1 problem in 1 fixture" in failed.stdout
    without_test = cli("catalog", "validate", extra)
    assert without_test.exit_code == 0 and "fixtures:" not in without_test.stdout


def test_a_broken_fixture_is_a_located_problem(tmp_path):
    from threatmodel.threat_fixtures import run_fixtures

    extra = tmp_path / "team.yaml"
    extra.write_text(USER_THREAT, encoding="utf-8")
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "MODEL-CARD-LEAK.yaml").write_text(
        FIXTURE.replace("RAISES", "true").replace("kind: inference-service, returns_scores: false", "kind: inferense"),
        encoding="utf-8")
    (tmp_path / "fixtures" / "NOPE.yaml").write_text("threat: NOPE\n", encoding="utf-8")
    run = run_fixtures(load_catalog([extra]), [extra])
    found = [str(p) for p in run.problems]
    assert any("MODEL-CARD-LEAK.yaml:11:5: error: this model does not load: unknown kind 'inferense'" in p
               for p in found), found
    assert any("NOPE.yaml:1:9: error: unknown threat 'NOPE'" in p for p in found), found
