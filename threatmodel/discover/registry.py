"""An MLflow model registry, read with the real ``mlflow`` client (``pip install
'threatmodel[mlflow]'``): registered models, their versions, stages, aliases and where each
version's files are. Reading is all this does: nothing is created or changed in the registry.
"""

from __future__ import annotations

import logging
from typing import Any

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.discover.project import Inventory, K

MAX_MODELS = 5_000
MAX_VERSIONS = 1_000


def _fail(uri: str, message: str) -> InputError:
    return InputError([Diagnostic(Location("--mlflow"), f"{uri}: {message}")])


def _pages(search: Any, limit: int, **arguments: Any) -> list[Any]:
    found: list[Any] = []
    token = None
    while len(found) < limit:
        page = search(max_results=min(1000, limit - len(found)) if "filter_string" not in arguments else 1000,
                      page_token=token, **arguments)
        found.extend(page)
        token = getattr(page, "token", None)
        if not token:
            break
    return found[:limit]


def read_mlflow(inventory: Inventory, uri: str) -> None:
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise _fail(uri, "reading an MLflow registry needs the MLflow client: pip install 'threatmodel[mlflow]'") from None
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        models = _pages(client.search_registered_models, MAX_MODELS)
    except Exception as exc:  # the client raises many types (MlflowException, OSError, SQLAlchemy errors)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise _fail(uri, f"cannot read the MLflow registry: {first}") from None
    registry = inventory.add("registry:mlflow", K.registry, "MLflow model registry", f"--mlflow {uri}")
    registry.values.setdefault("technology", "MLflow")
    registry.facts["uri"] = _redact(uri)
    for model in sorted(models, key=lambda m: m.name):
        try:
            versions = _pages(client.search_model_versions, MAX_VERSIONS, filter_string=f"name='{_quote(model.name)}'")
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            inventory.warn(f"--mlflow {uri}", f"versions of '{model.name}' not read: {first}")
            versions = []
        aliases = dict(getattr(model, "aliases", {}) or {})
        facts: dict[str, Any] = {}
        for version in sorted(versions, key=lambda v: int(v.version)):
            facts[str(version.version)] = {
                "source": str(version.source or ""), "stage": str(version.current_stage or "None"),
                "status": str(version.status or ""),
                "aliases": sorted(a for a, v in aliases.items() if str(v) == str(version.version)),
            }
        thing = inventory.add(f"registered:{model.name}", K.model_file, f"Registered model {model.name}",
                              f"--mlflow {uri}")
        thing.values.setdefault("technology", "MLflow model registry")
        thing.values.setdefault("description", _describe(facts)[:500])
        thing.facts.update(versions=facts)
        inventory.flow(thing.key, registry.key, "registered versions")
        inventory.ask(f"In which format are the versions of registered model '{model.name}' saved (format: "
                      "pickle, safetensors, onnx, …)? MLflow's default flavours pickle most models.")


def _describe(versions: dict[str, Any]) -> str:
    if not versions:
        return "No versions"
    parts = [f"Versions {', '.join(versions)}"]
    for number, version in versions.items():
        labels = [f"alias {a}" for a in version["aliases"]] + ([f"stage {version['stage']}"]
                                                              if version["stage"] not in ("None", "") else [])
        if labels:
            parts.append(f"{' and '.join(labels)} → version {number}")
    latest = list(versions.values())[-1]
    parts.append(f"latest stored at {latest['source']}")
    return "; ".join(parts)


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def _redact(uri: str) -> str:
    """A URI without the password it may carry (``https://user:secret@host``)."""
    import re

    return re.sub(r"(://[^:/@]+):[^@/]+@", r"\1:***@", uri)
