"""Column-level decisions: from per-column counts to findings with an explicit ``blocking``.

A column blocks for an entity when the policy's action is ``block``, the column holds at least
``min_count`` occurrences and more than ``max_fraction`` of its rows hold one. There is one finding per column and entity: the column's
totals, what decided it, and up to ``examples`` distinct values (each with its row, masked
evidence and salted hash); its fingerprint names the column and the entity, so a waiver covers that
column (later values included) and nothing else. Counts
of sampled entities are estimates, reported with a Wilson 95 % interval.
"""

from __future__ import annotations

import bisect
import functools
import math
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gates.core.gate import GateContext

from .entities import ENTITIES, SECRET, column_context
from .readers import FileInfo
from .scanner import ColumnStats, EntityRule, EntityStats, Example, ScanConfig

Z95 = 1.959964
_ROW = operator.attrgetter("row")


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
    """Add one finding per (column, entity) of ``path`` to ``ctx`` (and one PII003 per column
    and entity holding known test values). The finding's rule comes from the semantics pass
    where it decided the column (``POSTCODE``/``CITY`` for parts of a ``LOCATION``)."""
    custom = {c.name for c in cfg.custom}
    for col in sorted(columns, key=lambda c: (c.label is None, c.label or "")):
        for entity, st in sorted(col.entities.items()):
            meta = dict(col.extra.get(entity) or {})
            rule = cfg.policy_rule(entity, meta.get("rule"))
            if rule is None or rule.action == "ignore":
                continue
            if st.count:
                _finding(ctx, path, info, col, entity, st, cfg, custom, rule, meta)
            if st.test_values and st.test_example is not None:
                ex = st.test_example
                ctx.add("PII003", f"known test value for {title(entity)}{_where(col.label)} ({st.test_values} occurrence(s)); not blocking",
                        path, severity="info", blocking=False, row=ex.row, line=ex.line, column=col.label, entity=entity,
                        evidence=ex.evidence, key=f"test|{entity}|{col.label}", value_hash=ex.hash, test_value=True,
                        **_extra(info, ex.row, ex.json_path))


def _where(label: str | None) -> str:
    return f" in column '{label}'" if label is not None else ""


def decided_by(col: ColumnStats, entity: str, meta: dict[str, Any]) -> str:
    """What decided the finding: ``header``, ``values`` or ``both``. Per-cell findings are
    validated values; ``both`` when the column's name also gives the entity's context."""
    if meta.get("decided_by"):
        return str(meta["decided_by"])
    return "both" if entity in _context(col.label) else "values"


@functools.lru_cache(maxsize=1024)
def _context(label: str | None) -> frozenset[str]:
    """The entities a column's name gives context for: a function of the name, asked once per
    column and entity (a run has few distinct column names, and many findings)."""
    return frozenset(column_context(label)[0])


def _finding(ctx: GateContext, path: Path, info: FileInfo, col: ColumnStats, entity: str, st: EntityStats,
             cfg: ScanConfig, custom: set[str], rule: EntityRule, meta: dict[str, Any]) -> None:
    """One finding for the column and entity: the column's totals, the verdict, and up to
    ``examples`` redacted examples (first by row). Its fingerprint is keyed on the entity and the
    column only, so a waiver names the column: it covers the column's later values too, and
    nothing outside it."""
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
    examples = sorted(st.examples.values(), key=_ROW)[: cfg.examples]
    basis = decided_by(col, entity, meta)
    kind = meta.get("location_kind")
    what = f"{title(entity)}" if not kind else f"{title(entity)} ({str(kind).replace('_', ' ')})"
    msg = f"{what}{_where(col.label)}: {share}; {verdict}; decided by {basis}"
    more = max(0, est.count - sum(e.occurrences for e in examples))
    if more:
        msg += f"; {len(examples)} example(s) listed, {more:,} more occurrence(s)"
    first = examples[0] if examples else None
    fields = {k: v for k, v in meta.items() if k not in ("decided_by", "rule") and not k.startswith("_")}
    ctx.add(
        rid, msg, path, severity=severity, blocking=blocking, row=first.row if first else None,
        line=first.line if first else None, column=col.label, entity=entity, evidence=first.evidence if first else None,
        key=f"column|{entity}|{col.label}", value_hash=first.hash if first else None, decided_by=basis,
        examples=[_example(e) for e in examples], column_count=est.count, column_rows=col.rows,
        column_fraction=round(est.fraction, 6), sampled=est.sampled,
        fraction_ci=[round(est.low, 6), round(est.high, 6)] if est.sampled else None,
        action=rule.action, policy_entity=meta.get("rule") or entity, **fields,
        **_extra(info, first.row if first else 0, first.json_path if first else None),
    )


def _example(e: Example) -> dict[str, Any]:
    out: dict[str, Any] = {"row": e.row, "evidence": e.evidence, "value_hash": e.hash, "occurrences": e.occurrences}
    if e.line is not None:
        out["line"] = e.line
    if e.json_path:
        out["json_path"] = e.json_path
    return out


def _extra(info: FileInfo, row: int, json_path: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"format": info.format}
    if info.member is not None:
        out["member"] = info.member
    if info.row_groups:
        out["row_group"] = bisect.bisect_right(info.row_groups, row) - 1
    if json_path:
        out["json_path"] = json_path
    return out
