"""User text is inert in every output format.

Each hostile string goes into every free-text field a user controls (system, boundaries,
components, data, flows, exclusions, the review file, a user catalog). Every Markdown output is
parsed with markdown-it-py (GFM tables, strikethrough, linkify, task lists) and must have exactly
the structure it has with a harmless string in the same places: no user string may become a
heading, link, image, HTML, list or task item, table cell, code block or emphasis. HTML must
carry no active markup from users, SARIF must stay valid JSON, and text output must carry no
terminal escape sequences or bidirectional overrides.
"""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin
from typer.testing import CliRunner

from threatmodel.cli import app

HOSTILE = [
    "### ML05@api forged heading",
    "line one\n### forged\n- [x] done",
    "[click](javascript:alert(1))",
    "![tracker](http://evil.example/x.png)",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "`code` and <b>bold</b>",
    "``<b>``",
    "| a | b |",
    "http://evil.example/path",
    "www.evil.com",
    "someone@evil.com",
    "\u202eevil\u202c reversed",
    "zero\u200bwidth\ufeff",
    "\x1b[31mred\x1b[0m",
    "*emph* _under_ ~~strike~~ **bold**",
    "1. ordered",
    "- [ ] task",
    "> quote",
    "$x^2$ math",
    "&lt;entity&gt; &amp;",
    "<!-- comment -->",
    "back\\slash\\",
    "[ref]: http://evil.example",
    "```\nfenced\n```",
    "    indented code",
    "---",
    "===",
    "<https://evil.example>",
    "#35; #quot; mermaid codes\" ] )",
]
BENIGN = "plain words"
MARKDOWN = ["report", "checklist", "diff", "catalog-show", "catalog-show-mitigation", "catalog-list"]


def _model(text: str) -> dict:
    return {
        "system": {"name": text, "description": text, "owner": text, "version": text},
        "boundaries": [{"id": "prod", "name": text, "trust": "restricted", "description": text}],
        "data": [{"id": "upload", "name": text, "description": text, "confidentiality": "high"}],
        "components": [
            {"id": "user", "kind": "person", "name": text, "description": text},
            {"id": "api", "kind": "inference-service", "boundary": "prod", "name": text, "technology": text,
             "description": text, "returns_scores": True},
            {"id": "model", "kind": "model-artifact", "boundary": "prod", "name": text},
        ],
        "flows": [{"id": "query", "from": "user", "to": "api", "name": text, "protocol": "HTTPS",
                   "data": ["upload"], "description": text},
                  {"id": "load", "from": "model", "to": "api", "name": text}],
        "exclusions": [{"threat": "ML04", "element": "api", "reason": text}],
    }


def _catalog(text: str) -> dict:
    return {
        "mitigations": [{"id": "user-control", "title": text, "what": text, "verify": text, "control": "preventive",
                         "lifecycle": ["operation"], "fits": ["serves_predictions"],
                         "references": [{"title": text, "url": "javascript:alert(1)"}]}],
        "threats": [{"id": "USER-THREAT", "title": text, "short_title": text, "source": "user", "summary": text,
                     "scenarios": [{"title": text, "description": text}], "stride": ["T"],
                     "lifecycle": ["operation"],
                     "ratings": {"exploitability": 3, "detectability": 3, "technical_impact": 3, "source": text},
                     "mitigations": ["user-control", "input-validation"],
                     "references": [{"title": text, "url": "javascript:alert(1)"},
                                    {"title": text, "url": "https://example.org/reference"}],
                     "applies_to": [{"traits": ["serves_predictions"]}], "not_applicable": text}],
    }


def _review(text: str) -> dict:
    return {"findings": {"ML01@api": {"status": "accepted", "justification": text, "owner": text, "ticket": text}},
            "mitigations": {"input-validation@api": {"state": "implemented", "evidence": text}}}


def _write(folder: Path, text: str) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"model": folder / "m.yaml", "review": folder / "m.status.yaml", "catalog": folder / "extra.yaml",
             "old": folder / "old.yaml"}
    files["model"].write_text(yaml.safe_dump(_model(text), allow_unicode=True), encoding="utf-8")
    files["review"].write_text(yaml.safe_dump(_review(text), allow_unicode=True), encoding="utf-8")
    files["catalog"].write_text(yaml.safe_dump(_catalog(text), allow_unicode=True), encoding="utf-8")
    old = _model(text)
    old["flows"] = old["flows"][1:]
    files["old"].write_text(yaml.safe_dump(old, allow_unicode=True), encoding="utf-8")
    return files


def _invoke(args: list[str]) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=True, env={"THREATMODEL_CACHE": "0"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def _render(output: str, files: dict[str, Path]) -> str:
    catalog = ["--catalog", files["catalog"]]
    return _invoke({
        "report": ["report", files["model"], *catalog],
        "checklist": ["checklist", files["model"], *catalog],
        "diff": ["diff", files["old"], files["model"], *catalog],
        "catalog-show": ["catalog", "show", "USER-THREAT", "--format", "md", *catalog],
        "catalog-show-mitigation": ["catalog", "show", "user-control", "--format", "md", *catalog],
        "catalog-list": ["catalog", "list", "--format", "md", *catalog],
        "html": ["report", files["model"], "-f", "html", *catalog],
        "sarif": ["report", files["model"], "-f", "sarif", *catalog],
        "json": ["report", files["model"], "-f", "json", *catalog],
        "text-check": ["check", files["model"], "--fail-on", "low", *catalog],
        "text-checklist": ["checklist", files["model"], "--format", "text", *catalog],
        "text-catalog": ["catalog", "show", "USER-THREAT", *catalog],
        "text-graph": ["graph", files["model"], "--format", "dot"],
    }[output])


_PARSER = MarkdownIt("gfm-like", {"linkify": True}).use(tasklists_plugin)


def _structure(markdown: str) -> Counter:
    """What a Markdown document is made of, as counts of token types (children included)."""
    counts: Counter = Counter()

    def walk(tokens) -> None:  # type: ignore[no-untyped-def]
        for token in tokens:
            counts[token.type] += 1
            if token.type == "html_inline":
                counts[f"html:{token.content}"] += 1
            if "task-list-item" in str(token.attrs.get("class", "")):
                counts["task-item"] += 1
            if token.type == "link_open":
                counts[f"link:{token.attrs.get('href')}"] += 1
            if token.children:
                walk(token.children)

    walk(_PARSER.parse(markdown))
    counts.pop("text", None)  # how text is split into runs is not structure
    counts.pop("softbreak", None)
    return counts


@pytest.fixture(scope="module")
def benign(tmp_path_factory):
    files = _write(tmp_path_factory.mktemp("benign"), BENIGN)
    return {output: _structure(_render(output, files)) for output in MARKDOWN}


@pytest.mark.parametrize("output", MARKDOWN)
@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t)[:30])
def test_markdown_structure_does_not_depend_on_user_text(tmp_path, benign, text, output):
    rendered = _render(output, _write(tmp_path, text))
    assert _structure(rendered) == benign[output]
    assert "\x1b" not in rendered and "\u202e" not in rendered and "\u200b" not in rendered


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter = Counter()
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags[tag] += 1
        self.handlers += [name for name, _value in attrs if name.startswith("on")]
        self.handlers += [value for name, value in attrs if name in ("href", "src") and value
                          and value.strip().lower().startswith("javascript:")]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t)[:30])
def test_html_and_machine_formats_stay_inert(tmp_path, text):
    files = _write(tmp_path, text)
    html = _render("html", files)
    elements = _Elements()
    elements.feed(html)
    assert elements.tags["script"] == 1 and elements.tags["img"] == 0 and elements.tags["b"] == 0
    assert elements.handlers == []
    assert "\x1b" not in html and "\u202e" not in html
    sarif = json.loads(_render("sarif", files))
    for result in sarif["runs"][0]["results"]:
        assert "\x1b" not in result["message"]["text"] and "\u202e" not in result["message"]["text"]
    json.loads("".join(_render("json", files)))


@pytest.mark.parametrize("output", ["text-check", "text-checklist", "text-catalog", "text-graph"])
@pytest.mark.parametrize("text", [t for t in HOSTILE if any(c in t for c in "\x1b\u202e\u200b\ufeff\n")],
                         ids=lambda t: repr(t)[:30])
def test_terminal_output_carries_no_escape_sequences(tmp_path, text, output):
    rendered = _render(output, _write(tmp_path, text))
    for char in ("\x1b", "\u202e", "\u202c", "\u200b", "\ufeff"):
        assert char not in rendered


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t)[:30])
def test_sarif_rule_help_markdown_is_inert(tmp_path, text):
    files = _write(tmp_path, text)
    sarif = json.loads(_render("sarif", files))
    rule = next(r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "USER-THREAT")
    benign_files = _write(tmp_path / "benign", BENIGN)
    benign_rule = next(r for r in json.loads(_render("sarif", benign_files))["runs"][0]["tool"]["driver"]["rules"]
                       if r["id"] == "USER-THREAT")
    assert _structure(rule["help"]["markdown"]) == _structure(benign_rule["help"]["markdown"])
    assert "helpUri" not in rule or rule["helpUri"].startswith(("http://", "https://"))
