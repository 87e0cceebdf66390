"""Load the built-in catalog and any user catalogs, merge them, and cross-check everything.

Every problem is reported with the file, line and column where it was written, all at once:
duplicate ids, mitigations or ATLAS ids that do not resolve, ATLAS names that are not the
current ones, unknown kinds, traits or predicates in rules, bad predicate parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from threatmodel.catalog.atlas import AtlasIndex, AtlasMitigation, AtlasTechnique, load_index

from threatmodel.catalog.model import (ActorClass, AtlasLink, ArtifactFormat, AttributeInfo, Catalog, CatalogFile, Framework, Kind,
                      Mitigation, Protocol, StrideSection, Threat)
from threatmodel.core.errors import Diagnostic, DiagnosticSink, InputError, Location, did_you_mean
from threatmodel.core.located_yaml import YamlMap, load_mapping, locate
from threatmodel.core.parsed import ParsedFiles
from threatmodel.catalog.conditions import SIGNATURES
from threatmodel.core.resources import catalog_dir
from threatmodel.catalog.terms import builtin_terms
from threatmodel.core.diagnostics import diagnostics_from

ATLAS_INDEX_FILE = "atlas.yaml"
MIN_MITIGATIONS = 2
_TERMS = builtin_terms()  # the attributes and actor classes the system format knows
ATTRIBUTE_NAMES = _TERMS.attribute_names
ATTRIBUTE_TYPES = _TERMS.attribute_types
FLOW_ATTRIBUTE_NAMES = _TERMS.flow_attribute_names
_COMPONENT_TERMS = {term.name: term for term in _TERMS.component_attributes}
DECLARABLE_TYPES = {**ATTRIBUTE_TYPES, **{name: bool for name in FLOW_ATTRIBUTE_NAMES}}

# The role table: every role the code asks for, and what for. catalog/kinds.yaml binds each to
# traits; loading fails when one is unbound, so renaming a trait can never silently change a result.
REQUIRED_ROLES: dict[str, str] = {
    "people": "components that become person actors",
    "supplier": "outside services that become supplier actors",
    "collector": "collectors: a service they call answers with data, whichever way the flow is drawn",
    "dependency": "third-party code and models that become dependency actors",
    "administers_targets": "control here gives control of the components it updates",
    "administers_environment": "control here gives control of every component it touches",
    "carries_code": "what flows out of these runs where it arrives",
    "obeys_callers": "input here is control: whoever calls it runs code in it",
    "third_party_when_declared": "with origin: third-party, these become dependency actors",
    "steered_by_prompts": "these act with the arguments an agent chooses",
    "code_dependency": "third-party packages that a dependency audit (pip-audit) covers",
    "runs_code": "these execute the code people send them",
    "model_store": "model artifacts (formats, scans, signatures)",
    "training_data": "datasets (feedback loops, sensitive training data)",
    "inference": "inference services (feedback loops, query access)",
    "gateway": "gateways and proxies (bypass checks)",
    "audit_watched": "components whose declared paths get audit watches",
    "manifest_covered": "components whose declared paths go into hash manifests",
    "high_value": "the assets attack paths are computed to",
    "context_source": "what may carry outside content into a prompt (content control)",
    "prompted": "models and agents that act on prompts (prompt access)",
}


@dataclass
class _Source:
    """One parsed catalog file, kept so that cross-checks can point into it."""

    name: str
    document: YamlMap
    content: CatalogFile
    builtin: bool

    def at(self, *path: Any) -> Location:
        return locate(self.document, tuple(path)) or Location(self.name, 1, 1)


@dataclass
class LoadedCatalog:
    catalog: Catalog
    warnings: list[Diagnostic] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def builtin_catalog_files() -> list[Path]:
    return sorted(p for p in catalog_dir().glob("*.yaml") if p.name != ATLAS_INDEX_FILE)


def _display_name(path: Path, builtin: bool) -> str:
    return f"catalog/{path.name}" if builtin else str(path)


def _parse(path: Path, builtin: bool, sink: DiagnosticSink, files: ParsedFiles | None = None) -> _Source | None:
    name = _display_name(path, builtin)
    try:
        document = files.mapping(path, name) if files is not None else load_mapping(path, name)
    except InputError as exc:
        sink.extend(exc.diagnostics)
        return None
    try:
        content = CatalogFile.model_validate(document)
    except ValidationError as exc:
        sink.extend(diagnostics_from(exc, document, name, CatalogFile))
        return None
    return _Source(name, document, content, builtin)


def load_catalog(extra: Iterable[Path] = (), atlas_path: Path | None = None) -> LoadedCatalog:
    """Load, merge and cross-check the built-in catalog plus user catalogs ``extra``."""
    sink = DiagnosticSink()
    files = ParsedFiles()  # the built-in files as parsed at install time, where unchanged
    index_path = atlas_path or catalog_dir() / ATLAS_INDEX_FILE
    try:
        atlas = load_index(index_path, _display_name(index_path, atlas_path is None),
                           parse=files.parse if atlas_path is None else None)
    except InputError as exc:
        raise InputError(exc.diagnostics) from None
    sources = [_parse(p, True, sink, files) for p in builtin_catalog_files()]
    sources += [_parse(Path(p), False, sink) for p in extra]
    parsed = [s for s in sources if s is not None]
    catalog = _merge(parsed, atlas, sink)
    if catalog is not None:
        _Checker(catalog, parsed, sink).run()
    sink.raise_if_errors()
    assert catalog is not None
    return LoadedCatalog(catalog, sink.warnings, [s.name for s in parsed])


def _merge(sources: list[_Source], atlas: AtlasIndex, sink: DiagnosticSink) -> Catalog | None:
    traits: dict[str, str] = {}
    roles: dict[str, frozenset[str]] = {}
    actor_classes: dict[str, ActorClass] = {}
    capabilities: dict[str, str] = {}
    attributes: dict[str, AttributeInfo] = {}
    protocols: dict[str, Protocol] = {}
    kinds: dict[str, Kind] = {}
    formats: dict[str, ArtifactFormat] = {}
    checks: list[Any] = []
    evidence: dict[str, str] = {}
    mitigations: dict[str, Mitigation] = {}
    threats: dict[str, Threat] = {}
    first_seen: dict[tuple[str, str], Location] = {}
    stride: StrideSection | None = None
    frameworks: dict[str, Framework] = {}
    aliases: list[dict[str, str]] = []
    agentic: dict[str, list[str]] = {}

    def claim(group: str, entity_id: str, location: Location) -> bool:
        key = (group, entity_id)
        if key in first_seen:
            sink.error(location, f"duplicate {group} id '{entity_id}' (already defined at {first_seen[key]})")
            return False
        first_seen[key] = location
        return True

    for source in sources:
        for name, text in source.content.traits.items():
            if claim("trait", name, locate(source.document, ("traits", name), key=True) or source.at("traits")):
                traits[name] = text
        for name, bound in source.content.roles.items():
            if claim("role", name, locate(source.document, ("roles", name), key=True) or source.at("roles")):
                roles[name] = frozenset(bound)
        for i, actor_class in enumerate(source.content.actor_classes):
            if claim("actor class", actor_class.id, source.at("actor_classes", i, "id")):
                actor_classes[actor_class.id] = actor_class
        for name, text in source.content.capabilities.items():
            if claim("capability", name, source.at("capabilities", name)):
                capabilities[name] = text
        for i, attribute in enumerate(source.content.attributes):
            if claim("attribute", f"{attribute.element}.{attribute.name}", source.at("attributes", i, "name")):
                attributes[f"{attribute.element}.{attribute.name}"] = attribute
        for i, protocol in enumerate(source.content.protocols):
            for j, name in enumerate(protocol.names):
                if claim("protocol", name.lower(), source.at("protocols", i, "names", j)):
                    protocols[name.lower()] = protocol
        for i, kind in enumerate(source.content.kinds):
            if claim("kind", kind.id, source.at("kinds", i, "id")):
                kinds[kind.id] = kind
        checks.extend(source.content.checks)
        for tool, bound in source.content.evidence.items():
            if claim("evidence binding", tool, source.at("evidence", tool)):
                evidence[tool] = bound
        for i, artifact_format in enumerate(source.content.formats):
            if claim("format", artifact_format.id, source.at("formats", i, "id")):
                formats[artifact_format.id] = artifact_format
        for i, mitigation in enumerate(source.content.mitigations):
            if claim("mitigation", mitigation.id, source.at("mitigations", i, "id")):
                mitigations[mitigation.id] = mitigation
        for i, threat in enumerate(source.content.threats):
            if claim("threat", threat.id, source.at("threats", i, "id")):
                threats[threat.id] = threat
        for i, framework in enumerate(source.content.frameworks):
            if claim("framework", framework.id, source.at("frameworks", i, "id")):
                frameworks[framework.id] = framework
        aliases += source.content.aliases
        agentic.update(source.content.agentic_to_llm_2025)
        if source.content.stride is not None:
            if stride is not None:
                sink.error(source.at("stride"), "the STRIDE section is defined twice")
            stride = source.content.stride
    if stride is None:
        sink.error(Location(sources[0].name if sources else "catalog", 1, 1), "no catalog file defines the STRIDE section")
        return None
    where = Location(sources[0].name if sources else "catalog", 1, 1)
    for role, description in REQUIRED_ROLES.items():
        if role not in roles:
            sink.error(where, f"role '{role}' ({description}) is not bound to any trait: add it under 'roles:'")
    scope = _attribute_scope(attributes, threats, mitigations, kinds)
    kinds = {kind_id: kind.model_copy(update={
                 "roles": frozenset(r for r, bound in roles.items() if bound & set(kind.traits)),
                 "ignores": frozenset(name for name, where in scope.items() if not where & (set(kind.traits) | {kind.dfd}))})
             for kind_id, kind in kinds.items()}
    return Catalog(atlas=atlas, traits=traits, roles=roles, actor_classes=actor_classes, capabilities=capabilities,
                   attributes=attributes, protocols=protocols, kinds=kinds, stride=stride, formats=formats, checks=checks, evidence=evidence,
                   mitigations=mitigations, threats=threats, frameworks=frameworks, aliases=aliases,
                   agentic_to_llm_2025=agentic)


# attributes the graph and the predicates read on any component (reach, exposure, content
# sources, who made it): never "ignored" on a kind
_READ_EVERYWHERE = frozenset({"authenticated", "exposure", "origin", "untrusted_content", "capabilities", "actor",
                               "admin_interface", "self_registration"})


def _attribute_scope(attributes: dict[str, Any], threats: dict[str, Any], mitigations: dict[str, Any],
                     kinds: dict[str, Any]) -> dict[str, set[str]]:
    """For each component attribute read only on some kinds, the traits and DFD types where
    something reads it: its question, the rules that test it, the mitigations it declares.
    Attributes that protect what is behind them (``on_path``) count everywhere."""
    scope: dict[str, set[str]] = {}
    for key, info in attributes.items():
        if info.element == "component" and not info.on_path and info.name not in _READ_EVERYWHERE and info.traits:
            scope[info.name] = set(info.traits)
    for threat in threats.values():
        for rule in threat.applies_to:
            for predicate in ("attribute", "attribute_any"):
                for name in (rule.when.get(predicate) or {}):
                    if name in scope:
                        scope[name] |= set(rule.traits) | set(rule.dfd) | ({"process", "data-store", "external-entity"}
                                                                          if not (rule.traits or rule.dfd or rule.kinds) else set())
                        for kind_id in rule.kinds:  # a rule for named kinds: what those kinds are
                            if kind_id in kinds:
                                scope[name] |= set(kinds[kind_id].traits) | {kinds[kind_id].dfd}
    for mitigation in mitigations.values():
        for declared in mitigation.declared_by:
            for name in declared:
                if name in scope:
                    scope[name] |= set(mitigation.fits) if mitigation.fits else {"process", "data-store", "external-entity"}
    return scope


class _Checker:
    """Cross-reference checks over the merged catalog, located in the files that wrote them."""

    def __init__(self, catalog: Catalog, sources: list[_Source], sink: DiagnosticSink) -> None:
        self.catalog = catalog
        self.sources = sources
        self.sink = sink

    def check_aliases(self, source: _Source) -> None:
        """Every id in the alias table and the agentic mapping is an entry of its edition."""
        catalog = self.catalog
        for i, row in enumerate(source.content.aliases):
            for key in ("llm-2023", "llm-2025", "llm-2026"):
                for entry in (v.strip() for v in row.get(key, "").split(",")):
                    if entry in ("", "-"):
                        continue
                    if not entry.endswith(key[-4:]) or catalog.framework_entry(entry) is None:
                        self.sink.error(source.at("aliases", i, key), f"alias table: '{entry}' is not an entry of {key}")
        for agentic, targets in source.content.agentic_to_llm_2025.items():
            for entry in [agentic, *targets]:
                if catalog.framework_entry(entry) is None:
                    self.sink.error(source.at("agentic-to-llm-2025", agentic), f"unknown framework entry '{entry}'")

    def run(self) -> None:
        used_mitigations: set[str] = set()
        for source in self.sources:
            self.check_aliases(source)
            for role, bound in source.content.roles.items():
                for trait in bound:
                    if trait not in self.catalog.traits:
                        self.sink.error(source.at("roles", role), f"role '{role}' names unknown trait '{trait}'"
                                        f"{did_you_mean(trait, self.catalog.traits)}")
            for i, attribute in enumerate(source.content.attributes):
                known = ATTRIBUTE_NAMES if attribute.element == "component" else FLOW_ATTRIBUTE_NAMES
                if attribute.name not in known:
                    self.sink.error(source.at("attributes", i, "name"), f"unknown {attribute.element} attribute "
                                    f"'{attribute.name}'{did_you_mean(attribute.name, known)}")
                for j, trait in enumerate(attribute.traits):
                    if trait not in self.catalog.traits:
                        self.sink.error(source.at("attributes", i, "traits", j), f"unknown trait '{trait}'"
                                        f"{did_you_mean(trait, self.catalog.traits)}")
            for i, actor_class in enumerate(source.content.actor_classes):
                if actor_class.id not in _TERMS.actor_classes:
                    self.sink.error(source.at("actor_classes", i, "id"), f"unknown actor class '{actor_class.id}' "
                                    f"(the system format knows {', '.join(_TERMS.actor_classes)})")
            for i, kind in enumerate(source.content.kinds):
                self.check_kind(source, i, kind)
            for i, artifact_format in enumerate(source.content.formats):
                for j, scan in enumerate(artifact_format.scans):
                    used_mitigations.add(scan.mitigation)
                    if scan.mitigation not in self.catalog.mitigations:
                        self.sink.error(source.at("formats", i, "scans", j, "mitigation"),
                                        f"unknown mitigation '{scan.mitigation}'{did_you_mean(scan.mitigation, self.catalog.mitigations)}")
            for tool, bound in source.content.evidence.items():
                used_mitigations.add(bound)
                if bound not in self.catalog.mitigations:
                    self.sink.error(source.at("evidence", tool), f"unknown mitigation '{bound}'"
                                    f"{did_you_mean(bound, self.catalog.mitigations)}")
            for i, check in enumerate(source.content.checks):
                used_mitigations.add(check.mitigation)
                if check.mitigation not in self.catalog.mitigations:
                    self.sink.error(source.at("checks", i, "mitigation"), f"unknown mitigation '{check.mitigation}'"
                                    f"{did_you_mean(check.mitigation, self.catalog.mitigations)}")
                if check.role not in self.catalog.roles:
                    self.sink.error(source.at("checks", i, "role"), f"unknown role '{check.role}'"
                                    f"{did_you_mean(check.role, self.catalog.roles)}")
                for attribute in check.when:
                    if attribute not in ATTRIBUTE_NAMES:
                        self.sink.error(source.at("checks", i, "when"), f"unknown attribute '{attribute}'"
                                        f"{did_you_mean(attribute, ATTRIBUTE_NAMES)}")
            for i, mitigation in enumerate(source.content.mitigations):
                for j, link in enumerate(mitigation.atlas):
                    self.check_atlas(source, ("mitigations", i, "atlas", j), link, AtlasMitigation)
                for j, declared in enumerate(mitigation.declared_by):
                    for attribute, value in declared.items():
                        expected = DECLARABLE_TYPES.get(attribute)
                        if expected is None:
                            self.sink.error(source.at("mitigations", i, "declared_by", j),
                                            f"'{attribute}' is not an attribute of components or flows"
                                            f"{did_you_mean(attribute, DECLARABLE_TYPES)}")
                        elif not isinstance(value, expected):
                            self.sink.error(source.at("mitigations", i, "declared_by", j),
                                            f"'{attribute}' takes {expected.__name__} values, not {value!r}")
                for j, trait in enumerate(mitigation.fits):
                    if trait not in ("flow", "process", "data-store", "external-entity") and trait not in self.catalog.traits:
                        self.sink.error(source.at("mitigations", i, "fits", j), f"unknown trait '{trait}'"
                                        f"{did_you_mean(trait, self.catalog.traits)} (or a DFD type, or 'flow')")
                for j, trait in enumerate(mitigation.needs):
                    if trait not in self.catalog.traits:
                        self.sink.error(source.at("mitigations", i, "needs", j), f"unknown trait '{trait}'"
                                        f"{did_you_mean(trait, self.catalog.traits)}")
                for j, trait in enumerate(mitigation.not_on):
                    if trait not in self.catalog.traits:
                        self.sink.error(source.at("mitigations", i, "not_on", j), f"unknown trait '{trait}'"
                                        f"{did_you_mean(trait, self.catalog.traits)}")
            for i, threat in enumerate(source.content.threats):
                used_mitigations.update(threat.mitigations)
                self.check_threat(source, i, threat)
        for source in self.sources:
            for i, mitigation in enumerate(source.content.mitigations):
                if mitigation.id not in used_mitigations:
                    self.sink.warning(source.at("mitigations", i, "id"),
                                      f"mitigation '{mitigation.id}' is not used by any threat")

    def check_kind(self, source: _Source, index: int, kind: Kind) -> None:
        for j, trait in enumerate(kind.traits):
            if trait not in self.catalog.traits:
                self.sink.error(source.at("kinds", index, "traits", j),
                                f"unknown trait '{trait}'{did_you_mean(trait, self.catalog.traits)}")
        for name, value in kind.defaults.items():
            where = source.at("kinds", index, "defaults", name)
            if name not in ATTRIBUTE_NAMES:
                self.sink.error(where, f"unknown attribute '{name}' in defaults{did_you_mean(name, ATTRIBUTE_NAMES)}")
                continue
            term = _COMPONENT_TERMS[name]
            items = value if term.type == "list" and isinstance(value, list) else [value]
            if not isinstance(value, term.python_type) or isinstance(value, bool) != (term.type == "boolean") \
                    or (term.values and not all(item in term.values for item in items)):
                expected = f"one of {', '.join(term.values)}" if term.values else f"a {term.python_type.__name__}"
                self.sink.error(where, f"invalid default {value!r} for attribute '{name}' (expected {expected})")

    def check_threat(self, source: _Source, index: int, threat: Threat) -> None:
        base = ("threats", index)
        if len(threat.mitigations) < MIN_MITIGATIONS:
            self.sink.error(source.at(*base, "mitigations"),
                            f"threat '{threat.id}' needs at least {MIN_MITIGATIONS} mitigations")
        for j, mitigation_id in enumerate(threat.mitigations):
            if mitigation_id not in self.catalog.mitigations:
                self.sink.error(source.at(*base, "mitigations", j), f"unknown mitigation '{mitigation_id}'"
                                f"{did_you_mean(mitigation_id, self.catalog.mitigations)}")
        for j, link in enumerate(threat.atlas):
            self.check_atlas(source, (*base, "atlas", j), link, AtlasTechnique)
        for j, entry in enumerate(threat.frameworks):
            if self.catalog.framework_entry(entry) is None:
                known = [e.id for f in self.catalog.frameworks.values() for e in f.entries]
                self.sink.error(source.at(*base, "frameworks", j),
                                f"unknown framework entry '{entry}' (ids carry their edition, e.g. LLM01:2025; "
                                f"catalog/frameworks.yaml lists them){did_you_mean(entry, known)}")
        for j, rule in enumerate(threat.applies_to):
            self.check_rule(source, (*base, "applies_to", j), threat, rule)

    def check_rule(self, source: _Source, path: tuple[Any, ...], threat: Threat, rule: Any) -> None:
        for j, kind in enumerate(rule.kinds):
            if kind not in self.catalog.kinds:
                self.sink.error(source.at(*path, "kinds", j), f"unknown kind '{kind}'{did_you_mean(kind, self.catalog.kinds)}")
        for j, trait in enumerate(rule.traits):
            if trait not in self.catalog.traits:
                self.sink.error(source.at(*path, "traits", j), f"unknown trait '{trait}'{did_you_mean(trait, self.catalog.traits)}")
        known = ATTRIBUTE_NAMES if rule.element == "component" else FLOW_ATTRIBUTE_NAMES
        for j, attribute in enumerate(rule.assume):
            if attribute not in known:
                self.sink.error(source.at(*path, "assume", j), f"unknown {rule.element} attribute '{attribute}'"
                                f"{did_you_mean(attribute, known)}")
        for name, parameter in rule.when.items():
            predicate = SIGNATURES.get(name)
            if predicate is None:
                where = locate(source.document, (*path, "when", name), key=True) or source.at(*path)
                self.sink.error(where, f"unknown predicate '{name}'{did_you_mean(name, SIGNATURES)}")
                continue
            where = source.at(*path, "when", name)
            if predicate.element != rule.element:
                self.sink.error(where, f"predicate '{name}' applies to {predicate.element}s, "
                                       f"but this rule is for {rule.element}s")
                continue
            problem = predicate.check(parameter, frozenset(self.catalog.traits))
            if problem:
                self.sink.error(where, f"predicate '{name}': {problem}")
        dfd_types = (["data-flow"] if rule.element == "flow" else
                     sorted({k.dfd for k in self.catalog.kinds.values()
                             if (not rule.kinds or k.id in rule.kinds) and set(rule.traits) <= set(k.traits)
                             and (not rule.dfd or k.dfd in rule.dfd)}))
        allowed = {letter for dfd in dfd_types for letter in self.catalog.stride.per_element.get(dfd, [])}
        if dfd_types and not allowed & set(threat.stride):
            self.sink.warning(source.at(*path), f"threat '{threat.id}' ({''.join(threat.stride)}) targets "
                              f"{', '.join(dfd_types)}, where STRIDE-per-element expects none of those letters")

    def check_atlas(self, source: _Source, path: tuple[Any, ...], link: AtlasLink, expected: type) -> None:
        atlas = self.catalog.atlas
        where = source.at(*path)
        entry = atlas.get(link.id)
        what = "technique" if expected is AtlasTechnique else "mitigation"
        if entry is None:
            removed = atlas.removed_entry(link.id)
            if removed is not None:
                successors = atlas.find_by_name(removed.name)
                hint = f"; '{removed.name}' is now {successors[0]} '{atlas.full_name(successors[0])}'" if successors else ""
                self.sink.error(where, f"ATLAS {what} {link.id} was removed from ATLAS "
                                       f"(it was '{removed.name}'){hint}")
            else:
                self.sink.error(where, f"unknown ATLAS {what} id '{link.id}' (ATLAS {atlas.atlas_version})")
            return
        if not isinstance(entry, expected):
            self.sink.error(where, f"{link.id} is not an ATLAS {what}")
            return
        if link.name and link.name not in (entry.name, atlas.full_name(link.id)):
            if link.name in entry.aliases:
                self.sink.warning(where, f"{link.id} '{link.name}' is a former ATLAS name; "
                                         f"it is now '{atlas.full_name(link.id)}'")
            else:
                self.sink.error(where, f"{link.id} is '{atlas.full_name(link.id)}' in ATLAS "
                                       f"{atlas.atlas_version}, not '{link.name}'")
