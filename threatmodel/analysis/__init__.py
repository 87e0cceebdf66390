"""Matching the catalog against the graph: predicates (a registry, no eval), matching into
findings, and scoring (likelihood, impact, the credit of declared controls)."""
