"""The Jinja2 template environment: templates/ (or a user's folder first) with the escape filters."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from ..resources import templates_dir
from markupsafe import Markup

from .escape import FILTERS, terminal


@lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The template environment; a user's folder, when given, is searched first.

    One environment per folder, kept for the process: Jinja2 then compiles each template once."""
    folders = [str(template_dir)] if template_dir else []
    folders.append(str(templates_dir()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    return env


def _finalize(value: Any) -> Any:
    """Applied to everything a template prints: no output format may carry terminal escape
    sequences, bidirectional overrides or zero-width characters (markup a template marks safe,
    such as the Graphviz SVG, is left alone)."""
    if isinstance(value, Markup):
        return value
    return terminal(value) if isinstance(value, str) else value


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept between runs in the user's cache folder (keyed by each template's
    source, so an edited template is recompiled); none when that folder cannot be used or
    THREATMODEL_CACHE=0 says not to write there."""
    import os

    if os.environ.get("THREATMODEL_CACHE", "1") == "0":
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "threatmodel", "templates")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return jinja2.FileSystemBytecodeCache(folder)


def render(template: str, data: Any, template_dir: Path | None = None) -> str:
    """Render a template; a template error (in a user's override) is a located InputError."""
    try:
        return environment(template_dir).get_template(template).render(**data)
    except jinja2.TemplateError as exc:
        from ..errors import Diagnostic, InputError, Location

        line = getattr(exc, "lineno", 0) or 0
        where = Location(getattr(exc, "filename", None) or str(template_dir or template), line, 1 if line else 0)
        raise InputError([Diagnostic(where, f"template error: {exc.message or exc}")]) from None
