"""The JSON report (``schema_version: 1``), documented in the README.

Top-level keys: ``schema_version``, ``tool``, ``status``, ``exit_code``, ``root``, ``policy``,
``started_at``, ``duration``, ``summary``, ``gates`` (by name) and ``findings`` (flat list, each
with its ``gate``). The contract is ``report_schema.json`` beside this module (JSON Schema
2020-12); the tests validate every report against it.
"""

from __future__ import annotations

import json
from typing import Any

from ... import __version__
from ..runner import RunResult

SCHEMA_VERSION = 1


def to_dict(run: RunResult) -> dict[str, Any]:
    findings = run.findings
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mlsec-gates", "version": __version__},
        "status": run.status.value,
        "exit_code": run.exit_code,
        "root": str(run.root),
        "policy": {"path": run.policy.path, "sha256": run.policy.digest,
                   "chain": [{"source": c.display, "sha256": c.digest} for c in run.policy.chain]},
        "started_at": run.started_at,
        "duration": round(run.duration, 4),
        "summary": {
            "gates": len(run.results),
            "findings": len(findings),
            "blocking": sum(1 for f in findings if f.blocking),
            "waived": sum(1 for f in findings if f.waived),
            "errors": sum(len(r.errors) for r in run.results),
        },
        "gates": {r.gate: r.to_dict() for r in run.results},
        "findings": [f.to_dict() for f in findings],
    }


def render(run: RunResult) -> str:
    return json.dumps(to_dict(run), indent=2, sort_keys=False, default=str) + "\n"
