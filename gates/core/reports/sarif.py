"""SARIF 2.1.0 for code scanning (GitHub) and other SARIF viewers.

Validated in the tests against the official OASIS schema. Rules carry help text and a
``security-severity`` (GitHub's severity ranking); results carry ``partialFingerprints`` so
alerts stay the same alert across runs; waived findings are ``suppressions``; gate errors are
``toolExecutionNotifications`` and make ``executionSuccessful`` false.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ... import __version__
from ..findings import Finding, Rule, Severity, Status
from ..runner import RunResult

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "mlsecGates/v1"
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "0.0"}
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}


def _rule(r: Rule, gate: str) -> dict[str, Any]:
    help_text = f"{r.why}\n\nFix: {r.remediation}" + (f"\n\n{r.help}" if r.help else "")
    return {
        "id": r.id,
        "name": r.title.title().replace(" ", "").replace("-", ""),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.why},
        "help": {"text": help_text, "markdown": f"**Why:** {r.why}\n\n**Fix:** {r.remediation}" + (f"\n\n{r.help}" if r.help else "")},
        "defaultConfiguration": {"level": LEVEL[r.severity]},
        "properties": {"tags": ["security", "mlsec-gates", gate], "security-severity": SECURITY_SEVERITY[r.severity], "precision": "high"},
    }


def _uri(path: str) -> str:
    return quote(path.replace("\\", "/"), safe="/:@-._~!$&'()*+,;=")


def _result(f: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    level = "error" if f.blocking else LEVEL[f.severity] if not f.waived else "note"
    if not f.blocking and level == "error":
        level = "warning"
    text = f.message
    if f.member:
        text += f" (archive member: {f.member})"
    if f.evidence:
        text += f" [evidence, redacted: {f.evidence}]"
    res: dict[str, Any] = {
        "ruleId": f.rule,
        "level": level,
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"gate": f.gate, "severity": f.severity.value, "blocking": bool(f.blocking)},
    }
    if f.rule in rule_index:
        res["ruleIndex"] = rule_index[f.rule]
    if f.path:
        phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"}}
        region: dict[str, Any] = {}
        if f.line:
            region["startLine"] = int(f.line)
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


def to_dict(run: RunResult) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for r in run.results:
        for rid, rule in r.rules.items():
            if rid not in index:
                index[rid] = len(rules)
                rules.append(_rule(rule, r.gate))
    for rid, rule in run.rules().items():
        if rid not in index:
            index[rid] = len(rules)
            rules.append(_rule(rule, "policy"))
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
                "tool": {"driver": {"name": "mlsec-gates", "version": __version__, "semanticVersion": __version__, "rules": rules}},
                "invocations": [
                    {
                        "executionSuccessful": not any(r.status is Status.ERROR for r in run.results),
                        "toolExecutionNotifications": notifications,
                    }
                ],
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "results": [_result(f, index) for f in run.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render(run: RunResult) -> str:
    return json.dumps(to_dict(run), indent=2) + "\n"
