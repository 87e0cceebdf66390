"""The built wheel carries the catalog and templates, and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{done.stdout}\n{done.stderr}")
    return next(out.glob("threatmodel-*.whl"))


def test_wheel_contains_catalog_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in sorted((REPO / "catalog").glob("*.yaml")):
        assert f"threatmodel/_data/catalog/{path.name}" in names
    for path in sorted((REPO / "templates").iterdir()):
        assert f"threatmodel/_data/templates/{path.name}" in names


def test_installed_wheel_works_from_the_filesystem_root(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    # system site packages supply the dependencies (already installed); the wheel itself
    # goes into the fresh environment, so the catalog must come from inside the wheel
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
    executable = env_dir / "bin" / "threatmodel"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(executable), "catalog", "list"], cwd="/", capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    assert "ML01" in done.stdout and "15 threats" in done.stdout
    where = subprocess.run([str(python), "-c", "import threatmodel.resources as r; print(r.catalog_dir())"],
                           cwd="/", capture_output=True, text=True, env=environment)
    assert str(env_dir) in where.stdout
