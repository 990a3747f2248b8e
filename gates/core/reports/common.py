"""Small helpers shared by the report writers."""

from __future__ import annotations

import datetime as _dt

from ..findings import Finding, Severity, Status

STATUS_ICON = {Status.PASS: "✅", Status.FAIL: "❌", Status.ERROR: "⛔", Status.SKIPPED: "⏭️"}
SEVERITY_ICON = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦", Severity.INFO: "⬜"}


def waiver_snippet(f: Finding, today: _dt.date | None = None, days: int = 30) -> str:
    """The exact YAML a reviewer can paste under ``waivers:`` to accept this finding."""
    expires = (today or _dt.date.today()) + _dt.timedelta(days=days)
    path = f.rel_path or f.path
    return (
        f"- rule: {f.rule}\n"
        f"  path: {_yaml_str(path)}\n"
        f"  fingerprint: \"{f.fingerprint}\"\n"
        f'  reason: "<why this is acceptable>"\n'
        f"  expires: {expires.isoformat()}\n"
    )


def _yaml_str(s: str) -> str:
    if not s or any(c in s for c in ":#{}[],&*!|>'\"%@`") or s.strip() != s:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def verdict(f: Finding) -> str:
    if f.waived:
        return "waived"
    return "blocking" if f.blocking else "warning"
