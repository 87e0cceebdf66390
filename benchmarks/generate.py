"""Write a synthetic ML platform as a threatmodel system file.

    python benchmarks/generate.py --components 3000 -o platform.yaml

Teams of ten components (data collection, raw and curated datasets, a notebook, a training job,
a model artifact, a model registry, a public inference service, third-party libraries and an
API key), each team in its own trust boundary, all behind one shared API gateway used by the
platform's users; two flows per component, among them one that shares each team's registry
with the next team's service. The result validates against the schema.

    python benchmarks/generate.py --components 3000 --mixed -o mixed.yaml

``--mixed`` makes every other team an LLM team instead (a chat service, a hosted LLM, system
instructions, a retriever, a RAG source and a vector store, an agent with a shell tool, an MCP
server from a registry and a memory): the same size, half ML and half LLM/RAG/agent.
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


LLM_TEAM = [
    ("chat", "process", ""), ("llm", "llm", ", origin: third-party, output_to: [html]"),
    ("prompt", "system-prompt", ""), ("retriever", "retriever", ""),
    ("docs", "rag-source", ", untrusted_content: true, data: [records]"), ("vectors", "vector-store", ", data: [records]"),
    ("agent", "agent", ", autonomy: act"), ("shell", "tool", ", capabilities: [execute, write], sandboxed: true"),
    ("mcp", "mcp-server", ", origin: third-party, capabilities: [read, network]"), ("memory", "agent-memory", ""),
]
LLM_FLOWS = [
    ("chat", "llm"), ("prompt", "chat"), ("docs", "vectors"), ("vectors", "retriever"), ("retriever", "chat"),
    ("chat", "agent"), ("agent", "shell"), ("agent", "mcp"), ("agent", "memory"), ("agent", "llm"),
]


def generate(components: int, mixed: bool = False) -> str:
    teams = max(1, components // len(TEAM))
    lines = ["system: {name: Synthetic ML platform}", "boundaries:", "  - {id: internet-edge, trust: partner}"]
    lines += [f"  - {{id: team{t}, trust: internal}}" for t in range(teams)]
    lines += ["data:", "  - {id: records, pii: true, confidentiality: high}", "components:",
              "  - {id: users, kind: person}", "  - {id: gateway, kind: api-gateway, boundary: internet-edge}"]
    flows = ["flows:", "  - {from: users, to: gateway, encrypted: true, bidirectional: true, data: [records]}"]
    for t in range(teams):
        if mixed and t % 2 == 1:
            for name, kind, extra in LLM_TEAM:
                lines.append(f"  - {{id: t{t}-{name}, kind: {kind}, boundary: team{t}{extra}}}")
            for index, (source, target) in enumerate(LLM_FLOWS):
                flows.append(f"  - {{id: t{t}-f{index}, from: t{t}-{source}, to: t{t}-{target}, bidirectional: true, "
                             "data: [records]}")
            flows.append(f"  - {{id: t{t}-in, from: gateway, to: t{t}-chat, encrypted: true, bidirectional: true}}")
            continue
        for name, kind in TEAM:
            extra = ", exposure: public" if kind == "inference-service" else ""
            lines.append(f"  - {{id: t{t}-{name}, kind: {kind}, boundary: team{t}{extra}}}")
        for index, (source, target) in enumerate(TEAM_FLOWS):
            flows.append(f"  - {{id: t{t}-f{index}, from: t{t}-{source}, to: t{t}-{target}, data: [records]}}")
        flows.append(f"  - {{id: t{t}-in, from: gateway, to: t{t}-api, encrypted: true}}")
        target_team = (t + 1) % teams
        if not (mixed and target_team % 2 == 1):
            flows.append(f"  - {{id: t{t}-share, from: t{t}-registry, to: t{target_team}-api}}")
    return "\n".join(lines + flows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=3000)
    parser.add_argument("--mixed", action="store_true", help="half the teams are LLM/RAG/agent teams")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    args.output.write_text(generate(args.components, args.mixed), encoding="utf-8")


if __name__ == "__main__":
    main()
