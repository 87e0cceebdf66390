"""Reports a person can read: each bundled example's reports drawn in headless Chromium at a
1,280 px window, and measured.

- The Markdown report is rendered as GitHub renders it (markdown-it's GFM tables, GitHub's table
  and code styles, a 880 px article column, Mermaid drawing the diagrams and scaling each to the
  column as GitHub's viewer does): no table is wider than the column, the summary and "Fix these
  first" fit one 1,280 x 1,024 screen, text in every diagram is at least 10 px high, no two boxes
  of the data-flow diagram overlap, each box shows its component's whole id (no truncation that
  makes two read the same), and the components with open high findings carry the "!" marker.
- The HTML report's diagram, drawn by Graphviz and by threatmodel itself when Graphviz is absent,
  is measured the same way in the report's own page.

Each test also saves its screenshot (the test's tmp folder) for a person to look at. Needs
Debian's chromium (.ci/run installs it) and tests/js/node_modules (Mermaid, `npm ci --prefix
tests/js`, which .ci/run runs); skipped with a message where either is missing.
"""

from __future__ import annotations

import html
import itertools
import re
from pathlib import Path

import pytest

from .conftest import EXAMPLES, REPO
from .test_browser import CHROMIUM_ARGS, _chromium

MERMAID = REPO / "tests" / "js" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
MODELS = sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".status.yaml"))
COLUMN = 880  # GitHub's Markdown column at a 1,280 px window, a little narrower to be safe
SCREEN = 1024
MIN_TEXT_PX = 10

GITHUB_CSS = f"""
body {{ margin: 0; background: #fff; }}
.markdown-body {{ box-sizing: content-box; max-width: {COLUMN}px; margin: 0 auto; padding: 32px;
  font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; font-size: 16px;
  line-height: 1.5; word-wrap: break-word; }}
table {{ display: block; width: max-content; max-width: 100%; overflow: auto; border-spacing: 0;
  border-collapse: collapse; margin: 0 0 16px; }}
td, th {{ padding: 6px 13px; border: 1px solid #d1d9e0; }}
code {{ font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 85%; padding: .2em .4em; white-space: break-spaces; }}
pre {{ overflow: auto; }} pre.mermaid {{ overflow: visible; }}
pre.mermaid svg {{ max-width: 100%; height: auto; }}
"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
    executable = _chromium()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _github_html(markdown: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like", {"html": True})

    def fence(self, tokens, index, options, env):
        token = tokens[index]
        kind = ' class="mermaid"' if token.info.strip() == "mermaid" else ""
        if kind and re.search(r"^flowchart TB$", token.content, re.M):
            kind += " data-dfd"
        return f"<pre{kind}>{html.escape(token.content)}</pre>\n"

    md.add_render_rule("fence", fence)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{GITHUB_CSS}</style></head>"
            f"<body><article class='markdown-body'>{md.render(markdown)}</article></body></html>")


def _report(model: Path, fmt: str, out: Path) -> Path:
    from typer.testing import CliRunner

    from threatmodel.cli import app

    result = CliRunner().invoke(app, ["report", str(model), "-f", fmt, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _overlaps(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["id"], b["id"]) for a, b in itertools.combinations(boxes, 2)
            if a["x"] < b["x"] + b["w"] - 1 and b["x"] < a["x"] + a["w"] - 1
            and a["y"] < b["y"] + b["h"] - 1 and b["y"] < a["y"] + a["h"] - 1]


def _flagged(model: Path) -> set[str]:
    import threatmodel

    data = threatmodel.analyze(model).report_data()
    return set(data["graph"]["flagged"])


def _component_ids(model: Path) -> set[str]:
    import threatmodel

    return {c.id for c in threatmodel.analyze(model).analysis.graph.system.components}


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_markdown_report_reads_at_githubs_width(browser, model, tmp_path):
    if not MERMAID.exists():
        pytest.skip("Mermaid is not installed for the browser tests (npm ci --prefix tests/js; .ci/run does it)")
    markdown = _report(model, "md", tmp_path / "report.md").read_text(encoding="utf-8")
    page_file = tmp_path / "report.html"
    page_file.write_text(_github_html(markdown), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
    page.goto(page_file.as_uri())
    first_screen = page.evaluate("""() => {
      const heading = name => [...document.querySelectorAll('h2')].find(h => h.textContent === name);
      let end = heading('Fix these first');
      for (end = end && end.nextElementSibling; end && end.tagName !== 'H2'; end = end.nextElementSibling);
      return end ? end.getBoundingClientRect().top - heading('Summary').getBoundingClientRect().top : null;
    }""")  # folded as GitHub shows them
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")  # to draw the trees
    page.add_script_tag(content=MERMAID.read_text(encoding="utf-8"))
    page.evaluate("async () => { mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});"
                  " await mermaid.run({querySelector: 'pre.mermaid'}); }")
    page.screenshot(path=str(tmp_path / "screenshot.png"), full_page=True)
    measured = page.evaluate("""() => {
      const tables = [...document.querySelectorAll('table')].map(t => ({
        head: t.rows[0].innerText.slice(0, 60), scroll: t.scrollWidth, client: t.clientWidth}));
      const diagrams = [...document.querySelectorAll('pre.mermaid')].map(pre => {
        const svg = pre.querySelector('svg');
        if (!svg) return {error: pre.innerText.slice(0, 200)};
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        const fonts = [...svg.querySelectorAll('.nodeLabel, .edgeLabel, text')]
          .map(e => parseFloat(getComputedStyle(e).fontSize) * scale).filter(v => v > 0);
        const nodes = [...svg.querySelectorAll('g.node')].map(g => {
          const r = g.getBoundingClientRect();
          return {id: g.id, x: r.x, y: r.y, w: r.width, h: r.height, label: g.innerText || g.textContent};
        });
        return {dfd: pre.hasAttribute('data-dfd'), font: Math.min(...fonts), nodes};
      });
      return {tables, diagrams};
    }""")
    page.close()
    for table in measured["tables"]:
        assert table["scroll"] <= table["client"] + 1, f"table wider than GitHub's column: {table}"
    assert first_screen is not None and first_screen <= SCREEN, (
        "the summary and 'Fix these first' do not fit one screen", first_screen)
    ids, flagged = _component_ids(model), _flagged(model)
    dfds = [d for d in measured["diagrams"] if d.get("dfd")]
    assert len(dfds) == 1
    for diagram in measured["diagrams"]:
        assert "error" not in diagram, diagram
        assert diagram["font"] >= MIN_TEXT_PX, f"diagram text {diagram['font']:.1f} px high"
    nodes = dfds[0]["nodes"]
    assert not _overlaps(nodes)
    labels = [" ".join(n["label"].split()) for n in nodes]
    shown = {label.removeprefix("! ").replace("- ", "-").replace(" ", "") for label in labels}
    assert shown == ids  # every box shows its whole id, so no two read the same
    assert {label.removeprefix("! ").replace("- ", "-").replace(" ", "") for label in labels
            if label.startswith("! ")} == flagged


def _html_diagram(browser, report: Path, tmp_path: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
    page.goto(report.as_uri())
    page.locator(".diagram").screenshot(path=str(tmp_path / "diagram.png"))
    measured = page.evaluate("""() => {
      const svg = document.querySelector('.diagram svg');
      const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      const nodes = [...svg.querySelectorAll('g.node')].map(g => {
        const shape = g.querySelector('rect, ellipse, polygon, path');
        const r = shape.getBoundingClientRect();
        const texts = [...g.querySelectorAll('text')];
        return {id: g.dataset.id || g.querySelector('title').textContent.split(':')[0], x: r.x, y: r.y, w: r.width,
                h: r.height, lines: texts.map(t => t.textContent),
                font: Math.min(...texts.map(t => t.getBoundingClientRect().height))};
      });
      return {scale, nodes, width: svg.getBoundingClientRect().width};
    }""")
    page.close()
    return measured


def _check_html_diagram(measured: dict, model: Path) -> None:
    nodes = measured["nodes"]
    assert measured["width"] <= 1100
    for node in nodes:
        assert node["font"] >= MIN_TEXT_PX, f"{node['id']}: text {node['font']:.1f} px high"
    assert not _overlaps(nodes)
    ids, flagged = _component_ids(model), _flagged(model)
    marked = set()
    for node in nodes:
        lines = [line for line in node["lines"] if line != "!"]
        text = "".join(lines)
        if text.startswith("! ") or len(lines) < len(node["lines"]):
            marked.add(node["id"])
        assert text.removeprefix("! ").replace(" ", "") == node["id"], node  # the whole id, nothing cut
    assert {n["id"] for n in nodes} == ids and marked == flagged


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_html_diagram_drawn_by_graphviz_reads_at_the_pages_width(browser, model, tmp_path):
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed (.ci/run installs it)")
    _check_html_diagram(_html_diagram(browser, _report(model, "html", tmp_path / "r.html"), tmp_path), model)


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_html_diagram_drawn_without_graphviz_reads_at_the_pages_width(browser, model, tmp_path, monkeypatch):
    monkeypatch.setattr("threatmodel.renderers.diagram.shutil.which", lambda name: None)
    report = _report(model, "html", tmp_path / "r.html")
    assert "Drawn by threatmodel itself" in report.read_text(encoding="utf-8")
    _check_html_diagram(_html_diagram(browser, report, tmp_path), model)
