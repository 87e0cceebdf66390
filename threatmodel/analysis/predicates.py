"""The named conditions catalog rules may use.

Each predicate is a small pure function over the data-flow graph that answers with a
:class:`Verdict`: whether it holds for one element, and a sentence saying why (used as evidence
when it holds and as the "not applicable" reason when it does not). Each condition's name,
element and parameter are declared in :mod:`threatmodel.catalog.conditions`, which the catalog
loader checks rules against, so a typo in a rule is an error at load time, never a silent
``False``; this module implements every one of them (and refuses to import otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from threatmodel.catalog.conditions import SIGNATURES, ParameterCheck, Signature
from threatmodel.system.model import RATING_ORDER

from threatmodel.graph.reach import VERBS

if TYPE_CHECKING:
    from threatmodel.graph import DataFlowGraph
    from threatmodel.graph.reach import Access


@dataclass(frozen=True)
class Verdict:
    holds: bool
    reason: str
    access: "Access | None" = None  # the actor's way in, when the predicate is about reach
    unknown: tuple[str, ...] = ()  # attributes the answer depended on that the model leaves unknown
    unknown_on: str = ""  # the component those attributes belong to, when not the element itself
    also: tuple["Access", ...] = ()  # other actor classes' ways in (for attack trees), most likely first


@dataclass(frozen=True)
class Predicate:
    """A condition's signature (threatmodel.catalog.conditions) and its implementation."""

    signature: Signature
    doc: str
    evaluate: Callable[["DataFlowGraph", str, Any], Verdict]

    @property
    def name(self) -> str:
        return self.signature.name

    @property
    def element(self) -> str:  # "component" or "flow"
        return self.signature.element

    @property
    def accepts(self) -> str:  # what the parameter may be, for error messages and docs
        return self.signature.accepts

    @property
    def check(self) -> ParameterCheck:  # (parameter, known traits) -> problem
        return self.signature.check


REGISTRY: dict[str, Predicate] = {}


def _register(name: str):
    """The implementation of the condition ``name`` (its signature: threatmodel.catalog.conditions)."""
    signature = SIGNATURES[name]

    def decorator(function: Callable[["DataFlowGraph", str, Any], Verdict]):
        REGISTRY[name] = Predicate(signature, (function.__doc__ or "").strip(), function)
        return function
    return decorator


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _path(graph: "DataFlowGraph", path: list[str]) -> str:
    return graph.describe_path(path)


# ---------------------------------------------------------------- component predicates


@_register("exposure")
def exposure(graph: "DataFlowGraph", element: str, wanted: str) -> Verdict:
    """The component's declared exposure (inference services: public or internal)."""
    actual = graph.attribute(element, "exposure")
    if actual is None:
        return Verdict(False, f"{element} does not declare its exposure", unknown=("exposure",))
    return Verdict(actual == wanted, f"{element} is declared {actual}")


@_register("reached_by")
def reached_by(graph: "DataFlowGraph", element: str, wanted: dict[str, Any]) -> Verdict:
    """An actor (of the given classes, or any) has this access to the component; the most likely
    actor's path is the finding's attack path."""
    kinds = wanted["access"] if isinstance(wanted["access"], list) else [wanted["access"]]
    classes = wanted.get("actors") or None
    found = graph.reach.accesses(element, kinds, classes)
    who = f"{' or '.join(classes)} actor" if classes else "actor"
    if not found:
        return Verdict(False, f"no {who} {' or '.join(VERBS[k] for k in kinds)} {element}")
    return Verdict(True, found[0].describe(graph, element), found[0], also=tuple(found[1:]))



@_register("internet_facing")
def internet_facing(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """Someone outside every boundary connects to the component directly (or it is declared public)."""
    entries = graph.internet_entries(element)
    if entries:
        person, flow = entries[0]
        return Verdict(wanted, f"{person} connects to {element} from outside every boundary ({flow}), "
                               "so anyone on the internet can reach its login")
    if graph.attribute(element, "exposure") == "public":
        return Verdict(wanted, f"{element} is declared public")
    return Verdict(not wanted, f"nobody connects to {element} from outside every boundary")


@_register("receives_outsider_data")
def receives_outsider_data(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """Data that an outside user (an outsider actor class) sends arrives here: the first flow of
    the actor's path carries declared data assets."""
    best = graph.reach.best(element, ["input"], graph.catalog.outsider_classes())
    if best is None:
        return Verdict(not wanted, f"no outside user sends input to {element}")
    carried = sorted(graph.flow(best.flows[0]).data) if best.flows else []
    if not carried:
        return Verdict(not wanted, f"the flow by which {best.actor.id} reaches {element} declares no data")
    via = f" via {graph.describe_path(best.path)}" if len(best.path) > 2 else ""
    return Verdict(wanted, f"{best.actor.id} sends {', '.join(carried)} to {element}{via}", best)


@_register("bypasses_gateway")
def bypasses_gateway(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """A gateway forwards requests to the component, yet an outside user reaches it on a path
    that passes no gateway."""
    gateways = [s for s, _k in graph.flows_into(element) if graph.has_role(s, "gateway")]
    if not gateways:
        return Verdict(not wanted, f"no gateway forwards requests to {element}")
    for access in graph.reach.accesses(element, ["input"], graph.catalog.outsider_classes()):
        if not any(graph.has_component(n) and graph.has_role(n, "gateway") for n in access.path):
            return Verdict(wanted, f"{access.actor.id} reaches {element} via {graph.describe_path(access.path)}, "
                                   f"around {gateways[0]}", access)
    return Verdict(not wanted, f"outside users reach {element} only through {gateways[0]}")


@_register("attribute")
def attribute(graph: "DataFlowGraph", element: str, wanted: dict[str, Any]) -> Verdict:
    """The component's attributes (after kind defaults) have the given values; an attribute the
    model does not state is unknown, and the condition does not hold (unless the rule assumes it)."""
    unknown = tuple(n for n in wanted if graph.attribute(element, n) is None)
    mismatched = [(n, graph.attribute(element, n)) for n, v in wanted.items()
                  if graph.attribute(element, n) is not None and graph.attribute(element, n) != v]
    if mismatched:
        name, actual = mismatched[0]
        return Verdict(False, f"{element} has {name}: {_yaml(actual)}")
    if unknown:
        return Verdict(False, f"{element} does not say {', '.join(unknown)}", unknown=unknown)
    return Verdict(True, f"{element} has " + ", ".join(f"{n}: {_yaml(v)}" for n, v in wanted.items()))


@_register("attribute_any")
def attribute_any(graph: "DataFlowGraph", element: str, wanted: dict[str, list[str]]) -> Verdict:
    """The component's list attribute (capabilities, output_to) holds at least one of the values;
    unknown when the model does not say."""
    for name, values in wanted.items():
        actual = graph.attribute(element, name)
        if actual is None:
            return Verdict(False, f"{element} does not say {name}", unknown=(name,))
        found = [v for v in values if v in actual]  # type: ignore[operator]
        if not found:
            return Verdict(False, f"{element} has {name}: {_yaml(actual)}, none of {', '.join(values)}")
    return Verdict(True, "; ".join(f"{element} has {name}: {_yaml(graph.attribute(element, name))}"
                                   for name in wanted))


def _content_author(graph: "DataFlowGraph", path: list[str]) -> "Access | None":
    """Whoever controls the outside content is the attacker of an indirect injection: the actor
    that sends input to (or controls) where the content enters, on to the element along the
    content's own path, not the person who happens to be prompting."""
    from threatmodel.graph.reach import Access

    found = graph.reach.accesses(path[0], ["input", "control"])
    if not found:
        return None
    author = found[0]
    route: list[str] = []
    for node in list(author.path) + list(path[1:]):  # the author's way may already pass through the content's
        route = route[:route.index(node)] if node in route else route
        route.append(node)
    return Access(author.actor, "input", tuple(route), author.flows, author.likelihood)


@_register("untrusted_context")
def untrusted_context(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """Content from outside reaches the component's context: it, or a component whose data flows
    into it, declares untrusted_content, is an outside service, or is a tool that can reach the network."""
    def untrusted(node: str) -> bool:
        declared = graph.attribute(node, "untrusted_content")
        capabilities = graph.attribute(node, "capabilities") or []
        # an outside service's data is outside content unless it says otherwise, or all it sends is
        # identity (an identity provider's tokens are no instructions a model reads)
        sent = graph.flows_out_of(node)
        supplier_content = graph.has_role(node, "supplier") and not (sent and all(graph.is_identity(k) for _t, k in sent))
        return declared is True or (declared is None and supplier_content) \
            or "network" in capabilities  # type: ignore[operator]

    if untrusted(element):
        return Verdict(True, f"content from outside enters {element} (it declares untrusted_content or network)",
                       _content_author(graph, [element]))
    path = graph.lineage.path_from(element, untrusted, ("untrusted", "content"))
    if path:
        return Verdict(True, f"content from outside enters {path[0]} ({graph.component(path[0]).kind}) and "
                             f"reaches {element}" + (f" via {_path(graph, path)}" if len(path) > 2 else ""),
                       _content_author(graph, path))
    unknown = graph.lineage.path_from(
        element, lambda n: graph.attribute(n, "untrusted_content") is None and graph.has_role(n, "context_source"),
        ("unknown", "untrusted"))
    if unknown:
        return Verdict(False, f"{unknown[0]} does not say whether untrusted content enters it",
                       unknown=("untrusted_content",), unknown_on=unknown[0])
    return Verdict(False, f"no component feeding {element} declares untrusted content or network access")


@_register("feeds")
def feeds(graph: "DataFlowGraph", element: str, traits: Any) -> Verdict:
    """Data or code from the component flows into a component with one of the traits."""
    path = graph.lineage.downstream_with_trait(element, _as_list(traits))
    names = " or ".join(_as_list(traits))
    if not path:
        return Verdict(False, f"nothing from {element} flows into a component with the trait {names}")
    return Verdict(True, f"{element} flows into {path[-1]} ({graph.component(path[-1]).kind})"
                         + (f" via {_path(graph, path)}" if len(path) > 2 else ""))


@_register("fed_by")
def fed_by(graph: "DataFlowGraph", element: str, traits: Any) -> Verdict:
    """Data from a component with one of the traits flows into this component."""
    for trait in _as_list(traits):
        path = graph.lineage.upstream_with_trait(element, trait)
        if path:
            return Verdict(True, f"{element} receives data from {path[0]} ({graph.component(path[0]).kind})"
                                 + (f" via {_path(graph, path)}" if len(path) > 2 else ""))
    return Verdict(False, f"no component with the trait {' or '.join(_as_list(traits))} feeds {element}")


@_register("feedback_loop")
def feedback_loop(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """Inference output or user input flows back into this training data."""
    path = graph.lineage.feedback_path(element)
    if path:
        return Verdict(wanted, f"predictions flow back into {element} via {_path(graph, path)}")
    return Verdict(not wanted, f"no flow feeds inference output or user input back into {element}")


@_register("trained_on_sensitive_data")
def trained_on_sensitive_data(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """The training data upstream of the component holds personal or highly confidential data."""
    path = graph.lineage.sensitive_training_path(element)
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


@_register("handles_sensitive_data")
def handles_sensitive_data(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """The component stores, receives or sends personal or highly confidential data."""
    for asset_id in sorted(graph.data_stored_or_carried(element)):
        asset = graph.system.data_asset(asset_id)
        if asset.pii or asset.confidentiality == "high":
            return Verdict(wanted, f"{element} handles {asset_id}"
                                   f" ({'personal data' if asset.pii else 'confidentiality high'})")
    return Verdict(not wanted, f"{element} handles no personal or highly confidential data")


# ---------------------------------------------------------------- flow predicates


def _directions(graph: "DataFlowGraph", flow_key: str) -> list[tuple[str, str]]:
    flow = graph.flow(flow_key)
    pairs = [(flow.source, flow.target)]
    if flow.bidirectional:
        pairs.append((flow.target, flow.source))
    return pairs


@_register("crosses_boundary")
def crosses_boundary(graph: "DataFlowGraph", element: str, wanted: Any) -> Verdict:
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


@_register("flow_attribute")
def flow_attribute(graph: "DataFlowGraph", element: str, wanted: dict[str, Any]) -> Verdict:
    """The flow's attributes (encrypted, authenticated, bidirectional) have the given values;
    encryption and authentication come from the flow, else from its protocol, else are unknown."""
    said = []
    for name, value in wanted.items():
        if name == "bidirectional":
            actual, source = graph.flow(element).bidirectional, "stated"
        else:
            actual, source = graph.flow_value(element, name)
        if actual is None:
            return Verdict(False, f"{element} does not say whether it is {name}", unknown=(name,))
        if actual != value:
            return Verdict(False, f"{element} is {'' if actual else 'not '}{name}"
                                  + (f" ({source})" if source != "stated" else ""))
        said.append(("" if value else "not ") + name + (f" ({source})" if source != "stated" else ""))
    return Verdict(True, f"{element} is " + " and ".join(said))


@_register("from_trait")
def from_trait(graph: "DataFlowGraph", element: str, traits: Any) -> Verdict:
    """The flow leaves a component with one of the traits."""
    for source, target in _directions(graph, element):
        if graph.traits(source) & set(_as_list(traits)):
            return Verdict(True, f"{element} carries output of {source} ({graph.component(source).kind}) to {target}")
    return Verdict(False, f"{element} does not leave a component with the trait {' or '.join(_as_list(traits))}")


@_register("to_trait")
def to_trait(graph: "DataFlowGraph", element: str, traits: Any) -> Verdict:
    """The flow enters a component with one of the traits."""
    for source, target in _directions(graph, element):
        if graph.traits(target) & set(_as_list(traits)):
            return Verdict(True, f"{element} delivers data from {source} to {target} ({graph.component(target).kind})")
    return Verdict(False, f"{element} does not enter a component with the trait {' or '.join(_as_list(traits))}")


@_register("carries_sensitive_data")
def carries_sensitive_data(graph: "DataFlowGraph", element: str, wanted: bool) -> Verdict:
    """The flow carries personal data or data rated confidentiality high."""
    for asset_id in graph.flow(element).data:
        asset = graph.system.data_asset(asset_id)
        if asset.pii or RATING_ORDER[asset.confidentiality] >= RATING_ORDER["high"]:
            return Verdict(wanted, f"{element} carries {asset_id}")
    return Verdict(not wanted, f"{element} carries no personal or highly confidential data")


def _yaml(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


if set(REGISTRY) != set(SIGNATURES):  # a condition the loader accepts must be one the analysis can answer
    raise ImportError(f"conditions without an implementation: {sorted(set(SIGNATURES) - set(REGISTRY))}; "
                      f"implementations without a signature: {sorted(set(REGISTRY) - set(SIGNATURES))}")

__all__ = ["REGISTRY", "Predicate", "Verdict"]
