"""The Jinja2 template environment: templates/ (or a user's folder first) with the escape filters."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from markupsafe import Markup

from threatmodel.core.resources import compiled_templates_dir, templates_dir

from threatmodel.core.escape import FILTERS, forget, terminal


def environment_options() -> dict[str, Any]:
    """The settings every template is compiled and rendered with (the wheel's build hook
    precompiles the built-in templates with the same ones)."""
    return dict(
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2", "svg.j2"), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )


@lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The template environment; a user's folder, when given, is searched first.

    An installed wheel carries the built-in templates precompiled (``_data/compiled``, made by
    hatch_build.py), so a run does not spend its start-up compiling them; a source checkout
    compiles them from templates/. One environment per folder, kept for the process."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    compiled = compiled_templates_dir()
    if compiled is not None:
        loaders.append(jinja2.ModuleLoader(str(compiled)))
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), **environment_options())
    env.filters.update(FILTERS)
    return env


def _finalize(value: Any) -> Any:
    """Applied to everything a template prints: no output format may carry terminal escape
    sequences, bidirectional overrides or zero-width characters (markup a template marks safe,
    such as the Graphviz SVG, is left alone)."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return terminal(value)


def render(template: str, data: Any, template_dir: Path | None = None) -> str:
    """Render a template; a template error (in a user's override) is a located InputError."""
    try:
        return environment(template_dir).get_template(template).render(**data)
    except jinja2.TemplateError as exc:
        from threatmodel.core.errors import Diagnostic, InputError, Location

        line = getattr(exc, "lineno", 0) or 0
        where = Location(getattr(exc, "filename", None) or str(template_dir or template), line, 1 if line else 0)
        raise InputError([Diagnostic(where, f"template error: {exc.message or exc}")]) from None
    finally:
        forget()


def with_attack_trees(data: dict[str, Any], template_dir: Path | None = None) -> dict[str, Any]:
    """The report data with each attack tree of the plan drawn in Mermaid (``tree["mermaid"]``),
    from templates/attack_tree.mmd.j2; the data itself is left as it was."""
    plan = data.get("plan")
    if not plan or not plan["trees"]:
        return data
    trees = [dict(tree, mermaid=render("attack_tree.mmd.j2", {"tree": tree}, template_dir)) for tree in plan["trees"]]
    return {**data, "plan": {**plan, "trees": trees}}

