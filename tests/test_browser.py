"""The HTML report in a real headless Chromium: loads without console errors, filtering works.

Uses Debian's `chromium` (installed by .ci/run) driven by Playwright; skipped with a message
where either is missing.
"""

from __future__ import annotations

import shutil

import pytest

from .conftest import EXAMPLES

HUSKY = EXAMPLES / "huskyai.yaml"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
    executable = _chromium()
    from typer.testing import CliRunner

    from threatmodel.cli import app

    out = tmp_path_factory.mktemp("html") / "huskyai.html"
    result = CliRunner().invoke(app, ["report", str(EXAMPLES / "huskyai.yaml"), "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        yield page, problems
        browser.close()


def expected(severity=None, stride=None, threat=None) -> list[str]:
    """What the filters should show, from the report itself (not numbers that change with the catalog)."""
    import threatmodel as tm

    report = tm.analyze(HUSKY).report
    return [f.id for f in report.findings if (severity is None or f.severity == severity)
            and (stride is None or stride in f.stride) and (threat is None or f.threat == threat)]


def visible_ids(page) -> list[str]:
    return page.eval_on_selector_all("#findings-table tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.id)")


def test_loads_without_console_errors(page):
    browser_page, problems = page
    assert problems == []
    assert browser_page.title() == "Threat model: Husky AI"
    assert visible_ids(browser_page) == expected()


def test_filtering_by_severity_stride_and_threat(page):
    browser_page, problems = page
    browser_page.select_option("#filter-severity", "high")
    assert visible_ids(browser_page) == expected(severity="high") and "ML01@web-server" in expected(severity="high")
    assert browser_page.text_content("#shown-count") == f"{len(expected(severity='high'))} shown"
    browser_page.select_option("#filter-severity", "")
    browser_page.select_option("#filter-stride", "R")
    assert visible_ids(browser_page) == expected(stride="R")
    assert "ARTIFACT-REPUDIATION@production-model" in visible_ids(browser_page)
    browser_page.select_option("#filter-stride", "")
    browser_page.select_option("#filter-threat", "ML05")
    assert sorted(visible_ids(browser_page)) == ["ML05@model-file", "ML05@production-model", "ML05@web-server"]
    assert browser_page.is_hidden('article.finding[data-id="ML01@web-server"]')
    browser_page.select_option("#filter-threat", "")
    assert visible_ids(browser_page) == expected()
    assert problems == []


def _column(page, key: str) -> list[str]:
    return page.eval_on_selector_all("#findings-table tbody tr", f"rows => rows.map(r => r.dataset.{key})")


def _shown_titles(page) -> list[str]:
    return page.eval_on_selector_all("#findings-table tbody tr td:nth-child(4)", "cells => cells.map(c => c.textContent)")


def test_sorting_by_element_with_the_mouse(page):
    browser_page, _ = page
    browser_page.click('button[data-key="element"]')
    elements = _column(browser_page, "element")
    assert elements == sorted(elements)
    assert browser_page.get_attribute('th:has(button[data-key="element"])', "aria-sort") == "ascending"


def test_sorting_by_threat_sorts_by_the_title_shown(page):
    browser_page, _ = page
    browser_page.click('button[data-key="title"]')
    titles = _shown_titles(browser_page)
    assert titles == sorted(titles, key=lambda t: t.lower())
    # by the title shown, not by the threat id behind it (ML01 "Input manipulation" is not first)
    assert titles[0] == "Backdoor key in authorized keys" and _column(browser_page, "threat")[0] != "ADMIN-ENDPOINT-EXPOSURE"
    browser_page.click('button[data-key="title"]')
    assert _shown_titles(browser_page) == sorted(titles, key=lambda t: t.lower(), reverse=True)
    assert browser_page.get_attribute('th:has(button[data-key="title"])', "aria-sort") == "descending"
    assert browser_page.get_attribute('th:has(button[data-key="element"])', "aria-sort") == "none"


def test_sort_headers_work_from_the_keyboard(page):
    browser_page, _ = page
    browser_page.focus("#filter-threat")
    for _ in range(40):  # Tab from the last filter to the score header, as a keyboard user would
        browser_page.keyboard.press("Tab")
        if browser_page.evaluate("document.activeElement.dataset.key") == "score":
            break
    assert browser_page.evaluate("document.activeElement.dataset.key") == "score"
    browser_page.keyboard.press("Enter")
    first = [int(v) for v in _column(browser_page, "score")]
    browser_page.keyboard.press(" ")
    second = [int(v) for v in _column(browser_page, "score")]
    assert first == sorted(first, reverse=True)  # Enter sorted it, highest first
    assert second == sorted(second)  # Space reversed it
    assert browser_page.get_attribute('th:has(button[data-key="score"])', "aria-sort") in ("ascending", "descending")


def test_catalog_code_spans_are_code_not_backticks(page):
    browser_page, _ = page
    text = browser_page.evaluate("document.body.innerText")
    assert "`" not in text
    assert browser_page.eval_on_selector_all("#threats code", "codes => codes.some(c => c.textContent.startsWith('ausearch -k'))")


def test_no_serious_accessibility_violations(page):
    """axe-core (the npm package, tests/js) run in the page: no serious or critical violation."""
    from .conftest import REPO

    axe = REPO / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists():
        pytest.skip("axe-core is not installed for the browser tests (npm ci --prefix tests/js; .ci/run does it)")
    browser_page, _ = page
    browser_page.add_script_tag(content=axe.read_text(encoding="utf-8"))
    results = browser_page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
               for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == []

