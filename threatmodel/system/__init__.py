"""The described system: its pydantic model, the located loader with includes, the JSON Schema,
the draft that importers and `discover` fill (each guess noted),
and the starter model of `threatmodel init`."""
