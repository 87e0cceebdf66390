"""The Markdown report: Mermaid diagram, findings, a task-list checklist (templates/report.md.j2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from threatmodel.renderers.registry import RenderOptions
from threatmodel.renderers.templates import render

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment


def render_markdown(assessment: "Assessment", options: RenderOptions) -> str:
    return render("report.md.j2", assessment.report_data(with_plan=True), options.template_dir)

