"""What the evidence shows about each mitigation on each element: verified, contradicted or stale.

For every mitigation a finding calls for on its element, the evidence files that speak to that
mitigation (threatmodel.evidence) are compared with what the element declares: its artifact
paths, its package names, or the audit watches ``controls auditd`` generates for it.

- **verified**: fresh evidence covers every declared path (or the package) and passes;
- **contradicted**: the newest fresh evidence from some tool fails (a hash mismatch, a scanner
  finding, a watch that is not loaded, a known vulnerability);
- **stale**: there is evidence about this element, but it is older than the age limit, dated in
  the future, covers only some of the element's paths (or only some files inside a declared
  folder, or only some of a library's packages), the tool could not check, or the bytes it saw
  are not the bytes here now (the SHA-256 the scan script recorded beside it differs, or the
  file was modified after the evidence was produced).

A scanner that finds malicious content in an artifact contradicts every control that vouches
for the artifact's bytes (``vouches_for_content`` in catalog/mitigations.yaml), not only the
one it speaks to. Elements no evidence speaks to (or only evidence about other files) get no
verdict here; the review then calls a mitigation
``claimed`` (the review file or the model says it is in place) or ``missing``
(:mod:`threatmodel.review.statuses`).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from threatmodel.evidence import EvidenceEntry, EvidenceSource, Observation
from threatmodel.evidence.common import HASH_SUFFIX, under
from threatmodel.evidence.pip_audit import normalise

if TYPE_CHECKING:
    from threatmodel.analysis.match import Analysis
    from threatmodel.controls.derive import Watch

STATES = ("verified", "contradicted", "stale", "claimed", "missing")
DEFAULT_MAX_AGE_DAYS = 30
FUTURE_TOLERANCE = dt.timedelta(days=1)  # clocks differ; evidence from further ahead is not trusted
MTIME_TOLERANCE = dt.timedelta(seconds=2)  # file times are coarse on some file systems
MAX_LOCAL_FILES = 10_000  # files of one declared folder compared with the evidence


@dataclass(frozen=True)
class Verdict:
    """The evidence's verdict on one mitigation on one element."""

    mitigation: str
    element: str
    state: str  # verified, contradicted or stale
    date: str  # the evidence's date (YYYY-MM-DD): the oldest of what verified it, or the failing one's
    evidence: tuple[str, ...]  # evidence files (with line) the verdict rests on
    detail: str
    note: str = ""  # what a reader should know besides (a heuristic verdict overruled)

    def describe(self) -> str:
        where = ", ".join(self.evidence)
        if self.state == "verified":
            return f"verified on {self.date} by {where}" + (f" ({self.note})" if self.note else "")
        if self.state == "contradicted":
            return f"contradicted on {self.date} by {where}: {self.detail}"
        return f"stale: {self.detail}" + (f" ({where})" if where else "")


@dataclass
class EvidenceVerdicts:
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)
    by_finding: dict[tuple[str, str], Verdict] = field(default_factory=dict)  # (mitigation, finding id)
    sources: list[EvidenceSource] = field(default_factory=list)
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    as_of: str = ""

    def get(self, mitigation: str, element: str, finding: str = "") -> Verdict | None:
        """The verdict for a mitigation on an element; audit watches are judged per finding
        (a finding needs only the watches generated for it)."""
        return self.by_finding.get((mitigation, finding)) or self.verdicts.get((mitigation, element))


def _related(subject: str, declared: str) -> bool:
    """An observation about ``subject`` speaks to ``declared`` when one contains the other."""
    return under(subject, declared) or under(declared, subject)


def _where(source: EvidenceSource, observation: Observation) -> str:
    line = observation.location.line
    return f"{source.name}:{line}" if line else source.name


class _Judge:
    def __init__(self, analysis: "Analysis", sources: list[EvidenceSource], now: dt.datetime, max_age: int) -> None:
        self.analysis = analysis
        self.graph = analysis.graph
        self.now = now
        self.max_age = dt.timedelta(days=max_age)
        self.max_age_days = max_age
        self.by_mitigation: dict[str, list[EvidenceSource]] = {}
        for source in sources:
            self.by_mitigation.setdefault(source.mitigation, []).append(source)
        self._watches: dict[str, list["Watch"]] | None = None
        self.sources = sources
        self._files: dict[str, list[str] | None] = {}
        self._hashes: dict[str, str] = {}

    def age_problem(self, source: EvidenceSource) -> str:
        if source.date > self.now + FUTURE_TOLERANCE:
            return f"{source.name} is dated {source.date.date().isoformat()}, in the future"
        if self.now - source.date > self.max_age:
            return (f"{source.name} is from {source.date.date().isoformat()}, older than "
                    f"{self.max_age_days} days")
        return ""

    def subjects(self, element: str, kind: str) -> list[str]:
        component = self.graph.component(element)
        if kind == "package":
            # a library component names its packages in `technology` ("TensorFlow, Keras from PyPI"):
            # every one of them must be audited; without it, the component's id or name stands for it
            names = set()
            for part in re.split(r",|;|/|\band\b", component.technology or ""):
                words = part.split()
                if words:
                    names.add(normalise(words[0]))
            if not names:
                names = {normalise(component.id), normalise(component.name or component.id)}
            return sorted(n for n in names if n)
        return sorted({p.rstrip("/") or "/" for p in component.paths})

    def judge(self, mitigation: str, element: str, finding: str = "") -> Verdict | None:
        sources = self.by_mitigation.get(mitigation)
        if not sources or not self.graph.has_component(element):
            return None
        listings = [s for s in sources if s.judged_against == "audit-watches"]
        if listings:
            verdict = self._judge_watches(element, finding, listings)
            others = [s for s in sources if s.judged_against != "audit-watches"]
            return verdict if verdict is not None or not others else self._judge_subjects(mitigation, element, others)
        return self._judge_subjects(mitigation, element, sources)

    def _judge_subjects(self, mitigation: str, element: str, sources: list[EvidenceSource]) -> Verdict | None:
        kind = sources[0].subject_kind
        declared = self.subjects(element, kind)
        if not declared and any(element in s.covers for s in sources):
            declared = [element]  # the review file says this evidence is about the component itself
        if not declared:
            return None  # nothing the evidence could be about: claimed or missing
        component = self.graph.component(element)
        any_package = kind == "package" and not component.technology  # packages guessed from the id: one is enough
        problems: list[str] = []
        failing: list[tuple[EvidenceSource, Observation]] = []
        verified_paths: dict[str, tuple[EvidenceSource, Observation]] = {}
        notes: list[str] = []
        for path in declared:
            related = [(s, o) for s in sources for o in s.observations
                       if element in s.covers or self._matches(o.subject, path, kind)]
            if not related:
                continue
            fresh = [(s, o) for s, o in related if not self.age_problem(s)]
            if not fresh:
                problems.extend(self.age_problem(s) for s, _ in related)
                continue
            by_tool: dict[str, list[tuple[EvidenceSource, Observation]]] = {}
            for source, observation in fresh:
                by_tool.setdefault(source.tool, []).append((source, observation))
            passed: list[tuple[EvidenceSource, Observation]] = []
            weak: list[tuple[EvidenceSource, Observation]] = []
            for tool, pairs in sorted(by_tool.items()):
                newest = max(s.date for s, _ in pairs)
                latest = [(s, o) for s, o in pairs if s.date == newest]
                checked = [(s, o) for s, o in latest if not o.unchecked]
                if not checked:
                    problems.append(f"{tool} could not check {path}: {latest[0][1].detail}")
                    continue
                bad = [(s, o) for s, o in checked if not o.ok]
                if bad:
                    (weak if all(o.weak for _, o in bad) else failing).extend(bad)
                    continue
                problem = self._coverage_problem(element, path, kind, tool, checked)
                if problem:
                    problems.append(problem)
                    continue
                passed.append(checked[0])
            if weak and not passed:
                failing.extend(weak)
            elif weak:
                notes.append(f"{weak[0][0].tool} rates {path} {weak[0][1].detail.split(':', 1)[0]} (a heuristic "
                             f"verdict), overruled by {', '.join(sorted({s.tool for s, _ in passed}))}")
            if passed:
                verified_paths[path] = passed[0]
        if failing:
            source, observation = min(failing, key=lambda so: (so[0].date, so[0].name))
            return Verdict(mitigation, element, "contradicted", source.date.date().isoformat(),
                           tuple(dict.fromkeys(_where(s, o) for s, o in failing)), observation.detail)
        if verified_paths and (any_package or len(verified_paths) == len(declared)):
            used = list(verified_paths.values())
            oldest = min(s.date for s, _ in used)
            return Verdict(mitigation, element, "verified", oldest.date().isoformat(),
                           tuple(dict.fromkeys(_where(s, o) for s, o in used)),
                           "; ".join(dict.fromkeys(o.detail for _, o in used)), "; ".join(notes))
        if verified_paths:
            missing = [p for p in declared if p not in verified_paths]
            what = "packages" if kind == "package" else "declared paths"
            problems.insert(0, f"evidence covers {len(verified_paths)} of {len(declared)} {what}; "
                               f"none for {', '.join(missing[:3])}")
            return Verdict(mitigation, element, "stale", "",
                           tuple(dict.fromkeys(_where(s, o) for s, o in verified_paths.values())),
                           "; ".join(dict.fromkeys(problems)))
        if problems:
            return Verdict(mitigation, element, "stale", "", (), "; ".join(dict.fromkeys(problems)))
        return None  # the evidence is about other files or packages: nothing here is checked (missing)

    def _coverage_problem(self, element: str, path: str, kind: str, tool: str,
                          checked: list[tuple[EvidenceSource, Observation]]) -> str:
        """Why passing evidence does not verify ``path``: it saw only part of it, or other bytes."""
        if kind == "package" or any(element in s.covers for s, _ in checked):
            return ""
        source = checked[0][0]
        whole = any(under(path, root) for s, _ in checked for root in s.scan_roots())
        files = self.local_files(path)
        if not whole:
            seen = sorted({o.subject for _, o in checked})
            if files is None or not set(files) <= set(seen):
                return (f"{tool} checked {', '.join(seen[:3])}{' …' if len(seen) > 3 else ''} inside {path}, "
                        "not everything in it")
        if files is None:
            return ""  # not on this machine: the bytes cannot be compared here
        recorded = dict(source.hashes)
        for file in files:
            if recorded:
                digest = recorded.get(file)
                if digest is None:
                    return f"{source.name}{HASH_SUFFIX} has no hash for {file}: the tool did not see it"
                now = self.sha256(file)
                if digest != now:
                    return (f"{file} changed since {tool} checked it (SHA-256 then {digest[:12]}…, "
                            f"now {now[:12]}…)")
            elif self.modified(file) > source.date + MTIME_TOLERANCE:
                return f"{file} was modified after {source.name} was produced"
        return ""

    def local_files(self, path: str) -> list[str] | None:
        """The regular files at ``path`` on this machine (a folder: all files under it), or None."""
        if path not in self._files:
            target = Path(path)
            found: list[str] | None = None
            try:
                if target.is_file():
                    found = [posixpath.normpath(path)]
                elif target.is_dir():
                    found = sorted(posixpath.normpath(str(f)) for f in target.rglob("*") if f.is_file())[:MAX_LOCAL_FILES]
            except OSError:
                found = None
            self._files[path] = found
        return self._files[path]

    def sha256(self, file: str) -> str:
        import hashlib

        if file not in self._hashes:
            digest = hashlib.sha256()
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            self._hashes[file] = digest.hexdigest()
        return self._hashes[file]

    @staticmethod
    def modified(file: str) -> dt.datetime:
        return dt.datetime.fromtimestamp(os.stat(file).st_mtime, tz=dt.timezone.utc)

    def malicious(self, element: str) -> Verdict | None:
        """The content scanners' verdict on the element, when they find unsafe content (the newest
        scan per tool decides, as for any verdict)."""
        if not self.graph.has_component(element):
            return None
        from threatmodel.evidence import TOOLS

        scanners = {tool for tool, reader in TOOLS.items() if getattr(reader, "FINDS_UNSAFE_CONTENT", False)}
        for mitigation in sorted({s.mitigation for s in self.sources if s.tool in scanners}):
            scans = [s for s in self.by_mitigation.get(mitigation, []) if s.tool in scanners]
            verdict = self._judge_subjects(mitigation, element, scans) if scans else None
            if verdict is not None and verdict.state == "contradicted":
                return verdict
        return None

    @staticmethod
    def _matches(subject: str, declared: str, kind: str) -> bool:
        return subject == declared if kind == "package" else _related(subject, declared)

    def _judge_watches(self, element: str, finding: str, sources: list[EvidenceSource]) -> Verdict | None:
        from threatmodel.controls.derive import audit_watches

        mitigation = sources[0].mitigation

        if self._watches is None:
            self._watches = {}
            for watch in audit_watches(self.analysis):
                self._watches.setdefault(watch.component, []).append(watch)
        watches = self._watches.get(element, [])
        # the watches generated for this finding; a finding none serves (deletion) needs the change watch
        expected = [w for w in watches if not finding or finding in w.findings] or \
            [w for w in watches if w.permissions == "wa"]
        if not expected:
            return None
        fresh = [s for s in sources if not self.age_problem(s)]
        if not fresh:
            return Verdict(mitigation, element, "stale", "", (),
                           "; ".join(dict.fromkeys(self.age_problem(s) for s in sources)))
        listing = max(fresh, key=lambda s: s.date)
        status = max((s for s in fresh if s.disabled), key=lambda s: s.date, default=None)
        if status is not None and status.date >= listing.date - dt.timedelta(hours=1):
            return Verdict(mitigation, element, "contradicted", status.date.date().isoformat(),
                           (status.name,), "auditing is off (auditctl -s: enabled 0): no watch records anything")
        model_paths = {p.rstrip("/") for c in self.graph.system.components for p in c.paths}
        loaded, missing = [], []
        for watch in expected:
            match = next((o for o in listing.observations if o.subject == watch.path.rstrip("/")
                          and set(watch.permissions) <= set(o.permissions)), None)
            (loaded if match else missing).append((watch, match))
        date = listing.date.date().isoformat()
        if not missing:
            return Verdict(mitigation, element, "verified", date,
                           tuple(dict.fromkeys(_where(listing, m) for _, m in loaded if m)),
                           f"{len(loaded)} watch{'es' if len(loaded) != 1 else ''} loaded")
        describe = "; ".join(f"-w {w.path} -p {w.permissions} -k {w.key} not loaded" for w, _ in missing[:3])
        # a listing is from one machine: it speaks for the components in the trust boundaries
        # whose declared paths it watches (or for all, when it says no rules are loaded at all)
        watched = {o.subject for o in listing.observations}
        machine = {c.boundary for c in self.graph.system.components
                   if any(p.rstrip("/") in watched for p in c.paths)}
        component = self.graph.component(element)
        speaks_for_machine = (not listing.observations and listing.lists_nothing) \
            or bool(loaded) or component.boundary in machine
        if speaks_for_machine:
            return Verdict(mitigation, element, "contradicted", date, (listing.name,), describe)
        what = "none of this model's paths" if not watched & model_paths else f"nothing in {component.boundary or 'its zone'}"
        return Verdict(mitigation, element, "stale", "", (listing.name,),
                       f"the listing in {listing.name} watches {what} (from another machine?)")


def judge_evidence(analysis: "Analysis", sources: Iterable[EvidenceSource], now: dt.datetime | None = None,
                   max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> EvidenceVerdicts:
    """The evidence's verdict on every (mitigation, element) pair the findings call for."""
    sources = list(sources)
    now = now or dt.datetime.now(dt.timezone.utc)
    result = EvidenceVerdicts(sources=sources, max_age_days=max_age_days, as_of=now.date().isoformat())
    if not sources:
        return result
    judge = _Judge(analysis, sources, now, max_age_days)
    for finding in analysis.findings:
        if finding.element_type != "component":
            continue
        for mitigation in finding.mitigations:
            key = (mitigation, finding.element)
            if mitigation == "file-audit-logging":
                verdict = judge.judge(mitigation, finding.element, finding.id)
                if verdict is not None:
                    result.by_finding[(mitigation, finding.id)] = verdict
                continue
            if key not in result.verdicts:
                verdict = judge.judge(mitigation, finding.element)
                if verdict is not None:
                    result.verdicts[key] = verdict
    # a scanner that finds malicious content contradicts every control that says the bytes are safe
    catalog = analysis.catalog
    for element in sorted({f.element for f in analysis.findings if f.element_type == "component"}):
        found = judge.malicious(element)
        if found is None:
            continue
        for finding in (f for f in analysis.findings if f.element == element):
            for mitigation in finding.mitigations:
                if catalog.mitigations[mitigation].vouches_for_content:
                    result.verdicts[(mitigation, element)] = Verdict(
                        mitigation, element, "contradicted", found.date, found.evidence,
                        f"a scanner found unsafe content: {found.detail}")
    return result


def read_all(entries: list[EvidenceEntry], bindings: dict[str, str] | None = None) -> list[EvidenceSource]:
    """Read every entry; all problems are reported together, none is skipped silently.
    ``bindings``: the catalog's evidence reader -> mitigation table."""
    from threatmodel.core.errors import Diagnostic, InputError
    from threatmodel.evidence import read_evidence

    sources, problems = [], []
    for entry in entries:
        if entry.location is not None and not os.path.lexists(entry.resolved):
            problems.append(Diagnostic(entry.location, f"evidence file {entry.path}: no such file"))
            continue
        try:
            sources.append(read_evidence(entry, bindings))
        except InputError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise InputError(problems)
    return sources
