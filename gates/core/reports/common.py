"""Small helpers shared by the report writers."""

from __future__ import annotations

import datetime as _dt
import json

from ..findings import Finding, Severity, Status
from ..hygiene import clean_name, escape_controls

STATUS_ICON = {Status.PASS: "✅", Status.FAIL: "❌", Status.ERROR: "⛔", Status.SKIPPED: "⏭️"}
SEVERITY_ICON = {Severity.CRITICAL: "🟥", Severity.HIGH: "🟧", Severity.MEDIUM: "🟨", Severity.LOW: "🟦", Severity.INFO: "⬜"}


def redacted(text: str) -> bool:
    """Whether output hygiene would redact part of ``text`` (a token, a URL's credentials), beyond
    showing control characters as escapes. Such a name may only be shown redacted: never raw in
    a waiver snippet, never inside a link."""
    return clean_name(text) != escape_controls(text)


def waiver_snippet(f: Finding, today: _dt.date | None = None, days: int = 30, *, by_path: bool = False) -> str:
    """One line of YAML a reviewer can paste under ``waivers:`` to accept this finding (or, with
    ``by_path``, every finding of its rule in its file). The reason is left empty on purpose: a
    waiver without one fails policy validation, so a paste cannot go unexplained.

    The path is written so that it reads back exactly (double-quoted, with escapes). A path that
    hygiene would redact (a credential in a file name) is left out: the waiver then holds by rule
    and fingerprint alone, which pins it to this one finding all the same."""
    expires = (today or _dt.date.today()) + _dt.timedelta(days=days)
    path = f.rel_path or f.path
    show_path = bool(path) and not redacted(path)
    fields = [f"rule: {f.rule}"]
    if show_path:
        fields.append(f"path: {_quoted(path)}")
    if not (by_path and show_path):
        fields.append(f'fingerprint: "{f.fingerprint}"')
    fields += ['reason: ""', f"expires: {expires.isoformat()}"]
    note = "" if show_path else "  # no path: the file name holds a credential-like string; the fingerprint pins the finding"
    return "- {" + ", ".join(fields) + "}" + note + "\n"


def _quoted(s: str) -> str:
    """A double-quoted YAML scalar (JSON's escapes) that reads back as exactly ``s`` anywhere."""
    return "".join(c if c.isprintable() else _escape(c) for c in json.dumps(s, ensure_ascii=False))


def _yaml_str(s: str) -> str:
    """``s`` as a YAML scalar that reads back as exactly ``s``. Paths come from the scanned input,
    so a name with a newline, a control character or a YAML keyword is quoted and escaped (a
    double-quoted YAML string takes JSON's escapes)."""
    if s and s.strip() == s and s.isprintable() and not any(c in s for c in ":#{}[],&*!|>'\"%@`") and _reads_back(s):
        return s
    return _quoted(s)


def _reads_back(s: str) -> bool:
    import yaml  # only waiver snippets need it: not every report pays for PyYAML

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


DELIMITED = (".csv", ".tsv")


def source_line(f: Finding) -> int | None:
    """The file line a finding points at: its ``line``, else for a data row of a plain CSV/TSV
    file the row's line (the header is line 1, data row 1 is line 2). Rows of archives, compressed
    files and other formats have no line a code viewer could show."""
    if isinstance(f.line, int) and f.line >= 1:
        return f.line
    if isinstance(f.row, int) and f.row >= 1 and not f.member and f.path.lower().endswith(DELIMITED) \
            and f.extra.get("format", "csv") in ("csv", "tsv"):
        return f.row + 1
    return None
