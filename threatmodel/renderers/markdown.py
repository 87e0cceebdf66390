"""The Markdown report: Mermaid diagram, findings, a task-list checklist (templates/report.md.j2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.renderers.registry import RenderOptions
from threatmodel.renderers.templates import render, with_attack_trees
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment


def render_markdown(assessment: "Assessment", options: RenderOptions) -> str:
    data = with_attack_trees(assessment_data(assessment, with_plan=True), options.template_dir)
    return render("report.md.j2", data, options.template_dir)

