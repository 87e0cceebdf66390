"""Pipelines as their files declare them: DVC stages and tracked files, MLflow projects, Argo
workflows and compiled Kubeflow pipelines. Each step becomes a job; what it reads and writes
becomes datasets and model artifacts with the flows between them.

These files are YAML, read as data with the project's located loader and its limits; a file
that fails to parse is reported with its location and skipped.
"""

from __future__ import annotations

import configparser
import re
import shlex
from typing import Any

from threatmodel.core.errors import InputError
from threatmodel.core.located_yaml import parse_yaml, parse_yaml_documents
from threatmodel.discover.artifacts import model_format
from threatmodel.discover.project import Inventory, K, MAX_MANIFEST_BYTES, Thing, tables

_WORDS = re.compile(r"[a-z0-9]+")


def where(rel: str, node: Any) -> str:
    location = getattr(node, "location", None)
    return f"{rel}:{location.line}" if location is not None and location.line else rel


def step_kind(*texts: str) -> tuple[str, str]:
    """(kind, why) for a pipeline step, from words in its name and command."""
    words: set[str] = set()
    for text in texts:
        words.update(_WORDS.findall(text.lower()))
    for row in tables()["step_kinds"]:
        hit = words & set(row["words"])
        if hit:
            return row["kind"], f"the step's name or command says '{sorted(hit)[0]}'"
    return "process", ""


def _yaml(inventory: Inventory, rel: str, many: bool = False) -> Any:
    text = inventory.project.read_text(rel, MAX_MANIFEST_BYTES)
    if text is None:
        return None
    try:
        return parse_yaml_documents(text, rel) if many else parse_yaml(text, rel)
    except InputError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        inventory.warn(str(first.location) if first else rel, f"not read: {first.message if first else 'invalid YAML'}")
        return None


def _paths(entries: Any) -> list[tuple[str, Any]]:
    """DVC deps/outs: strings, or one-key mappings {path: options}."""
    found: list[tuple[str, Any]] = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, str):
            found.append((entry, entry))
        elif isinstance(entry, dict):
            found.extend((str(key), entry) for key in entry if isinstance(key, str))
    return found


def scripts_in(command: str, base: str = "") -> list[str]:
    """Project files a command runs: ``python src/train.py``, ``python -m pkg.train``."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    found = []
    for index, word in enumerate(words):
        if word.endswith((".py", ".ipynb", ".sh")):
            found.append(_join(base, word))
        elif word == "-m" and index + 1 < len(words):
            module = words[index + 1].replace(".", "/")
            found.extend([_join(base, module + ".py"), _join(base, module + "/__main__.py")])
    return found


def _join(base: str, rel: str) -> str:
    parts: list[str] = []
    for part in (f"{base}/{rel}" if base else rel).split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


def artifact_for(inventory: Inventory, rel: str, seen: str, tracked_by: str = "") -> Thing:
    """The dataset or model artifact at ``rel``: the one found on disk, else a new one (a file
    DVC tracks is often absent from a clone: it lives in the DVC cache or remote)."""
    existing = inventory.covering(rel)
    if existing is not None and existing.kind in (K.data, K.model_file):
        existing.saw(seen)
        return existing
    named = model_format(rel)
    if named:
        thing = inventory.add(f"model:{rel}", K.model_file, f"Model {rel}", seen)
        thing.note("format", named[0], "from the file name")
    else:
        thing = inventory.add(f"data:{rel}", K.data, f"Data {rel}", seen)
    inventory.set_paths(thing, [rel], keep=True)
    if tracked_by and not (inventory.project.root / rel).exists():
        thing.facts["absent"] = True
        thing.facts.setdefault("tracked_by", tracked_by)
    return thing


def _step(inventory: Inventory, key: str, name: str, command: str, seen: str, writes_model: bool,
          description: str) -> Thing:
    kind, why = step_kind(name, command)
    if writes_model and kind not in (K.training, K.fine_tuning):
        kind, why = K.training, "the step writes a model file"
    thing = inventory.add(key, kind, name, seen)
    if why:
        thing.notes["kind"] = why
    else:
        thing.notes["kind"] = "a pipeline step whose name does not say what it does"
    thing.values.setdefault("description", description)
    return thing


def read_dvc(inventory: Inventory) -> None:
    project = inventory.project
    for rel in project.matching(["dvc.yaml"]):
        document = _yaml(inventory, rel)
        if not isinstance(document, dict) or not isinstance(document.get("stages"), dict):
            if document is not None:
                inventory.warn(where(rel, document), "not read: a dvc.yaml needs a 'stages' mapping of stage names")
            continue
        base = rel.rsplit("/", 1)[0] if "/" in rel else ""
        for name, stage in document["stages"].items():
            if not isinstance(stage, dict):
                continue
            body = stage.get("do") if isinstance(stage.get("do"), dict) else stage
            command = body.get("cmd", "")
            command = " && ".join(map(str, command)) if isinstance(command, list) else str(command or "")
            wdir = _join(base, str(body.get("wdir", ""))) if body.get("wdir") else base
            deps, outs = _paths(body.get("deps")), _paths(body.get("outs"))
            writes_model = any(model_format(path) for path, _ in outs)
            templated = " (templated with foreach/matrix: one component for every generated stage)" \
                if ("foreach" in stage or "matrix" in stage) else ""
            step = _step(inventory, f"stage:dvc:{name}", str(name), command, where(rel, stage), writes_model,
                         f"DVC stage '{name}': {command}"[:300] + templated)
            step.values.setdefault("technology", "DVC pipeline stage")
            for script in scripts_in(command, wdir):
                inventory.code_owner.setdefault(script, step.key)
            for path, node in deps:
                target = _join(wdir, path)
                if target.endswith((".py", ".sh", ".ipynb")) or target in inventory.code_owner:
                    inventory.code_owner.setdefault(target, step.key)
                    continue
                source = artifact_for(inventory, target, where(rel, node), "DVC")
                inventory.flow(source.key, step.key, "reads")
            for path, node in outs:
                target = artifact_for(inventory, _join(wdir, path), where(rel, node), "DVC")
                inventory.flow(step.key, target.key, "writes")
    for rel in project.matching(["*.dvc"]):
        document = _yaml(inventory, rel)
        if not isinstance(document, dict):
            continue
        base = rel.rsplit("/", 1)[0] if "/" in rel else ""
        for out in document.get("outs") or []:
            if isinstance(out, dict) and isinstance(out.get("path"), str):
                thing = artifact_for(inventory, _join(base, out["path"]), where(rel, out), "DVC")
                digest = out.get("md5") or out.get("hash")
                if isinstance(digest, str):
                    thing.facts["dvc_md5"] = digest
    _read_dvc_remotes(inventory)


def _read_dvc_remotes(inventory: Inventory) -> None:
    text = inventory.project.read_text(".dvc/config") if (inventory.project.root / ".dvc" / "config").is_file() else None
    if not text:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        inventory.warn(".dvc/config", f"not read: {str(exc).splitlines()[0]}")
        return
    tracked = [t for t in inventory.things.values() if t.facts.get("tracked_by") == "DVC" or t.key.startswith("data:")]
    for section in parser.sections():
        match = re.fullmatch(r"""\s*['"]?remote\s+"?([^"']+)"?['"]?\s*""", section)
        if not match or "url" not in parser[section]:
            continue
        url = parser[section]["url"]
        scheme = url.split("://", 1)[0] if "://" in url else "local"
        remote = inventory.add(f"store:dvc:{match.group(1)}", K.storage, f"DVC remote '{match.group(1)}'", ".dvc/config")
        remote.values.setdefault("technology", f"DVC remote storage ({scheme})")
        remote.values.setdefault("description", f"Where DVC pushes and pulls tracked data and models: {url}"[:300])
        for thing in tracked:
            inventory.flow(remote.key, thing.key, "dvc pull")


def read_mlproject(inventory: Inventory) -> None:
    for rel in inventory.project.matching(["MLproject", "MLproject.yaml"]):
        document = _yaml(inventory, rel)
        if not isinstance(document, dict):
            continue
        base = rel.rsplit("/", 1)[0] if "/" in rel else ""
        project_name = str(document.get("name") or base or "mlproject")
        points = document.get("entry_points")
        for name, point in (points.items() if isinstance(points, dict) else []):
            if not isinstance(point, dict):
                continue
            command = str(point.get("command", ""))
            step = _step(inventory, f"stage:mlproject:{project_name}:{name}", f"{project_name}: {name}", command,
                         where(rel, point), False, f"MLflow project entry point '{name}': {command}"[:300])
            step.values.setdefault("technology", "MLflow project")
            for script in scripts_in(command, base):
                inventory.code_owner.setdefault(script, step.key)
        docker = document.get("docker_env")
        if isinstance(docker, dict) and isinstance(docker.get("image"), str):
            inventory.warn(where(rel, docker), f"runs in the container image {docker['image']!r}: its contents are "
                                               "third-party code the draft does not list")


def read_workflows(inventory: Inventory) -> None:
    """Argo workflows (and Kubeflow v1, compiled to Argo) and compiled Kubeflow v2 pipelines."""
    for rel in inventory.project.matching(["*.yaml", "*.yml"]):
        if rel.rsplit("/", 1)[-1] in ("dvc.yaml", "MLproject.yaml") or rel.startswith(".github/"):
            continue
        text = inventory.project.read_text(rel, MAX_MANIFEST_BYTES) if _may_be_workflow(inventory, rel) else None
        if not text:
            continue
        try:
            documents = parse_yaml_documents(text, rel)
        except InputError as exc:
            first = exc.diagnostics[0] if exc.diagnostics else None
            inventory.warn(str(first.location) if first else rel, f"not read: {first.message if first else 'invalid YAML'}")
            continue
        for document in documents:
            if not isinstance(document, dict):
                continue
            if str(document.get("apiVersion", "")).startswith("argoproj.io/") and \
                    document.get("kind") in ("Workflow", "WorkflowTemplate", "CronWorkflow", "ClusterWorkflowTemplate"):
                _argo(inventory, rel, document)
            elif isinstance(document.get("deploymentSpec"), dict) and isinstance(document.get("root"), dict):
                _kubeflow(inventory, rel, document)


def _may_be_workflow(inventory: Inventory, rel: str) -> bool:
    head = inventory.project.head(rel)
    return b"argoproj.io" in head or b"deploymentSpec" in head


def _argo(inventory: Inventory, rel: str, document: dict[str, Any]) -> None:
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    workflow = str(metadata.get("name") or metadata.get("generateName") or rel).rstrip("-")
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    if document.get("kind") == "CronWorkflow" and isinstance(spec.get("workflowSpec"), dict):
        spec = spec["workflowSpec"]
    keys: dict[str, str] = {}
    for template in spec.get("templates") or []:
        if not isinstance(template, dict) or not isinstance(template.get("name"), str):
            continue
        body = template.get("container") or template.get("script")
        if not isinstance(body, dict):
            continue
        command = " ".join(str(p) for p in (body.get("command") or []) + (body.get("args") or []) if isinstance(p, (str, int)))
        command = command or str(body.get("source", ""))[:200]
        name = template["name"]
        step = _step(inventory, f"stage:argo:{workflow}:{name}", f"{workflow}: {name}", command,
                     where(rel, template), False, f"Argo workflow step '{name}' in {workflow}"[:300])
        step.values.setdefault("technology", f"container {body.get('image', 'unknown image')}"[:200])
        keys[name] = step.key
    for template in spec.get("templates") or []:
        if not isinstance(template, dict):
            continue
        tasks = (template.get("dag") or {}).get("tasks") if isinstance(template.get("dag"), dict) else None
        by_task = {t.get("name"): t.get("template") for t in tasks or [] if isinstance(t, dict)}
        for task in tasks or []:
            if not isinstance(task, dict):
                continue
            for dependency in task.get("dependencies") or []:
                source, target = keys.get(by_task.get(dependency, "")), keys.get(task.get("template", ""))
                if source and target:
                    inventory.flow(source, target, "then")
        previous: list[str] = []
        for group in template.get("steps") or []:
            current = [keys[s["template"]] for s in (group if isinstance(group, list) else [group])
                       if isinstance(s, dict) and s.get("template") in keys]
            for source in previous:
                for target in current:
                    inventory.flow(source, target, "then")
            previous = current or previous


def _kubeflow(inventory: Inventory, rel: str, document: dict[str, Any]) -> None:
    info = document.get("pipelineInfo") if isinstance(document.get("pipelineInfo"), dict) else {}
    pipeline = str(info.get("name") or rel)
    executors = document["deploymentSpec"].get("executors") or {}
    components = document.get("components") if isinstance(document.get("components"), dict) else {}
    keys: dict[str, str] = {}
    for component_name, component in components.items():
        executor = executors.get(component.get("executorLabel", "")) if isinstance(component, dict) else None
        container = executor.get("container") if isinstance(executor, dict) else None
        if not isinstance(container, dict):
            continue
        command = " ".join(str(p) for p in (container.get("command") or []) + (container.get("args") or [])
                           if isinstance(p, str))[:400]
        name = str(component_name).removeprefix("comp-")
        step = _step(inventory, f"stage:kubeflow:{pipeline}:{name}", f"{pipeline}: {name}", f"{name} {command}",
                     where(rel, component), False, f"Kubeflow pipeline component '{name}' in {pipeline}")
        step.values.setdefault("technology", f"container {container.get('image', 'unknown image')}"[:200])
        keys[str(component_name)] = step.key
    dag = document["root"].get("dag") if isinstance(document["root"].get("dag"), dict) else {}
    tasks = dag.get("tasks") if isinstance(dag.get("tasks"), dict) else {}

    def component_of(task: Any) -> str | None:
        reference = task.get("componentRef") if isinstance(task, dict) else None
        return keys.get(reference.get("name", "")) if isinstance(reference, dict) else None

    for task in tasks.values():
        target = component_of(task)
        for dependency in (task.get("dependentTasks") or []) if isinstance(task, dict) else []:
            source = component_of(tasks.get(dependency))
            if source and target:
                inventory.flow(source, target, "then")
