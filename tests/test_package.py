"""The built wheel carries the catalog and templates, and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
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


def _venv_with_wheel(tmp_path: Path, wheel: Path) -> tuple[Path, Path]:
    """A fresh venv with only the wheel installed in it.

    The dependencies come from the interpreter running the tests (whatever kind of environment
    that is): a .pth file appends its site-packages to the fresh venv's path. Folders named in a
    .pth file are not scanned for further .pth files, so an editable install of threatmodel there
    stays invisible, and the catalog and templates must come from inside the wheel."""
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                           capture_output=True, text=True, check=True).stdout.strip()
    outer = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(inner, "_outer_dependencies.pth").write_text("\n".join(sorted(outer)) + "\n", encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
    return env_dir, python


def test_wheel_contains_catalog_and_templates(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in sorted((REPO / "catalog").glob("*.yaml")):
        assert f"threatmodel/_data/catalog/{path.name}" in names
    for path in sorted((REPO / "templates").iterdir()):
        assert f"threatmodel/_data/templates/{path.name}" in names


def test_installed_wheel_works_from_the_filesystem_root(wheel, tmp_path, catalog):
    env_dir, python = _venv_with_wheel(tmp_path, wheel)
    executable = env_dir / "bin" / "threatmodel"
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(executable), "catalog", "list"], cwd="/", capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    assert "ML01" in done.stdout and f"{len(catalog.threats)} threats" in done.stdout
    where = subprocess.run([str(python), "-c", "import threatmodel.core.resources as r; print(r.catalog_dir())"],
                           cwd="/", capture_output=True, text=True, env=environment)
    assert str(env_dir) in where.stdout


def test_the_wheel_carries_precompiled_templates_that_render_the_same(wheel, tmp_path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert any(n.startswith("threatmodel/_data/compiled/tmpl_") for n in names)
    env_dir, python = _venv_with_wheel(tmp_path, wheel)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    model = REPO / "docs" / "examples" / "huskyai.yaml"
    installed = subprocess.run([str(python), "-m", "threatmodel", "report", str(model)], cwd="/",
                               capture_output=True, text=True, env=environment)
    assert installed.returncode == 0, installed.stderr
    where = subprocess.run([str(python), "-c", "import threatmodel.core.resources as r; print(r.compiled_templates_dir())"],
                           cwd="/", capture_output=True, text=True, env=environment).stdout
    assert str(env_dir) in where
    source = subprocess.run([sys.executable, "-m", "threatmodel", "report", str(model)], cwd="/",
                            capture_output=True, text=True)
    assert installed.stdout == source.stdout


def test_user_facing_text_speaks_in_the_projects_own_terms():
    """Reports, the catalog, the docs and --help never cite documents users cannot see (the brief
    the project started from, its issue tracker's wording)."""
    import re

    from .conftest import REPO

    forbidden = re.compile(r"design brief|\bthe brief\b|\bthe issue(?:'s)?\s+(?:suggested|set|asked|said|target)|"
                           r"\bthe issue's\b", re.IGNORECASE)
    places = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md")), *sorted((REPO / "catalog").rglob("*.yaml")),
              *sorted((REPO / "templates").glob("*"))]
    offenders = [f"{path.relative_to(REPO)}:{number}: {line.strip()}" for path in places if path.is_file()
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if forbidden.search(line)]
    assert offenders == []


def test_the_wheel_takes_every_catalog_file_from_its_parsed_store(wheel, tmp_path):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "threatmodel/_data/catalog.parsed" in names
    env_dir, python = _venv_with_wheel(tmp_path, wheel)
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = ("import threatmodel.core.parsed as p, threatmodel.core.resources as r\n"
             "files = p.ParsedFiles()\n"
             "for path, name in p.catalog_files(r.catalog_dir()):\n"
             "    files.parse(path, name)\n"
             "print(files.taken, len(p.catalog_files(r.catalog_dir())))\n")
    done = subprocess.run([str(python), "-c", probe], cwd="/", capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stderr
    taken, total = map(int, done.stdout.split())
    assert taken == total > 5
