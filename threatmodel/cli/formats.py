"""Choosing an output format on the command line: from the registry, never from a list here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

from . import common

if TYPE_CHECKING:
    from ..renderers.registry import OutputFormat


def format_help() -> str:
    from ..renderers.registry import format_names

    return f"Output format: {', '.join(format_names())} (default: from -o's extension, else md)."


def resolve_format(name: Optional[str], output: Optional[Path]) -> "OutputFormat":
    from ..renderers.registry import UnknownFormat, format_for_path, get_format

    if name is not None:
        try:
            return get_format(name.strip().lower())
        except UnknownFormat as exc:
            raise common.fail(str(exc)) from None
    if output is not None and str(output) != "-":
        inferred = format_for_path(output)
        if inferred is not None:
            return inferred
    return get_format("md")
