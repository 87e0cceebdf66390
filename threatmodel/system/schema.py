"""The JSON Schema of the system format, generated from the pydantic models."""

from __future__ import annotations

import json

from threatmodel.system.model import SystemDocument

SCHEMA_FILE_NAME = "threatmodel.schema.json"


def system_json_schema() -> str:
    schema = SystemDocument.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "threatmodel system model"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
