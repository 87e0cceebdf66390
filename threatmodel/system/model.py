"""Pydantic models of a described ML system: boundaries, components, flows, data assets.

These models check shape and types only. Cross-references (a flow naming a component that does
not exist, an unknown kind) are checked by :mod:`threatmodel.system.load`, which knows where
each entity was written.
"""

from __future__ import annotations

from typing import Any, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

TrustLevel = Literal["internet", "partner", "internal", "restricted"]
TRUST_ORDER: dict[str, int] = {"internet": 0, "partner": 1, "internal": 2, "restricted": 3}
OUTSIDE_TRUST = "internet"  # components outside every boundary sit in the least trusted zone

Rating = Literal["low", "medium", "high"]
RATING_ORDER: dict[str, int] = {"low": 1, "medium": 2, "high": 3}

ModelFormat = Literal[
    "keras-h5", "keras", "tensorflow-savedmodel", "pickle", "pytorch", "joblib", "safetensors",
    "onnx", "gguf", "tflite", "coreml", "other",
]
MODEL_FORMATS: tuple[str, ...] = get_args(ModelFormat)  # what each does: catalog/formats.yaml


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


# Attributes that threats depend on. ``None`` means "not said": the kind's default applies
# when the catalog gives one (a library is third-party), otherwise the attribute stays unknown.
# Unknown is not false: it never creates a finding, and becomes an open question in reports.
ATTRIBUTE_NAMES = (
    "authenticated", "rate_limiting", "returns_scores", "retrains_on_feedback", "signed",
    "integrity_check", "audit_logging", "origin", "exposure",
    # LLM, RAG and agent systems
    "untrusted_content", "secrets_in_prompt", "tenant_isolation", "usage_limits", "sandboxed",
    "network_egress", "pinned", "approval_required", "filters_output", "capabilities", "autonomy", "output_to",
    "fails_open", "admin_interface", "self_registration",
)
# the type of each attribute's values, for checking catalog rules and kind defaults
ATTRIBUTE_TYPES: dict[str, type] = {
    "authenticated": bool, "rate_limiting": bool, "returns_scores": bool, "retrains_on_feedback": bool,
    "signed": bool, "integrity_check": bool, "audit_logging": bool, "origin": str, "exposure": str,
    "untrusted_content": bool, "secrets_in_prompt": bool, "tenant_isolation": bool, "usage_limits": bool,
    "sandboxed": bool, "network_egress": bool, "pinned": bool, "approval_required": bool, "filters_output": bool,
    "capabilities": list, "autonomy": str, "output_to": list, "fails_open": bool,
    "admin_interface": bool, "self_registration": bool,
}
ToolCapability = Literal["read", "write", "execute", "network", "spend"]
OutputConsumer = Literal["html", "markdown", "sql", "shell", "code", "agent", "email"]
FLOW_ATTRIBUTE_NAMES = ("encrypted", "authenticated")
ActorClass = Literal["anonymous", "customer", "operator", "insider", "supplier", "dependency"]


class Component(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    kind: str
    name: str = ""
    boundary: str | None = None
    description: str = ""
    technology: str = ""
    # what threats depend on
    authenticated: bool | None = None
    rate_limiting: bool | None = None
    returns_scores: bool | None = None
    retrains_on_feedback: bool | None = None
    signed: bool | None = None
    integrity_check: bool | None = None
    audit_logging: bool | None = None
    origin: Literal["in-house", "third-party"] | None = None
    exposure: Literal["public", "internal"] | None = None
    # LLM, RAG and agent systems (docs/format.md)
    untrusted_content: bool | None = Field(default=None, description=(
        "content from outside (web pages, e-mail, uploaded documents, tool results) enters what this "
        "component holds or returns"))
    secrets_in_prompt: bool | None = Field(default=None, description="system instructions hold secrets")
    tenant_isolation: bool | None = Field(default=None, description=(
        "a vector store, memory or document source keeps each tenant's data apart on every query"))
    usage_limits: bool | None = Field(default=None, description="token, cost and iteration limits are enforced")
    sandboxed: bool | None = Field(default=None, description="a tool runs in an isolated sandbox, not on the host")
    network_egress: bool | None = Field(default=None, description="a tool (or its sandbox) can reach the network")
    pinned: bool | None = Field(default=None, description=(
        "a tool or MCP server is pinned to a reviewed version (its descriptions cannot change under you)"))
    approval_required: bool | None = Field(default=None, description="a person approves each action first")
    filters_output: bool | None = Field(default=None, description=(
        "screens or encodes model output before it goes on (a guardrail or output filter)"))
    capabilities: list[ToolCapability] | None = Field(default=None, description="what a tool can do")
    autonomy: Literal["suggest", "approval", "act"] | None = Field(default=None, description=(
        "an agent: suggests actions, acts after approval, or acts on its own"))
    output_to: list[OutputConsumer] | None = Field(default=None, description=(
        "what consumes the model's output: a browser (html, markdown), sql, shell, code execution, "
        "another agent, e-mail"))
    fails_open: bool | None = Field(default=None, description=(
        "when a model or check it depends on (a fraud scorer, a guardrail, a moderation call) does "
        "not answer, the component goes on as if the check had passed"))
    admin_interface: bool | None = Field(default=None, description=(
        "exposes an administrative or control interface (a dashboard, a management API, a cluster "
        "head's UI): whoever can use it controls the component"))
    self_registration: bool | None = Field(default=None, description=(
        "anyone can create an account (open sign-up), so requiring authentication keeps no one out"))
    actor: ActorClass | None = Field(default=None, description=(
        "for people, outside services and third-party code or models: the attacker class this "
        "component stands for (derived when not given; see docs/format.md)"))
    # artifacts on disk
    paths: list[str] = Field(default_factory=list)
    format: ModelFormat | None = None
    purpose: Purposes | None = None
    data: list[str] = Field(default_factory=list, description="data assets stored or processed here")
    tags: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name or self.id


class Flow(_Strict):
    id: str | None = Field(default=None, pattern=ID_PATTERN)
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    name: str = ""
    data: list[str] = Field(default_factory=list)
    protocol: str = ""
    encrypted: bool | None = None  # unknown unless said (or implied by a well-known protocol)
    authenticated: bool | None = None
    bidirectional: bool = False
    description: str = ""

    @property
    def key(self) -> str:
        """The flow's id; an unnamed flow is known as ``source-to-target``."""
        return self.id or f"{self.source}-to-{self.target}"

    @property
    def label(self) -> str:
        return self.name or self.protocol or self.key


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
