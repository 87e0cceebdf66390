"""LLM, RAG and agent systems: the two examples, frameworks and editions, the crosswalk, and
the ATLAS format-6 reader."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import threatmodel

from .conftest import EXAMPLES, REPO
from .test_report import check_golden

SHARED = REPO.parent / "shared" / "reference"
RAG = EXAMPLES / "rag-chatbot.yaml"
AGENT = EXAMPLES / "coding-agent.yaml"
V6 = Path(__file__).parent / "fixtures" / "atlas" / "ATLAS-2026.06-small.yaml"


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "threatmodel", *map(str, args)], capture_output=True, text=True)


def _findings(model: Path) -> dict[str, dict]:
    data = json.loads(threatmodel.render(threatmodel.analyze(model), "json"))
    return {f["id"]: f for f in data["findings"]}


# --- the two examples ---------------------------------------------------------------------------

@pytest.mark.golden
@pytest.mark.parametrize("model", [RAG, AGENT], ids=["rag-chatbot", "coding-agent"])
def test_example_reports_match_their_goldens(model):
    done = _cli("report", model)
    assert done.returncode == 0, done.stderr
    check_golden(f"formats/{model.stem}.md", done.stdout)


def test_rag_chatbot_raises_what_a_reviewer_expects_and_nothing_agentic():
    found = _findings(RAG)
    for expected in ("PROMPT-INJECTION@llm-api", "INDIRECT-PROMPT-INJECTION@llm-api", "OUTPUT-RENDERING@llm-api",
                     "CROSS-TENANT-RETRIEVAL@vector-db", "RAG-POISONING@document-store",
                     "UNBOUNDED-CONSUMPTION@llm-api"):
        assert expected in found, expected
    threats = {f.split("@")[0] for f in found}
    assert not threats & {"EXCESSIVE-AGENCY", "SANDBOX-ESCAPE", "TOOL-SUPPLY-CHAIN", "MEMORY-POISONING",
                          "INTER-AGENT-TRUST", "OUTPUT-EXECUTION", "SYSTEM-PROMPT-EXPOSURE"}
    # the public user's path; the vector store says it keeps no tenant apart, while the document
    # store does not say: there the question is asked and the assumption scores lower than the fact
    assert found["PROMPT-INJECTION@llm-api"]["attack_path"][0] == "end-user"
    assert any("tenant_isolation" in q for q in found["CROSS-TENANT-RETRIEVAL@document-store"]["open_questions"])
    assert not found["CROSS-TENANT-RETRIEVAL@vector-db"]["open_questions"]
    assert found["CROSS-TENANT-RETRIEVAL@document-store"]["score"] < found["CROSS-TENANT-RETRIEVAL@vector-db"]["score"]
    assert "LLM01:2025" in found["PROMPT-INJECTION@llm-api"]["frameworks"]


def test_coding_agent_raises_what_a_reviewer_expects():
    found = _findings(AGENT)
    for expected in ("EXCESSIVE-AGENCY@repo-tool", "EXCESSIVE-AGENCY@issue-tracker-mcp", "SANDBOX-ESCAPE@shell-tool",
                     "INDIRECT-PROMPT-INJECTION@coding-agent", "TOOL-SUPPLY-CHAIN@issue-tracker-mcp",
                     "MEMORY-POISONING@agent-memory"):
        assert expected in found, expected
    # read-only tools are not excessive agency; the approval step is no tool
    assert "EXCESSIVE-AGENCY@web-fetch" not in found and "EXCESSIVE-AGENCY@docs-mcp" not in found
    # the attacker is whoever publishes the page the agent fetches
    assert found["EXCESSIVE-AGENCY@repo-tool"]["attack_path"][:3] == ["internet", "web-fetch", "coding-agent"]
    # the pinned server and the sandbox without network are credited
    assert found["TOOL-SUPPLY-CHAIN@docs-mcp"]["likelihood"] < found["TOOL-SUPPLY-CHAIN@issue-tracker-mcp"]["likelihood"]
    assert "tool-sandboxing" in found["SANDBOX-ESCAPE@shell-tool"]["score_explanation"]
    assert "egress-restriction" in found["SANDBOX-ESCAPE@shell-tool"]["score_explanation"]


def test_an_unsandboxed_shell_scores_higher_than_the_examples(tmp_path):
    text = AGENT.read_text().replace("    sandboxed: true\n    network_egress: false\n", "")
    model = tmp_path / "agent.yaml"
    model.write_text(text)
    before, after = _findings(AGENT)["SANDBOX-ESCAPE@shell-tool"], _findings(model)["SANDBOX-ESCAPE@shell-tool"]
    assert after["score"] > before["score"]


# --- frameworks, editions, aliases ----------------------------------------------------------------

def test_catalog_list_by_framework_and_show_entries():
    done = _cli("catalog", "list", "--framework", "llm-2026")
    assert done.returncode == 0 and "PROMPT-INJECTION" in done.stdout and "ML01" not in done.stdout
    both = _cli("catalog", "list", "--framework", "ml-2023,asi-2026").stdout
    assert "ML01" in both and "EXCESSIVE-AGENCY" in both and "RAG-POISONING" not in both
    shown = _cli("catalog", "show", "LLM08:2026")
    assert shown.returncode == 0 and "Hidden Context Exposure" in shown.stdout
    assert "LLM07:2025 System Prompt Leakage" in shown.stdout and "SYSTEM-PROMPT-EXPOSURE" in shown.stdout
    older = _cli("catalog", "show", "LLM07:2025").stdout
    assert "Successor:  LLM08:2026 Hidden Context Exposure" in older
    ambiguous = _cli("catalog", "show", "LLM03")
    assert ambiguous.returncode == 2 and "LLM03:2025 Supply Chain" in ambiguous.stderr \
        and "LLM03:2026 Excessive Agency" in ambiguous.stderr
    unknown = _cli("catalog", "list", "--framework", "llm-2024")
    assert unknown.returncode == 2 and "llm-2026" in unknown.stderr


def test_renumbered_entries_keep_the_same_threat_id(catalog):
    assert [t.id for t in catalog.threats_for_entry("LLM06:2025")] == ["EXCESSIVE-AGENCY"]
    assert [t.id for t in catalog.threats_for_entry("LLM03:2026")] == ["EXCESSIVE-AGENCY"]
    assert "EXCESSIVE-AGENCY" not in [t.id for t in catalog.threats_for_entry("LLM03:2025")]


def test_a_bare_or_unknown_owasp_id_in_a_user_catalog_is_a_located_error(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("""threats:
  - id: MY-THREAT
    title: Mine
    source: user
    frameworks: ["LLM03", "LLM11:2025"]
    summary: s
    stride: [T]
    lifecycle: [deployment]
    ratings: {exploitability: 3, detectability: 3, technical_impact: 3, source: us}
    mitigations: [prompt-screening, usage-limits]
    applies_to: [{traits: [takes_prompts]}]
""")
    done = _cli("catalog", "validate", extra)
    assert done.returncode == 2
    assert f"{extra}:5:" in done.stderr and "LLM11:2025" in done.stderr


def test_report_framework_filter(tmp_path):
    data = json.loads(_cli("report", AGENT, "--framework", "asi-2026", "-f", "json").stdout)
    assert data["findings"] and all(any(e.endswith(":2026") and e.startswith("ASI") for e in f["frameworks"])
                                    for f in data["findings"])


def test_crosswalk_formats():
    markdown = _cli("catalog", "crosswalk").stdout
    assert "| Threat | STRIDE | ML 2023 |" in markdown and "AML\\.T0051.000\\@5.6.0" in markdown
    rows = list(csv.DictReader(io.StringIO(_cli("catalog", "crosswalk", "-f", "csv").stdout)))
    by_id = {r["threat"]: r for r in rows}
    assert by_id["EXCESSIVE-AGENCY"]["llm-2025"] == "LLM06:2025" and by_id["EXCESSIVE-AGENCY"]["llm-2026"] == "LLM03:2026"
    assert by_id["ML01"]["ml-2023"] == "ML01:2023"
    data = json.loads(_cli("catalog", "crosswalk", "-f", "json").stdout)
    assert data["atlas_version"] == "5.6.0" and {f["id"] for f in data["frameworks"]} >= {"llm-2025", "asi-2026"}


def _tsv(name: str) -> list[dict]:
    path = SHARED / "genai" / name
    if not path.is_file():
        pytest.skip("../shared/reference/genai is not beside this clone")
    return list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))


def test_framework_ids_and_titles_match_the_reference(catalog):
    expected = {r["id"]: r["title"] for r in _tsv("llm-top10.tsv") + _tsv("agentic-top10.tsv")}
    listed = {e.id: e.title for f in catalog.frameworks.values() for e in f.entries if not e.id.startswith("ML")}
    assert listed == expected


def test_alias_table_and_agentic_mapping_match_the_reference(catalog):
    rows = [(r["id_2023"], r["id_2025"], r["id_2026"]) for r in _tsv("llm-aliases.tsv")]
    assert [(a["llm-2023"], a["llm-2025"], a["llm-2026"]) for a in catalog.aliases] == rows
    for row in _tsv("agentic-top10.tsv"):
        assert catalog.agentic_to_llm_2025[row["id"]] == row["llm_top10_2025"].split(",")


def test_catalog_cosai_ids_exist_in_the_risk_map(catalog):
    path = SHARED / "genai" / "cosai" / "risks.yaml"
    if not path.is_file():
        pytest.skip("../shared/reference/genai/cosai is not beside this clone")
    risks = {r["id"] for r in yaml.safe_load(path.read_text())["risks"]}
    for threat in catalog.threats.values():
        assert set(threat.cosai) <= risks, threat.id


def test_atlas_maturity_matches_the_reference(catalog):
    path = SHARED / "atlas" / "techniques.tsv"
    if not path.is_file():
        pytest.skip("../shared/reference/atlas is not beside this clone")
    for row in csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"):
        technique = catalog.atlas.get(row["id"])
        assert technique is not None and technique.maturity == (row["maturity"] or None), row["id"]


def test_maturity_is_an_explained_likelihood_input():
    found = _findings(RAG)
    import re

    realized = re.search(r"ATLAS: ([A-Z0-9., ]+) realized in real attacks", found["PROMPT-INJECTION@llm-api"]["score_explanation"])
    assert realized and "AML.T0051.000" in realized.group(1).split(", ")


# --- ATLAS distribution format 6 ------------------------------------------------------------------

def test_atlas_v6_reader_on_a_small_fixture(tmp_path):
    from threatmodel.catalog.atlas import import_atlas_file, load_index

    builtin = load_index(REPO / "catalog" / "atlas.yaml")
    index = import_atlas_file(V6, builtin)
    assert index.atlas_version == "2026.06"
    assert [t.id for t in index.tactics] == ["AML.TA0001", "AML.TA0005"]  # matrix order
    direct = index.get("AML.T0051.000")
    assert direct.parent == "AML.T0051" and direct.tactics == ["AML.TA0005"] and direct.maturity == "demonstrated"
    assert index.full_name("AML.T0051.000") == "LLM Prompt Injection: Direct"
    assert index.get("AML.T0115").platforms == ["Predictive AI", "Generative AI"]
    assert index.get("AML.M0020").techniques == ["AML.T0051"]
    assert "Malicious Use" not in index.get("AML.TA0001").aliases and "AI Attack Staging" in index.get("AML.TA0001").aliases
    assert any(r.id == "AML.T0019" for r in index.removed)  # not in this release: reported, not dropped silently
    out = tmp_path / "atlas.yaml"
    done = _cli("atlas", "import", V6, "-o", out)
    assert done.returncode == 0 and "ATLAS 2026.06" in done.stderr
    assert load_index(out).get("AML.T0051").maturity == "realized"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update({"format-version": "7.0.0"}), "unsupported ATLAS format-version '7.0.0'"),
    (lambda d: d["techniques"]["AML.T0051"].pop("maturity"), "AML.T0051 has no maturity"),
    (lambda d: d["techniques"]["AML.T0051.000"].update(id="AML.T0052"), "must be an object whose 'id' is its key"),
    (lambda d: d["relationships"]["AML.T0051.000"].pop("specializes"), "AML.T0051.000 has no 'specializes' link"),
    (lambda d: d["relationships"]["AML.T0051"]["achieves"][0].update(target="AML.TA9999"),
     "relationship achieves names an unknown object"),
    (lambda d: d["collection"].update(version="June 2026"), "collection.version must be the content release"),
])
def test_atlas_v6_reader_checks_the_layout(tmp_path, edit, message):
    document = yaml.safe_load(V6.read_text())
    edit(document)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    done = _cli("atlas", "import", broken)
    assert done.returncode == 2 and message in done.stderr and f"{broken}:" in done.stderr


def test_checklist_and_check_take_frameworks_too():
    everything = _cli("check", AGENT, "--fail-on", "none").stdout
    agentic = _cli("check", AGENT, "--fail-on", "none", "--framework", "asi-2026").stdout
    count = lambda text: int(text.split(": ", 1)[1].split(" findings", 1)[0])  # noqa: E731
    assert 0 < count(agentic) < count(everything)
    checklist = _cli("checklist", AGENT, "--framework", "asi-2026", "-f", "json")
    assert checklist.returncode == 0 and json.loads(checklist.stdout)["checklist"]


def test_a_component_that_looks_like_an_llm_gets_a_kind_hint(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("""system: {name: hints}
components:
  - {id: user, kind: person}
  - {id: bot, kind: inference-service, technology: OpenAI GPT-4o}
  - {id: index, kind: data-store, name: Pinecone index}
  - {id: api, kind: llm, name: Claude API}
flows:
  - {from: user, to: bot}
  - {from: index, to: bot}
  - {from: api, to: bot}
""")
    done = _cli("validate", model)
    assert done.returncode == 0
    assert f"{model}:4:21: warning: 'bot' mentions 'GPT' but is of kind inference-service" in done.stderr
    assert "use kind: llm" in done.stderr and "use kind: vector-store" in done.stderr
    assert "'api' mentions" not in done.stderr  # already an llm
