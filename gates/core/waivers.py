"""Applying waivers: a waived finding is still reported, an expired waiver blocks and says so,
and a waiver that matches nothing is reported as stale."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Iterable, Sequence

from .findings import Finding
from .hygiene import clean
from .matching import path_matches, rule_matches
from .policy import Waiver


@dataclass(frozen=True)
class WaiverOutcome:
    findings: list[Finding]
    used: set[int]  # indexes of waivers that matched at least one finding


def matches(w: Waiver, f: Finding) -> bool:
    if w.gate and w.gate != f.gate:
        return False
    if not rule_matches(w.rule, f.rule):
        return False
    if w.fingerprint and w.fingerprint != f.fingerprint:
        return False
    if w.path and not (path_matches(w.path, f.rel_path or f.path) or path_matches(w.path, f.path)):
        return False
    return True


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: _dt.date | None = None) -> WaiverOutcome:
    today = today or _dt.date.today()
    out: list[Finding] = []
    used: set[int] = set()
    for f in findings:
        active: Waiver | None = None
        expired: Waiver | None = None
        for i, w in enumerate(waivers):
            if matches(w, f):
                used.add(i)
                if w.expired(today):
                    expired = expired or w
                else:
                    active = active or w
        if active is not None:
            by = f" (owner {active.owner})" if active.owner else ""
            # the reason and owner were written in a policy: cleaned like every input string
            out.append(f.replace(waived=True, blocking=False,
                                 waiver_reason=clean(f"{active.reason}{by}; expires {active.expires.isoformat()}")))
        elif expired is not None:
            note = clean(f"waiver expired on {expired.expires.isoformat()} ({expired.source}): {expired.reason}")
            out.append(f.replace(waiver_reason=note, message=f"{f.message} [waiver expired {expired.expires.isoformat()}]"))
        else:
            out.append(f)
    return WaiverOutcome(out, used)
