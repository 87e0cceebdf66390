"""`threatmodel controls …`: audit rules, investigation commands, hash manifests, scan steps."""

from __future__ import annotations

import itertools
import shlex
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .cli import EXIT_INVALID, CatalogOption, OutputOption, StatusOption, _emit, _guarded, _run, app

EXIT_DIFFERENT = 1
controls_app = typer.Typer(help="Generate controls for the declared artifacts: audit rules, manifests, scans.",
                           no_args_is_help=True)
app.add_typer(controls_app, name="controls")


class ScanFormat(str, Enum):
    sh = "sh"
    json = "json"


def _shell(argv: tuple[str, ...]) -> str:
    # ${VARIABLE} placeholders stay expandable; everything else is quoted
    return " ".join(f'"{a}"' if a.startswith("${") and a.endswith("}") else shlex.quote(a) for a in argv)


@controls_app.command("auditd")
def auditd(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output: Optional[Path] = OutputOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """An audit rules file (/etc/audit/rules.d syntax) watching every declared artifact path."""
    from .controls import audit_watches
    from .render import render

    result = _run(system, catalog, None, use_default=False)
    text = render("auditd.rules.j2", {"watches": audit_watches(result.assessment), "model": system.name,
                                      "tool_version": __version__})
    _emit(text, output)


@controls_app.command("ausearch")
def ausearch(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output: Optional[Path] = OutputOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """The ausearch commands that find the events of each generated audit key."""
    from .controls import audit_watches
    from .render import render

    result = _run(system, catalog, None, use_default=False)
    watches = audit_watches(result.assessment)
    keys = [(key, list(group)) for key, group in itertools.groupby(sorted(watches, key=lambda w: w.key), key=lambda w: w.key)]
    _emit(render("ausearch.sh.j2", {"keys": keys, "model": system.name, "tool_version": __version__}), output)


@controls_app.command("manifest")
def manifest(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output: Optional[Path] = OutputOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """A SHA-256 manifest of the declared artifact files that exist on this machine."""
    from .controls import manifest_targets
    from .manifest import build_manifest
    from .render import to_json

    result = _run(system, catalog, None, use_default=False)
    document = _guarded(lambda: build_manifest(manifest_targets(result.assessment), system.name))
    for root in document["roots"]:
        if root["type"] == "missing":
            typer.echo(f"note: {root['path']} ({root['component']}) does not exist here; recorded as missing", err=True)
    _emit(to_json(document), output)


@controls_app.command("verify-manifest")
def verify_manifest(manifest_path: Path = typer.Argument(..., metavar="MANIFEST")) -> None:
    """Re-hash the files of a manifest: exit 1 when any changed, vanished or appeared."""
    from .loader import load_yaml_file
    from .manifest import verify_manifest as verify

    check = _guarded(lambda: verify(load_yaml_file(manifest_path), str(manifest_path)))
    for label, paths in (("changed", check.changed), ("vanished", check.vanished), ("appeared", check.appeared)):
        for path in paths:
            typer.echo(f"{label}: {path}")
    if not check.clean:
        typer.echo(f"{manifest_path}: {len(check.changed)} changed, {len(check.vanished)} vanished, "
                   f"{len(check.appeared)} appeared", err=True)
        raise typer.Exit(EXIT_DIFFERENT)
    typer.echo(f"{manifest_path}: all files match")


@controls_app.command("scan")
def scan(
    system: Path = typer.Argument(..., help="The system model (YAML)."),
    output_format: ScanFormat = typer.Option(ScanFormat.sh, "--format", "-f"),
    manifest_name: str = typer.Option("threatmodel.manifest.json", "--manifest", help="Manifest the script verifies."),
    output: Optional[Path] = OutputOption,
    catalog: Optional[List[Path]] = CatalogOption,
) -> None:
    """The checks a pipeline should run for each artifact, by format (shell script or JSON steps)."""
    from .controls import manifest_targets, scan_steps
    from .paths import path_problem
    from .render import render, to_json

    if path_problem("/" + manifest_name.lstrip("/")) and not manifest_name.startswith("/"):
        typer.echo(f"error: --manifest {manifest_name!r} is not a safe path", err=True)
        raise typer.Exit(EXIT_INVALID)
    result = _run(system, catalog, None, use_default=False)
    steps = scan_steps(result.assessment)
    has_manifest = bool(manifest_targets(result.assessment))
    if output_format is ScanFormat.json:
        _emit(to_json({"model": system.name, "steps": [
            {"name": s.name, "component": s.component, "tool": s.tool, "argv": list(s.command),
             "run": _shell(s.command), "findings": list(s.findings), "mitigation": s.mitigation} for s in steps
        ] + ([{"name": "verify the artifact hash manifest", "component": "", "tool": "threatmodel",
               "argv": ["threatmodel", "controls", "verify-manifest", manifest_name],
               "run": _shell(("threatmodel", "controls", "verify-manifest", manifest_name)),
               "findings": [], "mitigation": "artifact-integrity-verification"}] if has_manifest else [])}), output)
        return
    data = {
        "model": system.name, "tool_version": __version__,
        "steps": [dict(name=s.name, findings=s.findings, mitigation=s.mitigation, shell=_shell(s.command)) for s in steps],
        "tools": sorted({s.tool for s in steps}),
        "needs_signer": any(s.tool == "model-signing" for s in steps),
        "manifest": manifest_name if has_manifest else "",
    }
    _emit(render("scan.sh.j2", data), output)
