"""The named conditions catalog rules may use.

Each predicate is a small pure function over the data-flow graph that answers with a
:class:`Verdict`: whether it holds for one element, and a sentence saying why (used as evidence
when it holds and as the "not applicable" reason when it does not). Each declares the parameter
it accepts; the catalog loader rejects an unknown predicate or a bad parameter, so a typo in a
rule is an error at load time, never a silent ``False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .graph import UNTRUSTED, DataFlowGraph
from .system import ATTRIBUTE_NAMES, RATING_ORDER, COMPONENT_DEFAULTS

FLOW_ATTRIBUTES = {"encrypted": bool, "authenticated": bool, "bidirectional": bool}


@dataclass(frozen=True)
class Verdict:
    holds: bool
    reason: str


@dataclass(frozen=True)
class Predicate:
    name: str
    element: str  # "component" or "flow"
    accepts: str  # what the parameter may be, for error messages and docs
    doc: str
    check: Callable[[Any, frozenset[str]], str | None]  # (parameter, known traits) -> problem
    evaluate: Callable[[DataFlowGraph, str, Any], Verdict]


REGISTRY: dict[str, Predicate] = {}


def _register(name: str, element: str, accepts: str, check: Callable[[Any, frozenset[str]], str | None]):
    def decorator(function: Callable[[DataFlowGraph, str, Any], Verdict]):
        REGISTRY[name] = Predicate(name, element, accepts, (function.__doc__ or "").strip(), check, function)
        return function
    return decorator


# ---------------------------------------------------------------- parameter checks


def _one_of(*choices: Any) -> Callable[[Any, frozenset[str]], str | None]:
    def check(value: Any, _traits: frozenset[str]) -> str | None:
        if value in choices and type(value) is type(choices[choices.index(value)]):
            return None
        return f"expected one of {', '.join(repr(c) for c in choices)}, found {value!r}"
    return check


def _traits_param(value: Any, traits: frozenset[str]) -> str | None:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) for n in names):
        return "expected a trait name or a list of trait names"
    unknown = [n for n in names if n not in traits]
    if unknown:
        from .errors import did_you_mean

        return f"unknown trait '{unknown[0]}'{did_you_mean(unknown[0], traits)}"
    return None


def _attributes_param(allowed: dict[str, Any]) -> Callable[[Any, frozenset[str]], str | None]:
    def check(value: Any, _traits: frozenset[str]) -> str | None:
        if not isinstance(value, dict) or not value:
            return "expected a mapping of attribute names to values"
        for name, expected in value.items():
            if name not in allowed:
                from .errors import did_you_mean

                return f"unknown attribute '{name}'{did_you_mean(name, allowed)}"
            kind = allowed[name]
            if not isinstance(expected, kind) or (kind is not bool and isinstance(expected, bool)):
                return f"attribute '{name}' takes {kind.__name__} values, found {expected!r}"
        return None
    return check


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _path(graph: DataFlowGraph, path: list[str]) -> str:
    return graph.describe_path(path)


# ---------------------------------------------------------------- component predicates


@_register("exposure", "component", "'public' or 'internal'", _one_of("public", "internal"))
def exposure(graph: DataFlowGraph, element: str, wanted: str) -> Verdict:
    """The component's declared exposure (inference services: public or internal)."""
    actual = graph.attribute(element, "exposure")
    return Verdict(actual == wanted, f"{element} is declared {actual}")


@_register("reachable_from", "component", "'untrusted' or 'lower_trust'", _one_of("untrusted", "lower_trust"))
def reachable_from(graph: DataFlowGraph, element: str, origin: str) -> Verdict:
    """Data from an untrusted (internet-level) or any less trusted zone reaches the component."""
    path = graph.attack_path_to(element) if origin == "untrusted" else graph.lower_trust_path_to(element)
    zone = "the internet-level zone" if origin == "untrusted" else "a less trusted zone"
    if not path:
        return Verdict(False, f"no flow path leads into {element} from {zone}")
    first = path[0]
    verb = "is written" if graph.dfd(element) == "data-store" else "receives data"
    via = f" via {_path(graph, path)}" if len(path) > 2 else ""
    return Verdict(True, f"{element} {verb} from {first} ({graph.zone(first)}){via}, "
                         f"across the boundary of {graph.zone(element)}")


@_register("attribute", "component", "a mapping of component attributes to values",
           _attributes_param({name: type(COMPONENT_DEFAULTS[name]) for name in ATTRIBUTE_NAMES}))
def attribute(graph: DataFlowGraph, element: str, wanted: dict[str, Any]) -> Verdict:
    """The component's attributes (after kind defaults) have the given values."""
    mismatched = [(n, graph.attribute(element, n)) for n, v in wanted.items() if graph.attribute(element, n) != v]
    if mismatched:
        name, actual = mismatched[0]
        return Verdict(False, f"{element} has {name}: {_yaml(actual)}")
    return Verdict(True, f"{element} has " + ", ".join(f"{n}: {_yaml(v)}" for n, v in wanted.items()))


@_register("feeds", "component", "a trait or a list of traits", _traits_param)
def feeds(graph: DataFlowGraph, element: str, traits: Any) -> Verdict:
    """Data or code from the component flows into a component with one of the traits."""
    path = graph.downstream_with_trait(element, _as_list(traits))
    names = " or ".join(_as_list(traits))
    if not path:
        return Verdict(False, f"nothing from {element} flows into a component with the trait {names}")
    return Verdict(True, f"{element} flows into {path[-1]} ({graph.component(path[-1]).kind})"
                         + (f" via {_path(graph, path)}" if len(path) > 2 else ""))


@_register("fed_by", "component", "a trait or a list of traits", _traits_param)
def fed_by(graph: DataFlowGraph, element: str, traits: Any) -> Verdict:
    """Data from a component with one of the traits flows into this component."""
    for trait in _as_list(traits):
        path = graph.upstream_with_trait(element, trait)
        if path:
            return Verdict(True, f"{element} receives data from {path[0]} ({graph.component(path[0]).kind})"
                                 + (f" via {_path(graph, path)}" if len(path) > 2 else ""))
    return Verdict(False, f"no component with the trait {' or '.join(_as_list(traits))} feeds {element}")


@_register("feedback_loop", "component", "true or false", _one_of(True, False))
def feedback_loop(graph: DataFlowGraph, element: str, wanted: bool) -> Verdict:
    """Inference output or user input flows back into this training data."""
    path = graph.feedback_path(element)
    if path:
        return Verdict(wanted, f"predictions flow back into {element} via {_path(graph, path)}")
    return Verdict(not wanted, f"no flow feeds inference output or user input back into {element}")


@_register("trained_on_sensitive_data", "component", "true or false", _one_of(True, False))
def trained_on_sensitive_data(graph: DataFlowGraph, element: str, wanted: bool) -> Verdict:
    """The training data upstream of the component holds personal or highly confidential data."""
    path = graph.sensitive_training_path(element)
    if path is None:
        return Verdict(not wanted, f"no training data upstream of {element} is marked as personal "
                                   "or highly confidential")
    dataset = path[0]
    for asset_id in sorted(graph.data_stored_or_carried(dataset)):
        asset = graph.system.data_asset(asset_id)
        if asset.pii or asset.confidentiality == "high":
            what = "personal data" if asset.pii else "highly confidential data"
            return Verdict(wanted, f"{element} serves a model trained on {dataset}, which holds "
                                   f"{asset_id} ({what})")
    raise AssertionError("a sensitive dataset holds sensitive data")  # pragma: no cover


@_register("handles_sensitive_data", "component", "true or false", _one_of(True, False))
def handles_sensitive_data(graph: DataFlowGraph, element: str, wanted: bool) -> Verdict:
    """The component stores, receives or sends personal or highly confidential data."""
    for asset_id in sorted(graph.data_stored_or_carried(element)):
        asset = graph.system.data_asset(asset_id)
        if asset.pii or asset.confidentiality == "high":
            return Verdict(wanted, f"{element} handles {asset_id}"
                                   f" ({'personal data' if asset.pii else 'confidentiality high'})")
    return Verdict(not wanted, f"{element} handles no personal or highly confidential data")


# ---------------------------------------------------------------- flow predicates


def _directions(graph: DataFlowGraph, flow_key: str) -> list[tuple[str, str]]:
    flow = graph.flow(flow_key)
    pairs = [(flow.source, flow.target)]
    if flow.bidirectional:
        pairs.append((flow.target, flow.source))
    return pairs


@_register("crosses_boundary", "flow", "true, false, 'inbound' or 'outbound'",
           _one_of(True, False, "inbound", "outbound"))
def crosses_boundary(graph: DataFlowGraph, element: str, wanted: Any) -> Verdict:
    """The flow crosses a trust boundary (optionally: towards more, or less, trust)."""
    for source, target in _directions(graph, element):
        crossing = graph.crossing(source, target, element)
        if crossing and (wanted is True or wanted == crossing.direction):
            return Verdict(True, f"{element} ({source} → {target}) crosses boundary "
                                 f"{', '.join(crossing.boundaries)} ({crossing.direction})")
    if wanted is False:
        crossed = [graph.crossing(s, t, element) for s, t in _directions(graph, element)]
        return Verdict(not any(crossed), f"{element} stays inside one trust zone" if not any(crossed)
                       else f"{element} crosses a trust boundary")
    return Verdict(False, f"{element} does not cross a trust boundary"
                          + ("" if wanted is True else f" {wanted}"))


@_register("flow_attribute", "flow", "a mapping of flow attributes to values", _attributes_param(FLOW_ATTRIBUTES))
def flow_attribute(graph: DataFlowGraph, element: str, wanted: dict[str, Any]) -> Verdict:
    """The flow's attributes (encrypted, authenticated, bidirectional) have the given values."""
    flow = graph.flow(element)
    for name, value in wanted.items():
        if getattr(flow, name) != value:
            return Verdict(False, f"{element} is {'' if getattr(flow, name) else 'not '}{name}")
    return Verdict(True, f"{element} is " + " and ".join(("" if v else "not ") + n for n, v in wanted.items()))


@_register("from_trait", "flow", "a trait or a list of traits", _traits_param)
def from_trait(graph: DataFlowGraph, element: str, traits: Any) -> Verdict:
    """The flow leaves a component with one of the traits."""
    for source, target in _directions(graph, element):
        if graph.traits(source) & set(_as_list(traits)):
            return Verdict(True, f"{element} carries output of {source} ({graph.component(source).kind}) to {target}")
    return Verdict(False, f"{element} does not leave a component with the trait {' or '.join(_as_list(traits))}")


@_register("to_trait", "flow", "a trait or a list of traits", _traits_param)
def to_trait(graph: DataFlowGraph, element: str, traits: Any) -> Verdict:
    """The flow enters a component with one of the traits."""
    for source, target in _directions(graph, element):
        if graph.traits(target) & set(_as_list(traits)):
            return Verdict(True, f"{element} delivers data from {source} to {target} ({graph.component(target).kind})")
    return Verdict(False, f"{element} does not enter a component with the trait {' or '.join(_as_list(traits))}")


@_register("carries_sensitive_data", "flow", "true or false", _one_of(True, False))
def carries_sensitive_data(graph: DataFlowGraph, element: str, wanted: bool) -> Verdict:
    """The flow carries personal data or data rated confidentiality high."""
    for asset_id in graph.flow(element).data:
        asset = graph.system.data_asset(asset_id)
        if asset.pii or RATING_ORDER[asset.confidentiality] >= RATING_ORDER["high"]:
            return Verdict(wanted, f"{element} carries {asset_id}")
    return Verdict(not wanted, f"{element} carries no personal or highly confidential data")


def _yaml(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


__all__ = ["REGISTRY", "Predicate", "Verdict", "UNTRUSTED"]
