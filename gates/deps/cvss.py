"""CVSS v3.0/v3.1 and v4.0 scores from a vector string.

Small on purpose: the gate needs the score and its qualitative rating, nothing else, and the usual
library for this (``cvss``) is LGPL. v3 follows the v3.1 specification, section 7 (formulas).
v4.0 follows the v4.0 specification, section 8: the vector's MacroVector (EQ1–EQ6) is looked up
in the specification's MacroVector score table (``cvss4_macrovectors.json``, data published with
FIRST's reference calculator, BSD-2-Clause) and interpolated towards the next lower MacroVectors
by the vector's severity distance from the MacroVector's highest-severity vectors. Numbers are
checked in the tests against vectors with published scores (e.g. v3.1
``AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H`` = 9.8, v4.0 ``AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/
SC:N/SI:N/SA:N`` = 9.3).
"""

from __future__ import annotations

import itertools
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
    """Score of a CVSS v3.x or v4.0 vector; :class:`CvssError` otherwise."""
    version, _ = parse_vector(vector)
    if version.startswith("3."):
        return score_v3(vector)
    if version == "4.0":
        return score_v4(vector)
    raise CvssError(f"CVSS version {version} is not supported by the built-in calculator")


# ---- CVSS v4.0 -----------------------------------------------------------------------------------
_V4_BASE = {"AV": "NALP", "AC": "LH", "AT": "NP", "PR": "NLH", "UI": "NPA", "VC": "HLN", "VI": "HLN", "VA": "HLN",
            "SC": "HLN", "SI": "HLN", "SA": "HLN"}
_V4_OTHER = {"E": "XAPU", "CR": "XHML", "IR": "XHML", "AR": "XHML", "MAV": "XNALP", "MAC": "XLH", "MAT": "XNP",
             "MPR": "XNLH", "MUI": "XNPA", "MVC": "XHLN", "MVI": "XHLN", "MVA": "XHLN", "MSC": "XHLN", "MSI": "XSHLN",
             "MSA": "XSHLN", "S": "XNP", "AU": "XNY", "R": "XAUI", "V": "XDC", "RE": "XLMH"}
_V4_U = ("X", "Clear", "Green", "Amber", "Red")
# severity level of each value, in steps of 0.1 (lower = more severe)
_V4_LEVEL = {
    "AV": {"N": 0, "A": 1, "L": 2, "P": 3}, "PR": {"N": 0, "L": 1, "H": 2}, "UI": {"N": 0, "P": 1, "A": 2},
    "AC": {"L": 0, "H": 1}, "AT": {"N": 0, "P": 1},
    "VC": {"H": 0, "L": 1, "N": 2}, "VI": {"H": 0, "L": 1, "N": 2}, "VA": {"H": 0, "L": 1, "N": 2},
    "SC": {"H": 1, "L": 2, "N": 3}, "SI": {"S": 0, "H": 1, "L": 2, "N": 3}, "SA": {"S": 0, "H": 1, "L": 2, "N": 3},
    "CR": {"H": 0, "M": 1, "L": 2}, "IR": {"H": 0, "M": 1, "L": 2}, "AR": {"H": 0, "M": 1, "L": 2},
    "E": {"A": 0, "P": 1, "U": 2},
}


def _mv(spec: str) -> dict[str, str]:
    return dict(p.split(":") for p in spec.split())


# Highest-severity vectors of each EQ level (specification, section 8.2); EQ3 is keyed with EQ6.
_V4_MAX = {
    1: {0: [_mv("AV:N PR:N UI:N")], 1: [_mv("AV:A PR:N UI:N"), _mv("AV:N PR:L UI:N"), _mv("AV:N PR:N UI:P")],
        2: [_mv("AV:P PR:N UI:N"), _mv("AV:A PR:L UI:P")]},
    2: {0: [_mv("AC:L AT:N")], 1: [_mv("AC:H AT:N"), _mv("AC:L AT:P")]},
    3: {(0, 0): [_mv("VC:H VI:H VA:H CR:H IR:H AR:H")],
        (0, 1): [_mv("VC:H VI:H VA:L CR:M IR:M AR:H"), _mv("VC:H VI:H VA:H CR:M IR:M AR:M")],
        (1, 0): [_mv("VC:L VI:H VA:H CR:H IR:H AR:H"), _mv("VC:H VI:L VA:H CR:H IR:H AR:H")],
        (1, 1): [_mv("VC:L VI:H VA:L CR:H IR:M AR:H"), _mv("VC:L VI:H VA:H CR:H IR:M AR:M"), _mv("VC:H VI:L VA:H CR:M IR:H AR:M"),
                 _mv("VC:H VI:L VA:L CR:M IR:H AR:H"), _mv("VC:L VI:L VA:H CR:H IR:H AR:M")],
        (2, 1): [_mv("VC:L VI:L VA:L CR:H IR:H AR:H")]},
    4: {0: [_mv("SC:H SI:S SA:S")], 1: [_mv("SC:H SI:H SA:H")], 2: [_mv("SC:L SI:L SA:L")]},
    5: {0: [_mv("E:A")], 1: [_mv("E:P")], 2: [_mv("E:U")]},
}
# depth of each MacroVector (its largest severity distance + 1), in steps of 0.1
_V4_DEPTH = {1: {0: 1, 1: 4, 2: 5}, 2: {0: 1, 1: 2}, 3: {(0, 0): 7, (0, 1): 6, (1, 0): 8, (1, 1): 8, (2, 1): 10}, 4: {0: 6, 1: 5, 2: 4}}


def _v4_table() -> dict[str, float]:
    import importlib.resources
    import json

    if not hasattr(_v4_table, "cache"):
        text = importlib.resources.files("gates.deps").joinpath("cvss4_macrovectors.json").read_text("utf-8")
        _v4_table.cache = json.loads(text)["scores"]  # type: ignore[attr-defined]
    return _v4_table.cache  # type: ignore[attr-defined]


def _v4_metrics(vector: str) -> dict[str, str]:
    version, m = parse_vector(vector)
    if version != "4.0":
        raise CvssError(f"not a CVSS v4.0 vector (version {version})")
    for k, allowed in _V4_BASE.items():
        if k not in m:
            raise CvssError(f"missing base metric {k}")
        if m[k] not in allowed:
            raise CvssError(f"invalid value {m[k]!r} for {k}")
    for k, v in m.items():
        if k in _V4_BASE:
            continue
        allowed = _V4_U if k == "U" else _V4_OTHER.get(k)
        if allowed is None or v not in allowed or (k != "U" and len(v) != 1):
            raise CvssError(f"invalid metric {k}:{v}")
    return m


def _v4_effective(m: dict[str, str]) -> dict[str, str]:
    """Values that score: environmental ``M*`` overrides, and the worst case for unset E/CR/IR/AR."""
    eff = {}
    for k in _V4_LEVEL:
        v = m.get(k, "X")
        mod = m.get("M" + k, "X")
        if mod != "X":
            v = mod
        if v == "X":
            v = {"E": "A", "CR": "H", "IR": "H", "AR": "H"}[k]
        eff[k] = v
    return eff


def _v4_macrovector(e: dict[str, str]) -> tuple[int, int, int, int, int, int]:
    av, pr, ui = e["AV"], e["PR"], e["UI"]
    if av == "N" and pr == "N" and ui == "N":
        eq1 = 0
    elif (av == "N" or pr == "N" or ui == "N") and av != "P":
        eq1 = 1
    else:
        eq1 = 2
    eq2 = 0 if e["AC"] == "L" and e["AT"] == "N" else 1
    if e["VC"] == "H" and e["VI"] == "H":
        eq3 = 0
    elif "H" in (e["VC"], e["VI"], e["VA"]):
        eq3 = 1
    else:
        eq3 = 2
    if e["SI"] == "S" or e["SA"] == "S":
        eq4 = 0
    elif "H" in (e["SC"], e["SI"], e["SA"]):
        eq4 = 1
    else:
        eq4 = 2
    eq5 = {"A": 0, "P": 1, "U": 2}[e["E"]]
    eq6 = 0 if (e["CR"] == "H" and e["VC"] == "H") or (e["IR"] == "H" and e["VI"] == "H") or (e["AR"] == "H" and e["VA"] == "H") else 1
    return eq1, eq2, eq3, eq4, eq5, eq6


def score_v4(vector: str) -> CvssScore:
    """CVSS v4.0 score (CVSS-B for a base vector; threat/environmental metrics are applied when
    the vector carries them, as the specification defines)."""
    e = _v4_effective(_v4_metrics(vector))
    if all(e[k] == "N" for k in ("VC", "VI", "VA", "SC", "SI", "SA")):
        return CvssScore("4.0", 0.0, vector)
    table = _v4_table()
    mv = _v4_macrovector(e)
    key = "".join(map(str, mv))
    if key not in table:
        raise CvssError("vector maps to no CVSS v4.0 MacroVector")
    value = table[key]
    eq1, eq2, eq3, eq4, eq5, eq6 = mv

    def lower(*changes: tuple[int, int]) -> float | None:
        m = list(mv)
        for i, d in changes:
            m[i] += d
        return table.get("".join(map(str, m)))

    if (eq3, eq6) == (0, 0):
        left, right = lower((5, 1)), lower((2, 1))
        eq36_lower = None if left is None or right is None else max(left, right)
    elif (eq3, eq6) == (1, 0):
        eq36_lower = lower((5, 1))
    elif (eq3, eq6) in ((0, 1), (1, 1)):
        eq36_lower = lower((2, 1))
    else:
        eq36_lower = lower((2, 1), (5, 1))  # (2, 1) -> (3, 2): never exists
    lowers = [lower((0, 1)), lower((1, 1)), eq36_lower, lower((3, 1)), lower((4, 1))]

    # the first highest-severity vector of the MacroVector that is at least as severe on every metric
    dist: dict[str, int] = {}
    for combo in itertools.product(_V4_MAX[1][eq1], _V4_MAX[2][eq2], _V4_MAX[3][(eq3, eq6)], _V4_MAX[4][eq4], _V4_MAX[5][eq5]):
        top = {k: v for part in combo for k, v in part.items()}
        dist = {k: _V4_LEVEL[k][e[k]] - _V4_LEVEL[k][top[k]] for k in _V4_LEVEL}
        if all(x >= 0 for x in dist.values()):
            break
    current = [dist["AV"] + dist["PR"] + dist["UI"], dist["AC"] + dist["AT"],
               dist["VC"] + dist["VI"] + dist["VA"] + dist["CR"] + dist["IR"] + dist["AR"], dist["SC"] + dist["SI"] + dist["SA"], 0]
    depth = [_V4_DEPTH[1][eq1], _V4_DEPTH[2][eq2], _V4_DEPTH[3][(eq3, eq6)], _V4_DEPTH[4][eq4], 1]
    total, n = 0.0, 0
    for low, cur, dep in zip(lowers, current, depth):
        if low is None:
            continue
        n += 1
        total += (value - low) * (cur / dep)
    mean = total / n if n else 0.0
    final = max(0.0, min(10.0, value - mean))
    return CvssScore("4.0", math.floor((final + 1e-6) * 10 + 0.5) / 10, vector)
