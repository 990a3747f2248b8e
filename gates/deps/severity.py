"""Severity of an OSV record: CVSS base score from its vector, else GHSA's label, else unknown.

OSV puts vectors in ``severity[]`` (record level or per ``affected`` entry); GitHub's advisories
also carry ``database_specific.severity`` (LOW/MODERATE/HIGH/CRITICAL). pip-audit reports none of
this, which is why the gate computes it. ``unknown`` is kept distinct so the policy can decide
what it means (by default it is treated as high: an advisory nobody scored is not harmless).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gates.core.findings import Severity

from . import cvss

_GHSA = {"low": "low", "moderate": "medium", "medium": "medium", "high": "high", "critical": "critical"}
LABELS = ("critical", "high", "medium", "low", "none", "unknown")


@dataclass(frozen=True)
class RecordSeverity:
    label: str  # critical/high/medium/low/none/unknown
    score: float | None = None
    vector: str | None = None
    source: str = "unknown"  # CVSS_V4, CVSS_V3, GHSA or unknown


def record_severity(rec: dict[str, Any]) -> RecordSeverity:
    """Best available severity of ``rec``. CVSS vectors are preferred (newest version first);
    a vector the calculator cannot score falls through to the next source, never to 'none'."""
    entries: list[dict[str, Any]] = [s for s in rec.get("severity") or [] if isinstance(s, dict)]
    for a in rec.get("affected") or []:
        if isinstance(a, dict):
            entries.extend(s for s in a.get("severity") or [] if isinstance(s, dict))
    unsupported = []
    for kind in ("CVSS_V4", "CVSS_V3"):
        for s in entries:
            if s.get("type") != kind or not isinstance(s.get("score"), str):
                continue
            try:
                sc = cvss.score(s["score"])
            except cvss.CvssError:
                unsupported.append(kind)
                continue
            return RecordSeverity(sc.rating, sc.score, s["score"], kind)
    for ds in [rec.get("database_specific")] + [a.get("database_specific") for a in rec.get("affected") or [] if isinstance(a, dict)]:
        if isinstance(ds, dict) and isinstance(ds.get("severity"), str) and ds["severity"].lower() in _GHSA:
            return RecordSeverity(_GHSA[ds["severity"].lower()], None, None, "GHSA")
    return RecordSeverity("unknown", None, None, "unknown" if not unsupported else f"unknown (invalid {unsupported[0]} vector)")


def to_core(label: str, unknown_as: str) -> Severity:
    """Map an advisory label onto the core scale; ``none`` (CVSS 0.0) becomes info."""
    if label == "unknown":
        return Severity.parse(unknown_as)
    if label == "none":
        return Severity.INFO
    return Severity.parse(label)
