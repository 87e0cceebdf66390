"""Loading a system model: one test per error class, with its exact message and location."""

from __future__ import annotations

import pytest

from threatmodel.core.errors import InputError
from threatmodel.system.load import load_system

from .conftest import EXAMPLES, example_models

HEADER = "system: {name: S}\n"


def problems(catalog, path):
    with pytest.raises(InputError) as info:
        load_system(path, catalog.kinds, display_name=path.name)
    return [str(d) for d in info.value.diagnostics]


@pytest.mark.parametrize("body, expected", [
    # wrong types
    ("components:\n  - {id: a, kind: person, authenticated: maybe}\n",
     "m.yaml:3:42: error: components[0].authenticated: expected true or false, found 'maybe'"),
    ("components: {a: 1}\n", "m.yaml:2:13: error: components: expected a list, found a mapping"),
    # unknown keys, with a hint
    ("components:\n  - {id: a, kidn: person}\n", "m.yaml:3:13: error: unknown key 'kidn', did you mean 'kind'?"),
    # missing fields
    ("components:\n  - {id: a}\n", "m.yaml:3:5: error: missing required field 'kind'"),
    # invalid values
    ("boundaries:\n  - {id: b, trust: galaxy}\n",
     "m.yaml:3:20: error: boundaries[0].trust: invalid value 'galaxy'; expected 'internet', 'partner', 'internal' or 'restricted'"),
    ("components:\n  - {id: 'a b', kind: person}\n",
     "m.yaml:3:10: error: components[0].id: invalid value 'a b': an id starts with a letter or digit and has only "
     "letters, digits, '.', '_' and '-'"),
    # unknown kind, with a hint
    ("components:\n  - {id: a, kind: datset}\n", "m.yaml:3:19: error: unknown kind 'datset', did you mean 'dataset'?"),
    # unknown model format, with a hint (formats come from the catalog in use)
    ("components:\n  - {id: a, kind: model-artifact, format: pikle}\n",
     "m.yaml:3:43: error: unknown model format 'pikle', did you mean 'pickle'?"),
    # a text attribute's values come from catalog/attributes.yaml
    ("components:\n  - {id: a, kind: agent, autonomy: sometimes}\n",
     "m.yaml:3:36: error: components[0].autonomy: invalid value 'sometimes'; expected 'suggest', 'approval' or 'act'"),
    # duplicate ids
    ("components:\n  - {id: a, kind: person}\n  - {id: a, kind: person}\n",
     "m.yaml:4:10: error: duplicate id 'a' (component; already used at m.yaml:3:10)"),
    ("boundaries: [{id: a}]\ncomponents:\n  - {id: a, kind: person, boundary: a}\n",
     "m.yaml:4:10: error: duplicate id 'a' (component; already used at m.yaml:2:19)"),
    # dangling references, with hints
    ("components:\n  - {id: api, kind: process}\nflows:\n  - {from: apj, to: api}\n",
     "m.yaml:5:12: error: unknown component 'apj', did you mean 'api'?"),
    ("components:\n  - {id: a, kind: process, boundary: prod}\n", "m.yaml:3:38: error: unknown boundary 'prod'"),
    ("components:\n  - {id: a, kind: process}\n  - {id: b, kind: process}\nflows:\n  - {from: a, to: b, data: [pii]}\n",
     "m.yaml:6:29: error: unknown data asset 'pii'"),
    ("components:\n  - {id: a, kind: process}\nexclusions:\n  - {threat: ML01, element: b, reason: x}\n",
     "m.yaml:5:29: error: unknown component or flow 'b'"),
    # a flow between a component and itself
    ("components:\n  - {id: a, kind: process}\nflows:\n  - {from: a, to: a}\n",
     "m.yaml:5:19: error: flow from 'a' to itself"),
    # two unnamed flows between the same pair
    ("components:\n  - {id: a, kind: process}\n  - {id: b, kind: process}\nflows:\n  - {from: a, to: b}\n  - {from: a, to: b}\n",
     "m.yaml:7:5: error: a second flow from 'a' to 'b': give each an 'id'"),
    # nesting cycles
    ("boundaries:\n  - {id: x, parent: y}\n  - {id: y, parent: x}\n", "m.yaml:3:21: error: boundary 'x' is nested in itself"),
    # an exclusion needs a reason
    ("components:\n  - {id: a, kind: process}\nexclusions:\n  - {threat: ML01, element: a, reason: ' '}\n",
     "m.yaml:5:40: error: exclusions[0].reason: an exclusion needs a reason"),
])
def test_error_classes(catalog, write, body, expected):
    assert expected in problems(catalog, write(HEADER + body, "m.yaml"))


def test_every_problem_is_reported_at_once(catalog, write):
    path = write(HEADER + "components:\n  - {id: a, kind: datset}\n  - {id: b, kind: process, boundary: nowhere}\n"
                          "flows:\n  - {from: a, to: zz}\n", "m.yaml")
    found = problems(catalog, path)
    assert len(found) == 3, found


def test_system_section_is_required(catalog, write):
    assert problems(catalog, write("components: []\n", "m.yaml")) == [
        "m.yaml:1:1: error: missing required field 'system' (the system's name and description)"]


@pytest.mark.parametrize("content, expected", [
    ("", "m.yaml:1:1: error: file is empty"),
    ("- a\n", "m.yaml:1:1: error: expected a mapping at the top of the file, found a list"),
    ("system: [\n", "m.yaml:2:1: error: YAML syntax: did not find expected node content (while parsing a flow node)"),
])
def test_empty_non_mapping_and_broken_files(catalog, write, content, expected):
    assert problems(catalog, write(content, "m.yaml")) == [expected]


def test_binary_file(catalog, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_bytes(b"\x00\x01\x02")
    assert problems(catalog, path) == ["m.yaml: error: not a text file (contains NUL bytes)"]


def test_includes_merge_and_keep_their_own_locations(catalog, write):
    write("components:\n  - {id: b, kind: process}\n  - {id: c, kind: datset}\n", "parts/more.yaml")
    main = write(HEADER + "include: [parts/more.yaml]\ncomponents:\n  - {id: a, kind: process}\n"
                          "flows:\n  - {from: a, to: b}\n", "m.yaml")
    found = problems(catalog, main)
    assert found == ["parts/more.yaml:3:19: error: unknown kind 'datset', did you mean 'dataset'?"]


def test_included_parts_form_one_system(catalog, write):
    write("components:\n  - {id: b, kind: process}\n", "parts/more.yaml")
    main = write(HEADER + "include: [parts/more.yaml]\ncomponents:\n  - {id: a, kind: process}\n"
                          "flows:\n  - {from: a, to: b}\n", "m.yaml")
    loaded = load_system(main, catalog.kinds)
    assert [c.id for c in loaded.system.components] == ["a", "b"]
    assert str(loaded.locations["b"]).endswith("more.yaml:2:10")


@pytest.mark.parametrize("include, expected", [
    ("/etc/passwd", "m.yaml:2:11: error: include '/etc/passwd' must be a relative path"),
    ("../outside.yaml", "m.yaml:2:11: error: include '../outside.yaml' points outside the model's folder"),
    ("missing.yaml", "m.yaml:2:11: error: included file 'missing.yaml' does not exist"),
])
def test_include_paths_are_confined(catalog, write, include, expected):
    write("components: []\n", "../outside.yaml")
    assert problems(catalog, write(HEADER + f"include: ['{include}']\n", "m.yaml")) == [expected]


def test_include_cycle(catalog, write):
    write("include: [m.yaml]\n", "a.yaml")
    found = problems(catalog, write(HEADER + "include: [a.yaml]\n", "m.yaml"))
    assert found == ["a.yaml:1:11: error: include cycle: 'm.yaml' is already being loaded (m.yaml -> a.yaml -> m.yaml)"]


def test_only_the_main_file_has_a_system_section(catalog, write):
    write("system: {name: other}\n", "a.yaml")
    assert problems(catalog, write(HEADER + "include: [a.yaml]\n", "m.yaml")) == [
        "a.yaml:1:9: error: only the main model file may define 'system'"]


def test_warnings_do_not_fail(catalog, write):
    path = write(HEADER + "boundaries: [{id: empty}]\ndata: [{id: unused}]\ncomponents:\n  - {id: lonely, kind: process}\n", "m.yaml")
    loaded = load_system(path, catalog.kinds, display_name="m.yaml")
    assert [str(w) for w in loaded.warnings] == [
        "m.yaml:2:19: warning: boundary 'empty' contains no component",
        "m.yaml:3:13: warning: data asset 'unused' is not carried by any flow or stored in any component",
        "m.yaml:5:10: warning: component 'lonely' is not connected to any flow",
    ]


def test_defaults_come_from_the_kind_and_anything_else_stays_unknown(catalog, write):
    path = write(HEADER + "components:\n  - {id: lib, kind: library}\n  - {id: api, kind: inference-service}\n"
                          "  - {id: pub, kind: inference-service, exposure: public, rate_limiting: true}\n"
                          "flows:\n  - {from: lib, to: api}\n  - {from: api, to: pub}\n", "m.yaml")
    system = load_system(path, catalog.kinds).system
    assert system.component("lib").origin == "third-party"
    # unknown is not false: nothing the model and the kind leave unsaid gets a value
    assert system.component("api").exposure is None and system.component("api").rate_limiting is None
    assert system.flows[0].encrypted is None and system.flows[0].authenticated is None
    assert system.component("pub").exposure == "public" and system.component("pub").rate_limiting is True


@pytest.mark.parametrize("name", [p.name for p in example_models()])
def test_examples_validate_without_warnings(catalog, name):
    loaded = load_system(EXAMPLES / name, catalog.kinds)
    assert loaded.warnings == []
