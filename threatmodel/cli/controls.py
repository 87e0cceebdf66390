"""`threatmodel controls …`: audit rules, investigation commands, hash manifests, scan steps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

if TYPE_CHECKING:
    from threatmodel import ManifestCheck

from threatmodel.cli import common, formats

controls_app = typer.Typer(help="Generate controls for the declared artifacts: audit rules, manifests, scans.",
                           no_args_is_help=True)


ScanFormat = formats.choices("controls scan")


def _assess(system: Path, catalog: Optional[List[Path]]):  # type: ignore[no-untyped-def]
    return common.assess(system, catalog, None, use_default=False)


@controls_app.command("auditd")
def auditd(
    system: Path = common.SystemArgument,
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """An audit rules file (/etc/audit/rules.d syntax) watching every declared artifact path."""
    common.emit(formats.render("controls auditd", "rules", _assess(system, catalog), model_name=system.name),
                output, "audit rules")


@controls_app.command("ausearch")
def ausearch(
    system: Path = common.SystemArgument,
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """The ausearch commands that find the events of each generated audit key."""
    common.emit(formats.render("controls ausearch", "sh", _assess(system, catalog), model_name=system.name),
                output, "ausearch commands")


@controls_app.command("manifest")
def manifest(
    system: Path = common.SystemArgument,
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """A SHA-256 manifest of the declared artifact files that exist on this machine."""
    from threatmodel import hash_manifest

    assessment = _assess(system, catalog)
    document = common.guarded(lambda: hash_manifest(assessment))
    for root in document["roots"]:  # type: ignore[union-attr]
        if root["type"] == "missing":
            typer.echo(f"note: {root['path']} ({root['component']}) does not exist here; recorded as missing", err=True)
    common.emit(formats.render("controls manifest", "json", document), output, "hash manifest")


CheckFormat = formats.choices("controls verify-manifest")


def _differences(check: "ManifestCheck") -> str:
    text = f"{len(check.changed)} changed, {len(check.vanished)} vanished, {len(check.appeared)} appeared"
    return text + (f", {len(check.missing)} declared but missing" if check.missing else "")


@controls_app.command("verify-manifest")
def verify_manifest(
    manifest_path: Path = typer.Argument(..., metavar="MANIFEST"),
    output_format: CheckFormat = formats.option("controls verify-manifest",
                                                "json: the result as evidence for `threatmodel verify`."),
    output: Optional[Path] = common.OutputOption,
) -> None:
    """Re-hash the files of a manifest: exit 1 when any changed, vanished or appeared, or a declared
    artifact is missing (nothing was hashed for it)."""
    from threatmodel import verify_manifest as verify

    common.note_inputs(manifest_path)
    check = common.guarded(lambda: verify(manifest_path))
    if output_format.value == "text" and output is not None:
        raise common.fail("--output needs --format json (the text result goes to the terminal)")
    common.emit(formats.render("controls verify-manifest", output_format, check, manifest_name=str(manifest_path)),
                output, "manifest check")
    if not check.clean:
        typer.echo(f"{manifest_path}: {_differences(check)}", err=True)
        raise typer.Exit(common.EXIT_GATE)


@controls_app.command("scan")
def scan(
    system: Path = common.SystemArgument,
    output_format: ScanFormat = formats.option("controls scan"),
    manifest_name: str = typer.Option("threatmodel.manifest.json", "--manifest", metavar="FILE",
                                      help="Manifest the script verifies."),
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """The checks a pipeline should run for each artifact, by format (shell script or JSON steps)."""
    from threatmodel.core.safe_paths import path_problem

    if path_problem("/" + manifest_name.lstrip("/")) and not manifest_name.startswith("/"):
        raise common.fail(f"--manifest {manifest_name!r} is not a safe path")
    text = formats.render("controls scan", output_format, _assess(system, catalog), model_name=system.name,
                          manifest_name=manifest_name)
    common.emit(text, output, f"{output_format.value} scan steps")
