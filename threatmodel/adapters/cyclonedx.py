"""Bootstrap a draft system from a CycloneDX 1.6/1.7 ML-BOM.

Machine-learning-model components become model artifacts (pre-trained models when a supplier or
publisher made them), data components datasets with a data asset each, libraries libraries, and
the BOM's main application (``metadata.component``) an inference service. A model card's datasets
were trained on by a process the BOM does not describe: the draft adds one training job that reads
them and writes the model. Dependencies become "uses" flows (the used component feeds its user).
Protocols, encryption and trust zones are not in a BOM: they stay unknown, for the report to ask.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import Diagnostic, InputError, Location
from ..loader import load_mapping, locate
from .draft import Draft, Entity, IdMaker


def import_cyclonedx(path: Path) -> Draft:
    from ..resources import catalog_dir

    table = load_mapping(catalog_dir() / "interop" / "cyclonedx.yaml", "catalog/interop/cyclonedx.yaml")
    name = str(path)
    document = load_mapping(path, name)
    if document.get("bomFormat") != "CycloneDX":
        raise InputError([Diagnostic(Location(name, 1, 1), "not a CycloneDX BOM: 'bomFormat' must be \"CycloneDX\"")])
    problems: list[Diagnostic] = []
    components = document.get("components", [])
    if not isinstance(components, list):
        raise InputError([Diagnostic(locate(document, ("components",)) or Location(name), "'components' must be a list")])
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    main = metadata.get("component") if isinstance(metadata.get("component"), dict) else None
    draft = Draft("cyclonedx", name, {"name": str((main or {}).get("name") or "Imported from CycloneDX"),
                                      "description": str((main or {}).get("description") or ""),
                                      "version": str((main or {}).get("version") or "")})
    ids = IdMaker()
    refs: dict[str, str] = {}
    everything = ([main] if main else []) + [c for c in components if isinstance(c, dict)]
    for component in everything:
        ref = str(component.get("bom-ref") or component.get("name"))
        our_id = ids.make(str(component.get("name") or ref), str(component.get("name") or ref), "element")
        refs[ref] = our_id
        kind_of = str(component.get("type"))
        kind = str(table["component_types"].get(kind_of, table["fallback"]))
        why = f"guessed from CycloneDX type \"{kind_of}\""
        if kind_of == "machine-learning-model" and (component.get("supplier") or component.get("publisher")):
            kind = str(table["model_from_elsewhere"])
            why += " with a supplier or publisher"
        entity = Entity({"id": our_id, "name": str(component.get("name") or our_id), "kind": kind}, {"kind": why})
        if component.get("description"):
            entity.values["description"] = " ".join(str(component["description"]).split())
        if component.get("version"):
            entity.values["technology"] = f"{component.get('name')} {component.get('version')}"
        if kind_of == "data":
            data_id = ids.make(f"{our_id}-contents", f"{our_id}-contents", "data")
            sensitive = any(isinstance(d, dict) and d.get("sensitiveData") for d in component.get("data") or [])
            asset = Entity({"id": data_id, "name": f"{entity.values['name']} contents"})
            if sensitive:
                asset.values["pii"] = True
                asset.notes["pii"] = "the BOM lists sensitive data in it"
            draft.data.append(asset)
            entity.values["data"] = [data_id]
        draft.components.append(entity)
    for component in everything:
        card = component.get("modelCard") if isinstance(component.get("modelCard"), dict) else {}
        datasets = ((card.get("modelParameters") or {}).get("datasets") or []) if isinstance(card.get("modelParameters"), dict) else []
        model = refs[str(component.get("bom-ref") or component.get("name"))]
        sources = [refs.get(str(d.get("ref"))) for d in datasets if isinstance(d, dict) and d.get("ref")]
        unknown = [d.get("ref") for d in datasets if isinstance(d, dict) and d.get("ref") and str(d.get("ref")) not in refs]
        for ref in unknown:
            problems.append(Diagnostic(locate(document, ("components",)) or Location(name),
                                       f"model card of '{component.get('name')}' names unknown dataset '{ref}'"))
        if sources and not unknown:
            trainer = ids.make(f"{model}-training", f"{model}-training", "element")
            draft.components.append(Entity({"id": trainer, "name": f"Training of {model}", "kind": str(table["training_process"])},
                                            {"kind": "the BOM does not describe how the model was trained: added"}))
            for source in sources:
                draft.flows.append(Entity({"id": ids.make(f"{source}>{trainer}", f"{source}-to-{trainer}", "flow"),
                                           "from": source, "to": trainer, "name": "trains on"}))
            draft.flows.append(Entity({"id": ids.make(f"{trainer}>{model}", f"{trainer}-to-{model}", "flow"),
                                       "from": trainer, "to": model, "name": "writes"}))
    for index, dependency in enumerate(document.get("dependencies") or []):
        if not isinstance(dependency, dict):
            continue
        user = refs.get(str(dependency.get("ref")))
        for used in dependency.get("dependsOn") or []:
            provider = refs.get(str(used))
            if user is None or provider is None:
                problems.append(Diagnostic(locate(document, ("dependencies", index)) or Location(name),
                                           f"dependency between unknown components '{dependency.get('ref')}' and '{used}'"))
                continue
            kinds = {c.id: c.values["kind"] for c in draft.components}
            dataset = table["component_types"]["data"]
            models = {table["component_types"]["machine-learning-model"], table["model_from_elsewhere"]}
            if kinds.get(provider) == dataset and kinds.get(user) in models:
                continue  # a model's datasets already flow through its training job
            draft.flows.append(Entity({"id": ids.make(f"{provider}>{user}", f"{provider}-to-{user}", "flow"),
                                       "from": provider, "to": user, "name": "used by"},
                                      {"name": "from the BOM's dependencies (the used component feeds its user)"}))
    if problems:
        raise InputError(problems)
    if document.get("vulnerabilities"):
        draft.lost.append("vulnerabilities are not kept: run `threatmodel controls scan` and pip-audit instead")
    return draft
