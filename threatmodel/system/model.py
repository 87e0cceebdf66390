"""Pydantic models of a described ML system: boundaries, components, flows, data assets.

These models check shape and types only. Cross-references (a flow naming a component that does
not exist, an unknown kind) are checked by :mod:`threatmodel.system.load`, which knows where
each entity was written.
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from threatmodel.catalog.terms import AttributeTerm, builtin_terms

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

TrustLevel = Literal["internet", "partner", "internal", "restricted"]
TRUST_ORDER: dict[str, int] = {"internet": 0, "partner": 1, "internal": 2, "restricted": 3}
OUTSIDE_TRUST = "internet"  # components outside every boundary sit in the least trusted zone

Rating = Literal["low", "medium", "high"]
RATING_ORDER: dict[str, int] = {"low": 1, "medium": 2, "high": 3}

_TERMS = builtin_terms()
# every format a model may declare; what each does is in catalog/formats.yaml. A user catalog may
# add formats, so the loader checks a declared format against the catalog in use.
MODEL_FORMATS: tuple[str, ...] = _TERMS.model_formats


Purpose = Literal["training", "validation", "test", "feedback"]
Purposes = Union[Purpose, list[Purpose]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True,
                              populate_by_name=True)


class SystemInfo(_Strict):
    name: str
    description: str = ""
    owner: str = ""
    version: str = ""
    tags: list[str] = Field(default_factory=list)


class Boundary(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    trust: TrustLevel = "internal"
    parent: str | None = None
    description: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


# Attributes that threats depend on, from catalog/attributes.yaml. ``None`` means "not said": the
# kind's default applies when the catalog gives one (a library is third-party), otherwise the
# attribute stays unknown. Unknown is not false: it never creates a finding, and becomes an open
# question in reports.
ATTRIBUTE_NAMES: tuple[str, ...] = _TERMS.attribute_names
# the type of each attribute's values, for checking catalog rules and kind defaults
ATTRIBUTE_TYPES: dict[str, type] = _TERMS.attribute_types
FLOW_ATTRIBUTE_NAMES: tuple[str, ...] = _TERMS.flow_attribute_names
ActorClass = Literal[_TERMS.actor_classes]  # type: ignore[valid-type]


def _attribute_field(term: AttributeTerm) -> tuple[Any, Any]:
    """The pydantic field of one attribute: optional, unknown (None) unless the model says."""
    value_type: Any = Literal[term.values] if term.values else str  # type: ignore[valid-type]
    annotation: Any = {"boolean": bool, "text": value_type, "list": list[value_type]}[term.type]
    return annotation | None, Field(default=None, description=term.description or None)


def _attribute_fields(terms: tuple[AttributeTerm, ...]) -> dict[str, Any]:
    return {term.name: _attribute_field(term) for term in terms}


class _ComponentBase(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    kind: str
    name: str = ""
    boundary: str | None = None
    description: str = ""
    technology: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


Component = create_model(  # type: ignore[call-overload]
    "Component", __base__=_ComponentBase, __module__=__name__,
    # what threats depend on: the attributes of catalog/attributes.yaml, in its order
    **_attribute_fields(_TERMS.component_attributes),
    actor=(ActorClass | None, Field(default=None, description=(
        "for people, outside services and third-party code or models: the attacker class this "
        "component stands for (derived when not given; see docs/format.md)"))),
    # artifacts on disk
    paths=(list[str], Field(default_factory=list)),
    format=(str | None, Field(default=None, pattern=ID_PATTERN, description=(
        "the model file format (catalog/formats.yaml): whether loading it can run code, which scanners apply"))),
    purpose=(Purposes | None, None),
    data=(list[str], Field(default_factory=list, description="data assets stored or processed here")),
    tags=(list[str], Field(default_factory=list)),
)
Component.__doc__ = "A part of the system: a store, a process, a person or an outside service."


class _FlowBase(_Strict):
    id: str | None = Field(default=None, pattern=ID_PATTERN)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    name: str = ""
    data: list[str] = Field(default_factory=list)
    protocol: str = ""

    @property
    def key(self) -> str:
        """The flow's id; an unnamed flow is known as ``source-to-target``."""
        return self.id or f"{self.source}-to-{self.target}"  # type: ignore[attr-defined]

    @property
    def label(self) -> str:
        return self.name or self.protocol or self.key


Flow = create_model(  # type: ignore[call-overload]
    "Flow", __base__=_FlowBase, __module__=__name__,
    # encrypted is unknown unless said (or implied by a well-known protocol)
    **_attribute_fields(_TERMS.flow_attributes),
    bidirectional=(bool, False),
    description=(str, ""),
)
Flow.__doc__ = "Data moving from one component to another."


class DataAsset(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    description: str = ""
    confidentiality: Rating = "medium"
    integrity: Rating = "medium"
    availability: Rating = "medium"
    pii: bool = False

    @property
    def label(self) -> str:
        return self.name or self.id


class Actor(_Strict):
    """An attacker the model declares beyond those derived from its components."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = ""
    actor_class: ActorClass = Field(alias="class")
    boundary: str | None = Field(default=None, description="where the actor sits; none: outside every boundary")
    enters: list[str] = Field(min_length=1, description="components the actor sends to or logs into directly")
    description: str = ""

    @property
    def label(self) -> str:
        return self.name or self.id


class Exclusion(_Strict):
    """A threat the team has decided does not apply to one element, and why."""

    threat: str
    element: str
    reason: str

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an exclusion needs a reason")
        return value


class SystemDocument(_Strict):
    """The top level of a system file (and, without ``system``, of an included file)."""

    schema_: str | None = Field(default=None, alias="$schema")
    system: SystemInfo | None = None
    include: list[str] = Field(default_factory=list)
    boundaries: list[Boundary] = Field(default_factory=list)
    components: list[Component] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)
    data: list[DataAsset] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    exclusions: list[Exclusion] = Field(default_factory=list)


class System(_Strict):
    """A whole validated system: the main file merged with its includes, defaults applied."""

    info: SystemInfo
    boundaries: list[Boundary]
    components: list[Component]
    flows: list[Flow]
    data: list[DataAsset]
    exclusions: list[Exclusion]
    actors: list[Actor] = Field(default_factory=list)

    def model_post_init(self, _context: Any) -> None:
        object.__setattr__(self, "_components", {c.id: c for c in self.components})
        object.__setattr__(self, "_boundaries", {b.id: b for b in self.boundaries})
        object.__setattr__(self, "_data", {d.id: d for d in self.data})
        object.__setattr__(self, "_flows", {f.key: f for f in self.flows})

    def component(self, component_id: str) -> Component:
        return self._components[component_id]  # type: ignore[attr-defined,no-any-return]

    def boundary(self, boundary_id: str) -> Boundary:
        return self._boundaries[boundary_id]  # type: ignore[attr-defined,no-any-return]

    def data_asset(self, data_id: str) -> DataAsset:
        return self._data[data_id]  # type: ignore[attr-defined,no-any-return]

    def flow(self, flow_key: str) -> Flow:
        return self._flows[flow_key]  # type: ignore[attr-defined,no-any-return]

    def trust_of(self, component: Component) -> str:
        return self.boundary(component.boundary).trust if component.boundary else OUTSIDE_TRUST

    def zone_of(self, component: Component) -> str:
        """A readable name for where a component lives."""
        return self.boundary(component.boundary).label if component.boundary else "outside every boundary"
