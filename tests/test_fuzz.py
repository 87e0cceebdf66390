"""Property-based checks: any YAML a user might write either loads or gives located errors.

Never another exception (a traceback is a bug), for system models, user catalogs and review
files, with values of every type in every place.
"""

from __future__ import annotations

import string

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from threatmodel.catalog.load import load_catalog
from threatmodel.core.errors import InputError
from threatmodel.pipeline import assess as run
from threatmodel.review.statuses import load_review
from threatmodel.system.load import load_system

IDS = st.sampled_from(["a", "b", "api", "model", "x y", "", "ML01", "ML01@a", "*@a", "-D", "/srv/m.h5"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                    IDS, st.text(string.printable, max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(IDS, inner, max_size=3)), max_leaves=8)
COMPONENT = st.fixed_dictionaries({"id": IDS, "kind": st.sampled_from(["person", "dataset", "model-artifact",
                                                                      "inference-service", "library", "datset", 3])},
                                  optional={"boundary": IDS, "paths": st.lists(IDS, max_size=2), "exposure": VALUES,
                                            "format": VALUES, "data": st.lists(IDS, max_size=2), "extra": VALUES})
FLOW = st.fixed_dictionaries({"from": IDS, "to": IDS},
                             optional={"id": IDS, "data": VALUES, "encrypted": VALUES, "bidirectional": VALUES})
MODEL = st.fixed_dictionaries(
    {},
    optional={"system": st.one_of(VALUES, st.fixed_dictionaries({"name": IDS})),
              "boundaries": st.one_of(VALUES, st.lists(st.fixed_dictionaries({"id": IDS}, optional={"parent": IDS, "trust": VALUES}), max_size=3)),
              "components": st.one_of(VALUES, st.lists(COMPONENT, max_size=5)),
              "flows": st.one_of(VALUES, st.lists(FLOW, max_size=5)),
              "data": st.one_of(VALUES, st.lists(st.fixed_dictionaries({"id": IDS}, optional={"pii": VALUES}), max_size=2)),
              "exclusions": VALUES, "include": VALUES, "unknown": VALUES})

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(MODEL)
def test_any_model_loads_or_reports_located_errors(catalog, tmp_path, document):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        loaded = load_system(path, catalog.kinds)
    except InputError as error:
        assert error.diagnostics and all(d.location.file for d in error.diagnostics)
        return
    # a model that loads can be analysed end to end
    run(path)


@FUZZ
@given(st.dictionaries(st.sampled_from(["threats", "mitigations", "kinds", "traits", "stride", "other"]), VALUES, max_size=3))
def test_any_user_catalog_loads_or_reports_located_errors(tmp_path, document):
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_catalog([path])
    except InputError as error:
        assert error.diagnostics


REVIEW_ENTRY = st.one_of(VALUES, st.fixed_dictionaries({"status": st.sampled_from(["open", "accepted", "bogus"])},
                                                        optional={"justification": VALUES, "state": VALUES}))
REVIEW = st.dictionaries(st.sampled_from(["findings", "mitigations", "other"]),
                         st.one_of(VALUES, st.dictionaries(IDS, REVIEW_ENTRY, max_size=3)), max_size=2)


@FUZZ
@given(REVIEW)
def test_any_review_file_loads_or_reports_located_errors(tmp_path, document):
    path = tmp_path / "r.status.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        load_review(path)
    except InputError as error:
        assert error.diagnostics
