"""The data-flow diagram as inline SVG, drawn by Graphviz when it is installed."""

from __future__ import annotations

import re
import shutil
import subprocess

DOT_TIMEOUT_SECONDS = 30
MAX_DIAGRAM_NODES = 250  # beyond this a drawing is unreadable and Graphviz layout takes minutes
MISSING_NOTE = ("Graphviz (the `dot` program) is not installed, so the diagram is not drawn here; "
                "install Graphviz and run the report again, or see the Markdown report's Mermaid diagram.")


def too_large_note(nodes: int) -> str:
    return (f"The data-flow diagram has {nodes:,} components, more than the {MAX_DIAGRAM_NODES} that can be "
            "drawn legibly here; export it with `threatmodel graph SYSTEM --format dot` (or `mermaid`) "
            "and view it with a tool that can zoom.")


def svg_from_dot(dot_source: str) -> tuple[str | None, str]:
    """Return (svg markup, note). The SVG is None, with a note saying why, when dot is unusable."""
    executable = shutil.which("dot")
    if executable is None:
        return None, MISSING_NOTE
    try:
        done = subprocess.run([executable, "-Tsvg"], input=dot_source, capture_output=True, text=True,
                              timeout=DOT_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"Graphviz could not draw the diagram ({exc.__class__.__name__})."
    if done.returncode != 0 or "<svg" not in done.stdout:
        first_line = (done.stderr.strip().splitlines() or ["no output"])[0]
        return None, f"Graphviz could not draw the diagram: {first_line}"
    svg = done.stdout[done.stdout.index("<svg"):]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.strip(), ""
