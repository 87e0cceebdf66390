"""Write a synthetic ML platform as a threatmodel system file.

    python benchmarks/generate.py --components 3000 -o platform.yaml

Teams of ten components (data collection, raw and curated datasets, a notebook, a training job,
a model artifact, a model registry, a public inference service, third-party libraries and an
API key), each team in its own trust boundary, all behind one shared API gateway used by the
platform's users; two flows per component, among them one that shares each team's registry
with the next team's service. The result validates against the schema.
"""

from __future__ import annotations

import argparse
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=3000)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    args.output.write_text(generate(args.components), encoding="utf-8")


if __name__ == "__main__":
    main()
