"""Draft a system model from an ML project as it is (``threatmodel discover``), and compare a
model with the project later (``threatmodel drift``).

Readers, one module per kind of file, add what they find to an :class:`~.project.Inventory`:
pipelines (DVC, MLflow projects, Argo, Kubeflow), artifacts on disk (model files by their bytes,
datasets), code and notebooks (parsed with :mod:`ast`), dependency lists and lock files,
serving manifests (Dockerfiles, compose, Kubernetes, KServe, Seldon) and, when asked, an
MLflow registry. :mod:`.draft` turns the inventory into a draft model and a snapshot;
:mod:`.drift` compares a model (and an earlier snapshot) with a new discovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from threatmodel.system.draft import Draft
from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.discover.project import Inventory, K, walk


@dataclass
class Discovery:
    inventory: Inventory
    draft: Draft
    ids: dict[str, str]  # thing key -> component id in the draft
    snapshot: dict[str, Any]

    @property
    def warnings(self) -> list[str]:
        return self.inventory.warnings

    @property
    def questions(self) -> list[str]:
        return self.inventory.questions


def _project_name(inventory: Inventory) -> str:
    import tomllib

    text = inventory.project.read_text("pyproject.toml") if "pyproject.toml" in inventory.project.files else None
    if text:
        try:
            document = tomllib.loads(text)
            for table in (document.get("project"), (document.get(K.tool_function) or {}).get("poetry")):
                if isinstance(table, dict) and isinstance(table.get("name"), str) and table["name"].strip():
                    return table["name"].strip()[:100]
        except tomllib.TOMLDecodeError:
            pass
    return inventory.project.root.name or "project"


def inventory_of(path: Path, mlflow: str | None = None) -> Inventory:
    """Read a project folder (and an MLflow registry) into an inventory."""
    from threatmodel.discover.artifacts import read_artifacts
    from threatmodel.discover.code import read_code
    from threatmodel.discover.dependencies import read_dependencies
    from threatmodel.discover.pipelines import read_dvc, read_mlproject, read_workflows
    from threatmodel.discover.serving import read_compose, read_dockerfiles, read_kubernetes

    shown = str(path)
    if not path.exists():
        raise InputError([Diagnostic(Location(shown), "no such folder")])
    if not path.is_dir():
        raise InputError([Diagnostic(Location(shown), "not a folder: discover reads a project folder")])
    root = path.resolve()
    inventory = Inventory(walk(root))
    read_artifacts(inventory)
    read_dvc(inventory)
    read_mlproject(inventory)
    read_workflows(inventory)
    read_code(inventory)
    read_dockerfiles(inventory)
    read_compose(inventory)
    read_kubernetes(inventory)
    read_dependencies(inventory)
    if mlflow:
        from threatmodel.discover.registry import read_mlflow

        read_mlflow(inventory, mlflow)
    from threatmodel.discover.draft import link_libraries

    link_libraries(inventory)
    inventory.drop_answered()
    return inventory


def discover(path: Path, mlflow: str | None = None, output: Path | None = None) -> Discovery:
    """Read a project and draft its model; paths in the draft are relative to the folder of
    ``output`` when the project lies inside it."""
    from threatmodel.discover.draft import build_draft, relative_base, snapshot

    inventory = inventory_of(path, mlflow)
    draft, ids = build_draft(inventory, relative_base(output), _project_name(inventory))
    return Discovery(inventory, draft, ids, snapshot(inventory, ids))
