"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning and others).

One rule per catalog threat (with its help text, STRIDE letters and ATLAS ids as tags), one
result per open finding, located at the line where the component or flow is written in the
model. Results carry the stable finding id as a partial fingerprint so that alerts keep their
identity from one run to the next.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from threatmodel.catalog.model import Catalog
from threatmodel.core.errors import Location
from threatmodel.core.escape import md_code, md_text, md_url, terminal
from threatmodel.core.vocabulary import OPEN_STATUSES, SEVERITY_ORDER
from threatmodel.renderers.jsonout import to_json
from threatmodel.renderers.registry import RenderOptions
from threatmodel.report.build import assessment_data

if TYPE_CHECKING:
    from threatmodel.pipeline import Assessment

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def _rule(catalog: Catalog, threat_id: str) -> dict[str, Any]:
    threat = catalog.threats[threat_id]
    atlas = [f"{link.id} {catalog.atlas.full_name(link.id)}" for link in threat.atlas]
    mitigations = [f"- {m}: {catalog.mitigations[m].title}" for m in threat.mitigations]
    help_text = terminal("\n".join([threat.summary, "", "Mitigations:", *mitigations, "",
                                    "MITRE ATLAS: " + "; ".join(atlas)]))
    # GitHub renders help.markdown: catalog text (a user catalog's too) goes through the escaper
    help_markdown = "\n".join([
        md_text(threat.summary), "", "**Mitigations**", "",
        *[f"- {md_code(m)} {md_text(catalog.mitigations[m].title)}" for m in threat.mitigations], "",
        "**MITRE ATLAS**: " + "; ".join(md_text(a) for a in atlas),
    ])
    rule: dict[str, Any] = {
        "id": threat.id,
        "name": "".join(word.capitalize() for word in threat.name.replace("-", " ").split() if word.isalnum()),
        "shortDescription": {"text": terminal(threat.title)},
        "fullDescription": {"text": terminal(threat.summary)},
        "help": {"text": help_text, "markdown": help_markdown},
        "properties": {
            "tags": ["security", "threat-model", *[f"STRIDE-{s}" for s in threat.stride],
                     *threat.frameworks, *[link.id for link in threat.atlas]][:MAX_TAGS],
            # GitHub reads a 0.1-10 severity from the rule: exploitability × technical impact
            "security-severity": f"{threat.ratings.exploitability * threat.ratings.technical_impact / 2.5:.1f}",
            "precision": "medium",
        },
    }
    if threat.references and md_url(threat.references[0].url):
        rule["helpUri"] = threat.references[0].url
    return rule


MAX_RESULTS = 25_000  # GitHub code scanning rejects a run with more (and shows the top 5,000)
MAX_TAGS = 20  # GitHub rejects a rule with more tags


def _result(finding: dict[str, Any], index: dict[str, int], model_uri: str,
            locations: dict[str, Location]) -> dict[str, Any]:
    where = locations.get(finding["element"])
    region = {"startLine": where.line, "startColumn": where.column} if where and where.line else {"startLine": 1}
    severity = finding.get("residual_severity", finding["severity"])
    status = finding.get("status", "open")
    result: dict[str, Any] = {
        "ruleId": finding["threat"],
        "ruleIndex": index[finding["threat"]],
        "level": LEVELS[severity],
        "message": {"text": terminal(f"{finding['title']} on {finding['element']} ({severity}, score "
                                     f"{finding.get('residual_score', finding['score'])}): "
                                     + "; ".join(finding["evidence"]))},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": model_uri}, "region": region}}],
        "partialFingerprints": {"threatmodelFindingId/v1": finding["id"]},
        "properties": {"finding": finding["id"], "severity": severity, "stride": finding["stride"],
                       "status": status,
                       # what the evidence shows for each mitigation (docs/evidence.md)
                       "mitigations": {m["id"]: m.get("verification", "missing") for m in finding["mitigations"]}},
    }
    if status not in OPEN_STATUSES:
        # a decided finding stays in the log, suppressed, so code scanning closes its alert
        review = finding.get("review") or {}
        justification = f"{status}: {review.get('justification') or 'recorded in the review file'}"
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": terminal(justification)}]
    return result


def sarif_report(data: dict[str, Any], catalog: Catalog, model_uri: str,
                 locations: dict[str, Location], max_results: int = MAX_RESULTS) -> dict[str, Any]:
    """``data`` is the report data (with review statuses, when a review file exists). Open
    findings come first, most severe first; past ``max_results`` the least severe are dropped
    and the run's properties say how many."""
    rule_ids = sorted(catalog.threats)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    ordered = sorted(data["findings"], key=lambda f: (
        f.get("status", "open") not in OPEN_STATUSES, -SEVERITY_ORDER[f.get("residual_severity", f["severity"])],
        -f.get("residual_score", f["score"]), f["id"]))
    kept = ordered[:max_results]
    dropped = len(ordered) - len(kept)
    kept.sort(key=lambda f: (-f["score"], f["id"]))
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "threatmodel",
            "version": data["tool"]["version"],
            "rules": [_rule(catalog, rule_id) for rule_id in rule_ids],
        }},
        "results": [_result(f, index, model_uri, locations) for f in kept],
    }
    if dropped:
        run["properties"] = {"droppedResults": dropped, "maxResults": max_results,
                             "note": f"{dropped} least severe findings left out to stay within "
                                     f"{max_results:,} results per run"}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def model_uri(path: str) -> str:
    """A forward-slash URI for the model file, relative to the working directory when it can be
    (code scanning maps results to files by their path relative to the repository root)."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return candidate.as_uri()
    return PurePosixPath(*candidate.as_posix().split("/")).as_posix().removeprefix("./")


def render_sarif(assessment: "Assessment", options: RenderOptions) -> str:
    uri = options.model_uri or model_uri(str(assessment.model_path))
    document = sarif_report(assessment_data(assessment), assessment.catalog.catalog, uri, assessment.system.locations,
                            options.sarif_max_results)
    properties = document["runs"][0].get("properties")
    if properties:
        options.notes.append(f"SARIF: {properties['note']} (GitHub code scanning rejects more)")
    return to_json(document)

