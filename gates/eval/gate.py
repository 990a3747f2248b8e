"""The eval gate: evaluation results held to absolute thresholds and to a baseline.

Semantics follow MLflow's ``MetricThreshold``: ``greater_is_better`` (default true) decides the
direction of ``min``/``max`` checks and of a regression. A regression is how much worse the
candidate is than the baseline: ``baseline - value`` when greater is better, ``value - baseline``
otherwise; ``max_relative_regression`` divides it by ``|baseline|``. A metric key may be a glob
(``subgroup/*/accuracy``) that applies the rule to every matching metric, with ``max_gap``
bounding the spread between the matched slices.
"""

from __future__ import annotations

import argparse
import fnmatch
from pathlib import Path
from typing import Any, Mapping

from gates.core.errors import InputError
from gates.core.files import is_within, unscannable
from gates.core.gate import Gate, GateContext
from gates.core.hygiene import clean
from gates.core.suggest import did_you_mean

from .options import DEFAULT_OPTIONS, OPTIONS_SCHEMA
from .readers import FORMATS, Metric, is_finite, read_results
from .rules import RULES

EPS = 1e-12


def shown(name: str) -> str:
    """A metric name as findings quote it: names come from results files and policies, so
    e-mail and number shapes are redacted too (the core already drops secrets and controls)."""
    return clean(name)

GLOB_CHARS = set("*?[")


class EvalGate(Gate):
    name = "eval"
    title = "Evaluation thresholds"
    description = "Evaluation results (lm-evaluation-harness, MLflow, JSON, CSV) held to thresholds and to a baseline."
    rules = RULES
    default_paths = ("**/*.json", "**/*.csv")
    options_schema = OPTIONS_SCHEMA
    default_options = DEFAULT_OPTIONS
    epilog = """examples:
  mlsec-gates eval                                   # policy's gates.eval.results under the current directory
  mlsec-gates eval results_2024.json --baseline baseline.json --policy .mlsec-gates.yml
"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--baseline", metavar="FILE", help="baseline results (overrides the policy)")
        parser.add_argument("--results-format", choices=FORMATS, help="force the results format")

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if getattr(args, "baseline", None):
            out["baseline"] = str(Path(args.baseline).resolve())
        if getattr(args, "results_format", None):
            out["format"] = args.results_format
        return out

    def skip_reason(self, ctx: GateContext) -> str | None:
        if not ctx.options.get("results"):
            return "no results configured (gates.eval.results)"
        return None

    # ------------------------------------------------------------------------------------------
    def run(self, ctx: GateContext) -> None:
        fmt = ctx.options.get("format", "auto")
        max_bytes = int(float(ctx.options.get("max_file_mb", 64)) * (1 << 20))
        files = list(ctx.targets) if ctx.targets else self._expand(ctx, ctx.options.get("results"), "results")
        metrics = self._load(ctx, files, fmt, max_bytes, record=True)
        baseline: dict[str, Metric] | None = None
        if ctx.options.get("baseline"):
            bfiles = self._expand(ctx, ctx.options["baseline"], "baseline")
            baseline = self._load(ctx, bfiles, fmt, max_bytes, record=False) if bfiles else None
        rules: Mapping[str, Mapping[str, Any]] = ctx.options.get("metrics") or {}
        if not rules:
            ctx.note("no metric rules configured (gates.eval.metrics): results were parsed but not checked")
        for key, rule in rules.items():
            self._check(ctx, key, rule, metrics, baseline)

    def _expand(self, ctx: GateContext, spec: str | list[str] | None, what: str) -> list[Path]:
        specs = [spec] if isinstance(spec, str) else list(spec or [])
        out: list[Path] = []
        for s in specs:
            if GLOB_CHARS & set(s):
                if Path(s).is_absolute():
                    base, pattern = Path(Path(s).anchor), str(Path(s).relative_to(Path(s).anchor))
                else:
                    base, pattern = ctx.root, s
                # special files and broken links match too: _load reports them instead of reading them
                matches = sorted(p for p in base.glob(pattern) if not p.is_dir() or (p / "metrics").is_dir())
                if not matches:
                    ctx.error(f"no {what} file matches {s!r}", ctx.root)
                for m in matches:
                    # like a plain path (ctx.resolve): a relative glob may not leave the root by .. or a symlink
                    if not Path(s).is_absolute() and not is_within(m, ctx.root):
                        ctx.error(f"{what} file matched by {s!r} is outside the scanned root (symlink or ..); not read", m)
                    else:
                        out.append(m)
            else:
                try:
                    p = ctx.resolve(s)
                except ValueError as exc:
                    ctx.error(str(exc), ctx.root)
                    continue
                if not p.exists() and not p.is_symlink():
                    ctx.error(f"{what} file not found", p)
                    continue
                out.append(p)
        return out

    def _load(self, ctx: GateContext, files: list[Path], fmt: str, max_bytes: int, record: bool) -> dict[str, Metric]:
        merged: dict[str, Metric] = {}
        for f in files:
            why = unscannable(f)
            if why is not None:  # a FIFO would block the read, a device never end it
                ctx.error(why, f)
                continue
            try:
                ms = read_results(f, fmt, max_bytes)
            except InputError as exc:
                ctx.error(exc.reason, exc.path or f)
                continue
            if record:
                ctx.scanned(f, len(ms))
            for m in ms:
                prev = merged.get(m.name)
                if prev is not None and prev.value != m.value and record:
                    ctx.add("EVAL009", f"{shown(m.name)} is {prev.value:g} in {ctx.display(prev.path)} but {m.value:g} here", m.path,
                            line=m.line, row=m.row, key=m.name, metric=shown(m.name), value=m.value)
                    continue
                merged.setdefault(m.name, m)
        return merged

    def _check(self, ctx: GateContext, key: str, rule: Mapping[str, Any], metrics: dict[str, Metric], baseline: dict[str, Metric] | None) -> None:
        sev = rule.get("severity")
        gib = rule.get("greater_is_better", True)
        if GLOB_CHARS & set(key):
            matched = [metrics[n] for n in sorted(metrics) if fnmatch.fnmatchcase(n, key)]
        else:
            matched = [metrics[key]] if key in metrics else []
        if not matched:
            anchor = min((m.path for m in metrics.values()), default=None)
            where = ", ".join(sorted({ctx.display(m.path) for m in metrics.values()})) or "the results"
            where += did_you_mean(key, metrics) if not GLOB_CHARS & set(key) else ""
            if rule.get("required"):
                ctx.add("EVAL005", f"required metric {shown(key)} not found in {where}", anchor, severity=sev, blocking=True, key=key, metric=shown(key))
            else:
                ctx.add("EVAL010", f"metric {shown(key)} not found in {where}; its rule was not applied", anchor, key=key, metric=shown(key))
            return
        finite = []
        for m in matched:
            loc = {"line": m.line, "row": m.row}
            if not is_finite(m.value):
                ctx.add("EVAL008", f"{shown(m.name)} is {m.value} (not a finite number)", m.path, severity=sev, key=m.name, metric=shown(m.name), value=str(m.value), **loc)
                continue
            finite.append(m)
            lo, hi = rule.get("min"), rule.get("max")
            if lo is not None and m.value < lo - EPS:
                ctx.add("EVAL001", f"{shown(m.name)} = {m.value:.4f} is below the minimum {lo:g}", m.path, severity=sev,
                        key=m.name, metric=shown(m.name), value=m.value, bound=lo, baseline=None, delta=round(m.value - lo, 6), **loc)
            if hi is not None and m.value > hi + EPS:
                ctx.add("EVAL002", f"{shown(m.name)} = {m.value:.4f} is above the maximum {hi:g}", m.path, severity=sev,
                        key=m.name, metric=shown(m.name), value=m.value, bound=hi, baseline=None, delta=round(m.value - hi, 6), **loc)
            self._regression(ctx, m, rule, gib, baseline, sev, loc)
        gap = rule.get("max_gap")
        if gap is not None and len(finite) >= 2:
            lo_m = min(finite, key=lambda m: m.value)
            hi_m = max(finite, key=lambda m: m.value)
            spread = hi_m.value - lo_m.value
            if spread > gap + EPS:
                worst = lo_m if gib else hi_m
                best = hi_m if gib else lo_m
                ctx.add("EVAL006", f"{shown(key)}: gap {spread:.4f} between {shown(best.name)} ({best.value:.4f}) and {shown(worst.name)} ({worst.value:.4f}) exceeds {gap:g}",
                        worst.path, severity=sev, line=worst.line, row=worst.row, key=f"gap:{key}", metric=shown(key), value=round(spread, 6), bound=gap,
                        baseline=None, delta=round(spread - gap, 6), best=shown(best.name), worst=shown(worst.name))

    def _regression(self, ctx: GateContext, m: Metric, rule: Mapping[str, Any], gib: bool, baseline: dict[str, Metric] | None, sev: Any, loc: dict) -> None:
        abs_max, rel_max = rule.get("max_regression"), rule.get("max_relative_regression")
        if abs_max is None and rel_max is None:
            return
        if baseline is None:
            if not ctx.options.get("baseline"):
                ctx.error(f"metric rule for {shown(m.name)} has a regression bound but gates.eval.baseline is not set")
            return  # a baseline that failed to load is already an error
        b = baseline.get(m.name)
        if b is None or not is_finite(b.value):
            ctx.add("EVAL007", f"{shown(m.name)}: the baseline has no finite value, regression not checked", m.path, key=m.name, metric=shown(m.name), value=m.value, **loc)
            return
        delta = m.value - b.value
        regression = -delta if gib else delta
        if abs_max is not None and regression > abs_max + EPS:
            ctx.add("EVAL003", f"{shown(m.name)} = {m.value:.4f} regressed by {regression:.4f} from baseline {b.value:.4f} (allowed {abs_max:g})",
                    m.path, severity=sev, key=m.name, metric=shown(m.name), value=m.value, bound=abs_max, baseline=b.value, delta=round(delta, 6), **loc)
        if rel_max is not None:
            rel = regression / abs(b.value) if b.value != 0 else (float("inf") if regression > 0 else 0.0)
            if rel > rel_max + EPS:
                ctx.add("EVAL004", f"{shown(m.name)} = {m.value:.4f} regressed by {rel:.2%} from baseline {b.value:.4f} (allowed {rel_max:.2%})",
                        m.path, severity=sev, key=m.name, metric=shown(m.name), value=m.value, bound=rel_max, baseline=b.value, delta=round(delta, 6), **loc)
