"""A drafted model (``import``) as commented YAML: every key and value through one quoting path
(``yaml_key``/``yaml_value``), every guess and loss as a comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.renderers.templates import render

if TYPE_CHECKING:
    from threatmodel.system.draft import Draft


def draft_yaml(draft: "Draft", source_name: str) -> str:
    from threatmodel._version import __version__

    sections = {"boundaries": draft.boundaries, "data": draft.data, "components": draft.components,
                "flows": draft.flows}
    return render("import.yaml.j2", {"version": __version__, "source_format": draft.source_format,
                                     "source_name": source_name, "system": draft.system, "sections": sections,
                                     "lost": draft.lost})
