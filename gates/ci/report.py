"""Read a JSON report (``schema_version: 1``) back into a :class:`RunResult`.

The CI commands (``comment``, ``annotations``) work from the JSON report a ``run`` step wrote, so
the comment shows exactly the verdict that failed the build: nothing is re-run. Only what the
report writers read is rebuilt: of the policy, only its file and chain (which the reports name).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..core.errors import UsageError
from ..core.findings import CORE_KEYS, Finding, GateError, GateResult, ScannedFile, Severity, Status
from ..core.policy import ChainEntry, Policy
from ..core.reports.links import Links
from ..core.runner import RunResult

MAX_REPORT_BYTES = 64 * 1024 * 1024


def load_json(path: str | Path) -> dict[str, Any]:
    """The parsed report; a missing, oversized or foreign file is a usage error (exit 2)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise UsageError(f"{p}: cannot read the report ({exc.strerror or type(exc).__name__})") from None
    if size > MAX_REPORT_BYTES:
        raise UsageError(f"{p}: report larger than {MAX_REPORT_BYTES} bytes")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{p}: not a JSON report ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("schema_version") != 1 or not isinstance(data.get("findings"), list) \
            or not isinstance(data.get("gates"), dict):
        raise UsageError(f"{p}: not an mlsec-gates JSON report (schema_version 1 with gates and findings)")
    return data


def _finding(d: dict[str, Any], root: str) -> Finding:
    core = {k: d.get(k) for k in CORE_KEYS if k in d}
    extra = {k: v for k, v in d.items() if k not in CORE_KEYS}
    path = str(core.get("path") or "")
    rel = os.path.relpath(path, root) if path and root not in ("", ".") and (path + "/").startswith(root.rstrip("/") + "/") else path
    return Finding(
        gate=str(core.get("gate", "")), rule=str(core.get("rule", "")), severity=Severity.parse(str(core.get("severity") or "info")),
        message=str(core.get("message", "")), path=path, member=core.get("member"), line=core.get("line"),
        row=core.get("row"), column=core.get("column"), offset=core.get("offset"), entity=core.get("entity"),
        evidence=core.get("evidence"), why=core.get("why") or "", remediation=core.get("remediation") or "",
        blocking=bool(core.get("blocking")), waived=bool(core.get("waived")), waiver_reason=core.get("waiver_reason"),
        fingerprint=str(core.get("fingerprint") or ""), rel_path=rel, extra=extra,
    )


def to_run(data: dict[str, Any]) -> RunResult:
    """Rebuild the run: gates in report order, each with its findings, files, errors and notes."""
    root = str(data.get("root") or ".")
    findings = [_finding(f, root) for f in data["findings"] if isinstance(f, dict)]
    results = []
    for name, g in data["gates"].items():
        results.append(GateResult(
            gate=name, title=str(g.get("title", name)), status=Status(g.get("status", "error")),
            findings=tuple(f for f in findings if f.gate == name),
            files=tuple(ScannedFile(str(s.get("path", "")), int(s.get("items") or 0)) for s in g.get("files") or []),
            errors=tuple(GateError(str(e.get("message", "")), str(e.get("path") or "")) for e in g.get("errors") or []),
            duration=float(g.get("duration") or 0.0), skip_reason=g.get("skip_reason"), notes=tuple(g.get("notes") or ()),
        ))
    policy_findings = [f for f in findings if f.gate not in data["gates"]]
    return RunResult(results, Path(root), _policy(data.get("policy")), str(data.get("started_at", "")),
                     float(data.get("duration") or 0.0), policy_findings)


def _policy(d: Any) -> Policy:
    """What the report says about the policy that ran (its file and chain), for the reports that
    name it; the settings themselves are not in the JSON report and no writer needs them."""
    d = d if isinstance(d, dict) else {}
    chain = [ChainEntry(str(c.get("source", "")), str(c.get("sha256", "")), "read")
             for c in d.get("chain") or [] if isinstance(c, dict)]
    path = d.get("path")
    return Policy(data={}, path=str(path) if path else None, digest=d.get("sha256"), chain=chain)


def markdown(data: dict[str, Any], max_chars: int | None = None, links: Links | None = None) -> str:
    """The Markdown report (PR/MR comment, job summary) of a JSON report."""
    from ..core.reports import markdown as md

    run = to_run(data)
    return md.render(run, links=links) if max_chars is None else md.render(run, max_chars=max_chars, links=links)
