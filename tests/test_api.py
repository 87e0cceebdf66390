"""The public API: load → analyze → render, the format registry, and the package's shape."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import threatmodel as tm
from threatmodel.renderers.registry import format_for_path, formats

from .conftest import EXAMPLES, REPO, example_models

HUSKY = EXAMPLES / "huskyai.yaml"


def test_api_report_is_the_cli_report(cli):
    text = tm.render(tm.analyze(tm.load_system(HUSKY)), "md")
    assert text == cli("report", HUSKY).stdout


@pytest.mark.parametrize("name", [f.name for f in formats()])
def test_every_registered_format_renders_through_the_api_and_the_cli(name, cli, tmp_path):
    output_format = tm.output_formats()[[f.name for f in tm.output_formats()].index(name)]
    rendered = tm.render(tm.analyze(HUSKY), name)
    assert isinstance(rendered, bytes if output_format.binary else str) and rendered
    target = tmp_path / f"report{output_format.extension}"
    result = cli("report", HUSKY, "-o", target)  # the format comes from the extension
    assert result.exit_code == 0
    assert f"wrote {target} ({name} report" in result.stderr
    if name != "html":  # HTML embeds a diagram only when Graphviz is present; both sides agree
        assert target.read_text(encoding="utf-8") == rendered


def test_extension_inference_and_unknown_formats(cli, tmp_path):
    assert format_for_path("x/report.SARIF").name == "sarif"
    assert format_for_path("notes.txt") is None
    result = cli("report", HUSKY, "--format", "pdf")
    assert result.exit_code == 2 and "unknown output format 'pdf'" in result.stderr
    for output_format in formats():
        assert output_format.name in result.stderr


def test_report_help_lists_the_registry(cli):
    text = " ".join(cli("report", "--help").stdout.split())
    for output_format in formats():
        assert output_format.name in text


def test_review_argument(tmp_path):
    with_review = tm.analyze(HUSKY)
    without = tm.analyze(HUSKY, review=False)
    assert with_review.review_file is not None and without.review_file is None
    explicit = tm.analyze(HUSKY, review=EXAMPLES / "huskyai.status.yaml")
    assert [r.status for r in explicit.review.findings] == [r.status for r in with_review.review.findings]


def test_invalid_input_raises_the_typed_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("system: {name: x}\ncomponents:\n  - {id: a, kind: persn}\n", encoding="utf-8")
    with pytest.raises(tm.InputError) as info:
        tm.load_system(bad)
    assert str(info.value.diagnostics[0]).startswith(f"{bad}:3:")


def test_controls_entry_points(tmp_path):
    assessment = tm.analyze(HUSKY)
    assert any(w.component == "production-model" for w in tm.audit_rules(assessment))
    manifest = tm.hash_manifest(assessment)
    assert manifest["roots"]


@pytest.mark.parametrize("model", example_models(), ids=lambda p: p.stem)
def test_typed_report_model_validates_every_example(model):
    report = tm.analyze(model).report
    assert report.findings and report.schema_version >= 1


def test_python_m_lists_exactly_the_commands_of_the_script():
    def commands(argv: list[str]) -> list[str]:
        text = subprocess.run(argv + ["--help"], capture_output=True, text=True, check=True).stdout
        section = text.split("Commands:", 1)[1]
        return sorted(line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split())

    script = Path(sys.executable).with_name("threatmodel")
    via_module = commands([sys.executable, "-m", "threatmodel"])
    assert via_module == commands([sys.executable, "-m", "threatmodel.cli"])
    if script.exists():
        assert via_module == commands([str(script)])
    assert {"report", "check", "checklist", "diff", "review", "validate", "graph", "controls", "catalog"} <= set(via_module)


def _imports(path: Path, package: str, modules: dict[str, Path]) -> set[str]:
    """Every threatmodel module a module imports, at any level (module, function, TYPE_CHECKING)."""
    module = package + "." + ".".join(path.relative_to(REPO / "threatmodel").with_suffix("").parts)
    module = module.removesuffix(".__init__")
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # imports for type checkers only never run; everything else counts, inside functions too
    for block in [n for n in ast.walk(tree) if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"]:
        block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith(package):
                # `from pkg import mod` imports pkg.mod (pkg is already initialising);
                # `from pkg import name` depends on pkg itself
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    found.add(submodule if submodule in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith(package))
    return found


def test_the_package_import_graph_has_no_cycles():
    files = sorted((REPO / "threatmodel").rglob("*.py"))
    modules = {}
    for path in files:
        name = "threatmodel." + ".".join(path.relative_to(REPO / "threatmodel").with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for target in _imports(path, "threatmodel", modules):
            if target in modules and target != name:
                # imports inside functions count too: a cycle that only lazy imports hide is
                # still a design knot
                graph.add_edge(name, target)
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_py_typed_ships():
    assert (REPO / "threatmodel" / "py.typed").exists()


def test_the_docs_list_every_registered_format():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    interop = (REPO / "docs" / "interop.md").read_text(encoding="utf-8")
    for output_format in formats():
        assert output_format.name in readme, output_format.name
        assert f"`{output_format.name}`" in interop, output_format.name


def test_analyze_restricted_to_frameworks(tmp_path):
    """Only the threats of the chosen frameworks run; review entries for the others are set aside
    (counted, never called orphans), and an unknown framework names the known ones."""
    import shutil

    for name in ("huskyai.yaml", "huskyai.status.yaml"):
        shutil.copy(HUSKY.parent / name, tmp_path / name)
    everything = tm.analyze(tmp_path / "huskyai.yaml")
    only_ml = tm.analyze(tmp_path / "huskyai.yaml", frameworks="ml-2023")
    threats = {f.threat.id for f in only_ml.findings}
    assert threats and all(t.startswith("ML") for t in threats)
    assert {f.threat.id for f in everything.findings} > threats
    reviewed_elsewhere = {key for key in only_ml.review_file.review.findings if not key.startswith("ML")}
    assert only_ml.review.set_aside >= len(reviewed_elsewhere) > 0
    assert not any("orphan" in w.message for w in only_ml.warnings)
    assert everything.review.set_aside == 0
    with pytest.raises(tm.FrameworkError, match="unknown framework ml-2099; choose from .*ml-2023"):
        tm.analyze(tmp_path / "huskyai.yaml", frameworks="ml-2099")


def test_every_command_takes_exactly_its_registered_formats(cli):
    """Each command's --format choices and default come from COMMAND_OUTPUTS, and each renders."""
    from threatmodel.renderers.registry import COMMAND_OUTPUTS, command_outputs

    for command in dict.fromkeys(o.command for o in COMMAND_OUTPUTS):
        if command.startswith("discover"):
            continue  # discover writes YAML and its snapshot, and has no --format
        names = [o.name for o in command_outputs(command)]
        help_text = " ".join(cli(*command.split(), "--help").stdout.split())
        if len(names) > 1:
            assert f"<{'|'.join(names)}>" in help_text, command
            assert f"[default: {names[0]}]" in help_text, command


def test_gates_through_the_api_agree_with_the_commands(cli, tmp_path):
    import shutil

    for name in ("huskyai.yaml", "huskyai.status.yaml"):
        shutil.copy(HUSKY.parent / name, tmp_path / name)
    assessment = tm.analyze(tmp_path / "huskyai.yaml")
    data = assessment.report_data()
    failing = tm.gate(data, "high")
    assert failing == tm.gate(assessment, "high") and tm.gate(data, "none") == []
    assert all(f["status"] in ("open", "in-progress") for f in failing)
    checked = cli("check", tmp_path / "huskyai.yaml", "--fail-on", "high")
    assert checked.exit_code == (1 if failing else 0)
    assert all(f["id"] in checked.stdout for f in failing)
    assert tm.contradicted(data) == []  # no evidence read: nothing can contradict
    changes = tm.diff(data, data, "a", "b")
    assert changes["added"] == [] and changes["old"] == "a" and tm.new_findings(changes, "low") == []


def test_record_review_through_the_api(tmp_path):
    import shutil

    from threatmodel.core.errors import ChoiceError

    shutil.copy(HUSKY, tmp_path / "huskyai.yaml")
    assessment = tm.analyze(tmp_path / "huskyai.yaml")
    assert tm.review_path(tmp_path / "huskyai.yaml") == tmp_path / "huskyai.status.yaml"
    finding = assessment.findings[0].id
    with pytest.raises(ChoiceError, match="STATUS one of open, in-progress"):
        tm.record_review(assessment, [f"{finding}=done"])
    assert not (tmp_path / "huskyai.status.yaml").exists()  # nothing written on a bad argument
    path, count = tm.record_review(assessment, [f"{finding}=in-progress"], reviewer="ana", date="2026-12-01")
    assert (path, count) == (tmp_path / "huskyai.status.yaml", 1)
    again = tm.analyze(tmp_path / "huskyai.yaml")
    assert next(f for f in again.review.findings if f.finding.id == finding).status == "in-progress"
