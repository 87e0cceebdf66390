"""How long `threatmodel discover` takes on a large ML repository (docs/benchmarks.md).

Builds a synthetic repository of N files in a temporary folder, shaped like a real monorepo:
Python packages (most of them plain code, some loading models or calling LLMs), notebooks,
an image dataset, model checkpoints, DVC stages, requirements files, Dockerfiles and
Kubernetes manifests; then times discovery (best of --repeat runs) and reports peak memory.

    python benchmarks/discover.py --files 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

PLAIN = '''"""Module {i}."""
import os
import json


def handler_{i}(payload):
    values = [json.dumps(v) for v in payload]
    return {{"count": len(values), "path": os.path.join("out", "{i}.json")}}
'''
ML = '''import torch
from transformers import AutoModel
model = AutoModel.from_pretrained("org/model-{j}")
state = torch.load("checkpoints/ckpt-{j}.pt")
model.train()
'''
LLM = '''from langchain_openai import ChatOpenAI
from langchain_chroma import Chroma
llm = ChatOpenAI()
store = Chroma.from_documents([])
retriever = store.as_retriever()
'''


def build(root: Path, files: int) -> None:
    made = 0

    def put(rel: str, content: str | bytes) -> None:
        nonlocal made
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        made += 1

    put("requirements.txt", "torch==2.4.0\ntransformers>=4.40\nlangchain-openai\n")
    put("dvc.yaml", "stages:\n" + "".join(
        f"  step{k}:\n    cmd: python pipeline/step{k}.py\n    deps: [data/raw]\n    outs: [data/out{k}]\n" for k in range(20)))
    put("Dockerfile", "FROM python:3.11\nEXPOSE 8000\nCMD [\"uvicorn\", \"service.api:app\"]\n")
    put("k8s/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
                           "    metadata: {labels: {app: api}}\n    spec:\n      containers: [{name: a, image: api:1}]\n")
    put("service/api.py", "from fastapi import FastAPI\napp = FastAPI()\n")
    i = 0
    while made < files:
        kind = i % 20
        if kind < 8:
            put(f"src/pkg{i // 400}/module_{i}.py", PLAIN.format(i=i))
        elif kind == 8:
            put(f"src/ml/train_{i}.py", ML.format(j=i))
        elif kind == 9:
            put(f"src/apps/rag_{i}.py", LLM)
        elif kind == 10:
            put(f"notebooks/nb_{i}.ipynb", json.dumps({"cells": [{"cell_type": "code", "source": ["import pandas as pd\n",
                                                                                                  "df = pd.read_csv('data/raw/x.csv')\n"],
                                                               "outputs": []}], "nbformat": 4, "nbformat_minor": 5}))
        elif kind == 11:
            put(f"checkpoints/ckpt-{i}.pt", b"\x80\x04" + bytes(4096))
        elif kind in (12, 13, 14, 15):
            put(f"data/raw/images/{i // 1000}/img_{i}.jpg", b"\xff\xd8" + bytes(2048))
        else:
            put(f"docs/page_{i}.md", f"# Page {i}\n\nText.\n")
        i += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        build(root, arguments.files)
        from threatmodel.discover import discover

        best = float("inf")
        found = None
        for _ in range(arguments.repeat):
            from threatmodel.discover import project as project_module

            project_module.tables.cache_clear()
            start = time.perf_counter()
            found = discover(root, output=Path(folder) / "model.yaml")
            best = min(best, time.perf_counter() - start)
        assert found is not None
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{arguments.files:,} files: best {best:.2f} s of {arguments.repeat}; "
              f"{len(found.draft.components)} components, {len(found.draft.flows)} flows; peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
