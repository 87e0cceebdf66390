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


def example_names() -> list[str]:
    from .resources import examples_dir

    return sorted(p.stem for p in examples_dir().glob("*.yaml") if not p.name.endswith(".status.yaml"))


def write_example(name: str, directory: Path, force: bool = False) -> list[Path]:
    """Copy a bundled example (and its review file) into ``directory``, for a tour that never
    touches the installed package or the repository."""
    from .resources import examples_dir

    sources = [examples_dir() / f"{name}.yaml"]
    review = examples_dir() / f"{name}.status.yaml"
    if review.is_file():
        sources.append(review)
    targets = [directory / source.name for source in sources]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise StarterExists(existing[0])
    directory.mkdir(parents=True, exist_ok=True)
    for source, target in zip(sources, targets):
        write_atomic(target, source.read_text(encoding="utf-8"))
    schema_path = directory / SCHEMA_FILE_NAME
    write_atomic(schema_path, system_json_schema())
    return targets + [schema_path]
