"""The self-contained HTML report: diagram, sortable and filterable findings (templates/report.html.j2)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from threatmodel.renderers.registry import RenderOptions
from threatmodel.renderers.templates import render, with_attack_trees
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment


def render_html(assessment: "Assessment", options: RenderOptions) -> str:
    from threatmodel.renderers.diagram import MAX_DIAGRAM_NODES, svg_from_dot, too_large_note
    from threatmodel.renderers.layout import box_lines

    data = with_attack_trees(assessment_data(assessment, with_plan=True), options.template_dir)
    flagged = data["graph"]["flagged"]
    svg, note = None, ""
    nodes = assessment.graph.graph.number_of_nodes()
    if nodes > MAX_DIAGRAM_NODES:
        note = too_large_note(nodes)
    else:
        view = copy.deepcopy(data["graph"])  # the boxes' lines are the diagram's, not the report data's
        for node in view["nodes"]:  # the same dicts as in the boundaries' lists
            node["lines"] = box_lines(("! " if node["id"] in flagged else "") + node["id"])
        svg, note = svg_from_dot(render("dfd.dot.j2", {**view, "short": True, "flagged": flagged}, options.template_dir))
        if svg is None:  # no Graphviz here: draw it ourselves, and say how to get the better drawing
            svg = _builtin_svg(assessment, set(flagged), options)
            note = ("Drawn by threatmodel itself because Graphviz (the `dot` program) is not installed here; "
                    "install Graphviz for a more compact layout.")
    data.update(diagram_svg=svg, diagram_note=note)
    return render("report.html.j2", data, options.template_dir)


def _builtin_svg(assessment: "Assessment", flagged: set[str], options: RenderOptions) -> str:
    from threatmodel.renderers.layout import layout

    return render("dfd.svg.j2", {"layout": layout(assessment.graph, flagged)}, options.template_dir)
