"""The JSON report (docs/report-json.md, schema docs/report.schema.json), streamed one item per line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from .jsonout import json_lines
from .registry import RenderOptions

if TYPE_CHECKING:
    from ..assessment import Assessment


def render_json(assessment: "Assessment", options: RenderOptions) -> Iterator[str]:
    from ..report_data import json_report

    return json_lines(json_report(assessment.report_data(with_plan=True)))

