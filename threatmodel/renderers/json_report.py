"""The JSON report (docs/report-json.md, schema docs/report.schema.json), streamed one item per line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from threatmodel.renderers.jsonout import json_lines
from threatmodel.renderers.registry import RenderOptions
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment


def render_json(assessment: "Assessment", options: RenderOptions) -> Iterator[str]:
    from threatmodel.report.build import json_report

    return json_lines(json_report(assessment_data(assessment, with_plan=True)))

