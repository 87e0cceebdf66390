"""Located diagnostics: the one way every user mistake is reported.

Library code collects :class:`Diagnostic` objects and raises :class:`InputError` with all of
them at once; only the CLI prints them and picks the exit status.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Literal, NamedTuple

Severity = Literal["error", "warning"]


class Location(NamedTuple):
    """A position in a source file; line and column count from 1 (0: the file as a whole).

    A named tuple rather than a dataclass: the loader makes one per YAML node, and tuples are
    several times cheaper to create; ordering (file, line, column) is the same.
    """

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, order=True)
class Diagnostic:
    location: Location
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        from threatmodel.core.escape import terminal  # messages quote user text: keep it off the terminal's controls

        return terminal(f"{self.location}: {self.severity}: {self.message}").replace("\n", " ")


class ChoiceError(ValueError):
    """A name the user gave (a framework, a catalog entry, a filter) that does not exist; the
    message says what does. Commands print it as ``error: …`` and exit 2."""


@dataclass
class InputError(Exception):
    """Raised when input (a system model, a catalog, a review file) is invalid."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


class DiagnosticSink:
    """Collects diagnostics while a loader walks its input, then raises them all together."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, location: Location, message: str) -> None:
        self.diagnostics.append(Diagnostic(location, message, "error"))

    def warning(self, location: Location, message: str) -> None:
        self.diagnostics.append(Diagnostic(location, message, "warning"))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise InputError(sorted_diagnostics(self.diagnostics))

    @property
    def warnings(self) -> list[Diagnostic]:
        return sorted_diagnostics(d for d in self.diagnostics if d.severity == "warning")


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by file, line, column; drop exact repeats."""
    return sorted(set(diagnostics))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A ", did you mean 'x'?" suffix when a close match exists, else ""."""
    matches = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f", did you mean '{matches[0]}'?" if matches else ""
