"""CVSS v3.0/v3.1 base scores from a vector string (FIRST specification, section 7).

Small on purpose: the gate needs the base score and its qualitative rating, nothing else, and
the usual library for this (``cvss``) is LGPL. Numbers are checked in the tests against vectors
with published scores (e.g. ``AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`` = 9.8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class CvssError(ValueError):
    """The vector is not a well-formed CVSS base vector."""


_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_U = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_C = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_BASE = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")
_ALLOWED = {"AV": _AV, "AC": _AC, "PR": _PR_U, "UI": _UI, "S": {"U": 0, "C": 0}, "C": _CIA, "I": _CIA, "A": _CIA}


@dataclass(frozen=True)
class CvssScore:
    version: str
    score: float
    vector: str

    @property
    def rating(self) -> str:
        return rating(self.score)


def rating(score: float) -> str:
    """CVSS qualitative rating (v3 and v4 share it)."""
    if score == 0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def _roundup_31(x: float) -> float:
    """CVSS 3.1 Appendix A ``Roundup``: avoids floating-point surprises of ``ceil(x*10)/10``."""
    i = int(round(x * 100000))
    if i % 10000 == 0:
        return i / 100000.0
    return (math.floor(i / 10000) + 1) / 10.0


def _roundup_30(x: float) -> float:
    return math.ceil(x * 10) / 10


def parse_vector(vector: str) -> tuple[str, dict[str, str]]:
    parts = vector.strip().split("/")
    if not parts or not parts[0].startswith("CVSS:"):
        raise CvssError("vector does not start with CVSS:<version>")
    version = parts[0][5:]
    metrics: dict[str, str] = {}
    for p in parts[1:]:
        k, sep, v = p.partition(":")
        if not sep or not k or not v:
            raise CvssError(f"malformed metric {p!r}")
        if k in metrics:
            raise CvssError(f"metric {k} given twice")
        metrics[k] = v
    return version, metrics


def score_v3(vector: str) -> CvssScore:
    """Base score of a ``CVSS:3.0/...`` or ``CVSS:3.1/...`` vector (temporal/environmental
    metrics, if present, are ignored: OSV records carry base vectors)."""
    version, m = parse_vector(vector)
    if version not in ("3.0", "3.1"):
        raise CvssError(f"not a CVSS v3 vector (version {version})")
    for k in _BASE:
        if k not in m:
            raise CvssError(f"missing base metric {k}")
        if m[k] not in _ALLOWED[k]:
            raise CvssError(f"invalid value {m[k]!r} for {k}")
    changed = m["S"] == "C"
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    if changed:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    else:
        impact = 6.42 * iss
    pr = (_PR_C if changed else _PR_U)[m["PR"]]
    exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
    roundup = _roundup_31 if version == "3.1" else _roundup_30
    if impact <= 0:
        base = 0.0
    elif changed:
        base = roundup(min(1.08 * (impact + exploitability), 10))
    else:
        base = roundup(min(impact + exploitability, 10))
    return CvssScore(version, base, vector)


def score(vector: str) -> CvssScore:
    """Base score of a CVSS vector this module supports (v3.x); :class:`CvssError` otherwise."""
    version, _ = parse_vector(vector)
    if version.startswith("3."):
        return score_v3(vector)
    raise CvssError(f"CVSS version {version} is not supported by the built-in calculator")
