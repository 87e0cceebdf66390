"""The package layout is the pipeline: each layer imports only the layers above it.

Every import counts, wherever it is written: at the top of a module, inside a function (a lazy
import is still a dependency) and under ``if TYPE_CHECKING:`` (a type-only import still ties
the two modules together). The order is the one docs/api.md describes:

    core → catalog → system → graph → analysis → controls → evidence → review → pipeline
    → report → renderers → interop → discover → threatmodel (the public API) → cli

A module may import its own layer and any layer before it. On top of that, no two modules may
import each other, directly or round a longer loop, and the CLI reaches the rest only through
the public API, ``core`` and the format registry.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "threatmodel"

LAYERS = ["core", "catalog", "system", "graph", "analysis", "controls", "evidence", "discover", "review",
          "pipeline", "threat_fixtures", "interop", "report", "renderers", "assessment", "threatmodel", "cli"]

# what the CLI may import besides itself
CLI_MAY_IMPORT = ("threatmodel", "threatmodel.core", "threatmodel._version", "threatmodel.renderers.registry")

# Dependencies that point the wrong way and are tolerated: none. The test fails when one
# appears, and when an entry here no longer happens (so the list can only shrink).
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every threatmodel module that ``name`` imports, resolved to a module (not a symbol)."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                       for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in modules and target != name)
    return found


def layer_of(name: str) -> int:
    parts = name.split(".")
    if name == "threatmodel":
        return LAYERS.index("threatmodel")
    if parts[1] in ("_version",):
        return LAYERS.index("core")
    if parts[1] == "__main__":
        return LAYERS.index("cli")
    return LAYERS.index(parts[1])


def dependency_graph() -> nx.DiGraph:
    modules = all_modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in imports_of(name, path, modules))
    return graph


def violations(graph: nx.DiGraph) -> set[tuple[str, str]]:
    wrong = set()
    for source, target in graph.edges:
        if layer_of(target) > layer_of(source):
            wrong.add((source, target))
        elif layer_of(source) == LAYERS.index("cli") and layer_of(target) != layer_of(source):
            if not any(target == allowed or (allowed != "threatmodel" and target.startswith(allowed + "."))
                       for allowed in CLI_MAY_IMPORT):
                wrong.add((source, target))
    return wrong


def test_every_module_belongs_to_a_layer():
    for name in all_modules():
        assert layer_of(name) >= 0, name


def test_layers_import_only_the_layers_above_them():
    found = violations(dependency_graph())
    new = sorted(found - KNOWN_EXCEPTIONS)
    gone = sorted(KNOWN_EXCEPTIONS - found)
    assert not new, "imports against the layer order:\n" + "\n".join(f"  {a} -> {b}" for a, b in new)
    assert not gone, "remove from KNOWN_EXCEPTIONS, fixed:\n" + "\n".join(f"  {a} -> {b}" for a, b in gone)


def test_no_module_imports_itself_round_a_loop():
    cycles = sorted(sorted(cycle) for cycle in nx.simple_cycles(dependency_graph()))
    assert not cycles, "import cycles:\n" + "\n".join("  " + " <-> ".join(cycle) for cycle in cycles)


def test_the_checker_sees_lazy_and_type_only_imports(tmp_path):
    # the checker itself must count what this test says it counts
    source = tmp_path / "threatmodel" / "core"
    source.mkdir(parents=True)
    module = source / "sample.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from threatmodel.pipeline import Assessment\n"
                      "def f():\n    from ..renderers import registry\n")
    modules = {"threatmodel.core.sample": module, "threatmodel.pipeline": module,
               "threatmodel.renderers.registry": module, "threatmodel.renderers": module}
    assert imports_of("threatmodel.core.sample", module, modules) == {
        "threatmodel.pipeline", "threatmodel.renderers.registry"}
