"""GitLab Code Quality report (a JSON array of issues, shown in the MR widget on every tier).

GitLab drops issues with duplicate fingerprints, so repeated findings of one fingerprint (e.g.
the same secret in two rows) get the occurrence number mixed in.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..findings import Severity
from ..runner import RunResult
from .common import source_line
from .jsontext import dumps

SEVERITY = {Severity.CRITICAL: "blocker", Severity.HIGH: "critical", Severity.MEDIUM: "major", Severity.LOW: "minor", Severity.INFO: "info"}


def to_list(run: RunResult) -> list[dict[str, Any]]:
    out = []
    seen: dict[str, int] = {}
    for f in run.findings:
        if f.waived:
            continue  # GitLab has no notion of suppression; waived findings stay in JSON/SARIF
        n = seen.get(f.fingerprint, 0)
        seen[f.fingerprint] = n + 1
        fp = f.fingerprint if n == 0 else hashlib.sha256(f"{f.fingerprint}:{n}".encode()).hexdigest()[:32]
        desc = f"[{f.rule}] {f.message}"
        if f.member:
            desc += f" (member {f.member})"
        if f.evidence:
            desc += f" — evidence: {f.evidence}"
        if not f.blocking:
            desc += " (not blocking)"
        out.append(
            {
                "type": "issue",
                "check_name": f"mlsec-gates/{f.gate}/{f.rule}",
                "description": desc,
                "content": {"body": f"**Why:** {f.why}\n\n**Fix:** {f.remediation}"},
                "categories": ["Security"],
                "fingerprint": fp,
                "severity": SEVERITY[f.severity],
                # a CSV/TSV data row on its file line (header = line 1), as in SARIF and annotations
                "location": {"path": f.path or ".", "lines": {"begin": source_line(f) or 1}},
                "engine_name": "mlsec-gates",
            }
        )
    for r in run.results:
        for e in r.errors:
            # a gate that could not check an input fails the job: the MR widget must say so too
            fp = hashlib.sha256(f"{r.gate}\x00error\x00{e.path}\x00{e.message}".encode()).hexdigest()[:32]
            out.append(
                {
                    "type": "issue",
                    "check_name": f"mlsec-gates/{r.gate}/error",
                    "description": f"[{r.gate}] could not check: {e.message}",
                    "content": {"body": "The gate could not read or check this input, so the run fails closed (exit code 2)."},
                    "categories": ["Security"],
                    "fingerprint": fp,
                    "severity": "blocker",
                    "location": {"path": e.path or ".", "lines": {"begin": 1}},
                    "engine_name": "mlsec-gates",
                }
            )
    return out


def render(run: RunResult) -> str:
    return dumps(to_list(run)) + "\n"
