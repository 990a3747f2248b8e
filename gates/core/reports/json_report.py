"""The JSON report (``schema_version: 1``), documented in the README.

Top-level keys: ``schema_version``, ``tool``, ``status``, ``exit_code``, ``root``, ``policy``,
``started_at``, ``duration``, ``summary``, ``gates`` (by name) and ``findings`` (flat list, each
with its ``gate``). The contract is ``report_schema.json`` beside this module (JSON Schema
2020-12); the tests validate every report against it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ... import __version__
from ..runner import RunResult
from .jsontext import dumps

SCHEMA_VERSION = 1


def to_dict(run: RunResult) -> dict[str, Any]:
    findings = run.findings
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "mlsec-gates", "version": __version__},
        "status": run.status.value,
        "exit_code": run.exit_code,
        "root": run.display_root or str(run.root),
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
        **({"shard": shard_block(run)} if run.shard is not None else {}),
    }


def shard_block(run: RunResult) -> dict[str, Any]:
    """What ``mlsec-gates merge`` needs beyond the findings to rebuild the whole run: which
    shard this is, which waivers matched here (a waiver is stale only if no shard used it), and
    the inventory (for a merged ML-BOM)."""
    assert run.shard is not None
    return {
        "index": run.shard.index,
        "count": run.shard.count,
        "used_waivers": sorted(run.used_waivers),
        "stale_waivers": dict(run.stale_waivers),
        "inventory": {r.gate: [dataclasses.asdict(c) for c in r.inventory] for r in run.results if r.inventory},
    }


def render(run: RunResult) -> str:
    """Outline indented, each finding (and scanned file) on one line: see :mod:`.jsontext`."""
    return dumps(to_dict(run), default=str) + "\n"
