"""The assessment the public API returns: the pipeline's result (data only) with its report.

``threatmodel.pipeline.Assessment`` holds what the analysis found and computes nothing for
presentation; the API hands out this subclass so that a caller can ask an assessment for its
report data or its typed report directly (built by :mod:`threatmodel.report.build`).
"""

from __future__ import annotations

from dataclasses import fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

from threatmodel import pipeline
from threatmodel.report.build import assessment_data, typed_report

if TYPE_CHECKING:
    from threatmodel.report.model import Report


class Assessment(pipeline.Assessment):
    """An assessed model (see :class:`threatmodel.pipeline.Assessment`) and its report."""

    @classmethod
    def of(cls, assessed: pipeline.Assessment) -> "Assessment":
        if isinstance(assessed, cls):
            return assessed
        return cls(**{f.name: getattr(assessed, f.name) for f in fields(assessed)})

    def report_data(self, with_plan: bool = False, **options: Any) -> dict[str, Any]:
        """The plain report data every renderer formats (see docs/report-json.md); the fix plan
        (``plan``) only ``with_plan``, as only the full reports show it."""
        return assessment_data(self, with_plan, **options)

    @cached_property
    def report(self) -> "Report":
        """The report as a typed, validated model (the schema of ``report --format json``)."""
        return typed_report(self)


__all__ = ["Assessment"]
