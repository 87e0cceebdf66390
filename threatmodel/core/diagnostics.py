"""Turn pydantic validation errors into located, human diagnostics.

Pydantic reports *where* in the data a problem is (``loc``); the loader knows where each node
was written. This module joins the two and rewrites pydantic's messages into the words a
person editing YAML expects ("unknown key 'kidn', did you mean 'kind'?").
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from threatmodel.core.errors import Diagnostic, InputError, Location, did_you_mean
from threatmodel.core.located_yaml import locate, type_name

ModelT = TypeVar("ModelT", bound=BaseModel)


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text or "(top level)"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``loc`` (for key suggestions)."""
    current: Any = model
    for step in loc:
        if isinstance(step, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(step)
        if field is None:
            return None
        current = _innermost_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _innermost_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _innermost_model(arg)
        if found is not None:
            return found
    return None


def _field_names(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


# what each pattern in the models means, in words (error messages never show a regular expression)
PATTERN_WORDS = {
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$": "an id starts with a letter or digit and has only letters, digits, '.', '_' and '-'",
    r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$": "a threat id is upper-case letters and digits, words joined by '-' (ML02, MY-THREAT)",
    r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$": "a mitigation id is lower-case letters and digits, words joined by '-' (model-signing)",
}
FLOW_MAPPING_HINT = ("; in a {…} flow mapping a comma ends the value, so 'technology: Python, Keras' makes "
                     "'Keras' a key of its own: quote the value ('Python, Keras')")


def _message(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    where = _dotted(loc)
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        allowed = _field_names(parent)
        hint = did_you_mean(str(loc[-1]), allowed)
        if not hint and allowed:
            hint = f" (allowed: {', '.join(sorted(allowed))})"
        if error.get("input") is None:
            hint += FLOW_MAPPING_HINT
        return f"unknown key '{loc[-1]}'{hint}"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        words = PATTERN_WORDS.get(pattern, "it does not have the expected form")
        return f"{where}: invalid value {error.get('input')!r}: {words}"
    if kind == "missing":
        return f"missing required field '{loc[-1]}'" if loc else "missing required field"
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"{where}: invalid value {error.get('input')!r}; expected {expected}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{where}: expected a mapping, found {type_name(error.get('input'))}"
    if kind == "list_type":
        return f"{where}: expected a list, found {type_name(error.get('input'))}"
    if kind == "string_type":
        return f"{where}: expected a string, found {type_name(error.get('input'))}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where}: expected true or false, found {error.get('input')!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where}: expected a whole number, found {error.get('input')!r}"
    if kind == "value_error":
        return f"{where}: {error['msg'].removeprefix('Value error, ')}"
    if kind in ("too_short", "too_long"):
        return f"{where}: {error['msg'].replace('List', 'the list').replace('String', 'the text')}"
    return f"{where}: {error['msg']}"


def diagnostics_from(exc: ValidationError, document: Any, filename: str,
                     model: type[BaseModel], prefix: tuple[Any, ...] = ()) -> list[Diagnostic]:
    """Located diagnostics for every error in ``exc`` (``prefix``: where the model's data sits)."""
    result = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        # pydantic appends the tag of a union member ("str", "function-after[...]"); drop them.
        loc = tuple(step for step in loc if isinstance(step, int) or not any(c in str(step) for c in "[("))
        at_key = error["type"] in ("extra_forbidden",)
        location = locate(document, prefix + loc, key=at_key) or Location(filename, 1, 1)
        clean = dict(error, loc=loc)
        result.append(Diagnostic(location, _message(clean, model)))
    return result


def validate_model(model: type[ModelT], document: Any, filename: str) -> ModelT:
    """Validate ``document`` into ``model`` or raise :class:`InputError` with every problem."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InputError(sorted(set(diagnostics_from(exc, document, filename, model)))) from None
