"""Every registered output format of every bundled example, compared with a committed file.

The files are what a reviewer reads: after an intended change, ``UPDATE_GOLDEN=1 python -m
pytest -m golden`` rewrites them (and every generated doc), and the diff shows what the change
does to each format. The HTML report is drawn with threatmodel's own diagram (as without
Graphviz), so the files do not depend on the Graphviz version installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import threatmodel as tm

from .conftest import REPO, check_golden, example_models

GOLDEN = Path(__file__).parent / "golden" / "formats"
FORMATS = [(f.name, f.extension) for f in tm.output_formats()]


@pytest.fixture(scope="module")
def assessments():
    # the model path as a user in the repository would give it, so no output names this machine
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        return {model.stem: tm.analyze(model.relative_to(REPO)) for model in example_models()}


@pytest.mark.golden
@pytest.mark.parametrize("example", [m.stem for m in example_models()])
@pytest.mark.parametrize(("output_format", "extension"), FORMATS, ids=[name for name, _ in FORMATS])
def test_every_format_of_every_example_matches_its_golden(example, output_format, extension, assessments,
                                                          monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("shutil.which", lambda name: None)  # the built-in diagram, not Graphviz's
    rendered = tm.render(assessments[example], output_format)
    text = rendered if isinstance(rendered, str) else rendered.decode("utf-8")
    check_golden(GOLDEN / f"{example}{extension}", text)


def test_every_golden_file_belongs_to_a_format_and_an_example():
    expected = {f"{m.stem}{extension}" for m in example_models() for _, extension in FORMATS}
    assert {p.name for p in GOLDEN.iterdir()} <= expected
