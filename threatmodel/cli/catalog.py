"""`threatmodel catalog …` and `threatmodel atlas …`: browse and check the catalog and ATLAS index."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from threatmodel.cli import common, formats

catalog_app = typer.Typer(help="Browse and check the threat catalog.", no_args_is_help=True)
atlas_app = typer.Typer(help="The MITRE ATLAS index: import a release, look up ids.", no_args_is_help=True)


ListFormat = formats.choices("catalog list")
ShowFormat = formats.choices("catalog show")
CrosswalkFormat = formats.choices("catalog crosswalk")
AtlasShowFormat = formats.choices("atlas show")


def _print(command: str, chosen: object, catalog: object, output: Optional[Path] = None, **options: object) -> None:
    """Write a catalog view; a filter or id that names nothing is an error (exit 2)."""
    from threatmodel.core.errors import ChoiceError

    try:
        text = formats.render(command, chosen, catalog, **options)
    except ChoiceError as exc:
        raise common.fail(str(exc)) from None
    common.emit(text, output, f"{getattr(chosen, 'value', chosen)} {command.split()[-1]}" if output else "")


@catalog_app.command("list")
def catalog_list(
    stride: Optional[str] = typer.Option(None, "--stride", metavar="LETTER",
                                         help="Only threats with this STRIDE letter (S, T, R, I, D, E)."),
    atlas: Optional[str] = typer.Option(None, "--atlas", metavar="ID",
                                        help="Only threats linked to this ATLAS technique (or its sub-techniques)."),
    framework: Optional[str] = typer.Option(None, "--framework", metavar="IDS",
                                            help="Only threats mapped to these frameworks, e.g. llm-2026,asi-2026 "
                                                 "(ml-2023, llm-2023, llm-2025, llm-2026, asi-2026, stride)."),
    output_format: ListFormat = formats.option("catalog list"),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """List the threats in the catalog."""
    _print("catalog list", output_format, common.catalog(catalog).catalog, stride=stride, atlas=atlas,
           framework=framework)


@catalog_app.command("show")
def catalog_show(
    entry_id: str = typer.Argument(..., metavar="ID", help="A threat id (ML02), a mitigation id (file-audit-logging) or an OWASP entry "
                                                         "with its edition (ML02:2023, LLM07:2025, LLM01:2026, ASI01:2026)."),
    output_format: ShowFormat = formats.option("catalog show"),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Everything about one threat, mitigation or OWASP entry."""
    _print("catalog show", output_format, common.catalog(catalog).catalog, entry_id=entry_id)


@catalog_app.command("crosswalk")
def catalog_crosswalk(
    output_format: CrosswalkFormat = formats.option("catalog crosswalk"),
    framework: Optional[str] = typer.Option(None, "--framework", metavar="IDS",
                                            help="Only threats mapped to these frameworks (e.g. llm-2026,asi-2026)."),
    output: Optional[Path] = common.OutputOption,
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Each threat's edition-pinned mappings: ML Top 10, LLM Top 10 2023/2025/2026, Agentic Top 10 2026,
    ATLAS (pinned to the index version), CoSAI Risk Map, STRIDE."""
    _print("catalog crosswalk", output_format, common.catalog(catalog).catalog, output, framework=framework)


@catalog_app.command("validate")
def catalog_validate(
    files: Optional[List[Path]] = typer.Argument(None, metavar="FILE",
                                                 help="User catalog files to check with the built-in one."),
    test: bool = typer.Option(False, "--test", help="Also run the threat fixtures: the built-in ones and those in a "
                                                    "fixtures/ folder beside each user catalog file; exit 1 when one fails."),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Check the built-in catalog and any user catalogs (as FILE or --catalog, like every command
    that reads the catalog); exit 2 on errors."""
    extra = [*(files or []), *(catalog or [])]
    loaded = common.catalog(extra)
    typer.echo(f"catalog OK: {len(loaded.catalog.threats)} threats, {len(loaded.catalog.mitigations)} "
               f"mitigations, {len(loaded.catalog.kinds)} kinds, ATLAS {loaded.catalog.atlas.atlas_version}"
               + (f" ({common.counted(len(loaded.warnings), 'warning')})" if loaded.warnings else ""))
    if not test:
        return
    import threatmodel

    run = common.guarded(lambda: threatmodel.test_catalog(loaded, extra))
    common.report_diagnostics(run.warnings)
    for problem in run.problems:
        typer.echo(str(problem), err=True)
    failing = len({str(p.location.file) for p in run.problems})
    typer.echo(f"fixtures: {common.counted(len(run.ran), 'threat')} tested, "
               + (f"{common.counted(len(run.problems), 'problem')} in {common.counted(failing, 'fixture')}"
                  if run.problems else "all pass"))
    if run.problems:
        raise typer.Exit(common.EXIT_GATE)


@atlas_app.command("import")
def atlas_import(
    source: Path = typer.Argument(..., metavar="ATLAS_YAML",
                                  help="An official ATLAS.yaml (from mitre-atlas/atlas-data, dist/ATLAS.yaml)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="FILE",
                                          help="Where to write the index ('-' for stdout, the default). "
                                               "To update the catalog of a source checkout, name its "
                                               "catalog/atlas.yaml."),
    previous: Optional[Path] = typer.Option(None, "--previous", metavar="FILE",
                                            help="An earlier index whose names are kept as aliases "
                                                 "(default: the output file when it exists, else the built-in index)."),
    renames: Optional[Path] = typer.Option(None, "--renames", metavar="TSV",
                                           help="A TSV of former names (kind, id, current_name, previous_names)."),
) -> None:
    """Build the ATLAS index from an official ATLAS.yaml, keeping former names as aliases."""
    import threatmodel

    target = output or Path("-")
    earlier = previous or (target if str(target) != "-" and target.is_file() else None)
    index = common.guarded(lambda: threatmodel.import_atlas(source, earlier, renames))
    common.emit(formats.render("atlas import", "yaml", index), target,
                f"ATLAS {index.atlas_version}, {len(index.tactics)} tactics, {len(index.techniques)} techniques, "
                f"{len(index.mitigations)} mitigations, {len(index.removed)} removed ids")


@atlas_app.command("show")
def atlas_show(
    atlas_id: str = typer.Argument(..., metavar="ID", help="AML.T0018, AML.TA0001, AML.M0014, or a former name."),
    output_format: AtlasShowFormat = formats.option("atlas show"),
    catalog: Optional[List[Path]] = common.CatalogOption,
) -> None:
    """Show an ATLAS technique, tactic or mitigation with its names and links."""
    _print("atlas show", output_format, common.catalog(catalog).catalog, atlas_id=atlas_id)
