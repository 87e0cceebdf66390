"""`threatmodel init`: a commented starter model and the JSON Schema editors check it with."""

from __future__ import annotations

from pathlib import Path

from threatmodel.core.output import write_atomic
from threatmodel.core.resources import templates_dir
from threatmodel.system.schema import SCHEMA_FILE_NAME, system_json_schema


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
    """Bundled example models, and example ML projects (folders of files for ``discover``)."""
    from threatmodel.core.resources import examples_dir

    models = {p.stem for p in examples_dir().glob("*.yaml") if not p.name.endswith(".status.yaml")}
    projects = {p.name for p in (examples_dir() / "projects").glob("*") if p.is_dir()}
    return sorted(models | projects)


def is_project(name: str) -> bool:
    """Whether a bundled example is an ML project's files (for ``discover``) rather than a model."""
    from threatmodel.core.resources import examples_dir

    return (examples_dir() / "projects" / name).is_dir()


def _write_project(source: Path, directory: Path, force: bool) -> list[Path]:
    """Copy an example project's files (regular files only, never links) into ``directory``."""
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    targets = [directory / p.relative_to(source) for p in files]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise StarterExists(existing[0])
    for path, target in zip(files, targets):
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, path.read_bytes())
    return targets


def write_example(name: str, directory: Path, force: bool = False) -> list[Path]:
    """Copy a bundled example (and its review file) into ``directory``, for a tour that never
    touches the installed package or the repository."""
    from threatmodel.core.resources import examples_dir

    project = examples_dir() / "projects" / name
    if project.is_dir():
        return _write_project(project, directory, force)
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
