"""The conditions a catalog rule may name in ``when:``: each one's name, the element it applies
to and the parameter it takes.

This is the rule language, so it lives with the catalog: the loader checks every rule against
it (an unknown condition or a bad parameter is a located error, never a silent ``False``), and
``threatmodel.analysis.predicates`` implements each one over the data-flow graph (it refuses to
import if a condition here has no implementation, or an implementation no signature).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from threatmodel.catalog.terms import builtin_terms
from threatmodel.core.errors import did_you_mean
from threatmodel.core.vocabulary import ACCESS_KINDS

ParameterCheck = Callable[[Any, frozenset[str]], "str | None"]  # (parameter, known traits) -> problem

_TERMS = builtin_terms()
FLOW_ATTRIBUTES: dict[str, type] = {"encrypted": bool, "authenticated": bool, "bidirectional": bool}


@dataclass(frozen=True)
class Signature:
    name: str
    element: str  # "component" or "flow"
    accepts: str  # what the parameter may be, for error messages and docs
    check: ParameterCheck


def _one_of(*choices: Any) -> ParameterCheck:
    def check(value: Any, _traits: frozenset[str]) -> str | None:
        if value in choices and type(value) is type(choices[choices.index(value)]):
            return None
        return f"expected one of {', '.join(repr(c) for c in choices)}, found {value!r}"
    return check


def _traits(value: Any, traits: frozenset[str]) -> str | None:
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) for n in names):
        return "expected a trait name or a list of trait names"
    unknown = [n for n in names if n not in traits]
    if unknown:
        return f"unknown trait '{unknown[0]}'{did_you_mean(unknown[0], traits)}"
    return None


def _attributes(allowed: dict[str, type]) -> ParameterCheck:
    def check(value: Any, _traits: frozenset[str]) -> str | None:
        if not isinstance(value, dict) or not value:
            return "expected a mapping of attribute names to values"
        for name, expected in value.items():
            if name not in allowed:
                return f"unknown attribute '{name}'{did_you_mean(name, allowed)}"
            kind = allowed[name]
            if not isinstance(expected, kind) or (kind is not bool and isinstance(expected, bool)):
                return f"attribute '{name}' takes {kind.__name__} values, found {expected!r}"
        return None
    return check


def _reach(value: Any, _traits: frozenset[str]) -> str | None:
    if not isinstance(value, dict) or "access" not in value:
        return "expected a mapping with 'access' (input, query, control or read) and optionally 'actors'"
    unknown_keys = set(value) - {"access", "actors"}
    if unknown_keys:
        return f"unknown key '{sorted(unknown_keys)[0]}' (expected 'access' and 'actors')"
    access = value["access"] if isinstance(value["access"], list) else [value["access"]]
    if not access or any(a not in ACCESS_KINDS for a in access):
        return f"access must be one or more of {', '.join(ACCESS_KINDS)}, found {value['access']!r}"
    actors = value.get("actors", [])
    classes = _TERMS.actor_classes
    if not isinstance(actors, list) or any(a not in classes for a in actors):
        return f"actors must be a list of actor classes ({', '.join(classes)}), found {actors!r}"
    return None


def _any_of_list(value: Any, _traits: frozenset[str]) -> str | None:
    list_attributes = {n for n, t in _TERMS.attribute_types.items() if t is list}
    if not isinstance(value, dict) or not value:
        return "expected a mapping of list attributes to the values any of which must be present"
    for name, expected in value.items():
        if name not in list_attributes:
            return f"'{name}' is not a list attribute{did_you_mean(name, list_attributes)}"
        if not isinstance(expected, list) or not expected or not all(isinstance(v, str) for v in expected):
            return f"'{name}' takes a list of values, found {expected!r}"
    return None


_YES_NO = ("true or false", _one_of(True, False))
_TRAITS = ("a trait or a list of traits", _traits)

SIGNATURES: dict[str, Signature] = {s.name: s for s in (
    Signature("exposure", "component", "'public' or 'internal'", _one_of("public", "internal")),
    Signature("reached_by", "component", "a mapping: access (input, query, control, read), actors (classes)", _reach),
    Signature("internet_facing", "component", *_YES_NO),
    Signature("receives_outsider_data", "component", *_YES_NO),
    Signature("bypasses_gateway", "component", *_YES_NO),
    Signature("attribute", "component", "a mapping of component attributes to values",
              _attributes(_TERMS.attribute_types)),
    Signature("attribute_any", "component", "a mapping of list attributes to values", _any_of_list),
    Signature("untrusted_context", "component", "true", _one_of(True)),
    Signature("feeds", "component", *_TRAITS),
    Signature("fed_by", "component", *_TRAITS),
    Signature("feedback_loop", "component", *_YES_NO),
    Signature("trained_on_sensitive_data", "component", *_YES_NO),
    Signature("handles_sensitive_data", "component", *_YES_NO),
    Signature("crosses_boundary", "flow", "true, false, 'inbound' or 'outbound'",
              _one_of(True, False, "inbound", "outbound")),
    Signature("flow_attribute", "flow", "a mapping of flow attributes to values", _attributes(FLOW_ATTRIBUTES)),
    Signature("from_trait", "flow", *_TRAITS),
    Signature("to_trait", "flow", *_TRAITS),
    Signature("carries_sensitive_data", "flow", *_YES_NO),
)}

__all__ = ["SIGNATURES", "Signature", "FLOW_ATTRIBUTES"]
