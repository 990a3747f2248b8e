"""SARIF 2.1.0 for code scanning (GitHub) and other SARIF viewers.

Validated in the tests against the official OASIS schema and with Microsoft's SARIF multitool
using GitHub's upload rules. What GitHub shows must be true:

- **each result at its own severity.** GitHub ranks an alert by its *rule's* ``security-severity``,
  so a rule whose findings vary in severity (an advisory's CVSS score, a PII entity set to warn)
  gets one descriptor per severity band it reports at: the rule's own id at its default severity,
  ``RULE/band`` (a SARIF hierarchical sub-rule) for the others;
- **a region wherever a line exists**: the finding's line, or the file line of a CSV/TSV data row;
  a byte offset for binary files;
- rules carry ``helpUri`` (their section in the docs) and the core's rules are tagged ``core``;
- **waived findings are left out** by default: code scanning may show an uploaded suppression as
  an open alert. ``suppressions=True`` (CLI ``--sarif-suppressions``) keeps them, as accepted
  external suppressions with the waiver's reason;
- results carry ``partialFingerprints`` so an alert stays the same alert across runs; gate errors
  are ``toolExecutionNotifications`` and make ``executionSuccessful`` false.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from ... import __version__
from ..findings import Finding, Rule, Severity, Status
from ..rules import CORE_RULES
from ..runner import RunResult
from .common import source_line
from .jsontext import dumps
from .links import PROJECT_URL, Links

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "mlsecGates/v1"
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "0.0"}
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}


def rule_id(rule: Rule | None, rid: str, severity: Severity) -> str:
    """The descriptor id a finding of ``rid`` at ``severity`` is reported under."""
    return rid if rule is None or rule.severity is severity else f"{rid}/{severity.value}"


def _rule(r: Rule, gate: str, severity: Severity, links: Links) -> dict[str, Any]:
    help_text = f"{r.why}\n\nFix: {r.remediation}" + (f"\n\n{r.help}" if r.help else "")
    band = "" if severity is r.severity else f" ({severity.value})"
    core = r.id in CORE_RULES
    return {
        "id": rule_id(r, r.id, severity),
        "name": r.title.title().replace(" ", "").replace("-", "") + (severity.value.title() if band else ""),
        "shortDescription": {"text": r.title + band},
        "fullDescription": {"text": r.why},
        "helpUri": links.rule("policy" if core else gate, r.id),
        "help": {"text": help_text, "markdown": f"**Why:** {r.why}\n\n**Fix:** {r.remediation}" + (f"\n\n{r.help}" if r.help else "")},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {"tags": ["security", "mlsec-gates", "core" if core else gate],
                       "security-severity": SECURITY_SEVERITY[severity], "precision": "high"},
    }


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/:@-._~!$&'()*+,;=")


def _result(f: Finding, ident: str, index: int | None) -> dict[str, Any]:
    level = "error" if f.blocking else LEVEL[f.severity] if not f.waived else "note"
    if not f.blocking and level == "error":
        level = "warning"
    text = f.message
    if f.member:
        text += f" (archive member: {f.member})"
    if f.evidence:
        text += f" [evidence, redacted: {f.evidence}]"
    res: dict[str, Any] = {
        "ruleId": ident,
        "level": level,
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"gate": f.gate, "rule": f.rule, "severity": f.severity.value, "blocking": bool(f.blocking)},
    }
    if index is not None:
        res["ruleIndex"] = index
    if f.path:
        phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"}}
        region: dict[str, Any] = {}
        line = source_line(f)
        if line:
            region["startLine"] = line
            if isinstance(f.column, int) and f.column >= 1:
                region["startColumn"] = f.column
        elif f.offset is not None and f.offset >= 0:
            region["byteOffset"] = int(f.offset)
        if region:
            phys["region"] = region
        res["locations"] = [{"physicalLocation": phys}]
    for k in ("member", "row", "column", "entity", "offset"):
        v = getattr(f, k)
        if v not in (None, ""):
            res["properties"][k] = v
    if f.waived:
        res["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.waiver_reason or "waived by policy"}]
    return res


def to_dict(run: RunResult, suppressions: bool = False, links: Links | None = None) -> dict[str, Any]:
    links = links or Links.from_env()
    known: dict[str, tuple[Rule, str]] = {}
    for r in run.results:
        for rid, rule in r.rules.items():
            known.setdefault(rid, (rule, r.gate))
    for rid, rule in run.rules().items():
        known.setdefault(rid, (rule, "policy"))
    findings = [f for f in run.findings if suppressions or not f.waived]
    # every rule at its default severity, then a descriptor per other band a finding reports at
    bands: list[tuple[str, Severity]] = [(rid, rule.severity) for rid, (rule, _) in known.items()]
    for f in findings:
        if f.rule in known and (f.rule, f.severity) not in bands:
            bands.append((f.rule, f.severity))
    rules = [_rule(known[rid][0], known[rid][1], sev, links) for rid, sev in bands]
    index = {(rid, sev): i for i, (rid, sev) in enumerate(bands)}
    results = []
    for f in findings:
        described = known.get(f.rule)
        results.append(_result(f, rule_id(described[0] if described else None, f.rule, f.severity), index.get((f.rule, f.severity))))
    notifications = []
    for r in run.results:
        for e in r.errors:
            n: dict[str, Any] = {"level": "error", "message": {"text": f"[{r.gate}] {e.message}"}}
            if e.path:
                n["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": _uri(e.path)}}}]
            notifications.append(n)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "mlsec-gates", "version": __version__, "semanticVersion": __version__,
                                    "informationUri": PROJECT_URL, "rules": rules}},
                "invocations": [
                    {
                        "executionSuccessful": not any(r.status is Status.ERROR for r in run.results),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(run: RunResult, suppressions: bool = False) -> str:
    return dumps(to_dict(run, suppressions)) + "\n"
