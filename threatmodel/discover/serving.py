"""How the project is served: Dockerfiles, docker-compose files and Kubernetes manifests
(Deployments, Services, Ingresses, KServe InferenceServices, Seldon deployments). Ports and
services become components; exposure and authentication are set only where a manifest says
so (a LoadBalancer Service, an Ingress auth annotation, a port published on loopback only),
and asked otherwise.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

from threatmodel.core.errors import InputError
from threatmodel.core.located_yaml import parse_yaml_documents
from threatmodel.discover.artifacts import model_format
from threatmodel.discover.pipelines import _join, scripts_in, where
from threatmodel.discover.project import Inventory, K, MAX_MANIFEST_BYTES, Thing, tables

AUTH_ANNOTATIONS = ("nginx.ingress.kubernetes.io/auth-url", "nginx.ingress.kubernetes.io/auth-type",
                    "nginx.ingress.kubernetes.io/auth-signin", "konghq.com/plugins",
                    "traefik.ingress.kubernetes.io/router.middlewares", "alb.ingress.kubernetes.io/auth-type")
KSERVE_FORMATS = {"sklearn": "joblib", "xgboost": "other", "lightgbm": "other", "pytorch": "pytorch",
                  "tensorflow": "tensorflow-savedmodel", "onnx": "onnx", "triton": "other", "pmml": "other",
                  "huggingface": "other", "mlflow": "other", "paddle": "other"}


def image_kind(image: str) -> tuple[str, str] | None:
    """(kind, title) for a container image, from the image table."""
    name = re.split(r"[:@]", image.strip(), maxsplit=1)[0] if not image.startswith("localhost:") else image
    name = re.sub(r"^(docker\.io/)?(library/)?", "", name)
    for row in tables()["images"]:
        for pattern in row["names"]:
            if fnmatchcase(name, pattern) or name.endswith("/" + pattern):
                return row["kind"], row.get("title", "")
    return None


def serves(command: str) -> bool:
    command = " ".join(command.split())
    return any(re.search(rf"(^|[\s/\"'\[,]){re.escape(word)}(\s|$|[\"',\]])", command) for word in tables()["serving_commands"])


def _script_thing(inventory: Inventory, command: str, base: str) -> Thing | None:
    candidates = scripts_in(command, base)
    for match in re.finditer(r"([A-Za-z_][\w.]*):[A-Za-z_]\w*", command):  # uvicorn pkg.module:app
        candidates.append(_join(base, match.group(1).replace(".", "/") + ".py"))
    for script in candidates:
        thing = inventory.things.get(f"code:{script}") or inventory.things.get(inventory.code_owner.get(script, ""))
        if thing is not None:
            return thing
    return None


def _serving_thing(inventory: Inventory, key: str, name: str, seen: str, command: str, base: str) -> Thing:
    thing = _script_thing(inventory, command, base)
    if thing is None:
        thing = inventory.add(key, K.service, name, seen)
        thing.notes["kind"] = "a container that serves requests (its command or exposed port)"
    else:
        thing.saw(seen)
        if thing.kind in ("process", K.training):
            thing.kind = K.service
            thing.notes["kind"] = "the container that runs this code serves requests"
    return thing


def read_dockerfiles(inventory: Inventory) -> None:
    for rel in inventory.project.matching(["Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile"]):
        text = inventory.project.read_text(rel)
        if text is None:
            continue
        base = rel.rsplit("/", 1)[0] if "/" in rel else ""
        ports: list[str] = []
        command, images = "", []
        line_of: dict[str, int] = {}
        for number, instruction, argument in _instructions(text):
            if instruction == "FROM":
                images.append(argument.split()[0] if argument.split() else "")
                line_of.setdefault("FROM", number)
            elif instruction == "EXPOSE":
                ports.extend(argument.split())
                line_of.setdefault("EXPOSE", number)
            elif instruction in ("CMD", "ENTRYPOINT"):
                command = (command + " " + _exec_form(argument)).strip()
                line_of.setdefault("CMD", number)
            elif instruction in ("ENV", "ARG"):
                for name, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)[= ]\"?([^\s\"]+)", argument):
                    if re.search(tables()["credential_names"], name) and value and not value.startswith("$"):
                        inventory.warn(f"{rel}:{number}", f"{instruction} {name} sets a literal value in the image "
                                                          "(not copied here); pass secrets at run time")
        if not (ports or serves(command)):
            continue
        label = base or "the project root"
        thing = _serving_thing(inventory, f"service:docker:{rel}", f"Service built from {rel}",
                               f"{rel}:{line_of.get('CMD') or line_of.get('EXPOSE') or 1}", command, base)
        thing.facts.setdefault("dockerfiles", []).append(rel)
        if images:
            thing.values.setdefault("technology", f"container from {images[-1]}"[:200])
            if "@sha256:" not in images[-1]:
                thing.facts["base_image_unpinned"] = images[-1]
        if ports:
            thing.facts["ports"] = sorted(set(ports))
            inventory.ask(f"Who can reach {thing.name} ({label}, port {', '.join(sorted(set(ports)))}): the "
                          "internet, or only the internal network? (exposure: public or internal; authenticated: "
                          "true when callers must sign in)", thing.key)


def _instructions(text: str) -> list[tuple[int, str, str]]:
    found, pending, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        parts = full.split(None, 1)
        if parts:
            found.append((start, parts[0].upper(), parts[1] if len(parts) > 1 else ""))
    return found


def _exec_form(argument: str) -> str:
    argument = argument.strip()
    if argument.startswith("["):
        return " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', argument))
    return argument


def _documents(inventory: Inventory, rel: str) -> list[Any]:
    text = inventory.project.read_text(rel, MAX_MANIFEST_BYTES)
    if text is None:
        return []
    if "{{" in text or "{%" in text:
        inventory.project.skip(rel, "a template (Helm or Jinja), not a manifest; not read")
        return []
    try:
        return [d for d in parse_yaml_documents(text, rel) if isinstance(d, dict)]
    except InputError as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        inventory.warn(str(first.location) if first else rel, f"not read: {first.message if first else 'invalid YAML'}")
        return []


def read_compose(inventory: Inventory) -> None:
    for rel in inventory.project.matching(["docker-compose*.yml", "docker-compose*.yaml", "compose.yml", "compose.yaml",
                                           "compose.*.yml", "compose.*.yaml"]):
        for document in _documents(inventory, rel):
            services = document.get("services")
            if not isinstance(services, dict):
                continue
            base = rel.rsplit("/", 1)[0] if "/" in rel else ""
            keys: dict[str, str] = {}
            for name, service in services.items():
                if not isinstance(service, dict):
                    continue
                thing = _compose_service(inventory, rel, base, str(name), service)
                keys[str(name)] = thing.key
            for name, service in services.items():
                if not isinstance(service, dict) or str(name) not in keys:
                    continue
                depends = service.get("depends_on")
                for dependency in (depends if isinstance(depends, list) else list(depends or {})):
                    if str(dependency) in keys:
                        inventory.flow(keys[str(name)], keys[str(dependency)], "calls", both_ways=True)


def _compose_service(inventory: Inventory, rel: str, base: str, name: str, service: dict[str, Any]) -> Thing:
    seen = where(rel, service)
    image = str(service.get("image") or "")
    command = service.get("command") or service.get("entrypoint") or ""
    command = " ".join(map(str, command)) if isinstance(command, list) else str(command)
    known = image_kind(image) if image else None
    build = service.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    thing: Thing | None = None
    if isinstance(context, str):
        folder = _join(base, context)
        for candidate in inventory.things.values():
            if any(d.rsplit("/", 1)[0] == folder or (folder == "" and "/" not in d)
                   for d in candidate.facts.get("dockerfiles", [])):
                thing = candidate
                thing.saw(seen)
    if thing is None:
        kind = known[0] if known else (K.service if serves(command) else "process")
        thing = inventory.add(f"service:compose:{name}", kind, known[1] if known and known[1] else name, seen)
        thing.notes["kind"] = (f"the image {image}" if known else
                               "its command serves requests" if kind == K.service else
                               "a compose service whose image does not say what it does")
    if image:
        thing.values.setdefault("technology", f"container image {image}"[:200])
        if "@sha256:" not in image and ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
            thing.facts["image_unpinned"] = image
    ports = service.get("ports") or []
    published = [str(p.get("published", p.get("target"))) if isinstance(p, dict) else str(p) for p in ports]
    if published:
        thing.facts["ports"] = published
        if all(p.startswith(("127.0.0.1:", "localhost:", "[::1]:")) for p in published):
            thing.note("exposure", "internal", f"{rel}: published on the host's loopback address only")
        else:
            inventory.ask(f"Who can reach compose service '{name}' on {', '.join(published)}: the internet, or only "
                          "the internal network? (exposure: public or internal)", thing.key)
    environment = service.get("environment")
    items = environment.items() if isinstance(environment, dict) else (
        (e.split("=", 1) + [""])[:2] for e in environment if isinstance(e, str)) if isinstance(environment, list) else []
    for key, value in items:
        if re.search(tables()["credential_names"], str(key)) and value not in (None, "") and \
                not str(value).startswith("$"):
            inventory.warn(seen, f"environment {key} holds a literal value (not copied here); use a secret or an .env file "
                                 "kept out of the repository")
        if str(key) == "MLFLOW_TRACKING_URI":
            registry = inventory.add("registry:mlflow", K.registry, "MLflow model registry", seen)
            registry.values.setdefault("technology", "MLflow")
            inventory.flow(thing.key, registry.key, "tracking and registry calls", both_ways=True)
    return thing


def read_kubernetes(inventory: Inventory) -> None:
    workloads: dict[str, Thing] = {}
    labels: dict[str, dict[str, Any]] = {}
    services: list[tuple[str, dict[str, Any]]] = []
    ingresses: list[tuple[str, dict[str, Any]]] = []
    for rel in inventory.project.matching(["*.yaml", "*.yml"]):
        if rel.rsplit("/", 1)[-1] in ("dvc.yaml", "MLproject.yaml") or not _may_be_manifest(inventory, rel):
            continue
        for document in _documents(inventory, rel):
            kind = document.get("kind")
            api = str(document.get("apiVersion", ""))
            metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
            name = str(metadata.get("name") or rel)
            if kind in ("Deployment", "StatefulSet", "DaemonSet", "Pod", "Job", "CronJob", "ReplicaSet"):
                thing = _workload(inventory, rel, name, document)
                if thing is not None:
                    workloads[name] = thing
                    template = _pod_template(document)
                    labels[name] = ((template.get("metadata") or {}).get("labels") or {}) if template else {}
            elif kind == "Service" and api == "v1":
                services.append((rel, document))
            elif kind == "Ingress":
                ingresses.append((rel, document))
            elif kind == "InferenceService" and api.startswith("serving.kserve.io/"):
                _kserve(inventory, rel, name, document, metadata)
            elif kind == "SeldonDeployment" or (kind == "Model" and api.startswith("mlops.seldon.io/")):
                _seldon(inventory, rel, name, document)
    by_service: dict[str, Thing] = {}
    for rel, document in services:
        spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
        selector = spec.get("selector") if isinstance(spec.get("selector"), dict) else {}
        name = str((document.get("metadata") or {}).get("name", ""))
        for workload, thing in workloads.items():
            if selector and all(labels.get(workload, {}).get(k) == v for k, v in selector.items()):
                by_service[name] = thing
                kind = spec.get("type", "ClusterIP")
                if kind in ("LoadBalancer", "NodePort"):
                    thing.note("exposure", "public", f"{where(rel, document)}: a {kind} Service "
                                                     "(reachable from outside the cluster)")
                elif kind == "ClusterIP" and not thing.values.get("exposure"):
                    thing.facts["cluster_ip"] = True
    for rel, document in ingresses:
        metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
        name = str(metadata.get("name") or rel)
        gateway = inventory.add(f"gateway:k8s:{name}", K.ingress, f"Ingress {name}", where(rel, document))
        gateway.note("exposure", "public", "a Kubernetes Ingress routes outside traffic in")
        annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        auth = [a for a in annotations if str(a) in AUTH_ANNOTATIONS]
        if auth:
            gateway.note("authenticated", True, f"the annotation {auth[0]} puts authentication in front")
        spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
        for backend in _ingress_backends(spec):
            if backend in by_service:
                inventory.flow(gateway.key, by_service[backend].key, "requests", both_ways=True)
                if by_service[backend].values.get("exposure") is None:
                    by_service[backend].note("exposure", "public", f"behind the Ingress {name}")
    for thing in workloads.values():
        if thing.facts.pop("cluster_ip", None) and "exposure" not in thing.values:
            thing.note("exposure", "internal", "only a ClusterIP Service reaches it")


def _may_be_manifest(inventory: Inventory, rel: str) -> bool:
    head = inventory.project.head(rel)
    return b"apiVersion" in head and b"kind" in head and b"argoproj.io" not in head


def _pod_template(document: dict[str, Any]) -> dict[str, Any] | None:
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    if document.get("kind") == "Pod":
        return {"metadata": document.get("metadata") or {}, "spec": spec}
    if document.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    template = spec.get("template")
    return template if isinstance(template, dict) else None


def _workload(inventory: Inventory, rel: str, name: str, document: dict[str, Any]) -> Thing | None:
    template = _pod_template(document)
    pod = template.get("spec") if template and isinstance(template.get("spec"), dict) else {}
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
    if not containers:
        return None
    container = containers[0]
    image = str(container.get("image", ""))
    command = " ".join(str(p) for p in (container.get("command") or []) + (container.get("args") or [])
                       if isinstance(p, (str, int)))
    known = image_kind(image)
    ports = [p for c in containers for p in c.get("ports") or [] if isinstance(p, dict)]
    built = [t for t in inventory.things.values() if t.facts.get("dockerfiles")]
    if known is None and len(built) == 1:
        # the project builds one image: a workload running an image of no known product runs it
        thing = built[0]
        thing.saw(where(rel, document))
        thing.notes["kind"] = (f"{thing.notes.get('kind', '')}; guessed: the Kubernetes workload {name} "
                               f"({image}) runs the one image this project builds").lstrip("; ")
        thing.facts.setdefault("workloads", []).append(name)
        return thing
    kind = known[0] if known else (K.service if serves(command) or ports else "process")
    thing = inventory.add(f"service:k8s:{name}", kind, known[1] if known and known[1] else name, where(rel, document))
    thing.notes["kind"] = (f"the image {image}" if known else "a workload that listens on a port" if ports else
                           "a workload whose image does not say what it does")
    thing.values.setdefault("technology", f"container image {image}"[:200])
    for env in container.get("env") or []:
        if isinstance(env, dict) and re.search(tables()["credential_names"], str(env.get("name", ""))) and \
                isinstance(env.get("value"), str) and env["value"]:
            inventory.warn(where(rel, env), f"env {env.get('name')} holds a literal value (not copied here); use a Secret")
    return thing


def _ingress_backends(spec: dict[str, Any]) -> list[str]:
    names = []
    default = spec.get("defaultBackend") or spec.get("backend")
    for backend in [default] + [p.get("backend") for r in spec.get("rules") or [] if isinstance(r, dict)
                                for p in ((r.get("http") or {}).get("paths") or []) if isinstance(p, dict)]:
        if isinstance(backend, dict):
            service = backend.get("service")
            names.append(str(service.get("name")) if isinstance(service, dict) else str(backend.get("serviceName", "")))
    return [n for n in names if n]


def _storage_model(inventory: Inventory, uri: str, seen: str, fmt: str | None, service: Thing) -> None:
    if not uri:
        return
    thing = inventory.add(f"model:{uri}", K.model_file, f"Model at {uri}"[:120], seen)
    thing.values.setdefault("description", f"The model the service loads from {uri}"[:300])
    named = model_format(uri)
    if named:
        thing.note("format", named[0], f"from the file name in {uri}")
    elif fmt:
        thing.note("format", fmt, f"the serving runtime's model format at {seen}")
    inventory.flow(thing.key, service.key, "model")


def _kserve(inventory: Inventory, rel: str, name: str, document: dict[str, Any], metadata: dict[str, Any]) -> None:
    service = inventory.add(f"service:kserve:{name}", K.service, f"KServe InferenceService {name}",
                            where(rel, document))
    service.values.setdefault("technology", "KServe")
    labels = metadata.get("labels") if isinstance(metadata.get("labels"), dict) else {}
    if labels.get("networking.knative.dev/visibility") == "cluster-local" or \
            labels.get("networking.kserve.io/visibility") == "cluster-local":
        service.note("exposure", "internal", "labelled cluster-local")
    else:
        inventory.ask(f"Is KServe InferenceService {name} reachable from outside the cluster? (exposure)")
    predictor = ((document.get("spec") or {}).get("predictor") or {}) if isinstance(document.get("spec"), dict) else {}
    for framework, body in predictor.items() if isinstance(predictor, dict) else []:
        if not isinstance(body, dict):
            continue
        fmt_name = framework
        if framework == "model":
            fmt_name = str((body.get("modelFormat") or {}).get("name", "")) if isinstance(body.get("modelFormat"), dict) else ""
        if "storageUri" in body:
            _storage_model(inventory, str(body["storageUri"]), where(rel, body), KSERVE_FORMATS.get(fmt_name.lower()), service)


def _seldon(inventory: Inventory, rel: str, name: str, document: dict[str, Any]) -> None:
    service = inventory.add(f"service:seldon:{name}", K.service, f"Seldon deployment {name}", where(rel, document))
    service.values.setdefault("technology", "Seldon")
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    if isinstance(spec.get("storageUri"), str):
        _storage_model(inventory, spec["storageUri"], where(rel, spec), None, service)
    for predictor in spec.get("predictors") or []:
        graph = predictor.get("graph") if isinstance(predictor, dict) else None
        while isinstance(graph, dict):
            if isinstance(graph.get("modelUri"), str):
                implementation = str(graph.get("implementation", "")).lower()
                fmt = next((v for k, v in KSERVE_FORMATS.items() if k in implementation), None)
                _storage_model(inventory, graph["modelUri"], where(rel, graph), fmt, service)
            children = graph.get("children") or []
            graph = children[0] if children else None
    inventory.ask(f"Is Seldon deployment {name} reachable from outside the cluster? (exposure)")

