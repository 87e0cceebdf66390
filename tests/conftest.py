"""Shared fixtures: the built-in catalog, small models written to tmp, the CLI runner."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import pytest
from typer.testing import CliRunner

from threatmodel.catalog.load import load_catalog
from threatmodel.cli import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "docs" / "examples"
SHARED = REPO.parent / "shared" / "reference"


def example_models() -> list[Path]:
    """The example system models (not their review files)."""
    return sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".status.yaml"))


@pytest.fixture(scope="session")
def catalog():
    return load_catalog().catalog


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write dedented text to a file under tmp_path and return its path."""

    def _write(text: str, name: str = "model.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def cli():
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def shared_file(*parts: str) -> Path:
    """A file from ../shared/reference, or skip the test where it is absent (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (only CI and developers have ../shared)")
    return path


def check_golden(path: Path, text: str) -> None:
    """``text`` must equal the committed file at ``path`` (a golden report or a generated doc).

    ``UPDATE_GOLDEN=1 python -m pytest -m golden`` rewrites every one of them from the current
    code; review the diff before committing it."""
    import os

    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}; run: UPDATE_GOLDEN=1 python -m pytest -m golden"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.relative_to(REPO)} differs from what the code produces; if the change is intended, run "
        "UPDATE_GOLDEN=1 python -m pytest -m golden and review the diff")

