"""Where the built-in catalog and templates live.

In a wheel they sit inside the package (``threatmodel/_data/catalog``); in a source checkout or an
editable install they sit at the top of the repository, beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name,
                      _PACKAGE_DIR.parent / "docs" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"threatmodel installation is missing its '{name}' folder")


def catalog_dir() -> Path:
    return _find("catalog")


def templates_dir() -> Path:
    return _find("templates")


def examples_dir() -> Path:
    """The bundled example models (docs/examples in a checkout)."""
    return _find("examples")


def compiled_templates_dir() -> Path | None:
    """The built-in templates precompiled by the wheel's build hook; None in a source checkout."""
    candidate = _PACKAGE_DIR / "_data" / "compiled"
    return candidate if candidate.is_dir() else None
