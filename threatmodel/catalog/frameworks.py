"""Frameworks, editions and the crosswalk: which OWASP, ATLAS, CoSAI and STRIDE entries each
threat covers, always with their edition (catalog/frameworks.yaml holds the facts).

A framework reference carries its edition (``LLM03:2025`` is Supply Chain, ``LLM03:2026``
Excessive Agency); ATLAS ids are pinned to the version of the bundled index
(``AML.T0051.000@5.6.0``). Threat ids are the project's own and survive renumbering.
"""

from __future__ import annotations

import re
from typing import Any

from threatmodel.catalog.model import FRAMEWORK_ENTRY, Catalog, Threat
from threatmodel.core.errors import ChoiceError

STRIDE_FRAMEWORK = "stride"
CROSSWALK_COLUMNS = ("threat", "title", "stride", "ml-2023", "llm-2023", "llm-2025", "llm-2026", "asi-2026",
                     "atlas", "cosai")


class FrameworkError(ChoiceError):
    """A framework or entry the user named does not exist (message says what does)."""


def framework_ids(catalog: Catalog) -> list[str]:
    return [*catalog.frameworks, STRIDE_FRAMEWORK]


def parse_frameworks(catalog: Catalog, value: str) -> list[str]:
    """``llm-2026,asi-2026`` -> the framework ids, checked."""
    chosen = [part.strip().lower() for part in value.split(",") if part.strip()]
    known = framework_ids(catalog)
    unknown = [c for c in chosen if c not in known]
    if not chosen or unknown:
        raise FrameworkError(f"unknown framework {', '.join(unknown) or repr(value)}; choose from {', '.join(known)}")
    return chosen


def entries_of(catalog: Catalog, threat: Threat, framework_id: str) -> list[str]:
    framework = catalog.frameworks.get(framework_id)
    if framework is None:
        return []
    ids = {entry.id for entry in framework.entries}
    return [e for e in threat.frameworks if e in ids]


def covers(catalog: Catalog, threat: Threat, chosen: list[str]) -> bool:
    """The threat maps to one of the chosen frameworks (STRIDE: every threat has letters, but only
    the baseline threats are STRIDE's own)."""
    if STRIDE_FRAMEWORK in chosen and threat.source in ("stride-baseline", "user"):
        return True
    return any(entries_of(catalog, threat, f) for f in chosen if f != STRIDE_FRAMEWORK)


def restrict(catalog: Catalog, chosen: list[str]) -> Catalog:
    """The catalog with only the threats of the chosen frameworks."""
    return catalog.model_copy(update={"threats": {k: t for k, t in catalog.threats.items()
                                                  if covers(catalog, t, chosen)}})


def pinned_atlas(catalog: Catalog, threat: Threat) -> list[str]:
    return [f"{link.id}@{catalog.atlas.atlas_version}" for link in threat.atlas]


def mappings(catalog: Catalog, threat: Threat) -> dict[str, list[str]]:
    """Every version-pinned mapping of a threat, by framework."""
    result = {f: entries_of(catalog, threat, f) for f in catalog.frameworks}
    result["atlas"] = pinned_atlas(catalog, threat)
    result["cosai"] = list(threat.cosai)
    result["stride"] = list(threat.stride)
    return result


def crosswalk_rows(catalog: Catalog, threats: list[Threat]) -> list[dict[str, Any]]:
    rows = []
    for threat in threats:
        mapped = mappings(catalog, threat)
        rows.append({"threat": threat.id, "title": threat.name, "stride": mapped["stride"],
                     **{f: mapped.get(f, []) for f in CROSSWALK_COLUMNS[3:8]},
                     "atlas": mapped["atlas"], "cosai": mapped["cosai"]})
    return rows


def crosswalk_csv(rows: list[dict[str, Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CROSSWALK_COLUMNS)
    for row in rows:
        writer.writerow([row[c] if isinstance(row[c], str) else " ".join(row[c]) for c in CROSSWALK_COLUMNS])
    return buffer.getvalue()


def entry_view(catalog: Catalog, query: str) -> dict[str, Any]:
    """A framework entry (``LLM08:2026``): its edition, the threats that cover it, the same risk
    in the other editions, and for agentic entries the LLM 2025 entries OWASP maps them to."""
    key = query.strip().upper()
    if re.fullmatch(r"(ML|LLM|ASI)(0[1-9]|10)", key):
        found = [(f, e) for f in catalog.frameworks.values() for e in f.entries if e.id.startswith(key + ":")]
        choices = "; ".join(f"{e.id} {e.title}" for _, e in found)
        raise FrameworkError(f"'{query}' is ambiguous without its edition: {choices}")
    if not re.fullmatch(FRAMEWORK_ENTRY, key):
        raise FrameworkError(f"'{query}' is not a framework entry id (e.g. LLM01:2025, ASI06:2026)")
    located = catalog.framework_entry(key)
    if located is None:
        raise FrameworkError(f"no entry '{key}' in catalog/frameworks.yaml")
    framework, entry = located
    counterparts = []
    for other, relation in catalog.counterparts(key):
        counterparts.append({"id": other, "title": catalog.entry_title(other),
                             "relation": relation, "edition": other[-4:],
                             "direction": "successor" if other[-4:] > key[-4:] else "predecessor"})
    agentic = [{"id": e, "title": catalog.entry_title(e)} for e in catalog.agentic_to_llm_2025.get(key, [])]
    mapped_from = [a for a, llm in catalog.agentic_to_llm_2025.items() if key in llm]
    return {
        "type": "framework-entry", "id": key, "title": entry.title, "framework": framework.id,
        "framework_title": framework.title, "edition": framework.edition, "url": framework.url,
        "threats": [{"id": t.id, "title": t.name} for t in catalog.threats_for_entry(key)],
        "counterparts": counterparts,
        "agentic_maps_to": agentic,
        "agentic_entries": mapped_from,
    }
