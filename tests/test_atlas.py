"""The ATLAS index: the import command, aliases, removed ids, and the committed extract."""

from __future__ import annotations

import pytest

from threatmodel.catalog.atlas import dump_index, import_atlas, import_atlas_file, parse_renames
from threatmodel.core.located_yaml import parse_yaml
from threatmodel.core.resources import catalog_dir

from .conftest import shared_file

SMALL_V1 = """
version: 1.0.0
matrices:
- id: ATLAS
  tactics:
  - {id: AML.TA0001, name: ML Attack Staging}
  techniques:
  - {id: AML.T0015, name: Evade ML Model, tactics: [AML.TA0001]}
  - {id: AML.T0045, name: ML Intellectual Property Theft, tactics: [AML.TA0001]}
  mitigations:
  - id: AML.M0004
    name: Restrict Number of ML Model Queries
    techniques: [{id: AML.T0015, use: x}]
"""
SMALL_V2 = """
version: 2.0.0
matrices:
- id: ATLAS
  tactics:
  - {id: AML.TA0001, name: AI Attack Staging}
  techniques:
  - {id: AML.T0015, name: Evade AI Model, tactics: [AML.TA0001]}
  - {id: AML.T0015.000, name: Sub, subtechnique-of: AML.T0015}
  mitigations:
  - id: AML.M0004
    name: Restrict Number of AI Model Queries
    techniques: [{id: AML.T0015, use: x}]
    ml-lifecycle: [Deployment, {id: AML.T0015.000, use: misplaced}]
"""


def test_reimport_keeps_former_names_as_aliases_and_removed_ids():
    v1 = import_atlas(parse_yaml(SMALL_V1, "v1.yaml"))
    v2 = import_atlas(parse_yaml(SMALL_V2, "v2.yaml"), previous=v1)
    assert v2.atlas_version == "2.0.0"
    assert v2.get("AML.T0015").name == "Evade AI Model"
    assert v2.get("AML.T0015").aliases == ["Evade ML Model"]
    assert v2.get("AML.TA0001").aliases == ["ML Attack Staging"]
    assert v2.get("AML.M0004").aliases == ["Restrict Number of ML Model Queries"]
    assert [(r.id, r.name) for r in v2.removed] == [("AML.T0045", "ML Intellectual Property Theft")]
    # sub-techniques inherit tactics and show with their parent's name
    assert [t.id for t in v2.tactics_of("AML.T0015.000")] == ["AML.TA0001"]
    assert v2.full_name("AML.T0015.000") == "Evade AI Model: Sub"
    # technique links misplaced under ml-lifecycle (an upstream bug in 5.6.0) are recovered
    assert v2.get("AML.M0004").techniques == ["AML.T0015", "AML.T0015.000"]
    assert v2.find_by_name("evade ml model") == ["AML.T0015"]


def test_import_rejects_a_file_that_is_not_atlas():
    import pytest
    from threatmodel.core.errors import InputError

    with pytest.raises(InputError) as info:
        import_atlas(parse_yaml("a: 1\n", "x.yaml"))
    assert "not an ATLAS.yaml file" in str(info.value)


def test_parse_renames_table():
    aliases, removed = parse_renames(
        "kind\tid\tcurrent_name\tprevious_names\n"
        "technique\tAML.T0018\tManipulate AI Model\tBackdoor ML Model (until v4.9.0)\n"
        "technique\tAML.T0045\t(REMOVED after 4.4.0)\tML Intellectual Property Theft\n"
    )
    assert aliases == {"AML.T0018": ["Backdoor ML Model"]}
    assert removed == {"AML.T0045": "ML Intellectual Property Theft"}


def test_committed_index_is_what_the_import_command_produces():
    atlas = shared_file("atlas", "ATLAS.yaml")
    renames = shared_file("atlas", "renames.tsv")
    index = import_atlas_file(atlas, renames_path=renames)
    committed = (catalog_dir() / "atlas.yaml").read_text(encoding="utf-8")
    assert dump_index(index) == committed


def test_committed_index_matches_official_atlas_ids_and_names():
    import yaml

    official = yaml.safe_load(shared_file("atlas", "ATLAS.yaml").read_text(encoding="utf-8"))
    matrix = official["matrices"][0]
    expected = {e["id"]: e["name"] for key in ("tactics", "techniques", "mitigations") for e in matrix[key]}
    from threatmodel.catalog.atlas import load_index

    index = load_index(catalog_dir() / "atlas.yaml")
    assert index.atlas_version == official["version"] == "5.6.0"
    ours = {e.id: e.name for e in [*index.tactics, *index.techniques, *index.mitigations]}
    assert ours == expected
    assert len(index.techniques) == 170 and len(index.tactics) == 16 and len(index.mitigations) == 35


def _coverage_table(rows) -> str:
    lines = ["| technique | case studies | linked by |", "|---|---:|---|"]
    lines += [f"| {tid} {name} | {count} | {', '.join(threats)} |" for tid, name, count, threats in rows if threats]
    linked = sum(1 for row in rows if row[3])
    used = sum(row[2] for row in rows)
    weighted = sum(row[2] for row in rows if row[3])
    summary = (f"{linked} of the {len(rows)} techniques the case studies use are linked ({weighted} of their "
               f"{used} uses); the others are listed below with the reason.")
    return summary + "\n\n" + "\n".join(lines)


@pytest.mark.golden
def test_docs_table_the_atlas_coverage_of_every_case_study_technique(catalog):
    """docs/catalog.md says, for every technique an ATLAS 5.6.0 case study uses, which threats
    link it, or why none does; the two lists together are exactly the techniques used."""
    import os
    import re

    import yaml

    from threatmodel.catalog.atlas import case_study_coverage

    from .conftest import REPO

    official = yaml.safe_load(shared_file("atlas", "ATLAS.yaml").read_text(encoding="utf-8"))
    rows = case_study_coverage(official, catalog.threats.values())
    path = REPO / "docs" / "catalog.md"
    text = path.read_text(encoding="utf-8")
    start, end = "<!-- coverage:start -->\n", "<!-- coverage:end -->"
    expected = start + _coverage_table(rows) + "\n" + end
    current = text[text.index(start):text.index(end) + len(end)]
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text.replace(current, expected), encoding="utf-8")
        current = expected
    assert current == expected, "regenerate with: UPDATE_GOLDEN=1 python -m pytest -m golden"
    reasons = text[text.index("why no threat links them"):text.index("## JSON output")]
    explained = set(re.findall(r"AML\.T\d{4}(?:\.\d{3})?", reasons))
    unlinked = {tid for tid, _, _, threats in rows if not threats}
    assert explained == unlinked
    assert sum(row[2] for row in rows if row[3]) >= 0.75 * sum(row[2] for row in rows)
