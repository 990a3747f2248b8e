"""Column-level decisions: from per-column counts to findings with an explicit ``blocking``.

A column blocks for an entity when the policy's action is ``block``, the column holds at least
``min_count`` occurrences and more than ``max_fraction`` of its rows hold one. Findings list up
to ``examples`` distinct values per column and entity (each with its own row, masked evidence and
salted hash, so each can be waived alone); every one of them carries the column's totals. Counts
of sampled entities are estimates, reported with a Wilson 95 % interval.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gates.core.gate import GateContext

from .entities import ENTITIES, SECRET
from .readers import FileInfo
from .scanner import ColumnStats, EntityStats, ScanConfig

Z95 = 1.959964


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Estimate:
    count: int          # occurrences (estimated when sampled)
    rows: int           # rows holding the entity (estimated when sampled)
    fraction: float
    low: float
    high: float
    sampled: bool


def estimate(st: EntityStats, total_rows: int) -> Estimate:
    total = max(total_rows, 1)
    if st.sampled >= st.candidates or st.sampled == 0:
        f = st.rows / total
        return Estimate(st.count, st.rows, f, f, f, False)
    scale = st.candidates / st.sampled
    rows = round(st.rows * scale)
    lo, hi = wilson(st.rows, st.sampled)
    return Estimate(round(st.count * scale), rows, min(1.0, rows / total),
                    min(1.0, lo * st.candidates / total), min(1.0, hi * st.candidates / total), True)


def rule_for(entity: str, custom: set[str]) -> str:
    if entity in custom:
        return "PII004"
    return "PII002" if ENTITIES[entity].kind == SECRET else "PII001"


def title(entity: str) -> str:
    e = ENTITIES.get(entity)
    return e.title if e else entity


def report_file(ctx: GateContext, path: Path, info: FileInfo, columns: list[ColumnStats], cfg: ScanConfig) -> None:
    custom = {c.name for c in cfg.custom}
    for col in sorted(columns, key=lambda c: (c.label is None, c.label or "")):
        for entity, st in sorted(col.entities.items()):
            rule = cfg.rules.get(entity)
            if rule is None or rule.action == "ignore":
                continue
            if st.count:
                _findings(ctx, path, info, col, entity, st, cfg, custom)
            if st.test_values and st.test_example is not None:
                ex = st.test_example
                ctx.add("PII003", f"known test value for {title(entity)}{_where(col.label)} ({st.test_values} occurrence(s)); not blocking",
                        path, severity="info", blocking=False, row=ex.row, line=ex.line, column=col.label, entity=entity,
                        evidence=ex.evidence, key=f"test|{entity}|{col.label}", value_hash=ex.hash, test_value=True,
                        **_extra(info, ex.row, ex.json_path))


def _where(label: str | None) -> str:
    return f" in column '{label}'" if label is not None else ""


def _findings(ctx: GateContext, path: Path, info: FileInfo, col: ColumnStats, entity: str, st: EntityStats,
              cfg: ScanConfig, custom: set[str]) -> None:
    rule = cfg.rules[entity]
    est = estimate(st, col.rows)
    blocking = rule.action == "block" and est.count >= rule.min_count and est.fraction > rule.max_fraction
    rid = rule_for(entity, custom)
    if rule.action == "block" and blocking:
        severity = rule.severity or ("critical" if rid == "PII002" else "high")
    else:
        severity = rule.severity or "medium"
        if rule.action == "warn":
            severity = rule.severity or ("medium" if rid == "PII002" else "low")
    share = f"{est.rows:,} of {col.rows:,} rows ({est.fraction:.2%})"
    if est.sampled:
        share = f"~{share}, 95% CI {est.low:.2%}–{est.high:.2%} from {st.sampled:,} of {st.candidates:,} candidates"
    if blocking:
        verdict = "blocks (action: block)"
    elif rule.action == "block":
        verdict = f"below the blocking threshold (min_count {rule.min_count}, max_fraction {rule.max_fraction:g})"
    else:
        verdict = "reported (action: warn)"
    examples = sorted(st.examples.values(), key=lambda e: e.row)
    more = max(0, est.count - sum(e.occurrences for e in examples))
    for i, ex in enumerate(examples):
        msg = f"{title(entity)}{_where(col.label)}: {share}; {verdict}"
        if i == len(examples) - 1 and more:
            msg += f"; {more:,} more occurrence(s) not listed"
        ctx.add(
            rid, msg, path, severity=severity, blocking=blocking, row=ex.row, line=ex.line, column=col.label,
            entity=entity, evidence=ex.evidence, key=f"{ex.hash}|{col.label}", value_hash=ex.hash,
            occurrences=ex.occurrences, column_count=est.count, column_rows=col.rows, column_fraction=round(est.fraction, 6),
            sampled=est.sampled, fraction_ci=[round(est.low, 6), round(est.high, 6)] if est.sampled else None,
            action=rule.action, **_extra(info, ex.row, ex.json_path),
        )


def _extra(info: FileInfo, row: int, json_path: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"format": info.format}
    if info.row_groups:
        out["row_group"] = bisect.bisect_right(info.row_groups, row) - 1
    if json_path:
        out["json_path"] = json_path
    return out
