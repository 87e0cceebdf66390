"""The words of the system format that the built-in catalog defines.

``catalog/attributes.yaml`` says which attributes a component or a flow may declare and what
values each takes; ``catalog/formats.yaml`` lists the model file formats; ``catalog/actors.yaml``
the attacker classes. The pydantic models of :mod:`threatmodel.system.model` (and so the JSON
Schema) are generated from these terms, so a new attribute is one entry in the catalog.

These files are read with the plain YAML loader, because the system model needs them when it is
imported; :mod:`threatmodel.catalog.load` reads the same files again with locations and checks
them in full (tests check the built-in ones on every run).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from threatmodel.core.resources import catalog_dir

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# what a `type` in attributes.yaml means in Python (for predicates, defaults and values)
PYTHON_TYPES: dict[str, type] = {"boolean": bool, "text": str, "list": list}


@dataclass(frozen=True)
class AttributeTerm:
    """One attribute a model may declare on a component or a flow."""

    name: str
    element: str  # component or flow
    type: str  # boolean, text or list
    values: tuple[str, ...]  # the values a text attribute or a list's items may take (empty: any)
    description: str

    @property
    def python_type(self) -> type:
        return PYTHON_TYPES[self.type]


@dataclass(frozen=True)
class Terms:
    component_attributes: tuple[AttributeTerm, ...]
    flow_attributes: tuple[AttributeTerm, ...]
    model_formats: tuple[str, ...]
    actor_classes: tuple[str, ...]

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return tuple(term.name for term in self.component_attributes)

    @property
    def attribute_types(self) -> dict[str, type]:
        return {term.name: term.python_type for term in self.component_attributes}

    @property
    def flow_attribute_names(self) -> tuple[str, ...]:
        return tuple(term.name for term in self.flow_attributes)


def _read(name: str) -> Any:
    with (catalog_dir() / name).open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # noqa: S506 - a safe loader


def _attribute(entry: dict[str, Any]) -> AttributeTerm:
    kind = entry.get("type", "boolean")
    if kind not in PYTHON_TYPES:
        raise ValueError(f"catalog/attributes.yaml: attribute '{entry.get('name')}' has unknown type {kind!r}")
    return AttributeTerm(name=entry["name"], element=entry["element"], type=kind,
                         values=tuple(entry.get("values") or ()), description=entry.get("description", ""))


@lru_cache(maxsize=1)
def builtin_terms() -> Terms:
    attributes = [_attribute(entry) for entry in _read("attributes.yaml")["attributes"]]
    return Terms(
        component_attributes=tuple(a for a in attributes if a.element == "component"),
        flow_attributes=tuple(a for a in attributes if a.element == "flow"),
        model_formats=tuple(entry["id"] for entry in _read("formats.yaml")["formats"]),
        actor_classes=tuple(entry["id"] for entry in _read("actors.yaml")["actor_classes"]),
    )
