"""What every importer does first: check the foreign file against a typed model of the part of the
format we read, and refuse duplicate ids, with errors located in the foreign file.

Each importer declares pydantic models of the fields it reads (:class:`Foreign` subclasses: other
fields are allowed and ignored), so that mapping code never meets a number where a list was
expected. :func:`check` validates a document and raises :class:`~threatmodel.core.errors.InputError`
with every problem at once, located at the line and column of the foreign file.
"""

from __future__ import annotations

from typing import Annotated, Any, Iterable, Optional, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from threatmodel.core.errors import Diagnostic, InputError, Location
from threatmodel.core.located_yaml import locate
from threatmodel.core.diagnostics import diagnostics_from

ModelT = TypeVar("ModelT", bound=BaseModel)


def _text(value: Any) -> Any:
    """Names and ids may be written as numbers (``"id": 1``); a mapping or a list may not."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _null_is_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _null_is_empty_map(value: Any) -> Any:
    return {} if value is None else value


Text = Annotated[str, BeforeValidator(_text)]
OptText = Optional[Text]


class Foreign(BaseModel):
    """A mapping in a foreign file: the fields we read are typed, the others are ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def ListOf(item: Any) -> Any:  # noqa: N802 - reads as a type
    """A list (``null`` read as empty) of ``item``."""
    return Annotated[list[item], BeforeValidator(_null_is_empty_list)]  # type: ignore[valid-type]


def MapOf(item: Any) -> Any:  # noqa: N802 - reads as a type
    """A mapping from names (``null`` read as empty) to ``item``."""
    return Annotated[dict[Text, item], BeforeValidator(_null_is_empty_map)]  # type: ignore[valid-type]


def check(model: type[ModelT], document: Any, filename: str) -> ModelT:
    """Validate ``document`` (the located data of a foreign file) into ``model``."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise InputError(sorted(set(diagnostics_from(exc, document, filename, model)))) from None


def duplicates(document: Any, filename: str, where: Iterable[tuple[tuple[Any, ...], str]], what: str) -> list[Diagnostic]:
    """A located error for every value seen before: ``where`` gives (path of the value, the value)
    for each object of one namespace."""
    problems = []
    first: dict[str, Location] = {}
    for path, value in where:
        location = locate(document, path) or Location(filename, 1, 1)
        if value in first:
            problems.append(Diagnostic(location, f"duplicate {what} '{value}' (first defined at line "
                                                 f"{first[value].line}): ids must be unique"))
        else:
            first[value] = location
    return problems


def raise_if(problems: list[Diagnostic]) -> None:
    if problems:
        raise InputError(sorted(set(problems)))
