"""Wheel build hook: precompile the built-in Jinja2 templates into the wheel, and parse the
built-in catalog's YAML once.

An installed threatmodel then loads each template as a Python module (byte-compiled once at
install) instead of parsing and compiling it on every run, and takes the catalog files from the
parsed store where their text is unchanged (threatmodel/core/parsed.py); see docs/performance.md.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileTemplates(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        sys.path.insert(0, str(root))
        try:
            import jinja2

            from threatmodel.core.escape import FILTERS
            from threatmodel.core.parsed import STORE_NAME, catalog_files, write_store
            from threatmodel.renderers.templates import environment_options
        finally:
            sys.path.remove(str(root))
        environment = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root / "templates")),
                                         **environment_options())
        environment.filters.update(FILTERS)
        self._target = tempfile.mkdtemp(prefix="threatmodel-templates-")
        environment.compile_templates(self._target, zip=None,
                                      filter_func=lambda name: name.endswith(".j2"), ignore_errors=False)
        build_data["force_include"][self._target] = "threatmodel/_data/compiled"
        self._store = tempfile.mkdtemp(prefix="threatmodel-catalog-")
        store = Path(self._store) / STORE_NAME
        write_store(catalog_files(root / "catalog"), store)
        build_data["force_include"][str(store)] = f"threatmodel/_data/{STORE_NAME}"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        import shutil

        for target in (getattr(self, "_target", None), getattr(self, "_store", None)):
            if target:
                shutil.rmtree(target, ignore_errors=True)
