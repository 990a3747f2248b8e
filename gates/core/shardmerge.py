"""``mlsec-gates merge``: N shard JSON reports back into the one run they split.

Why a rebuild and not a concatenation: every report format (SARIF, JUnit, the ML-BOM...) is
written from a :class:`RunResult`, so the merge reads the shard reports back into one and hands
it to the same writers. Verdicts were decided in the shards (blocking from the policy, waivers
applied); the merge only combines them: a gate's status is the worst of the shards it ran in,
its findings are the union (fingerprints kept), and a waiver is stale only if no shard used it.
An incomplete set of shards (one missing, one twice, reports of different splits) is a usage
error: a CI matrix whose job died must not merge into a pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import UsageError
from .findings import CORE_KEYS, Component, Finding, GateError, GateResult, Rule, ScannedFile, Severity, Status
from .hygiene import clean_name
from .policy import ChainEntry, Policy
from .rules import CORE_RULES
from .runner import RunResult, _order

_WORST = (Status.ERROR, Status.FAIL, Status.PASS)
#: fields of a JSON finding that map onto :class:`Finding` (the rest is the gate's ``extra``)
_FINDING_KEYS = frozenset(CORE_KEYS)


@dataclass(frozen=True)
class ShardReport:
    """One shard's JSON report, checked just enough to merge it."""

    source: str
    doc: Mapping[str, Any]

    @property
    def index(self) -> int:
        return int(self.doc["shard"]["index"])

    @property
    def count(self) -> int:
        return int(self.doc["shard"]["count"])


def load_reports(paths: Sequence[str]) -> list[ShardReport]:
    out = []
    for p in paths:
        name = clean_name(p)
        try:
            doc = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{name}: not a readable JSON report ({type(exc).__name__})") from None
        if not isinstance(doc, dict) or doc.get("schema_version") != 1 or not isinstance(doc.get("gates"), dict):
            raise UsageError(f"{name}: not an mlsec-gates JSON report (schema_version 1)")
        if not isinstance(doc.get("shard"), dict):
            raise UsageError(f"{name}: not a shard report (write it with `mlsec-gates run --shard K/N --format json`)")
        out.append(ShardReport(name, doc))
    _check_complete(out)
    return sorted(out, key=lambda r: r.index)


def _check_complete(reports: list[ShardReport]) -> None:
    if not reports:
        raise UsageError("merge needs at least one shard report")
    counts = {r.count for r in reports}
    if len(counts) != 1:
        raise UsageError(f"the reports come from different splits (N = {', '.join(map(str, sorted(counts)))})")
    n = counts.pop()
    seen: dict[int, str] = {}
    for r in reports:
        if r.index in seen:
            raise UsageError(f"shard {r.index}/{n} given twice ({seen[r.index]}, {r.source})")
        seen[r.index] = r.source
    for what, get in (("policies", lambda d: (d.get("policy") or {}).get("sha256")), ("roots", lambda d: d.get("root"))):
        values = {str(get(r.doc)) for r in reports}
        if len(values) > 1:
            raise UsageError(f"the shard reports were made with different {what}: they are not parts of one run")
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise UsageError(f"shard report(s) missing: {', '.join(f'{k}/{n}' for k in missing)} (a failed matrix job?)")


def merge_reports(reports: Sequence[ShardReport], rules: Mapping[str, Mapping[str, Rule]] | None = None) -> RunResult:
    """The run the shards split. ``rules`` are the installed gates' rule tables (for reports
    that describe rules); a rule nobody installed here is described from its findings."""
    rules = rules or {}
    first = reports[0].doc
    names = list(dict.fromkeys(n for r in reports for n in r.doc["gates"]))
    results = [_merge_gate(name, [r.doc for r in reports], rules.get(name, {})) for name in names]
    used = {int(i) for r in reports for i in r.doc["shard"].get("used_waivers", [])}
    policy_findings: dict[str, Finding] = {}
    for r in reports:
        stale = r.doc["shard"].get("stale_waivers", {})
        for f in r.doc["findings"]:
            if f.get("gate") == "policy" and stale.get(f["fingerprint"]) not in used:
                policy_findings.setdefault(f["fingerprint"], _finding(f))
    pol = first.get("policy") or {}
    policy = Policy(data={}, path=pol.get("path"), digest=pol.get("sha256"),
                    chain=[ChainEntry(display=c.get("source", ""), digest=c.get("sha256", ""), how="read") for c in pol.get("chain", [])])
    started = min(str(r.doc.get("started_at", "")) for r in reports)
    duration = max(float(r.doc.get("duration", 0)) for r in reports)  # the shards ran side by side
    root = str(first.get("root", "."))
    return RunResult(results, Path(root), policy, started, duration, list(policy_findings.values()), display_root=root)


def _merge_gate(name: str, docs: list[Mapping[str, Any]], rules: Mapping[str, Rule]) -> GateResult:
    parts = [d["gates"][name] for d in docs if name in d["gates"]]
    ran = [p for p in parts if p["status"] != Status.SKIPPED.value]
    findings = tuple(sorted((_finding(f) for d in docs for f in d["findings"] if f.get("gate") == name), key=_order))
    files = tuple(ScannedFile(f["path"], int(f.get("items", 0))) for p in parts for f in p.get("files", []))
    # discovery errors (a glob that matches nothing, an unreadable directory) are seen by every shard
    errors = tuple(dict.fromkeys(GateError(message=e["message"], path=e.get("path", "")) for p in parts for e in p.get("errors", [])))
    notes = tuple(dict.fromkeys(n for p in parts for n in p.get("notes", [])))
    inventory = tuple(_component(c) for d in docs for c in d["shard"].get("inventory", {}).get(name, []))
    title = str(parts[0].get("title", name))
    all_rules = {**CORE_RULES, **_rules_from(findings), **rules}
    duration = sum(float(p.get("duration", 0)) for p in parts)
    if not ran:
        return GateResult(name, title, Status.SKIPPED, duration=duration, skip_reason=parts[0].get("skip_reason"), rules=all_rules, notes=notes)
    statuses = {Status(p["status"]) for p in ran}
    status = next((s for s in _WORST if s in statuses), Status.PASS)
    if status is not Status.ERROR:
        status = Status.FAIL if any(f.blocking for f in findings) else Status.PASS
    return GateResult(name, title, status, findings=findings, files=files, errors=errors, duration=duration, rules=all_rules,
                      notes=notes, inventory=inventory)


def _finding(d: Mapping[str, Any]) -> Finding:
    known: dict[str, Any] = {k: d.get(k) for k in _FINDING_KEYS if k in d}
    extra = {k: v for k, v in d.items() if k not in _FINDING_KEYS}
    known["severity"] = Severity.parse(known.get("severity") or "info")
    known["blocking"] = bool(known.get("blocking"))
    known["waived"] = bool(known.get("waived"))
    for k in ("why", "remediation", "path", "message", "fingerprint"):
        known[k] = known.get(k) or ""
    return Finding(extra=extra, **known)


def _rules_from(findings: Sequence[Finding]) -> dict[str, Rule]:
    return {f.rule: Rule(f.rule, f.rule, f.severity, f.why, f.remediation) for f in findings}


def _component(d: Mapping[str, Any]) -> Component:
    return Component(
        kind=d["kind"], name=d["name"], version=d.get("version"), path=d.get("path", ""), purl=d.get("purl"),
        hashes=tuple((str(h[0]), str(h[1])) for h in d.get("hashes", ())),
        licenses=tuple(d.get("licenses", ())), properties=tuple((str(p[0]), str(p[1])) for p in d.get("properties", ())),
        parts=tuple(_component(p) for p in d.get("parts", ())), details=dict(d.get("details") or {}),
    )
