"""Text for the generated controls (audit rules, ausearch commands, scan steps), from an assessment."""

from __future__ import annotations

import itertools
import shlex
from typing import TYPE_CHECKING

from threatmodel._version import __version__
from threatmodel.controls.derive import ScanStep, audit_watches, manifest_targets, scan_steps

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment


def shell_command(argv: tuple[str, ...]) -> str:
    """One shell command line: ${VARIABLE} placeholders (and paths that start with one) stay
    expandable, everything else is quoted. Arguments are safe paths or catalog text."""
    return " ".join(f'"{a}"' if a.startswith("${") and "}" in a and '"' not in a and "`" not in a
                    and "$(" not in a else shlex.quote(a) for a in argv)


def evidence_command(step: "ScanStep") -> str:
    """The step as the scan script runs it: saving its evidence under ${EVIDENCE}."""
    target = f"${{EVIDENCE}}/{step.evidence}"
    if step.runner == "signature":  # key-based or sigstore, from the environment (templates/scan.sh.j2)
        return f'verify_signature "{target}" {shell_command(step.paths)}'
    if step.report:
        return (f'runs "{target}" {shell_command(step.command[:1])} && '
                + shell_command(step.command + tuple(part.replace("{report}", target) for part in step.report)))
    return f'record "{target}" {shell_command(step.command)}'


def bind_command(step: "ScanStep") -> str:
    """Hash what the step looked at beside its evidence, so verify can tell the bytes it saw."""
    return f'bind "${{EVIDENCE}}/{step.evidence}" {shell_command(step.paths)}' if step.paths else ""



def audit_rules_text(assessment: "Assessment", model_name: str) -> str:
    from threatmodel.renderers.templates import render

    return render("auditd.rules.j2", {"watches": audit_watches(assessment.analysis), "model": model_name,
                                      "tool_version": __version__})


def ausearch_text(assessment: "Assessment", model_name: str) -> str:
    from threatmodel.renderers.templates import render

    watches = audit_watches(assessment.analysis)
    keys = [(key, list(group)) for key, group in
            itertools.groupby(sorted(watches, key=lambda w: w.key), key=lambda w: w.key)]
    return render("ausearch.sh.j2", {"keys": keys, "model": model_name, "tool_version": __version__})


def scan_text(assessment: "Assessment", model_name: str, manifest_name: str, output_format: str) -> str:
    """The scan steps as a shell script ('sh') or JSON steps ('json')."""
    from threatmodel.renderers.jsonout import to_json
    from threatmodel.renderers.templates import render

    steps = scan_steps(assessment.analysis)
    has_manifest = bool(manifest_targets(assessment.analysis))
    if output_format == "json":
        verify = ("threatmodel", "controls", "verify-manifest", manifest_name)
        return to_json({"model": model_name, "steps": [
            {"name": s.name, "component": s.component, "tool": s.tool, "argv": list(s.command),
             "run": shell_command(s.command), "findings": list(s.findings), "mitigation": s.mitigation,
             "evidence": s.evidence, "report_argv": list(s.report)}
            for s in steps
        ] + ([{"name": "verify the artifact hash manifest", "component": "", "tool": "threatmodel",
               "argv": list(verify), "run": shell_command(verify), "findings": [],
               "mitigation": "artifact-integrity-verification", "evidence": "manifest-check.json",
               "report_argv": ["--format", "json", "-o", "{report}"]}] if has_manifest else [])})
    return render("scan.sh.j2", {
        "model": model_name, "tool_version": __version__,
        "steps": [dict(name=s.name, findings=s.findings, mitigation=s.mitigation, shell=evidence_command(s), bind=bind_command(s))
                  for s in steps],
        "tools": sorted({s.tool for s in steps}),
        "needs_signer": any(s.runner == "signature" for s in steps),
        "audit": bool(audit_watches(assessment.analysis)),
        "manifest": manifest_name if has_manifest else "",
    })
