"""Reports: the golden Husky AI report, JSON shape and determinism, escaping, fallbacks.

Regenerate every golden file and generated doc after an intended change with

    UPDATE_GOLDEN=1 python -m pytest -m golden

and review the diff before committing.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

import threatmodel as tm

from threatmodel.report.model import Report, report_json_schema

from .conftest import EXAMPLES, REPO, example_models
from .conftest import check_golden as check_file

GOLDEN = Path(__file__).parent / "golden"
HUSKY = EXAMPLES / "huskyai.yaml"


def check_golden(name: str, text: str) -> None:
    check_file(GOLDEN / name, text)


@pytest.mark.golden
def test_husky_markdown_report_matches_golden(cli):
    result = cli("report", HUSKY)
    assert result.exit_code == 0
    check_golden("formats/huskyai.md", result.stdout)  # the command line gives what the API gives


def test_markdown_report_sections(cli):
    text = cli("report", HUSKY, "--format", "md").stdout
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    # the summary and the plan first; the attack trees after the findings, each folded
    assert headings == ["## Summary", "## Fix these first", "## System and trust zones", "## Actors",
                        "## Data-flow diagram", "## Findings", "## Attack trees", "## Not applicable",
                        "## Assumptions and open questions", "## Mitigation checklist"]
    trees = text[text.index("## Attack trees"):text.index("## Not applicable")]
    assert trees.count("<details><summary>") == trees.count("```mermaid\nflowchart LR") > 1
    assert "```mermaid\n%%{init:" in text and "\nflowchart TB\n" in text  # the data-flow diagram, top-down
    assert "- [x] `query-rate-limiting` Limit how many queries a client can make (INFERENCE-DOS\\@web-server, " \
           "ML01\\@web-server, ML05\\@web-server)" in text


def test_json_report_shape_and_determinism(cli, tmp_path):
    first = tmp_path / "a.json"
    second = tmp_path / "b.json"
    assert cli("report", HUSKY, "-f", "json", "-o", first).exit_code == 0
    assert cli("report", HUSKY, "-f", "json", "-o", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    data = json.loads(first.read_text())
    assert list(data) == list(Report.model_fields)
    finding = next(f for f in data["findings"] if f["id"] == "ML10@production-model")
    for key in ("id", "threat", "title", "stride", "element", "severity", "score", "atlas", "mitigations", "evidence"):
        assert key in finding
    assert finding["atlas"][0] == {"id": "AML.T0018", "name": "Manipulate AI Model",
                                   "tactics": [{"id": "AML.TA0006", "name": "Persistence"},
                                               {"id": "AML.TA0001", "name": "AI Attack Staging"}]}
    assert data["summary"]["findings"] == len(data["findings"])
    scores = [f["score"] for f in data["findings"]]
    assert scores == sorted(scores, reverse=True)


HOSTILE = """
system: {name: "<script>alert(1)</script>", description: "a | b\\nc <b>bold</b>"}
components:
  - {id: evil, kind: inference-service, exposure: public, name: "<script>alert('x')</script> | pipe"}
  - {id: user, kind: person}
flows:
  - {from: user, to: evil, name: 'quote " and ] and |'}
"""


def test_markdown_escapes_cells_and_html(cli, write):
    text = cli("report", write(HOSTILE)).stdout
    assert "<script>" not in text
    assert "# Threat model: \\<script\\>alert(1)\\</script\\>" in text
    assert 'n_user -->|"quote #quot; and #93;<br>and #124;"| n_evil' in text
    # the diagram's legend gives the full name, escaped as every table cell is
    assert "| evil | \\<script\\>alert('x')\\</script\\> \\| pipe | inference-service |" in text


def test_html_is_autoescaped_and_self_contained(cli, write, tmp_path):
    out = tmp_path / "r.html"
    assert cli("report", write(HOSTILE), "-f", "html", "-o", out).exit_code == 0
    html = out.read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # the report's own filter script, nothing else
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    assert "<link" not in html


def test_html_without_graphviz_says_so_and_renders_the_rest(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    out = tmp_path / "r.html"
    assert cli("report", HUSKY, "-f", "html", "-o", out).exit_code == 0
    html = out.read_text()
    assert "Graphviz (the `dot` program) is not installed" in html
    assert "ML10@production-model" in html and "<svg" in html  # drawn by threatmodel itself
    assert "Drawn by threatmodel itself" in html


def test_html_has_inline_svg_when_graphviz_exists(cli, tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed here (.ci/run installs it)")
    out = tmp_path / "r.html"
    assert cli("report", HUSKY, "-f", "html", "-o", out).exit_code == 0
    assert "<svg" in out.read_text() and "Graphviz (the `dot` program) is not installed" not in out.read_text()


def test_template_override(cli, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "report.md.j2").write_text("{{ system.name }}: {{ summary.findings }} findings\n")
    count = len(tm.analyze(HUSKY).findings)
    assert cli("report", HUSKY, "--template", folder).stdout == f"Husky AI: {count} findings\n"


def test_broken_template_is_a_located_error_and_leaves_no_file(cli, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "report.md.j2").write_text("line one\n{{ system.name | nosuchfilter }}\n")
    out = tmp_path / "r.md"
    result = cli("report", HUSKY, "--template", folder, "-o", out)
    assert result.exit_code == 2
    assert "error: template error: No filter named 'nosuchfilter'." in result.stderr
    assert not out.exists() and list(tmp_path.glob(".r.md*")) == []


def test_invalid_model_gives_no_report(cli, write, tmp_path):
    out = tmp_path / "r.md"
    result = cli("report", write("system: {name: x}\ncomponents: [{id: a, kind: nope}]\n"), "-o", out)
    assert result.exit_code == 2 and not out.exists()


@pytest.mark.golden
def test_published_report_schema_is_current():
    check_file(REPO / "docs" / "report.schema.json", report_json_schema())


@pytest.mark.parametrize("model", example_models(), ids=lambda p: p.stem)
def test_every_example_json_report_matches_the_published_schema(model, cli):
    schema = json.loads((REPO / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    data = json.loads(cli("report", model, "-f", "json").stdout)
    jsonschema.Draft202012Validator(schema).validate(data)
    Report.model_validate(data)


@pytest.mark.golden
def test_report_json_reference_is_generated_from_the_model():
    from threatmodel.report.model import report_reference_markdown

    check_file(REPO / "docs" / "report-json.md", report_reference_markdown())


def test_builtin_diagram_is_well_formed_svg_with_inert_labels(write, monkeypatch):
    import xml.etree.ElementTree as ElementTree

    monkeypatch.setattr("shutil.which", lambda name: None)
    html = tm.render(tm.analyze(write(HOSTILE)), "html")
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    root = ElementTree.fromstring(svg)
    names = {element.tag.split("}")[-1] for element in root.iter()}
    assert "script" not in names and "foreignObject" not in names
    assert "&lt;script&gt;" in svg
