"""`threatmodel discover` and `threatmodel drift` on projects shaped like real ones.

Each project below is recreated from the published layout of a public repository (noted beside
it) or of the documentation of the tool it uses; the files are ours. Every draft must validate
and report without editing; what a reviewer would expect to see is asserted, and so is what
must not appear (a secret's value, a file outside the project).
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import shared_file
from threatmodel import analyze, load_system


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def discover(cli, project: Path, *extra: str, name: str = "threatmodel.yaml"):
    output = project / name
    result = cli("discover", project, "-o", output, *extra)
    assert result.exit_code == 0, result.output
    document = yaml.safe_load(output.read_text(encoding="utf-8"))
    return document, output, result


def components(document) -> dict[str, dict]:
    return {c["id"]: c for c in document.get("components", [])}


def by_kind(document, kind: str) -> list[dict]:
    return [c for c in document.get("components", []) if c["kind"] == kind]


def flows(document) -> set[tuple[str, str]]:
    return {(f["from"], f["to"]) for f in document.get("flows", [])}


def findings(model: Path) -> set[str]:
    return {f.id for f in analyze(model, review=False).findings}


PICKLE = b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x01a\x94K\x01s."


def safetensors_bytes() -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\x00\x00\x80?"


def notebook(*cells: str, outputs: list[str] | None = None) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "source": cell.splitlines(True), "metadata": {},
                                  "outputs": [{"output_type": "stream", "name": "stdout", "text": outputs or []}],
                                  "execution_count": None} for cell in cells],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


# iterative/example-get-started (Apache-2.0): a DVC pipeline over a tracked XML file
DVC_PROJECT = {
    "dvc.yaml": """\
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps:
      - data/data.xml
      - src/prepare.py
    params:
      - prepare.seed
      - prepare.split
    outs:
      - data/prepared
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps:
      - data/prepared
      - src/featurization.py
    outs:
      - data/features
  train:
    cmd: python src/train.py data/features model.pkl
    deps:
      - data/features
      - src/train.py
    outs:
      - model.pkl
  evaluate:
    cmd: python src/evaluate.py model.pkl data/features
    deps:
      - data/features
      - model.pkl
      - src/evaluate.py
    metrics:
      - eval/metrics.json:
          cache: false
""",
    "data/data.xml.dvc": "outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 14445097\n  path: data.xml\n",
    ".dvc/config": "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://ml-team-bucket/get-started\n",
    "params.yaml": "prepare:\n  seed: 20170428\n  split: 0.2\n",
    "src/requirements.txt": "dvclive>=3.0\npandas\nscikit-learn>=1.3\n",
    "src/prepare.py": "import sys\nimport yaml\nparams = yaml.safe_load(open('params.yaml'))\n",
    "src/featurization.py": "import pickle\nimport pandas as pd\n",
    "src/train.py": ("import pickle\nfrom sklearn.ensemble import RandomForestClassifier\n"
                     "with open('data/features/train.pkl', 'rb') as fd:\n    matrix = pickle.load(fd)\n"
                     "clf = RandomForestClassifier()\nclf.fit(matrix, matrix)\n"
                     "with open('model.pkl', 'wb') as fd:\n    pickle.dump(clf, fd)\n"),
    "src/evaluate.py": "import pickle\nwith open('model.pkl', 'rb') as fd:\n    model = pickle.load(fd)\n",
}


def test_dvc_pipeline_becomes_jobs_datasets_and_artifacts(cli, tmp_path):
    project = make(tmp_path / "get-started", DVC_PROJECT)
    document, output, result = discover(cli, project)
    found = components(document)
    assert found["train"]["kind"] == "training-job"
    assert found["evaluate"]["kind"] == "evaluation-harness"
    model = next(c for c in by_kind(document, "model-artifact") if c["paths"] == ["model.pkl"])
    assert model["format"] == "pickle"
    tracked = next(c for c in by_kind(document, "dataset") if c["paths"] == ["data/data.xml"])
    assert (tracked["id"], "prepare") in flows(document)
    assert ("train", model["id"]) in flows(document) and (model["id"], "evaluate") in flows(document)
    remote = by_kind(document, "data-store")
    assert remote and "s3" in remote[0]["technology"]
    library = by_kind(document, "library")[0]
    assert library["pinned"] is False and "scikit-learn" in library["technology"]
    assert (library["id"], "train") in flows(document)
    # the code is read: pickle loads are reported with their place
    assert "src/evaluate.py:3: pickle.load()" in result.output
    # the draft validates and reports without editing, and the library raises the supply-chain threat
    assert cli("validate", output).exit_code == 0
    assert f"ML06@{library['id']}" in findings(output)
    snapshot = json.loads((project / "threatmodel.discovered.json").read_text())
    assert snapshot["format"] == "threatmodel-discovery" and "stage:dvc:train" in snapshot["items"]


# mlflow/mlflow-example (Apache-2.0): an MLproject with a conda environment
MLFLOW_PROJECT = {
    "MLproject": ("name: tutorial\nconda_env: conda.yaml\nentry_points:\n  main:\n    parameters:\n"
                  "      alpha: {type: float, default: 0.5}\n    command: \"python train.py {alpha}\"\n"),
    "conda.yaml": ("name: tutorial\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n  - pip\n"
                   "  - pip:\n      - mlflow>=2.0\n      - scikit-learn==1.5.0\n"),
    "train.py": ("import mlflow\nimport mlflow.sklearn\nimport pandas as pd\nfrom sklearn.linear_model import ElasticNet\n"
                 "data = pd.read_csv('wine-quality.csv')\nlr = ElasticNet()\nlr.fit(data, data)\n"
                 "mlflow.sklearn.log_model(lr, 'model')\n"),
    "wine-quality.csv": "fixed acidity,quality\n7.4,5\n",
}


def test_mlflow_project_entry_point_and_registry_writes(cli, tmp_path):
    project = make(tmp_path / "mlflow-example", MLFLOW_PROJECT)
    document, output, _ = discover(cli, project)
    job = next(c for c in document["components"] if c["name"] == "tutorial: main")
    assert job["kind"] == "training-job"
    registry = by_kind(document, "model-registry")[0]
    assert (job["id"], registry["id"]) in flows(document)
    data = next(c for c in by_kind(document, "dataset") if c["paths"] == ["wine-quality.csv"])
    assert (data["id"], job["id"]) in flows(document)
    libraries = {c["name"]: c for c in by_kind(document, "library")}
    assert any("mlflow" in c["technology"] for c in libraries.values())
    assert cli("validate", output).exit_code == 0


# the Hugging Face Trainer fine-tuning scripts (transformers examples, Apache-2.0)
FINETUNE = {
    "train.py": ("from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer\n"
                 "MODEL = 'distilbert-base-uncased'\n"
                 "tokenizer = AutoTokenizer.from_pretrained(MODEL, revision='6cdc0aad91f5ae2e6712e91bc7b65d1cf5c05411')\n"
                 "model = AutoModelForSequenceClassification.from_pretrained(MODEL)\n"
                 "trainer = Trainer(model=model)\ntrainer.train()\ntrainer.save_model('output')\n"
                 "# from_pretrained('evil/not-code') in a comment is not a call\n"
                 "text = \"AutoModel.from_pretrained('evil/in-a-string')\"\n"),
    "requirements.txt": ("transformers==4.44.2 --hash=sha256:" + "a" * 64 + "\n"
                         "torch==2.4.0 \\\n    --hash=sha256:" + "b" * 64 + "\n"),
}


def test_hub_models_found_by_parsing_code_not_text(cli, tmp_path):
    project = make(tmp_path / "finetune", FINETUNE)
    document, output, _ = discover(cli, project)
    hub = by_kind(document, "pretrained-model")
    assert [c["technology"] for c in hub] == ["Hugging Face Hub: distilbert-base-uncased"]
    assert hub[0]["origin"] == "third-party"
    job = next(c for c in document["components"] if c["name"] == "train.py")
    assert job["kind"] == "fine-tuning-job"
    assert (hub[0]["id"], job["id"]) in flows(document)
    assert "evil" not in output.read_text()
    library = by_kind(document, "library")[0]
    assert library["pinned"] is True  # exact versions with hashes declare dependency pinning
    found = findings(output)
    assert f"ML06@{library['id']}" in found and f"ML07@{job['id']}" in found


def test_trust_remote_code_is_recorded_as_code_that_runs_on_load(cli, tmp_path):
    files = dict(FINETUNE)
    files["train.py"] = ("from transformers import AutoModel\n"
                         "m = AutoModel.from_pretrained('org/custom-arch', trust_remote_code=True)\n")
    project = make(tmp_path / "remote-code", files)
    document, _, result = discover(cli, project)
    hub = by_kind(document, "pretrained-model")[0]
    assert hub["format"] == "other"
    assert "train.py:2: trust_remote_code=True" in result.output


# a LangChain RAG app (the LangChain RAG tutorial's shape: web loader, Chroma, retriever, chat model)
RAG_APP = {
    "app.py": ("import streamlit as st\nfrom langchain_community.document_loaders import WebBaseLoader\n"
               "from langchain_chroma import Chroma\nfrom langchain_openai import ChatOpenAI, OpenAIEmbeddings\n"
               "docs = WebBaseLoader('https://lilianweng.github.io/posts/2023-06-23-agent/').load()\n"
               "store = Chroma.from_documents(docs, OpenAIEmbeddings())\nretriever = store.as_retriever()\n"
               "llm = ChatOpenAI(model='gpt-4o-mini')\nquestion = st.text_input('Ask')\n"),
    "requirements.txt": "langchain-community\nlangchain-chroma\nlangchain-openai\nstreamlit\n",
}


def test_rag_app_kinds_and_untrusted_web_content(cli, tmp_path):
    project = make(tmp_path / "rag", RAG_APP)
    document, output, _ = discover(cli, project)
    llm = by_kind(document, "llm")[0]
    assert llm["origin"] == "third-party" and "boundary" not in llm
    source = by_kind(document, "rag-source")[0]
    assert source["untrusted_content"] is True
    vector, retriever = by_kind(document, "vector-store")[0], by_kind(document, "retriever")[0]
    app = next(c for c in document["components"] if c["name"] == "app.py")
    assert {(source["id"], vector["id"]), (vector["id"], retriever["id"]), (retriever["id"], app["id"]),
            (app["id"], llm["id"])} <= flows(document)
    assert any(f.startswith("INDIRECT-PROMPT-INJECTION@") for f in findings(output))
    assert "Who can reach app.py" in output.read_text()


# a FastAPI model server with a Dockerfile, Kubernetes manifests and a KServe InferenceService
SERVING = {
    "app/main.py": ("from fastapi import FastAPI\nimport joblib\napp = FastAPI()\n"
                    "model = joblib.load('model/model.joblib')\n"),
    "model/model.joblib": PICKLE,
    "Dockerfile": ("FROM python:3.11-slim\nENV API_TOKEN=hunter2hunter2\nCOPY . /srv\nEXPOSE 8000\n"
                   "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\"]\n"),
    "k8s/deploy.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: scorer}
spec:
  template:
    metadata: {labels: {app: scorer}}
    spec:
      containers:
        - name: api
          image: registry.example.com/scorer:1.4
          ports: [{containerPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: scorer}
spec:
  type: LoadBalancer
  selector: {app: scorer}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: scorer
  annotations:
    nginx.ingress.kubernetes.io/auth-url: https://auth.example.com/verify
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: scorer, port: {number: 80}}}
""",
    "k8s/kserve.yaml": """\
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
  labels: {networking.knative.dev/visibility: cluster-local}
spec:
  predictor:
    model:
      modelFormat: {name: sklearn}
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
""",
}


def test_serving_manifests_set_exposure_and_auth_only_where_they_say_so(cli, tmp_path):
    project = make(tmp_path / "serving", SERVING)
    document, output, result = discover(cli, project)
    found = components(document)
    service = next(c for c in document["components"] if c["name"] == "app/main.py")
    assert service["kind"] == "inference-service"
    # the project builds one image, so the Deployment (of no known product's image) runs it
    workload = service
    assert workload["exposure"] == "public"  # a LoadBalancer Service
    assert "guessed: the Kubernetes workload scorer" in output.read_text()
    ingress = by_kind(document, "api-gateway")[0]
    assert ingress["authenticated"] is True and ingress["exposure"] == "public"
    assert (ingress["id"], workload["id"]) in flows(document)
    kserve = next(c for c in document["components"] if c["name"] == "KServe InferenceService sklearn-iris")
    assert kserve["exposure"] == "internal"
    stored = next(c for c in by_kind(document, "model-artifact") if "gs://" in c["name"])
    assert stored["format"] == "joblib" and "paths" not in stored
    assert "hunter2" not in output.read_text() and "hunter2" not in result.output
    assert "ENV API_TOKEN sets a literal value" in result.output
    assert found and cli("validate", output).exit_code == 0


def test_compose_services_and_loopback_ports(cli, tmp_path):
    project = make(tmp_path / "compose", {
        "docker-compose.yml": """\
services:
  tracking:
    image: ghcr.io/mlflow/mlflow:v2.14.1
    ports: ["127.0.0.1:5000:5000"]
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: s3cr3t-in-compose
  api:
    build: .
    ports: ["8080:8080"]
    depends_on: [tracking, db]
    environment:
      MLFLOW_TRACKING_URI: http://tracking:5000
""",
        "Dockerfile": "FROM python:3.11\nEXPOSE 8080\nCMD [\"python\", \"serve.py\"]\n",
        "serve.py": "from flask import Flask\napp = Flask(__name__)\n",
    })
    document, output, result = discover(cli, project)
    kinds = {c["name"]: c for c in document["components"]}
    assert kinds["MLflow tracking server and registry"]["kind"] == "model-registry"
    assert kinds["MLflow tracking server and registry"]["exposure"] == "internal"
    assert kinds["db"]["kind"] == "data-store"
    assert "s3cr3t" not in output.read_text() + result.output
    assert "compose service 'api'" in output.read_text()
    assert cli("validate", output).exit_code == 0


def test_model_files_are_known_by_their_bytes(cli, tmp_path):
    torch_zip = tmp_path / "weights.pt"
    with zipfile.ZipFile(torch_zip, "w") as archive:
        archive.writestr("archive/data.pkl", PICKLE)
    project = make(tmp_path / "artifacts", {
        "models/real.safetensors": safetensors_bytes(),
        "checkpoints/fake.safetensors": PICKLE,  # a pickle wearing a safe name
        "export/weights.pt": torch_zip.read_bytes(),
        "saved/model/saved_model.pb": b"\x08\x01",
        "saved/model/variables/variables.index": b"\x00",
    })
    document, output, result = discover(cli, project)
    formats = {tuple(c["paths"]): c["format"] for c in by_kind(document, "model-artifact")}
    assert formats[("models/real.safetensors",)] == "safetensors"
    assert formats[("checkpoints/fake.safetensors",)] == "pickle"
    assert formats[("export/weights.pt",)] == "pytorch"
    assert formats[("saved/model",)] == "tensorflow-savedmodel"
    assert "checkpoints/fake.safetensors: the bytes are a Python pickle" in result.output
    snapshot = json.loads((project / "threatmodel.discovered.json").read_text())
    import hashlib

    recorded = snapshot["items"]["model:models"]["facts"]["files"]["models/real.safetensors"]
    assert recorded["sha256"] == hashlib.sha256(safetensors_bytes()).hexdigest()
    assert recorded["size"] == len(safetensors_bytes())


def test_notebook_credentials_are_reported_never_copied(cli, tmp_path):
    key = "AKIA" + "Q" * 16
    token = "hf_" + "x" * 34
    project = make(tmp_path / "nb", {
        "notebooks/explore.ipynb": notebook("%matplotlib inline\nimport torch\nimport pandas as pd\n"
                                            "df = pd.read_csv('data/train/rows.csv')\n",
                                            f"aws_key = '{key}'\n!pip install foo\n",
                                            "%%bash\necho not python\n", outputs=[f"token {token}\n"]),
        "data/train/rows.csv": "a\n1\n",
        "notebooks/binary.ipynb": b"\x00\x01\x02PK\x03\x04" * 100,
    })
    document, output, result = discover(cli, project)
    text = output.read_text() + result.output + (project / "threatmodel.discovered.json").read_text()
    assert key not in text and token not in text
    assert "explore.ipynb (cell 2, line 1): a string that looks like an AWS access key id" in result.output
    assert "explore.ipynb (cell 3, output): output that looks like a Hugging Face token" in result.output \
        or "cell 3, output" in text
    secret = by_kind(document, "secret")[0]
    notebook_component = next(c for c in by_kind(document, "notebook") if "explore" in c["name"])
    assert (secret["id"], notebook_component["id"]) in flows(document)
    data = next(c for c in by_kind(document, "dataset") if c["paths"] == ["data/train"])
    assert data["purpose"] == "training" and (data["id"], notebook_component["id"]) in flows(document)
    library = by_kind(document, "library")[0]
    assert "torch" in library["technology"] and library["pinned"] is False
    assert "notebooks/binary.ipynb" in output.read_text()  # listed as not read, with the reason


def test_dependencies_from_pyproject_poetry_and_locks(cli, tmp_path):
    project = make(tmp_path / "deps", {
        "pyproject.toml": ("[project]\nname = \"scorer\"\ndependencies = [\"torch==2.4.0\", \"numpy>=2\"]\n"
                           "[tool.poetry.dependencies]\npython = \"^3.11\"\nxgboost = \"2.1.0\"\n"),
        "uv.lock": ("version = 1\n[[package]]\nname = \"torch\"\nversion = \"2.4.0\"\n"
                    "sdist = { url = \"https://x\", hash = \"sha256:" + "c" * 64 + "\" }\n"),
        "svc/requirements-prod.txt": ("--index-url https://pypi.corp.example.com/simple\n"
                                      "--extra-index-url https://pypi.org/simple\nscorer-internal==1.0\n"),
        "svc/serve.py": "import pickle\nm = pickle.load(open('m.pkl', 'rb'))\n",
    })
    document, output, result = discover(cli, project)
    libraries = {c["name"]: c for c in by_kind(document, "library")}
    from_pyproject = libraries["Python packages from pyproject.toml"]
    assert from_pyproject["pinned"] is True  # uv.lock hashes every package
    assert {"torch", "numpy", "xgboost"} <= set(from_pyproject["technology"].replace(" from PyPI", "").split(", "))
    assert document["system"]["name"] == "scorer"
    private = libraries["Python packages from svc/requirements-prod.txt"]
    assert "pypi.corp.example.com" in private["technology"]
    assert "dependency confusion" in result.output


# -- hostile projects ------------------------------------------------------------------------

def test_symlinks_are_never_followed_and_nothing_outside_is_read(cli, tmp_path):
    outside = make(tmp_path / "outside", {"secret.pkl": PICKLE, "leak.py": "k = 'AKIA" + "Z" * 16 + "'\n"})
    project = make(tmp_path / "proj", {"train.py": "import torch\n"})
    os.symlink(outside, project / "linked")
    os.symlink(outside / "leak.py", project / "leak.py")
    os.symlink(project, project / "loop")
    document, output, result = discover(cli, project)
    text = output.read_text()
    assert "secret.pkl" not in text and "AKIA" not in text + result.output
    assert "linked: symbolic link, not followed" in text and "loop: symbolic link, not followed" in text


def test_unwritable_names_alias_bombs_and_limits(cli, tmp_path, monkeypatch):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(9))
    project = make(tmp_path / "hostile", {"dvc.yaml": bomb, "big.ipynb": notebook("x = 1\n" * 10),
                                          "ok/model.onnx": b"onnx"})
    (project / "bad\nname.pkl").write_bytes(PICKLE)
    monkeypatch.setattr("threatmodel.discover.code.MAX_NOTEBOOK_BYTES", 64)
    document, output, result = discover(cli, project)
    text = output.read_text()
    assert "dvc.yaml:" in result.output and "not read" in result.output
    assert "bad\\x0aname.pkl: the name holds a control character" in text
    assert "big.ipynb: " in text and "limit" in text
    assert by_kind(document, "model-artifact")[0]["format"] == "onnx"


def test_many_files_stop_at_the_limit_with_a_note(cli, tmp_path, monkeypatch):
    project = make(tmp_path / "many", {f"src/m{i}.py": "x = 1\n" for i in range(50)})
    monkeypatch.setattr("threatmodel.discover.project.MAX_FILES", 20)
    _, output, _ = discover(cli, project)
    assert "more than 20 files; discovery stopped there" in output.read_text()


def test_names_from_the_project_cannot_inject_yaml(cli, tmp_path):
    hostile = 'x"\n  - id: injected\n    kind: llm\n#'
    project = make(tmp_path / "inject", {
        "dvc.yaml": "stages:\n  " + json.dumps(hostile) + ":\n    cmd: python train.py\n    outs: [model.pkl]\n",
    })
    document, output, _ = discover(cli, project)
    names = [c["name"] for c in document["components"]]
    assert hostile in names  # written as one quoted value (newlines as escapes), read back exactly
    assert "injected" not in components(document) and len(names) == 2
    assert cli("validate", output).exit_code == 0


def test_bad_arguments_exit_2_and_never_replace_a_model(cli, tmp_path):
    missing = cli("discover", tmp_path / "nope")
    assert missing.exit_code == 2 and "nope: error: no such folder" in missing.output
    project = make(tmp_path / "p", {"train.py": "import torch\n"})
    existing = project / "threatmodel.yaml"
    existing.write_text("hand-edited\n")
    refused = cli("discover", project, "-o", existing)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert existing.read_text() == "hand-edited\n"
    assert cli("discover", project, "-o", existing, "--force").exit_code == 0


# -- drift -----------------------------------------------------------------------------------

def _drift(cli, model: Path, project: Path, *extra: str):
    return cli("drift", model, project, *extra)


def test_drift_reports_what_the_issue_names(cli, tmp_path):
    files = dict(FINETUNE)
    files.update({"models/classifier.safetensors": safetensors_bytes(), "models/scaler.pkl": PICKLE})
    project = make(tmp_path / "drifting", files)
    _, model, _ = discover(cli, project)
    assert _drift(cli, model, project).exit_code == 0
    # a new notebook, a changed pickle, a .safetensors replaced by a pickle, remote code, a new dependency
    make(project, {
        "notebooks/new.ipynb": notebook("import torch\n"),
        "models/scaler.pkl": PICKLE + b"changed",
        "train.py": FINETUNE["train.py"].replace("from_pretrained(MODEL)", "from_pretrained(MODEL, trust_remote_code=True)"),
        "requirements.txt": FINETUNE["requirements.txt"] + "accelerate==0.33.0 --hash=sha256:" + "d" * 64 + "\n",
    })
    (project / "models/classifier.safetensors").unlink()
    (project / "models/classifier.pkl").write_bytes(PICKLE)
    result = _drift(cli, model, project, "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    lines = {(i["category"], i["subject"]): i for i in report["items"]}
    assert ("added", "Notebook notebooks/new.ipynb") in lines
    assert lines[("changed", "models/scaler.pkl")]["message"].startswith("the file's SHA-256 changed")
    assert ("removed", "models/classifier.safetensors") in lines
    assert lines[("added", "models/classifier.pkl")]["security"] is True
    assert ("added", "accelerate") in lines
    assert any(i["category"] == "changed" and "trust_remote_code" in i["message"] for i in report["items"])
    assert report["counts"]["added"] >= 3
    # the threshold picks what fails
    only_removed = make(tmp_path / "quiet", dict(FINETUNE))
    _, quiet_model, _ = discover(cli, only_removed)
    make(only_removed, {"notebooks/n.ipynb": notebook("x = 1\n")})
    assert _drift(cli, quiet_model, only_removed, "--fail-on", "changed").exit_code == 0
    assert _drift(cli, quiet_model, only_removed, "--fail-on", "added").exit_code == 1


def test_drift_against_a_hand_written_model_declared_format(cli, tmp_path, write):
    project = make(tmp_path / "svc", {"model/classifier.safetensors": PICKLE})
    model = write("""
        system: {name: scorer}
        components:
          - id: classifier
            kind: model-artifact
            format: safetensors
            paths: [svc/model/classifier.safetensors]
          - id: weights
            kind: model-artifact
            format: onnx
            paths: [svc/model/gone.onnx]
        """, "model.yaml")
    result = _drift(cli, model, project, "--format", "json")
    assert result.exit_code == 1
    items = json.loads(result.stdout)["items"]
    changed = next(i for i in items if i["category"] == "changed")
    assert changed["component"] == "classifier" and "declares format safetensors" in changed["message"]
    assert changed["security"] is True
    assert any(i["category"] == "removed" and i["subject"] == "model/gone.onnx" for i in items)


def test_drift_outputs_sarif_and_markdown(cli, tmp_path):
    project = make(tmp_path / "s", {"train.py": "import torch\n", "requirements.txt": "torch\n"})
    _, model, _ = discover(cli, project)
    make(project, {"nb.ipynb": notebook("import torch\n")})
    sarif = _drift(cli, model, project, "--format", "sarif")
    document = json.loads(sarif.stdout)
    import jsonschema

    jsonschema.validate(document, json.loads(shared_file("sarif", "sarif-schema-2.1.0.json").read_text()))
    assert document["runs"][0]["results"][0]["ruleId"] == "DRIFT-ADDED"
    markdown = _drift(cli, model, project, "--format", "md")
    assert "| added | Notebook nb\\.ipynb |" in markdown.stdout and "**FAIL**" in markdown.stdout
    accepted = _drift(cli, model, project, "--accept")
    assert accepted.exit_code == 1  # the notebook is still missing from the model
    bad = _drift(cli, model, project, "--fail-on", "sometimes")
    assert bad.exit_code == 2 and "--fail-on must be one of" in bad.output


# -- MLflow registry -------------------------------------------------------------------------

def test_mlflow_registry_models_versions_and_aliases(cli, tmp_path):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("fraud-scorer")
    client.create_model_version("fraud-scorer", source="s3://models/fraud/1", run_id=None)
    client.create_model_version("fraud-scorer", source="s3://models/fraud/2", run_id=None)
    client.set_registered_model_alias("fraud-scorer", "champion", "2")
    project = make(tmp_path / "repo", {"serve.py": "import mlflow\nm = mlflow.pyfunc.load_model('models:/fraud-scorer@champion')\n"})
    document, model, _ = discover(cli, project, "--mlflow", uri)
    registered = next(c for c in document["components"] if c["name"] == "Registered model fraud-scorer")
    assert "alias champion → version 2" in registered["description"]
    registry = by_kind(document, "model-registry")[0]
    assert (registered["id"], registry["id"]) in flows(document)
    assert cli("validate", model).exit_code == 0
    assert _drift(cli, model, project, "--mlflow", uri).exit_code == 0
    client.create_model_version("fraud-scorer", source="s3://models/fraud/3", run_id=None)
    client.set_registered_model_alias("fraud-scorer", "champion", "3")
    result = _drift(cli, model, project, "--mlflow", uri, "--format", "json")
    assert result.exit_code == 1
    items = json.loads(result.stdout)["items"]
    assert any(i["subject"] == "Registered model fraud-scorer version 3" and i["category"] == "added" for i in items)
    assert any("aliases changed" in i["message"] for i in items)


def test_mlflow_unreachable_is_a_located_error(cli, tmp_path):
    pytest.importorskip("mlflow")
    project = make(tmp_path / "repo", {"a.py": "x = 1\n", "not-a-database.db": "plain text\n"})
    result = cli("discover", project, "--mlflow", f"sqlite:///{project / 'not-a-database.db'}")
    assert result.exit_code == 2
    assert result.output.startswith("--mlflow: error:") and "cannot read the MLflow registry" in result.output


def test_discover_reads_the_bundled_examples_shapes_without_error(cli, tmp_path):
    """Discovery of this repository itself: many Python files, YAML that is not a manifest, no crash."""
    repository = Path(__file__).resolve().parent.parent
    output = tmp_path / "self.yaml"
    result = cli("discover", repository, "-o", output)
    assert result.exit_code == 0, result.output
    libraries = [c for c in load_system(output).system.components if c.kind == "library"]
    assert any("pydantic" in c.technology for c in libraries)  # pyproject.toml
    assert any(c.name == "Python packages from docs/examples/projects/fraud-scorer/requirements.txt" for c in libraries)


# an Argo workflow (the shape of Argo's DAG examples) and a compiled Kubeflow v2 pipeline (IR YAML)
WORKFLOWS = {
    "workflows/train.yaml": """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: churn-}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        tasks:
          - {name: fetch, template: download-data}
          - {name: fit, template: train-model, dependencies: [fetch]}
    - name: download-data
      container: {image: "python:3.11", command: [python, fetch.py]}
    - name: train-model
      container: {image: "pytorch/pytorch:2.3.0", command: [python, train.py]}
""",
    "pipelines/pipeline.yaml": """\
pipelineInfo: {name: fraud-pipeline}
components:
  comp-preprocess: {executorLabel: exec-preprocess}
  comp-evaluate: {executorLabel: exec-evaluate}
deploymentSpec:
  executors:
    exec-preprocess:
      container: {image: "python:3.11", command: [python, prep.py]}
    exec-evaluate:
      container: {image: "python:3.11", command: [python, eval.py]}
root:
  dag:
    tasks:
      preprocess: {componentRef: {name: comp-preprocess}}
      evaluate: {componentRef: {name: comp-evaluate}, dependentTasks: [preprocess]}
""",
}


def test_argo_and_kubeflow_steps_and_their_order(cli, tmp_path):
    project = make(tmp_path / "pipelines", WORKFLOWS)
    document, output, _ = discover(cli, project)
    named = {c["name"]: c for c in document["components"]}
    fetch, fit = named["churn: download-data"], named["churn: train-model"]
    assert fetch["kind"] == "data-collection" and fit["kind"] == "training-job"
    assert "pytorch/pytorch:2.3.0" in fit["technology"]
    assert (fetch["id"], fit["id"]) in flows(document)
    preprocess, evaluate = named["fraud-pipeline: preprocess"], named["fraud-pipeline: evaluate"]
    assert evaluate["kind"] == "evaluation-harness"
    assert (preprocess["id"], evaluate["id"]) in flows(document)
    assert cli("validate", output).exit_code == 0


def test_a_draft_reports_threats_on_what_it_found(cli, tmp_path):
    """A public inference API that loads a pickle-based file: the draft, unedited, raises findings
    on the public workload and on the model file."""
    project = make(tmp_path / "api", SERVING)
    _, output, _ = discover(cli, project)
    found = findings(output)
    model = next(c for c in yaml.safe_load(output.read_text())["components"]
                 if c.get("paths") == ["model/model.joblib"])
    assert any(f.endswith(f"@{model['id']}") for f in found)
    service = next(c for c in yaml.safe_load(output.read_text())["components"] if c["name"] == "app/main.py")
    assert f"ML05@{service['id']}" in found and f"ML01@{service['id']}" in found  # public through the LoadBalancer


# the shape of the Husky AI repository (wunderwuzzi23/huskyai, as its author describes it): an
# image collector calling Bing with a key from a home-folder file, label-named image folders, a
# Keras training notebook saving an .h5 file, and a plain http.server that loads it
HUSKY_SHAPE = {
    "gather/gather_images.py": ("import os\nimport requests\n"
                                "key = open(os.path.expanduser('~/.bingimagessearchkey')).read().strip()\n"
                                "r = requests.get('https://api.bing.microsoft.com/v7.0/images/search', "
                                "headers={'Ocp-Apim-Subscription-Key': key})\n"
                                "open('data/training/husky/1.jpg', 'wb').write(r.content)\n"),
    "data/training/husky/1.jpg": b"\xff\xd8\xff\xe0",
    "data/training/nothusky/2.jpg": b"\xff\xd8\xff\xe0",
    "data/validation/husky/3.jpg": b"\xff\xd8\xff\xe0",
    "huskyai.ipynb": notebook("import tensorflow as tf\nfrom tensorflow import keras\n",
                              "model = keras.Sequential()\nmodel.fit(None)\nmodel.save('models/huskymodel.h5')\n"),
    "models/huskymodel.h5": b"\x89HDF\r\n\x1a\n" + bytes(32),
    "server/server.py": ("import tensorflow as tf\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n"
                         "model = tf.keras.models.load_model('../models/huskymodel.h5')\n"
                         "HTTPServer(('', 8080), BaseHTTPRequestHandler).serve_forever()\n"),
    "requirements.txt": "tensorflow==2.3.1\nrequests==2.24.0\n",
}


def test_a_husky_ai_shaped_project_yields_what_its_author_modelled(cli, tmp_path):
    project = make(tmp_path / "huskyai", HUSKY_SHAPE)
    document, output, result = discover(cli, project)
    named = {c["name"]: c for c in document["components"]}
    collector = named["gather/gather_images.py"]
    assert collector["kind"] == "data-collection"
    bing = named["api.bing.microsoft.com"]
    assert bing["kind"] == "external-service" and (collector["id"], bing["id"]) in flows(document)
    key = named["Key file ~/.bingimagessearchkey"]
    assert key["kind"] == "secret" and (key["id"], collector["id"]) in flows(document)
    images = {tuple(c["paths"]): c for c in by_kind(document, "dataset")}
    assert images[("data/training",)]["purpose"] == "training"
    assert images[("data/validation",)]["purpose"] == "validation"
    model = next(c for c in by_kind(document, "model-artifact"))
    assert model["format"] == "keras-h5"
    server = named["server/server.py"]
    assert server["kind"] == "inference-service" and (model["id"], server["id"]) in flows(document)
    notebook_component = by_kind(document, "notebook")[0]
    assert (notebook_component["id"], model["id"]) in flows(document)
    assert "load_model() can run code stored in the file it loads" in result.output
    found = findings(output)
    assert f"CREDENTIAL-THEFT@{key['id']}" in found
    assert any(f.startswith("ML02@") for f in found)  # the outside image source can poison the data


# the shape of a coding agent (the bundled coding-agent example, as code): an agent with a shell
# tool, a Python REPL tool and MCP servers, one run by npx from a public registry
CODING_AGENT = {
    "agent.py": ("from langchain_anthropic import ChatAnthropic\n"
                 "from langchain_community.tools import ShellTool\n"
                 "from langchain_mcp_adapters.client import MultiServerMCPClient\n"
                 "from langgraph.prebuilt import create_react_agent\n"
                 "client = MultiServerMCPClient({'github': {'command': 'npx', 'args': ['-y', '@org/github-mcp']},\n"
                 "                               'files': {'command': 'python', 'args': ['files_server.py']}})\n"
                 "agent = create_react_agent(ChatAnthropic(model='claude-sonnet-4'), [ShellTool()])\n"),
    "files_server.py": "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('files')\n",
    "requirements.txt": "langchain-anthropic\nlanggraph\nlangchain-mcp-adapters\nmcp\n",
}


def test_a_coding_agent_shaped_project(cli, tmp_path):
    project = make(tmp_path / "agent", CODING_AGENT)
    document, output, _ = discover(cli, project)
    named = {c["name"]: c for c in document["components"]}
    agent = named["agent.py"]
    assert agent["kind"] == "agent"
    shell = next(c for c in by_kind(document, "tool") if c["name"] == "Tool ShellTool")
    assert shell["capabilities"] == ["execute"] and (agent["id"], shell["id"]) in flows(document)
    servers = {c["name"]: c for c in by_kind(document, "mcp-server")}
    assert set(servers) == {"MCP server github", "files_server.py"}  # the team's own server is its file
    github = servers["MCP server github"]
    assert github["origin"] == "third-party" and github["pinned"] is False  # npx -y @org/github-mcp
    assert (agent["id"], servers["files_server.py"]["id"]) in flows(document)
    llm = by_kind(document, "llm")[0]
    assert llm["name"] == "Anthropic API"
    assert cli("validate", output).exit_code == 0
    assert findings(output)


from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stage=_TEXT, command=_TEXT, requirement=_TEXT, host=_TEXT)
def test_any_text_in_project_files_gives_a_valid_draft_that_says_only_what_was_found(tmp_path_factory, stage, command,
                                                                                      requirement, host):
    from threatmodel.cli import app
    from typer.testing import CliRunner

    project = tmp_path_factory.mktemp("prop")
    make(project, {
        "dvc.yaml": ("stages:\n  " + json.dumps(stage, ensure_ascii=False) + ":\n    cmd: "
                     + json.dumps(command, ensure_ascii=False) + "\n    outs: [m.pkl]\n"),
        "requirements.txt": requirement.replace("\r", "") + "\n",
        "fetch.py": f"import requests\nrequests.get({json.dumps('https://' + host)})\nopen('data/x.csv', 'w')\n",
        "data/x.csv": "a\n",
    })
    result = CliRunner().invoke(app, ["discover", str(project), "-o", str(project / "m.yaml")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    loaded = load_system(project / "m.yaml").system
    stages = [c for c in loaded.components if c.description.startswith("DVC stage")]
    if stages:
        assert len(stages) == 1
    else:  # YAML refuses some characters (U+FFFE, controls): the file is reported, not half-read
        assert "dvc.yaml" in result.output and "not read" in result.output
    assert all(c.kind != "llm" for c in loaded.components)  # nothing the files did not say


def test_the_public_api_discovers_and_drifts(tmp_path):
    import threatmodel as tm

    project = make(tmp_path / "api", {"train.py": "import torch\nfrom transformers import AutoModel\n"
                                                  "m = AutoModel.from_pretrained('org/base')\nm.train()\n"})
    found = tm.discover_project(project)
    assert any(e.values["kind"] == "pretrained-model" for e in found.draft.components)
    assert found.snapshot["format"] == "threatmodel-discovery"
    model = tmp_path / "model.yaml"
    model.write_text("system: {name: empty}\n")
    report = tm.drift(model, project)
    assert report.count("added") >= 2 and report.failing("added")


def test_seldon_deployments_and_bad_drift_arguments(cli, tmp_path):
    project = make(tmp_path / "seldon", {"deploy/seldon.yaml": """\
apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: iris}
spec:
  predictors:
    - name: default
      graph:
        name: classifier
        implementation: SKLEARN_SERVER
        modelUri: gs://seldon-models/sklearn/iris
"""})
    document, output, _ = discover(cli, project)
    service = next(c for c in by_kind(document, "inference-service") if c["name"] == "Seldon deployment iris")
    stored = next(c for c in by_kind(document, "model-artifact") if "seldon-models" in c["name"])
    assert stored["format"] == "joblib" and (stored["id"], service["id"]) in flows(document)
    not_a_folder = cli("drift", output, output)
    assert not_a_folder.exit_code == 2 and "not a folder" in not_a_folder.output
    bad_snapshot = tmp_path / "snap.json"
    bad_snapshot.write_text('{"format": "something else"}')
    refused = cli("drift", output, project, "--snapshot", bad_snapshot)
    assert refused.exit_code == 2 and "not a discovery snapshot" in refused.output
