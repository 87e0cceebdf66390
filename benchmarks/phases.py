"""Time threatmodel's phases on one model, in this process; print one JSON line.

    python benchmarks/phases.py MODEL --until md|html|json|all|analysis|graph|load|parse

`parse` only reads the YAML with PyYAML's C loader (the cost of reading the input at all).
Every other target runs the pipeline up to that point and times each phase. The report targets
go through the same steps as `threatmodel report` (review, fix plan, the registered renderer, an
atomic write); `all` renders Markdown, HTML and JSON in one process.
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
        from threatmodel.evidence.judge import judge_evidence
        from threatmodel.graph import DataFlowGraph
        from threatmodel.pipeline import Assessment
        from threatmodel.review.statuses import apply_review
        from threatmodel.system.load import load_system

        loaded_catalog = load_catalog()
        catalog = loaded_catalog.catalog
        mark = time.perf_counter()
        timings["catalog"] = mark - start
        loaded = load_system(args.model, catalog.kinds, formats=catalog.formats)
        timings["load"] = time.perf_counter() - mark
        if args.until != "load":
            mark = time.perf_counter()
            graph = DataFlowGraph(loaded.system, catalog)
            timings["graph"] = time.perf_counter() - mark
        if args.until not in ("load", "graph"):
            mark = time.perf_counter()
            analysis = analyse(catalog, graph, loaded.exclusion_locations)
            timings["analysis"] = time.perf_counter() - mark
            timings["findings"] = len(analysis.findings)
        if args.until in ("md", "html", "json", "all"):
            import tempfile

            from threatmodel.core.output import write_atomic
            from threatmodel.renderers.registry import RenderOptions, get_format

            # as `threatmodel report` does (pipeline.assess without a review file or evidence),
            # phase by phase: the review, the fix plan, then each format rendered and written
            mark = time.perf_counter()
            verdicts = judge_evidence(analysis, [], None, 30)
            review = apply_review(analysis, None, verdicts, {})
            assessment = Assessment(loaded_catalog, loaded, graph, analysis, review, None, args.model,
                                    evidence=verdicts)
            timings["review"] = time.perf_counter() - mark
            mark = time.perf_counter()
            _plan = assessment.plan
            timings["plan"] = time.perf_counter() - mark
            out_dir = Path(tempfile.mkdtemp())
            for fmt in ("md", "html", "json"):
                if args.until not in (fmt, "all"):
                    continue
                mark = time.perf_counter()
                target = out_dir / f"report.{fmt}"
                write_atomic(target, get_format(fmt).render(assessment, RenderOptions()))
                timings[fmt] = time.perf_counter() - mark
                timings[f"{fmt}_bytes"] = target.stat().st_size
                target.unlink()
    timings["total"] = time.perf_counter() - start
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(timings, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
