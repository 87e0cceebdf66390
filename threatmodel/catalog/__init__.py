"""The threat catalog: threats, kinds, traits, roles, attributes, mitigations, frameworks and the
ATLAS index, loaded from catalog/*.yaml (model, load, atlas, frameworks)."""
