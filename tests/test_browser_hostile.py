"""The HTML report in real Chromium with hostile user strings: nothing they contain runs,
loads or becomes markup (the same strings as tests/hostile/test_injection.py)."""

from __future__ import annotations

import pytest

from .test_browser import CHROMIUM_ARGS, _chromium


def test_hostile_strings_stay_inert_in_chromium(tmp_path):
    """Every hostile string of tests/hostile in every field: no dialog, no request, no injected element."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
    executable = _chromium()
    import yaml
    from typer.testing import CliRunner

    from threatmodel.cli import app

    from .hostile.test_injection import HOSTILE, _model

    model = _model(" ".join(HOSTILE))
    for index, text in enumerate(HOSTILE):
        model["components"].append({"id": f"c{index}", "kind": "process", "name": text, "description": text})
        model["flows"].append({"id": f"f{index}", "from": "api", "to": f"c{index}", "name": text})
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "hostile.html"
    result = CliRunner().invoke(app, ["report", str(path), "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    events: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.on("dialog", lambda dialog: (events.append(f"dialog {dialog.message}"), dialog.dismiss()))
        page.on("request", lambda request: events.append(request.url) if not request.url.startswith(("file:", "data:")) else None)
        page.on("console", lambda message: events.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: events.append(str(error)))
        page.goto(out.as_uri())
        page.wait_for_load_state("load")
        injected = page.evaluate("""() => ({
            img: document.querySelectorAll('img, iframe, object, embed').length,
            scripts: document.querySelectorAll('script').length,
            bold: document.querySelectorAll('main b, body > b').length,
            handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
            links: [...document.querySelectorAll('a[href]')].filter(a => !a.getAttribute('href').startsWith('#')).length,
        })""")
        browser.close()
    assert events == []
    assert injected == {"img": 0, "scripts": 1, "bold": 0, "handlers": 0, "links": 0}


def test_builtin_diagram_without_graphviz_shows_and_fits(tmp_path, monkeypatch):
    """A plain `pip install` has no Graphviz: the HTML report draws the diagram itself."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
    executable = _chromium()
    from typer.testing import CliRunner

    from threatmodel.cli import app

    from .conftest import EXAMPLES

    monkeypatch.setattr("shutil.which", lambda name: None)
    out = tmp_path / "husky.html"
    result = CliRunner().invoke(app, ["report", str(EXAMPLES / "huskyai.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(out.as_uri())
        svg = page.query_selector(".diagram svg")
        assert svg is not None
        box = svg.bounding_box()
        shot = tmp_path / "diagram.png"
        svg.screenshot(path=str(shot))
        nodes = page.eval_on_selector_all(".diagram g.node", "nodes => nodes.length")
        flagged = page.eval_on_selector_all(".diagram g.node.flagged", "nodes => nodes.map(n => n.dataset.id)")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        browser.close()
    assert nodes == 19 and "web-server" in flagged
    assert box["width"] > 400 and box["height"] > 150 and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    assert overflow <= 0
    assert shot.stat().st_size > 10_000  # a real drawing, not an empty box
