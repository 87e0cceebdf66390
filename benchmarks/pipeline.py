"""Time every phase of a report for a synthetic ML platform.

    python benchmarks/pipeline.py --components 3000

Writes a model of N components (teams of 10: data collection, two datasets, notebook, training
job, model artifact, registry, inference service, library, secret) with 2 flows per component,
then times each phase in this process (catalog, load + validate, graph, graph facts, analysis,
report data, Markdown, HTML without the Graphviz step, JSON) and prints wall time and peak memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

TEAM = [
    ("collect", "data-collection"), ("raw", "dataset"), ("curated", "dataset"), ("nb", "notebook"),
    ("train", "training-job"), ("model", "model-artifact"), ("registry", "model-registry"),
    ("api", "inference-service"), ("libs", "library"), ("key", "secret"),
]
TEAM_FLOWS = [
    ("collect", "raw"), ("raw", "curated"), ("curated", "nb"), ("nb", "train"), ("curated", "train"),
    ("train", "model"), ("model", "registry"), ("registry", "api"), ("libs", "nb"), ("libs", "train"),
    ("libs", "api"), ("key", "collect"), ("nb", "model"), ("api", "curated"), ("libs", "collect"),
    ("key", "api"), ("train", "registry"), ("collect", "curated"),
]


def generate(components: int) -> str:
    teams = max(1, components // len(TEAM))
    lines = ["system: {name: Synthetic ML platform}", "boundaries:", "  - {id: internet-edge, trust: partner}"]
    lines += [f"  - {{id: team{t}, trust: internal}}" for t in range(teams)]
    lines += ["data:", "  - {id: records, pii: true, confidentiality: high}", "components:",
              "  - {id: users, kind: person}", "  - {id: gateway, kind: api-gateway, boundary: internet-edge}"]
    flows = ["flows:", "  - {from: users, to: gateway, encrypted: true, bidirectional: true, data: [records]}"]
    for t in range(teams):
        for name, kind in TEAM:
            extra = ", exposure: public" if kind == "inference-service" else ""
            lines.append(f"  - {{id: t{t}-{name}, kind: {kind}, boundary: team{t}{extra}}}")
        for index, (source, target) in enumerate(TEAM_FLOWS):
            flows.append(f"  - {{id: t{t}-f{index}, from: t{t}-{source}, to: t{t}-{target}, data: [records]}}")
        flows.append(f"  - {{id: t{t}-in, from: gateway, to: t{t}-api, encrypted: true}}")
        flows.append(f"  - {{id: t{t}-share, from: t{t}-registry, to: t{(t + 1) % teams}-api}}")
    return "\n".join(lines + flows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=3000)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "platform.yaml"
    path.write_text(generate(args.components))

    start = time.perf_counter()
    from threatmodel.catalog_load import load_catalog
    from threatmodel.graph import DataFlowGraph
    from threatmodel.system_load import load_system
    catalog = load_catalog().catalog
    t_catalog = time.perf_counter()
    loaded = load_system(path, catalog.kinds)
    t_load = time.perf_counter()
    graph = DataFlowGraph(loaded.system, catalog.kinds)
    t_graph = time.perf_counter()
    facts = (len(graph.crossings), len(graph.entry_points), len(graph.write_paths), len(graph.attack_paths),
             len(graph.feedback_loops))
    t_facts = time.perf_counter()
    from threatmodel.analysis import analyse
    from threatmodel.render import render, to_json
    from threatmodel.report_data import json_report, report_data
    assessment = analyse(catalog, graph, loaded.exclusion_locations)
    t_analysis = time.perf_counter()
    data = report_data(assessment)
    t_data = time.perf_counter()
    markdown = render("report.md.j2", data)
    t_md = time.perf_counter()
    html = render("report.html.j2", data)
    t_html = time.perf_counter()
    json_text = to_json(json_report(data))
    t_json = time.perf_counter()
    system = loaded.system
    print(f"components={len(system.components)} flows={len(system.flows)} file={path.stat().st_size:,} bytes "
          f"findings={len(assessment.findings)}")
    phases = [("imports+catalog", t_catalog - start), ("load+validate", t_load - t_catalog),
              ("graph", t_graph - t_load), ("facts", t_facts - t_graph), ("analysis", t_analysis - t_facts),
              ("report data", t_data - t_analysis), ("markdown", t_md - t_data), ("html", t_html - t_md),
              ("json", t_json - t_html)]
    print("  ".join(f"{name} {seconds:.2f}s" for name, seconds in phases) + f"  total {t_json - start:.2f}s")
    print(f"output sizes: md {len(markdown):,}  html {len(html):,}  json {len(json_text):,} characters")
    print(f"facts (crossings, entry points, write paths, attack paths, feedback loops) = {facts}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
