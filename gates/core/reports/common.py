"""Small helpers shared by the report writers."""

from __future__ import annotations

import datetime as _dt
import json

import yaml

from ..findings import Finding, Severity, Status
from ..hygiene import clean_name, escape_controls

STATUS_ICON = {Status.PASS: "✅", Status.FAIL: "❌", Status.ERROR: "⛔", Status.SKIPPED: "⏭️"}
SEVERITY_ICON = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦", Severity.INFO: "⬜"}


def redacted(text: str) -> bool:
    """Whether output hygiene would redact part of ``text`` (a token, a URL's credentials), beyond
    showing control characters as escapes. Such a name may only be shown redacted: never raw in
    a waiver snippet, never inside a link."""
    return clean_name(text) != escape_controls(text)


def waiver_snippet(f: Finding, today: _dt.date | None = None, days: int = 30) -> str:
    """The exact YAML a reviewer can paste under ``waivers:`` to accept this finding.

    The path is written so that it reads back exactly (quoted and escaped when it must be). A
    path that hygiene would redact (a credential in a file name) is left out: the waiver then
    holds by rule and fingerprint alone, which pins it to this one finding all the same."""
    expires = (today or _dt.date.today()) + _dt.timedelta(days=days)
    path = f.rel_path or f.path
    where = (f"  path: {_yaml_str(path)}\n" if path and not redacted(path)
             else "  # no path: the file name holds a credential-like string; the fingerprint pins this finding\n")
    return (
        f"- rule: {f.rule}\n"
        f"{where}"
        f"  fingerprint: \"{f.fingerprint}\"\n"
        f'  reason: "<why this is acceptable>"\n'
        f"  expires: {expires.isoformat()}\n"
    )


def _yaml_str(s: str) -> str:
    """``s`` as a YAML scalar that reads back as exactly ``s``. Paths come from the scanned input,
    so a name with a newline, a control character or a YAML keyword is quoted and escaped (a
    double-quoted YAML string takes JSON's escapes)."""
    if s and s.strip() == s and s.isprintable() and not any(c in s for c in ":#{}[],&*!|>'\"%@`") and _reads_back(s):
        return s
    return "".join(c if c.isprintable() else _escape(c) for c in json.dumps(s, ensure_ascii=False))


def _reads_back(s: str) -> bool:
    try:
        return yaml.safe_load(s) == s
    except yaml.YAMLError:
        return False


def _escape(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def verdict(f: Finding) -> str:
    if f.waived:
        return "waived"
    return "blocking" if f.blocking else "warning"
