"""The described system: its pydantic model, the located loader with includes, the JSON Schema
and the starter model of `threatmodel init`."""
