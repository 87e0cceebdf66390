"""The report as data: built once from an assessment (build) and typed (model)."""
