"""Importers from other threat-modeling tools' formats, one module per format.

Each importer reads a foreign file (through the located YAML loader, which also reads JSON, so
hostile files meet the same limits and errors as a model) and returns a :class:`~threatmodel.system.draft.Draft`:
a system model in our terms, with every guess noted, the foreign threats and their statuses, and
what could not be mapped. ``threatmodel import`` writes the draft as commented YAML and turns the
foreign threats that map onto our findings into a review file.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from threatmodel.core.errors import ChoiceError

if TYPE_CHECKING:
    from threatmodel.system.draft import Draft

IMPORTERS = {
    "otm": "threatmodel.interop.otm:import_otm",
    "tmbom": "threatmodel.interop.tmbom:import_tmbom",
    "threat-dragon": "threatmodel.interop.threat_dragon:import_threat_dragon",
    "threagile": "threatmodel.interop.threagile:import_threagile",
    "cyclonedx": "threatmodel.interop.cyclonedx:import_cyclonedx",
}


class UnknownImportFormat(ChoiceError):
    """An import format no importer reads (the message lists those that exist)."""


def import_file(format_name: str, path: Path, kinds: "set[str] | None" = None) -> "Draft":
    """A draft in our terms from a foreign file (``kinds``: the catalog's, to check kinds against)."""
    if format_name not in IMPORTERS:
        raise UnknownImportFormat(f"unknown import format '{format_name}' (known: {', '.join(IMPORTERS)})")
    from threatmodel.system.draft import settle

    module, _, function = IMPORTERS[format_name].partition(":")
    return settle(getattr(importlib.import_module(module), function)(path), kinds)
