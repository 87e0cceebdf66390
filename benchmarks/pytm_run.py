"""Build the same synthetic system as an OWASP pytm model, resolve it and write its report.

    python benchmarks/pytm_run.py MODEL.yaml

Reads a threatmodel system file (as written by generate.py) with PyYAML, maps it onto pytm's
elements (people -> Actor, stores -> Datastore, services -> Server, other processes -> Process,
boundaries -> Boundary, flows -> Dataflow, both directions for bidirectional flows), then times
building, `TM.resolve()` (pytm's threat matching) and `TM.report()` with a Markdown template
like pytm's basic one. Prints one JSON line. Needs `pip install '.[bench]'` (pytm 1.3.1).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import yaml

TEMPLATE = """# {tm.name}

{tm.description}

## Dataflows

|Name|From|To|Protocol|
|---|---|---|---|
{dataflows:repeat:|{{item.name}}|{{item.source.name}}|{{item.sink.name}}|{{item.protocol}}|
}

## Potential threats

{findings:repeat:
### {{item.id}} {{item.description}}

- Target: {{item.target}}
- Severity: {{item.severity}}
- Example: {{item.example}}
- Mitigations: {{item.mitigations}}
- References: {{item.references}}
}
"""

STORE_KINDS = {"dataset", "feature-store", "model-artifact", "model-registry", "library", "pretrained-model",
               "secret", "source-repository", "data-store"}
SERVER_KINDS = {"inference-service", "api-gateway"}
ACTOR_KINDS = {"person"}


def build(document: dict, pytm):  # type: ignore[no-untyped-def]
    tm = pytm.TM(document["system"]["name"], description="Synthetic ML platform (threatmodel benchmark)")
    tm.isOrdered = False
    boundaries = {b["id"]: pytm.Boundary(b["id"]) for b in document.get("boundaries", [])}
    elements = {}
    for component in document["components"]:
        kind = component["kind"]
        cls = (pytm.Actor if kind in ACTOR_KINDS else pytm.Datastore if kind in STORE_KINDS
               else pytm.Server if kind in SERVER_KINDS else pytm.ExternalEntity if kind in ("external-service", "model-hub")
               else pytm.Process)
        element = cls(component["id"])
        if component.get("boundary"):
            element.inBoundary = boundaries[component["boundary"]]
        elements[component["id"]] = element
    for index, flow in enumerate(document.get("flows", [])):
        name = flow.get("id") or f"flow-{index}"
        forward = pytm.Dataflow(elements[flow["from"]], elements[flow["to"]], name)
        forward.protocol = "HTTPS" if flow.get("encrypted") else "HTTP"
        if flow.get("bidirectional"):
            back = pytm.Dataflow(elements[flow["to"]], elements[flow["from"]], f"{name}-reply")
            back.protocol = forward.protocol
    return tm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path)
    args = parser.parse_args()
    start = time.perf_counter()
    import pytm

    document = yaml.load(args.model.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    mark = time.perf_counter()
    tm = build(document, pytm)
    timings = {"import+parse": mark - start, "build": time.perf_counter() - mark}
    mark = time.perf_counter()
    tm.resolve()
    timings["resolve"] = time.perf_counter() - mark
    template = Path(args.model.parent / "pytm_template.md")
    template.write_text(TEMPLATE, encoding="utf-8")
    mark = time.perf_counter()
    report = tm.report(str(template))
    timings["report"] = time.perf_counter() - mark
    timings["report_chars"] = len(report)
    timings["findings"] = len(tm.findings)
    timings["version"] = getattr(pytm, "__version__", "") or "1.3.1"
    timings["total"] = time.perf_counter() - start
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump(timings, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
