"""`threatmodel init`: a commented starter model and the JSON Schema editors check it with."""

from __future__ import annotations

from pathlib import Path

from .output import write_atomic
from .resources import templates_dir
from .schema import SCHEMA_FILE_NAME, system_json_schema


class StarterExists(Exception):
    """A file init would overwrite (without --force)."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def write_starter(directory: Path, force: bool = False) -> list[Path]:
    """Write threatmodel.yaml and its schema into ``directory``; refuse to overwrite unless ``force``."""
    model_path = directory / "threatmodel.yaml"
    schema_path = directory / SCHEMA_FILE_NAME
    existing = [p for p in (model_path, schema_path) if p.exists()]
    if existing and not force:
        raise StarterExists(existing[0])
    starter = (templates_dir() / "starter.yaml").read_text(encoding="utf-8")
    directory.mkdir(parents=True, exist_ok=True)
    write_atomic(schema_path, system_json_schema())
    write_atomic(model_path, starter)
    return [model_path, schema_path]
