"""Time threatmodel's phases on one model, in this process; print one JSON line.

    python benchmarks/phases.py MODEL --until md|html|json|all|analysis|graph|load|parse

`parse` only reads the YAML with PyYAML's C loader (the cost of reading the input at all).
Every other target runs the pipeline up to that point and times each phase; `all` renders
Markdown, HTML (without the Graphviz step) and JSON, as a full report run does.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
from pathlib import Path

STEPS = ("load", "graph", "analysis", "md", "html", "json", "all")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path)
    parser.add_argument("--until", default="all", choices=("parse", *STEPS))
    parser.add_argument("--gc", action="store_true", help="keep Python's cyclic garbage collector on "
                        "(the threatmodel command turns it off for its short runs)")
    args = parser.parse_args()
    if not args.gc:
        gc.disable()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if args.until == "parse":
        import yaml

        yaml.load(args.model.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        timings["parse"] = time.perf_counter() - start
    else:
        from threatmodel.analysis.match import analyse
        from threatmodel.catalog.load import load_catalog
        from threatmodel.graph import DataFlowGraph
        from threatmodel.system.load import load_system

        catalog = load_catalog().catalog
        mark = time.perf_counter()
        timings["catalog"] = mark - start
        loaded = load_system(args.model, catalog.kinds)
        timings["load"] = time.perf_counter() - mark
        if args.until != "load":
            mark = time.perf_counter()
            graph = DataFlowGraph(loaded.system, catalog)
            _facts = (graph.crossings, graph.entry_points, graph.attack_paths, graph.lineage.feedback_loops)
            timings["graph"] = time.perf_counter() - mark
        if args.until not in ("load", "graph"):
            mark = time.perf_counter()
            assessment = analyse(catalog, graph, loaded.exclusion_locations)
            timings["analysis"] = time.perf_counter() - mark
            timings["findings"] = len(assessment.findings)
        if args.until in ("md", "html", "json", "all"):
            import tempfile

            from threatmodel.core.output import write_atomic
            from threatmodel.renderers.jsonout import json_lines
            from threatmodel.renderers.templates import render
            from threatmodel.report.build import json_report, report_data

            out_dir = Path(tempfile.mkdtemp())

            mark = time.perf_counter()
            data = report_data(assessment)
            timings["report_data"] = time.perf_counter() - mark
            for fmt in ("md", "html", "json"):
                if args.until not in (fmt, "all"):
                    continue
                # as `threatmodel report` does: render, write the file atomically, let go of the text
                mark = time.perf_counter()
                target = out_dir / f"report.{fmt}"
                if fmt == "json":
                    write_atomic(target, json_lines(json_report(data)))
                else:
                    write_atomic(target, render(f"report.{fmt}.j2", data))
                timings[fmt] = time.perf_counter() - mark
                timings[f"{fmt}_bytes"] = target.stat().st_size
                target.unlink()
    timings["total"] = time.perf_counter() - start
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(timings, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
