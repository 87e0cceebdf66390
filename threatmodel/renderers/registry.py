"""The one list of output formats: every renderer registers itself here.

A format has a name (what ``--format`` takes), a file extension (how ``-o report.html`` picks the
format), a media type, whether it is text or binary, a one-line description, and the function
that renders an :class:`~threatmodel.pipeline.Assessment` (named as ``module:function`` so that
listing the formats, e.g. for ``--help``, imports no renderer). The CLI's choices, the ``-o``
extension inference, docs/ tables and tests all enumerate this registry, so a new format is one
module under ``threatmodel/renderers/`` plus one line in ``BUILTIN``.

The other commands' outputs (checklist, verify, check, diff, graph, the catalog views, scan steps,
drift) are listed in ``COMMAND_OUTPUTS`` the same way: the CLI's ``--format`` choices for each
command come from there, and so do the functions that write them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Union

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment

Rendered = Union[str, bytes, Iterable[str]]  # an iterable of str: a text streamed in chunks



@dataclass(frozen=True)
class RenderOptions:
    """What a caller may choose beyond the format."""

    template_dir: Path | None = None  # templates that override the built-in ones
    model_uri: str | None = None  # how SARIF names the model file (default: its path as given)
    sarif_max_results: int = 25_000  # GitHub code scanning's limit per run
    residual: bool = False  # layers: only what stays open after the review, by residual risk
    notes: list[str] = field(default_factory=list)  # what a renderer wants the user told (the CLI prints them)


@dataclass(frozen=True)
class OutputFormat:
    name: str
    extension: str  # with the dot: ".md"
    media_type: str
    binary: bool
    description: str
    renderer: "str | Callable[[Assessment, RenderOptions], Rendered]" = field(compare=False, repr=False)

    def render(self, assessment: "Assessment", options: RenderOptions | None = None) -> Rendered:
        function = self.renderer
        if isinstance(function, str):
            module, _, name = function.partition(":")
            function = getattr(importlib.import_module(module), name)
        return function(assessment, options or RenderOptions())


BUILTIN = (
    OutputFormat("md", ".md", "text/markdown", False,
                 "Markdown report with a Mermaid diagram and a task-list checklist",
                 "threatmodel.renderers.markdown:render_markdown"),
    OutputFormat("html", ".html", "text/html", False,
                 "one self-contained HTML file: diagram, sortable and filterable findings",
                 "threatmodel.renderers.html:render_html"),
    OutputFormat("json", ".json", "application/json", False,
                 "the report as JSON for scripts (docs/report-json.md)",
                 "threatmodel.renderers.json_report:render_json"),
    OutputFormat("sarif", ".sarif", "application/sarif+json", False,
                 "SARIF 2.1.0 for code scanning (GitHub and others)",
                 "threatmodel.renderers.sarif:render_sarif"),
    OutputFormat("otm", ".otm.json", "application/json", False,
                 "Open Threat Model 0.2.0: zones, components, flows, assets, findings as threat instances",
                 "threatmodel.renderers.otm:render_otm"),
    OutputFormat("tmbom", ".tmbom.json", "application/json", False,
                 "TM-BOM (OWASP Threat Model Library v1.0.2), which Threat Dragon reads: elements, flows, findings, controls",
                 "threatmodel.renderers.tmbom:render_tmbom"),
    OutputFormat("atlas-layer", ".layer.json", "application/json", False,
                 "an ATLAS Navigator layer (format 4.5) of the findings' techniques; --residual for what stays open",
                 "threatmodel.renderers.atlas_layer:render_atlas_layer"),
)

_FORMATS: dict[str, OutputFormat] = {}


class UnknownFormat(ValueError):
    """A format name or file extension that no registered renderer has."""


def register(output_format: OutputFormat) -> OutputFormat:
    """Add a format; names and extensions must be unique."""
    clash = next((f for f in _FORMATS.values() if f.name == output_format.name
                  or f.extension == output_format.extension), None)
    if clash is not None and clash is not output_format:
        raise ValueError(f"output format '{output_format.name}' ({output_format.extension}) clashes with "
                         f"'{clash.name}' ({clash.extension})")
    _FORMATS[output_format.name] = output_format
    return output_format


def _load_builtins() -> None:
    for output_format in BUILTIN:
        if output_format.name not in _FORMATS:
            register(output_format)


def formats() -> list[OutputFormat]:
    """Every registered format, in registration order (built-ins first)."""
    _load_builtins()
    return list(_FORMATS.values())


def format_names() -> list[str]:
    return [f.name for f in formats()]


def get_format(name: str) -> OutputFormat:
    _load_builtins()
    if name not in _FORMATS:
        from threatmodel.core.errors import did_you_mean

        raise UnknownFormat(f"unknown output format '{name}' (known: {', '.join(_FORMATS)})"
                            f"{did_you_mean(name, _FORMATS)}")
    return _FORMATS[name]


def format_for_path(path: Path | str) -> OutputFormat | None:
    """The format whose extension the file name ends with (the longest that matches), if any."""
    name = str(path).lower()
    matches = [f for f in formats() if name.endswith(f.extension)]
    return max(matches, key=lambda f: len(f.extension)) if matches else None


@dataclass(frozen=True)
class CommandOutput:
    """One format of a command's output: ``command`` is the command as typed (``catalog list``),
    ``name`` what its ``--format`` takes. The renderer is called as ``function(subject, name,
    **options)`` and returns text; ``subject`` is what the command computed (docs/api.md)."""

    command: str
    name: str
    description: str
    renderer: str = field(compare=False, repr=False)  # module:function

    def render(self, subject: Any, **options: Any) -> str:
        module, _, function = self.renderer.partition(":")
        return getattr(importlib.import_module(module), function)(subject, self.name, **options)  # type: ignore[no-any-return]


def _outputs(command: str, function: str, *formats: tuple[str, str]) -> tuple[CommandOutput, ...]:
    return tuple(CommandOutput(command, name, description, f"threatmodel.renderers.commands:{function}")
                 for name, description in formats)


# the first format of each command is its default
COMMAND_OUTPUTS: tuple[CommandOutput, ...] = (
    *_outputs("checklist", "checklist", ("md", "a GitHub task list"), ("text", "plain text"), ("json", "JSON")),
    *_outputs("verify", "verify", ("text", "plain text"), ("md", "Markdown tables"), ("json", "JSON")),
    *_outputs("check", "check", ("text", "the verdict and what blocks it")),
    *_outputs("diff", "diff", ("md", "Markdown"), ("json", "JSON")),
    *_outputs("graph", "graph", ("mermaid", "a Mermaid flowchart"), ("dot", "Graphviz DOT"),
              ("json", "nodes, edges and computed facts")),
    *_outputs("catalog list", "catalog_list", ("table", "a text table"), ("json", "JSON"), ("md", "Markdown")),
    *_outputs("catalog show", "catalog_show", ("text", "plain text"), ("json", "JSON"), ("md", "Markdown")),
    *_outputs("catalog crosswalk", "crosswalk", ("md", "Markdown"), ("csv", "CSV"), ("json", "JSON")),
    *_outputs("atlas import", "atlas_index", ("yaml", "the index, as catalog/atlas.yaml")),
    *_outputs("atlas show", "atlas_show", ("text", "plain text"), ("json", "JSON"), ("md", "Markdown")),
    *_outputs("controls auditd", "audit_rules", ("rules", "an /etc/audit/rules.d file")),
    *_outputs("controls ausearch", "ausearch", ("sh", "the ausearch commands, one per audit key")),
    *_outputs("controls manifest", "hash_manifest", ("json", "a SHA-256 manifest")),
    *_outputs("controls verify-manifest", "manifest_check", ("text", "one line per file that differs"),
              ("json", "the result as evidence for verify")),
    *_outputs("controls scan", "scan", ("sh", "a shell script"), ("json", "JSON steps")),
    *_outputs("discover", "discovered", ("yaml", "the drafted system model")),
    *_outputs("discover snapshot", "discovery_snapshot", ("json", "what discover saw, for drift")),
    *_outputs("import", "imported", ("yaml", "the drafted system model, guesses marked")),
    *_outputs("import review", "imported_review", ("yaml", "the review file of the imported threats")),
    *_outputs("drift", "drift", ("text", "plain text"), ("md", "Markdown"), ("json", "JSON"),
              ("sarif", "SARIF 2.1.0, one result per drift item")),
)


def command_outputs(command: str) -> list[CommandOutput]:
    """The formats of one command, its default first."""
    found = [output for output in COMMAND_OUTPUTS if output.command == command]
    if not found:
        raise KeyError(f"no command '{command}' in the output registry")
    return found


def command_output(command: str, name: str) -> CommandOutput:
    for output in command_outputs(command):
        if output.name == name:
            return output
    raise UnknownFormat(f"'{command}' has no format '{name}' (known: "
                        f"{', '.join(o.name for o in command_outputs(command))})")
