"""Bootstrap a draft system from a CycloneDX 1.5-1.7 BOM: an ML-BOM, an SBOM or a SaaSBOM.

Machine-learning-model components become model artifacts (pre-trained models when a supplier or
publisher made them), data components datasets with a data asset each, libraries libraries;
nested components are read as well (an application's parts). The BOM's main component
(``metadata.component``) keeps the kind its type and name say (an application is a generic
process unless its name says more). Services (a SaaSBOM) become processes, external services when
another organisation provides them, with their authentication and their data classifications;
a service that marks a trust boundary (``x-trust-boundary``) is exposed. A model card's datasets
(references or inline) were trained on by a process the BOM does not describe: the draft adds
one training job that reads them and writes the model. Dependencies become "uses" flows (the used
component feeds its user). Protocols, encryption and trust zones are not in a BOM: they stay
unknown, for the report to ask.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import load_mapping, locate
from threatmodel.system.draft import Draft, Entity, IdMaker, interop_table, list_dangling
from threatmodel.interop.foreign import Foreign, ListOf, OptText, Text, check, duplicates, raise_if


class DataRef(Foreign):
    ref: OptText = None
    type: OptText = None
    name: OptText = None
    classification: OptText = None
    sensitiveData: ListOf(Text) = []


class ModelParameters(Foreign):
    datasets: ListOf(DataRef) = []


class ModelCard(Foreign):
    modelParameters: Optional[ModelParameters] = None


class Organisation(Foreign):
    name: OptText = None


class ComponentData(Foreign):
    name: OptText = None
    sensitiveData: ListOf(Text) = []
    classification: OptText = None


class Component(Foreign):
    type: OptText = None
    name: OptText = None
    version: OptText = None
    description: OptText = None
    bom_ref: OptText = None
    supplier: Optional[Organisation] = None
    publisher: OptText = None
    modelCard: Optional[ModelCard] = None
    data: ListOf(ComponentData) = []
    components: ListOf("Component") = []

    model_config = {"extra": "allow", "populate_by_name": True, "alias_generator": lambda n: "bom-ref" if n == "bom_ref" else n}


class ServiceData(Foreign):
    flow: OptText = None
    classification: OptText = None


class Service(Foreign):
    bom_ref: OptText = None
    name: OptText = None
    version: OptText = None
    description: OptText = None
    provider: Optional[Organisation] = None
    endpoints: ListOf(Text) = []
    authenticated: Optional[bool] = None
    x_trust_boundary: Optional[bool] = None
    data: ListOf(ServiceData) = []
    services: ListOf("Service") = []

    model_config = {"extra": "allow", "populate_by_name": True,
                    "alias_generator": lambda n: {"bom_ref": "bom-ref", "x_trust_boundary": "x-trust-boundary"}.get(n, n)}


class Dependency(Foreign):
    ref: Text
    dependsOn: ListOf(Text) = []


class Metadata(Foreign):
    component: Optional[Component] = None
    supplier: Optional[Organisation] = None
    manufacturer: Optional[Organisation] = None


class Bom(Foreign):
    bomFormat: Text
    metadata: Optional[Metadata] = None
    components: ListOf(Component) = []
    services: ListOf(Service) = []
    dependencies: ListOf(Dependency) = []
    vulnerabilities: ListOf(Any) = []


Component.model_rebuild()
Service.model_rebuild()


def _walk(items: list[Any], raw: list[Any], path: tuple[Any, ...], key: str) -> list[tuple[Any, Any, tuple[Any, ...]]]:
    """Every component (or service) with its raw mapping and path, nested ones after their parent."""
    found = []
    for index, (item, source) in enumerate(zip(items, raw)):
        here = path + (index,)
        found.append((item, source, here))
        found += _walk(getattr(item, key), source.get(key) or [] if isinstance(source, dict) else [], here + (key,), key)
    return found


def import_cyclonedx(path: Path) -> Draft:
    table = interop_table("cyclonedx")
    name = str(path)
    document = load_mapping(path, name)
    if document.get("bomFormat") != "CycloneDX":
        raise InputError([Diagnostic(Location(name, 1, 1), "not a CycloneDX BOM: 'bomFormat' must be \"CycloneDX\"")])
    bom = check(Bom, document, name)
    metadata = bom.metadata or Metadata()
    main = metadata.component
    components = ([(main, document["metadata"]["component"], ("metadata", "component"))] if main else [])
    components += _walk(bom.components, document.get("components") or [], ("components",), "components")
    services = _walk(bom.services, document.get("services") or [], ("services",), "services")
    raise_if(duplicates(document, name, [(p + ("bom-ref",), c.bom_ref) for c, _, p in components + services if c.bom_ref],
                        "bom-ref"))
    owner = (metadata.manufacturer or metadata.supplier or Organisation()).name or ""
    draft = Draft("cyclonedx", name, {"name": (main.name if main else None) or "Imported from CycloneDX",
                                      "description": (main.description if main else None) or "",
                                      "version": (main.version if main else None) or ""})
    ids = IdMaker()
    refs: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for component, _, _ in components:
        ref = component.bom_ref or component.name or "component"
        our_id = ids.make(component.name or ref, component.name or ref, "element")
        refs[ref] = our_id
        kind_of = component.type or ""
        kind = str(table["component_types"].get(kind_of, table["fallback"]))
        why = f"guessed from CycloneDX type \"{kind_of}\""
        if kind_of == "machine-learning-model" and (component.supplier or component.publisher):
            kind = str(table["model_from_elsewhere"])
            why += " with a supplier or publisher"
        entity = Entity({"id": our_id, "name": component.name or our_id, "kind": kind}, {"kind": why})
        if component.description:
            entity.values["description"] = " ".join(component.description.split())
        if component.version:
            entity.values["technology"] = f"{component.name} {component.version}"
        if kind_of == "data":
            entity.values["data"] = [_data_asset(draft, ids, our_id, f"{entity.values['name']} contents",
                                                 [s for d in component.data for s in d.sensitiveData]
                                                 + [d.classification or "" for d in component.data])]
        draft.components.append(entity)
    for service, _, _ in services:
        ref = service.bom_ref or service.name or "service"
        our_id = ids.make(service.name or ref, service.name or ref, "element")
        refs[ref] = our_id
        provider = (service.provider.name if service.provider else None) or ""
        elsewhere = bool(provider and owner and provider.strip().lower() != owner.strip().lower())
        entity = Entity({"id": our_id, "name": service.name or our_id,
                         "kind": str(table["service_elsewhere" if elsewhere else "service"])},
                        {"kind": f"a CycloneDX service provided by {provider}" + (
                            f", not by {owner}, the BOM's maker" if elsewhere else "") if provider
                         else "a CycloneDX service: no ML role given"})
        if service.description:
            entity.values["description"] = " ".join(service.description.split())
        if service.version:
            entity.values["technology"] = f"{service.name} {service.version}"
        if service.authenticated is not None and not elsewhere:
            entity.values["authenticated"] = service.authenticated
        if service.x_trust_boundary is True and not elsewhere:
            entity.values["exposure"] = "public"
            entity.notes["exposure"] = "the BOM says it crosses a trust boundary (x-trust-boundary)"
        classes = [d.classification for d in service.data if d.classification]
        if classes:
            entity.values["data"] = [_data_asset(draft, ids, our_id, f"data {service.name or our_id} handles", classes)]
        if service.endpoints:
            entity.notes.setdefault("name", "endpoints " + ", ".join(service.endpoints[:3]))
        draft.components.append(entity)
    for component, _, where in components:
        _training(draft, ids, component, refs, where, document, name, problems)
    kinds = {c.id: c.values["kind"] for c in draft.components}
    dataset = table["component_types"]["data"]
    models = {table["component_types"]["machine-learning-model"], table["model_from_elsewhere"]}
    for index, dependency in enumerate(bom.dependencies):
        user = refs.get(dependency.ref)
        for used in dependency.dependsOn:
            provider_id = refs.get(used)
            if user is None or provider_id is None:
                missing = dependency.ref if user is None else used
                problems.append(Diagnostic(locate(document, ("dependencies", index)) or Location(name),
                                           f"dependency names '{missing}', which is no component or service of the BOM"))
                continue
            if kinds.get(provider_id) == dataset and kinds.get(user) in models:
                continue  # a model's datasets already flow through its training job
            draft.flows.append(Entity({"id": ids.make(f"{provider_id}>{user}", f"{provider_id}-to-{user}", "flow"),
                                       "from": provider_id, "to": user, "name": "used by"},
                                      {"name": "from the BOM's dependencies (the used component feeds its user)"}))
    list_dangling(draft, problems)
    if bom.vulnerabilities:
        draft.lost.append(f"{len(bom.vulnerabilities)} vulnerabilities: run `threatmodel controls scan` and pip-audit instead")
    return draft


def _data_asset(draft: Draft, ids: IdMaker, holder: str, title: str, labels: list[str]) -> str:
    data_id = ids.make(f"{holder}-data", f"{holder}-data", "data")
    asset = Entity({"id": data_id, "name": title})
    table = interop_table("cyclonedx")
    sensitive = sorted({label for label in labels if label and label.strip().lower() in table["sensitive"]})
    if sensitive:
        asset.values["pii"] = any(label.lower() in table["personal"] for label in sensitive)
        asset.values["confidentiality"] = "high"
        asset.notes["confidentiality"] = f"the BOM classifies it {', '.join(sensitive)}"
    draft.data.append(asset)
    return data_id


def _training(draft: Draft, ids: IdMaker, component: Component, refs: dict[str, str], where: tuple[Any, ...],
              document: Any, name: str, problems: list[Diagnostic]) -> None:
    """A model card's datasets (references or inline) feed one training job that writes the model."""
    card = component.modelCard
    datasets = card.modelParameters.datasets if card and card.modelParameters else []
    if not datasets:
        return
    model = refs[component.bom_ref or component.name or "component"]
    sources = []
    for index, dataset in enumerate(datasets):
        if dataset.ref:
            if dataset.ref not in refs:
                problems.append(Diagnostic(locate(document, where + ("modelCard", "modelParameters", "datasets", index, "ref"))
                                           or Location(name), f"model card of '{component.name}' names unknown dataset "
                                                              f"'{dataset.ref}'"))
                continue
            sources.append(refs[dataset.ref])
        else:  # an inline dataset: a dataset of its own
            title = dataset.name or f"Dataset {index + 1} of {component.name}"
            our_id = ids.make(title, title, "element")
            entity = Entity({"id": our_id, "name": title, "kind": str(interop_table("cyclonedx")["component_types"]["data"])},
                            {"kind": "an inline dataset of the model card"})
            entity.values["data"] = [_data_asset(draft, ids, our_id, f"{title} contents",
                                                 [dataset.classification or ""] + dataset.sensitiveData)]
            draft.components.append(entity)
            sources.append(our_id)
    if not sources:
        return
    trainer = ids.make(f"{model}-training", f"{model}-training", "element")
    draft.components.append(Entity({"id": trainer, "name": f"Training of {model}", "kind": str(interop_table("cyclonedx")["training_process"])},
                                   {"kind": "the BOM does not describe how the model was trained: added"}))
    for source in sources:
        draft.flows.append(Entity({"id": ids.make(f"{source}>{trainer}", f"{source}-to-{trainer}", "flow"),
                                   "from": source, "to": trainer, "name": "trains on"}))
    draft.flows.append(Entity({"id": ids.make(f"{trainer}>{model}", f"{trainer}-to-{model}", "flow"),
                               "from": trainer, "to": model, "name": "writes"}))
