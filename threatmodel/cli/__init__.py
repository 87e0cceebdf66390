"""The ``threatmodel`` command line: a thin layer over the public API (threatmodel/__init__.py).

Each command group is a typer app in its own module; this module only assembles them. Commands
parse arguments, call the API, print, and map exceptions to exit codes (see :mod:`.common`).
Heavy modules are imported inside the commands so ``--help`` and ``--version`` stay fast.
"""

from __future__ import annotations

import gc
import sys

import typer

from threatmodel._version import __version__
from threatmodel.cli import catalog, controls, discover, interop, model, report, review

def _readable_list_types() -> None:
    """typer labels a list argument '<list[Path]>'; say '<path>...' instead."""
    import typer.core

    original = typer.core.TyperArgument.display_type

    def display_type(self, ctx):  # type: ignore[no-untyped-def]
        label = original(self, ctx)
        if label and label.startswith("<list[") and label.endswith("]>"):
            return f"<{label[6:-2].lower()}>..."
        return label

    typer.core.TyperArgument.display_type = display_type  # type: ignore[method-assign]


_readable_list_types()

app = typer.Typer(
    name="threatmodel",
    help="Threat modeling for machine-learning systems: OWASP ML Top 10, MITRE ATLAS and STRIDE.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"threatmodel {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """Describe an ML system in YAML; get its threats, mitigations and a checklist."""
    from threatmodel.cli.common import reset_inputs

    reset_inputs()


for _group in (model.app, report.app, review.app, interop.app, discover.app):
    app.registered_commands.extend(_group.registered_commands)
app.add_typer(catalog.catalog_app, name="catalog")
app.add_typer(catalog.atlas_app, name="atlas")
app.add_typer(controls.controls_app, name="controls")


def main() -> None:
    # A run is short, and nearly everything it allocates lives until it exits; the cyclic
    # garbage collector would only rescan that growing heap again and again (about 30 % of a
    # large report's time, measured in docs/benchmarks.md). Library callers keep the default.
    gc.disable()
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(130)
