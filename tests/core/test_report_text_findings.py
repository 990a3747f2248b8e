"""The console report prints its findings in one call (issue 18): rich's per-call cost was
seconds for thousands of findings. The text must be what one call per line gave, for hostile
names (markup, escapes, trailing backslashes), long messages that wrap, and every mode."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.markup import escape

from gates.core.findings import Finding, GateResult, Severity, Status
from gates.core.hygiene import clean_name
from gates.core.policy import Policy
from gates.core.reports import text
from gates.core.reports.common import verdict
from gates.core.runner import RunResult

HOSTILE = ["[bold]x[/bold]", "ends in a backslash \\", "[/]", "\x1b[31mred", "a\u202eb", "[link=https://e.invalid]l[/link]",
           "long " * 60, "\\[not markup]", "emoji \U0001f600 and wide 漢字 " * 5]


def findings() -> list[Finding]:
    out = []
    for i, s in enumerate(HOSTILE):
        out.append(Finding(gate="pii", rule="PII001", severity=list(Severity)[i % 5], message=clean_name(f"column '{s}': {s}"),
                           path=clean_name(f"data/{s}.csv"), row=i, column=clean_name(s), evidence=clean_name(s) if i % 2 else None,
                           remediation="fix " + s, blocking=bool(i % 3), waived=i == 4, waiver_reason="ok [b]" if i == 4 else None))
    return out


def reference(fs: list[Finding], color: bool, width: int, soft_wrap: bool) -> str:
    """The findings section as one ``console.print`` per line printed it."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=max(width, 20), highlight=False, soft_wrap=soft_wrap,
                      _environ={})
    for f in fs:
        console.print(f"[{text.SEV_STYLE[f.severity]}]{f.severity.value.upper():8}[/] {verdict(f):8} {escape(clean_name(f.rule)):8} "
                      f"{escape(clean_name(f.location))}")
        console.print(f"    {text._safe(f.message)}")
        if f.evidence:
            console.print(f"    evidence (redacted): {text._safe(f.evidence)}")
        if f.remediation and not f.waived:
            console.print(f"    [dim]fix:[/] {text._safe(f.remediation)}")
        if f.waiver_reason:
            console.print(f"    [dim]waiver:[/] {text._safe(f.waiver_reason)}")
    return buf.getvalue()


@pytest.mark.parametrize("color, width, soft_wrap", [(False, 100, False), (False, 40, False), (True, 80, False), (False, 80, True)])
def test_findings_print_as_one_call_per_line_printed_them(color, width, soft_wrap):
    fs = findings()
    run = RunResult([GateResult("pii", "PII", Status.FAIL, findings=tuple(fs))], Path("."), Policy(data={}), "2026-12-05T00:00:00+00:00", 1.0)
    out = text.render(run, color=color, width=width, soft_wrap=soft_wrap)
    section = reference(fs, color, width, soft_wrap)
    assert section in out
    assert out.index(section) < out.index("Result:")
    if not color:
        assert "\x1b" not in out and "\u202e" not in out
