"""Property tests of the escaping module against a real Markdown parser (markdown-it-py with
GFM tables, strikethrough, linkify and task lists): any string, in any context, stays text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from threatmodel.core.escape import md_cell, md_code, md_code_cell, md_text, md_url, mermaid_label, terminal

PARSER = MarkdownIt("gfm-like", {"linkify": True}).use(tasklists_plugin)
ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
TEXT = st.text(alphabet=st.one_of(ALPHABET, st.sampled_from(list("#*_`[]()!<>|~&:@./\\-+=$\n\t1. x"))), max_size=80)
STRUCTURE = {"heading_open", "link_open", "image", "html_block", "html_inline", "bullet_list_open",
             "ordered_list_open", "blockquote_open", "fence", "code_block", "hr", "em_open", "strong_open",
             "s_open", "table_open", "code_inline"}


def _types(markdown: str) -> set[str]:
    found = set()

    def walk(tokens):  # type: ignore[no-untyped-def]
        for token in tokens:
            found.add(token.type)
            if "task-list-item" in str(token.attrs.get("class", "")):
                found.add("task")
            walk(token.children or [])

    walk(PARSER.parse(markdown))
    return found


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_running_text_stays_text(text):
    assert _types(md_text(text)) & STRUCTURE == set()
    assert _types("- " + md_text(text)) & STRUCTURE == {"bullet_list_open"}
    assert _types("### " + md_text(text)) & STRUCTURE == {"heading_open"}


@settings(max_examples=200, deadline=None)
@given(TEXT, TEXT)
def test_table_cells_stay_in_their_cell(first, second):
    table = f"| a | b |\n|---|---|\n| {md_cell(first)} | {md_cell(second)} |\n"
    tokens = PARSER.parse(table)
    assert sum(1 for t in tokens if t.type == "td_open") == 2
    assert _types(table) & STRUCTURE == {"table_open"}


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_code_spans_hold_any_text(text):
    code = md_code(text)
    found = _types("x " + code) & STRUCTURE
    assert found <= {"code_inline"}
    table = f"| a |\n|---|\n| {md_code_cell(text)} |\n"
    assert sum(1 for t in PARSER.parse(table) if t.type == "td_open") == 1


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_only_web_links_are_links(text):
    target = md_url(text)
    assert target == "" or target.lower().startswith(("http://", "https://", "mailto:"))
    assert not any(c in target for c in " ()<>\n")


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_terminal_and_mermaid_text_carries_no_control_or_bidi(text):
    for rendered in (terminal(text), mermaid_label(text), md_text(text)):
        assert not any(ord(c) < 32 and c not in "\n\t" for c in rendered)
        assert not any(c in rendered for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\ufeff")
    assert '"' not in mermaid_label(text) and "`" not in mermaid_label(text) and "\n" not in mermaid_label(text)


def test_remembered_results_never_mix_values_that_compare_equal():
    from threatmodel.core import escape

    assert escape.md_text(True) == "True" and escape.md_text(1) == "1" and escape.md_text("1") == "1"
    assert escape.md_text("*a*") == escape.md_text("*a*") == "\\*a\\*"
    escape.forget()
    assert all(not memo for memo in escape._MEMOS)
    assert escape.md_text(1.0) == "1\\.0" and escape.terminal("a\x1b") == "a<U+001B>"
