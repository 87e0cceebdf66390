"""Pydantic models of the threat catalog: kinds, STRIDE, mitigations, threats and their rules.

The catalog is knowledge, kept as YAML under ``catalog/``; these models give it a shape that
loads with located errors. Cross-references (a threat naming a mitigation, an ATLAS id, a
predicate) are checked in :mod:`threatmodel.catalog.load`.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from threatmodel.catalog.atlas import AtlasIndex
from threatmodel.core.vocabulary import OwnerRole

StrideLetter = Literal["S", "T", "R", "I", "D", "E"]
STRIDE_LETTERS: tuple[str, ...] = ("S", "T", "R", "I", "D", "E")
DfdType = Literal["external-entity", "process", "data-store", "data-flow"]
Lifecycle = Literal[
    "data-collection", "data-preparation", "training", "evaluation", "deployment", "operation",
    "monitoring", "development",
]
ControlType = Literal["preventive", "detective", "corrective"]
Effort = Literal["low", "medium", "high"]
MitigationRole = Literal["primary", "supporting"]
Applied = Literal["inside", "at-use"]
EFFORT_WEIGHT: dict[str, int] = {"low": 1, "medium": 3, "high": 8}
THREAT_ID = r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$"
MITIGATION_ID = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


def _plain_id(cls: Any, value: Any) -> Any:
    """A bare string where a mapping with an ``id`` is expected is that id."""
    return {"id": value} if isinstance(value, str) else value


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Kind(_Frozen):
    id: str
    dfd: Literal["external-entity", "process", "data-store"]
    title: str
    description: str = ""
    traits: list[str] = Field(default_factory=list)
    defaults: dict[str, Any] = Field(default_factory=dict)
    hints: list[str] = Field(default_factory=list, description=(
        "words that, in another component's name, technology or description, suggest it is of this "
        "kind (a warning says so: 'GPT-4o' on a process is probably an llm)"))
    roles: frozenset[str] = Field(default=frozenset(), description="set by the loader from the role bindings")
    ignores: frozenset[str] = Field(default=frozenset(), description=(
        "set by the loader: attributes no rule, question or mitigation reads on this kind (a model "
        "that sets one gets a warning)"))

    def has_role(self, role: str) -> bool:
        return role in self.roles


class StrideCategory(_Frozen):
    letter: StrideLetter
    name: str
    property: str
    question: str
    data_at_risk: list[Literal["confidentiality", "integrity", "availability"]] = Field(min_length=1)
    data: list[Literal["held", "produced", "handled"]] = Field(min_length=1)


class StrideSection(_Frozen):
    categories: list[StrideCategory]
    per_element: dict[DfdType, list[StrideLetter]]


class Reference(_Frozen):
    title: str
    url: str = ""


class AtlasLink(_Frozen):
    """An ATLAS technique or mitigation named by a threat or mitigation.

    ``name`` is optional but, when given, must be the current ATLAS name (a former name is
    recognised and reported with the current one). ``why`` justifies links the source omitted.
    """

    id: str
    name: str = ""
    why: str = ""

    _from_plain_id = model_validator(mode="before")(classmethod(_plain_id))


class Mitigation(_Frozen):
    id: str = Field(pattern=MITIGATION_ID)
    title: str
    what: str
    verify: str
    control: ControlType
    owner: OwnerRole = Field(default="security", description="the role that usually does the work")
    effort: Effort = Field(default="medium", description="rough cost; the fix plan weighs mitigations by it")
    lifecycle: list[Lifecycle] = Field(min_length=1)
    atlas: list[AtlasLink] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    declared_by: list[dict[str, Any]] = Field(
        default_factory=list,
        description="component or flow attribute values that declare this mitigation in place "
                    "(a bare name means true: `signed` is `{signed: true}`)",
    )
    fits: list[str] = Field(
        default_factory=list,
        description="the traits, data-flow-diagram types (process, data-store) or 'flow' of the "
                    "elements this mitigation can protect; empty: any element",
    )
    not_on: list[str] = Field(
        default_factory=list,
        description="traits of elements it cannot protect even where `fits` matches (file permissions "
                    "on a model shipped to users' devices)",
    )
    needs: list[str] = Field(
        default_factory=list,
        description="traits the element, or a component it sends to, must have for this to help "
                    "(tool permissions need tools: least privilege does nothing for an agent without any)",
    )
    applied: Applied = Field(default="inside", description=(
        "inside: done in the element's own code or configuration, so only whoever runs the element "
        "can do it (on a third-party service the plan moves it to the team's component in front); "
        "at-use: done by whoever uses the element (pinning, verifying, scanning what is taken in)"))
    declared_by_format: bool = Field(default=False, description=(
        "in place on an artifact whose declared format cannot run code when loaded (safetensors, ONNX)"))
    vouches_for_content: bool = Field(default=False, description=(
        "says the artifact's bytes are safe to load; a scanner that finds malicious content in the "
        "artifact contradicts it"))

    @field_validator("declared_by", mode="before")
    @classmethod
    def _bare_names_mean_true(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{item: True} if isinstance(item, str) else item for item in value]
        return value

    def fits_element(self, traits: frozenset[str], dfd: str, is_flow: bool) -> bool:
        if not is_flow and traits & set(self.not_on):
            return False
        if not self.fits:
            return True
        return ("flow" in self.fits) if is_flow else bool((traits | {dfd}) & set(self.fits))


class Rating(_Frozen):
    """OWASP risk factors, each 1 (hard / low) to 5 (easy / severe) as the official pages use them."""

    exploitability: int = Field(ge=1, le=5)
    detectability: int = Field(ge=1, le=5)
    technical_impact: int = Field(ge=1, le=5)
    source: str
    exploitability_ml_application: int | None = Field(default=None, ge=1, le=5)
    exploitability_ml_operations: int | None = Field(default=None, ge=1, le=5)


class Ratings(Rating):
    """The ratings used, plus any other values the source also gives and why they are not."""

    alternatives: list[dict[str, Any]] = Field(default_factory=list)
    note: str = ""


class Scenario(_Frozen):
    title: str
    description: str


class Rule(_Frozen):
    """Where a threat applies: an element type, optionally kinds and traits, and predicates.

    Every listed condition must hold; a threat with several rules applies where any holds.
    """

    element: Literal["component", "flow"] = "component"
    kinds: list[str] = Field(default_factory=list)
    traits: list[str] = Field(default_factory=list)
    dfd: list[Literal["external-entity", "process", "data-store"]] = Field(
        default_factory=list, description="only components of these data-flow-diagram types")
    when: dict[str, Any] = Field(default_factory=dict)
    assume: list[str] = Field(
        default_factory=list,
        description="attributes that, when unknown, are assumed to have the value the rule tests "
                    "(shown as an open question); never the only reason a rule holds",
    )

    @model_validator(mode="after")
    def _flow_rules_have_no_kinds(self) -> "Rule":
        if self.element == "flow" and (self.kinds or self.traits or self.dfd):
            raise ValueError("a flow rule cannot name kinds or traits; use the predicates "
                             "'from_trait' / 'to_trait'")
        return self


class MitigationLink(_Frozen):
    """A mitigation of a threat: primary when it addresses the threat's mechanism, supporting when
    it only helps; ``why`` says how, in one line."""

    id: str
    role: MitigationRole = "supporting"
    why: str = ""

    _from_plain_id = model_validator(mode="before")(classmethod(_plain_id))


class Threat(_Frozen):
    id: str = Field(pattern=THREAT_ID)
    title: str
    short_title: str = ""
    aliases: list[str] = Field(default_factory=list)
    source: Literal["owasp-ml-top10-2023", "owasp-genai", "stride-baseline", "user"]
    frameworks: list[str] = Field(default_factory=list, description=(
        "edition-pinned framework entries this threat covers (ML01:2023, LLM01:2025, ASI01:2026); "
        "each must be listed in catalog/frameworks.yaml"))
    cosai: list[str] = Field(default_factory=list, description="CoSAI Risk Map risk ids (riskPromptInjection …)")
    summary: str
    scenarios: list[Scenario] = Field(default_factory=list)
    stride: list[StrideLetter] = Field(min_length=1)
    lifecycle: list[Lifecycle] = Field(min_length=1)
    ratings: Ratings
    atlas: list[AtlasLink] = Field(default_factory=list)
    mitigations: list[str] = Field(min_length=1, description=(
        "mitigation ids, or mappings {id, role: primary|supporting, why}; the ids, in order"))
    links: list[MitigationLink] = Field(default_factory=list, description="set from `mitigations`")
    redesign: str = Field(default="", description=(
        "the design change that removes the threat where no mitigation brings it below high"))
    references: list[Reference] = Field(default_factory=list)
    applies_to: list[Rule] = Field(min_length=1)
    not_applicable: str = Field(
        default="",
        description="what a system would need for this threat to apply; shown when it raised nothing",
    )
    once_per_chain: bool = Field(default=False, description=(
        "a finding on a component whose every input comes from components with the same finding "
        "(a model prompted only by its agent) is the same attack: reported once, where it enters"))

    @model_validator(mode="before")
    @classmethod
    def _split_mitigations(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("mitigations"), list) and "links" not in value:
            items = value["mitigations"]
            ids = [item.get("id") if isinstance(item, dict) else item for item in items]
            value = {**value, "mitigations": ids, "links": items}
        return value

    @field_validator("stride")
    @classmethod
    def _unique_letters(cls, letters: list[str]) -> list[str]:
        if len(set(letters)) != len(letters):
            raise ValueError("STRIDE letters repeat")
        return sorted(letters, key=STRIDE_LETTERS.index)

    @property
    def name(self) -> str:
        return self.short_title or self.title

    def role(self, mitigation_id: str) -> str:
        """primary (addresses the mechanism) or supporting."""
        return self._roles.get(mitigation_id, "supporting")

    @cached_property
    def _roles(self) -> dict[str, str]:
        roles: dict[str, str] = {}
        for link in self.links:
            roles.setdefault(link.id, link.role)
        return roles

    def why(self, mitigation_id: str) -> str:
        return next((link.why for link in self.links if link.id == mitigation_id), "")

    @property
    def primary(self) -> list[str]:
        return [link.id for link in self.links if link.role == "primary"]


def _mentions_path(argv: list[str]) -> list[str]:
    if not any("{path}" in part for part in argv):
        raise ValueError("argv must contain {path}")
    return argv


# a command line run on each declared path: it must say where the path goes
PathCommand = Annotated[list[str], Field(min_length=1), AfterValidator(_mentions_path)]


class ScanSpec(_Frozen):
    """A scanner to run on artifacts of a format; ``{path}`` in argv is each declared path."""

    tool: str
    argv: PathCommand
    purpose: str
    mitigation: str
    report: list[str] = Field(default_factory=list, description=(
        "arguments that make the tool write its report to {report} (JSON evidence); without them the "
        "scan script saves the command line and its output as a transcript"))


class CheckSpec(_Frozen):
    """A check for components by role rather than by format (a signature, a dependency audit),
    run by ``threatmodel controls scan``; ``{path}`` is each declared path that ends in ``suffix``."""

    tool: str
    role: str = Field(description="components bound to this role get the check")
    when: dict[str, Any] = Field(default_factory=dict, description="attribute values that must hold (signed: true)")
    suffix: str = Field(default="", description="only declared paths ending in this")
    argv: PathCommand
    argv_without_paths: list[str] = Field(default_factory=list, description=(
        "run once when no declared path matches (none: no step then)"))
    report: list[str] = Field(default_factory=list, description="arguments that write the tool's report to {report}")
    name: str = Field(description="the step's name; {component} is replaced")
    mitigation: str
    runner: Literal["", "signature"] = Field(default="", description=(
        "signature: the scan script verifies with the signer it is configured with (a key or sigstore)"))
    binds_path: bool = Field(default=False, description="hash the checked path beside the evidence")


class ArtifactFormat(_Frozen):
    id: str
    executes_code_on_load: bool
    scans: list[ScanSpec] = Field(default_factory=list)


class ActorClass(_Frozen):
    id: str
    title: str
    credentials: bool
    logs_in: bool
    outsider: bool = Field(description="uses the system from outside, as a user does")
    likelihood: int = Field(ge=-3, le=1)
    why: str


class AttributeInfo(_Frozen):
    """What an attribute means for the analysis: the question asked when it is unknown, and
    whether a control declared with it protects what sits behind it on an attacker's path."""

    name: str
    element: Literal["component", "flow"]
    type: Literal["boolean", "text", "list"] | None = Field(default=None, description=(
        "what a model may write; the system format is generated from the built-in attributes"))
    values: list[str] = Field(default_factory=list, description="the values a text attribute or a list's items take")
    description: str = Field(default="", description="what the attribute means, for the system format's schema")
    question: str | None = Field(default=None, description=(
        "asked when the attribute is unknown; {element} is replaced (none: never asked)"))
    on_path: bool = False
    traits: list[str] = Field(default_factory=list, description="only asked for components with one of these traits")


class Protocol(_Frozen):
    names: list[str] = Field(min_length=1)
    encrypted: bool | None = None
    authenticated: bool | None = None
    login: bool = False
    identity: bool = False


FRAMEWORK_ENTRY = r"^(ML|LLM|ASI)(0[1-9]|10):(2023|2025|2026)$"


class FrameworkEntry(_Frozen):
    id: str = Field(pattern=FRAMEWORK_ENTRY)
    title: str


class Framework(_Frozen):
    """One edition of a framework (catalog/frameworks.yaml)."""

    id: str = Field(pattern=r"^[a-z]+-\d{4}$")
    title: str
    edition: str
    short: str
    url: str = ""
    entries: list[FrameworkEntry] = Field(min_length=1)


class CatalogFile(_Frozen):
    """The top level of one catalog YAML file; every section is optional."""

    traits: dict[str, str] = Field(default_factory=dict)
    roles: dict[str, list[str]] = Field(default_factory=dict)
    actor_classes: list[ActorClass] = Field(default_factory=list)
    capabilities: dict[str, str] = Field(default_factory=dict)
    attributes: list[AttributeInfo] = Field(default_factory=list)
    protocols: list[Protocol] = Field(default_factory=list)
    kinds: list[Kind] = Field(default_factory=list)
    stride: StrideSection | None = None
    formats: list[ArtifactFormat] = Field(default_factory=list)
    checks: list[CheckSpec] = Field(default_factory=list)
    evidence: dict[str, str] = Field(default_factory=dict, description="evidence reader tool -> the mitigation it shows")
    mitigations: list[Mitigation] = Field(default_factory=list)
    threats: list[Threat] = Field(default_factory=list)
    frameworks: list[Framework] = Field(default_factory=list)
    aliases: list[dict[str, str]] = Field(default_factory=list, description="the same risk across editions")
    agentic_to_llm_2025: dict[str, list[str]] = Field(default_factory=dict, alias="agentic-to-llm-2025")

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)


class Catalog(_Frozen):
    """The merged, cross-checked catalog that the analysis uses."""

    atlas: AtlasIndex
    traits: dict[str, str]
    roles: dict[str, frozenset[str]]
    actor_classes: dict[str, ActorClass]
    capabilities: dict[str, str]
    attributes: dict[str, AttributeInfo]
    protocols: dict[str, Protocol]
    kinds: dict[str, Kind]
    stride: StrideSection
    formats: dict[str, ArtifactFormat]
    mitigations: dict[str, Mitigation]
    checks: list[CheckSpec] = Field(default_factory=list)
    evidence: dict[str, str] = Field(default_factory=dict)  # evidence reader tool -> mitigation
    threats: dict[str, Threat]
    frameworks: dict[str, Framework] = Field(default_factory=dict)
    aliases: list[dict[str, str]] = Field(default_factory=list)
    agentic_to_llm_2025: dict[str, list[str]] = Field(default_factory=dict)

    def framework_entry(self, entry_id: str) -> tuple[Framework, FrameworkEntry] | None:
        """The framework edition and entry of an edition-pinned id (``LLM08:2026``)."""
        for framework in self.frameworks.values():
            for entry in framework.entries:
                if entry.id == entry_id:
                    return framework, entry
        return None

    def entry_title(self, entry_id: str) -> str:
        found = self.framework_entry(entry_id)
        return found[1].title if found else ""

    def counterparts(self, entry_id: str) -> list[tuple[str, str]]:
        """The same risk in the other editions: (entry id, relation), from the alias table. The
        table gives the relation 2023 -> 2025 (`from-2023`) and 2025 -> 2026 (`to-2026`)."""
        found: list[tuple[str, str]] = []
        for row in self.aliases:
            by_year = {key[-4:]: [v.strip() for v in row.get(key, "").split(",") if v.strip() not in ("", "-")]
                       for key in ("llm-2023", "llm-2025", "llm-2026")}
            if not any(entry_id in ids for ids in by_year.values()):
                continue
            steps = {frozenset(("2023", "2025")): row.get("from-2023", ""),
                     frozenset(("2025", "2026")): row.get("to-2026", ""),
                     frozenset(("2023", "2026")): f"{row.get('from-2023', '')}, then {row.get('to-2026', '')}"}
            for year, ids in by_year.items():
                for other in ids:
                    pair = (other, steps.get(frozenset((year, entry_id[-4:])), ""))
                    if other != entry_id and pair not in found:
                        found.append(pair)
        return sorted(found, key=lambda pair: (pair[0][-4:], pair[0]))

    def threats_for_entry(self, entry_id: str) -> list["Threat"]:
        return [t for t in self.threats.values() if entry_id in t.frameworks]

    def role(self, name: str) -> frozenset[str]:
        """The traits bound to a role (catalog/kinds.yaml); the loader guarantees it is bound."""
        return self.roles[name]

    def outsider_classes(self) -> list[str]:
        """The actor classes that use the system from outside, as users do (catalog/actors.yaml)."""
        return sorted(c.id for c in self.actor_classes.values() if c.outsider)

    def stride_name(self, letter: str) -> str:
        return next(c.name for c in self.stride.categories if c.letter == letter)

    def threats_for_mitigation(self, mitigation_id: str) -> list[Threat]:
        return [t for t in self.threats.values() if mitigation_id in t.mitigations]
