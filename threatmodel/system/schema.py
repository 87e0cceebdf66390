"""The JSON Schema of the system format, generated from the pydantic models and the catalog.

The models are themselves generated from ``catalog/attributes.yaml`` (:mod:`threatmodel.catalog.terms`);
the catalog in use adds what a model may name: its component kinds (each with its description, so
editors can show it) and its model formats. A schema written for a user catalog therefore knows the
kinds and formats that catalog adds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from threatmodel.system.model import SystemDocument

if TYPE_CHECKING:
    from threatmodel.catalog.model import Catalog

SCHEMA_FILE_NAME = "threatmodel.schema.json"


def system_json_schema(catalog: "Catalog | None" = None) -> str:
    """The schema as JSON text; ``catalog`` defaults to the built-in one."""
    if catalog is None:
        from threatmodel.catalog.load import load_catalog

        catalog = load_catalog().catalog
    schema: dict[str, Any] = SystemDocument.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "threatmodel system model"
    component = schema["$defs"]["Component"]["properties"]
    component["kind"] = {
        "title": "Kind", "description": "what the component is (docs/format.md lists the kinds)",
        "oneOf": [{"const": kind.id, "description": kind.description} for kind in catalog.kinds.values()],
    }
    component["format"] = {
        "title": "Format", "description": component["format"].get("description", ""),
        "anyOf": [{"enum": list(catalog.formats)}, {"type": "null"}], "default": None,
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
