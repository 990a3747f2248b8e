"""Console report (rich): which policy ran, a summary table, then each finding with where, why
and how to fix.

Every string that came from an input (paths, messages quoting names, notes, evidence, waiver
reasons) passes :mod:`gates.core.hygiene` before rich's markup escaping (the context already
cleaned what gates reported; cleaning is idempotent): a file name must not repaint the terminal,
and a token in a policy value must not reach a CI log.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..findings import Severity, Status
from ..hygiene import clean, clean_name
from ..runner import NOTHING_SCANNED, RunResult
from .common import verdict


def _safe(text: object) -> str:
    return escape(clean_name(text))


def policy_line(run: RunResult) -> str:
    """Which policy decided this run: its file (or the built-in default) and what it extends."""
    pol = run.policy
    if pol.path is None and not pol.chain:
        return "built-in default"
    top = clean_name(pol.path) if pol.path else "built-in default"
    rest = [clean_name(c.display) for c in pol.chain if c.display != pol.path]
    return top + (f" (merged: {', '.join(rest)})" if rest else "")

STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.ERROR: "bold magenta", Status.SKIPPED: "dim"}
SEV_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan", Severity.INFO: "dim"}


def render(run: RunResult, color: bool = False, width: int = 100, soft_wrap: bool = False) -> str:
    """The console report as text. ``width`` lays out the table (and wraps lines unless
    ``soft_wrap``: off a terminal a line stays whole, the log viewer wraps it)."""
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=max(width, 20), highlight=False, soft_wrap=soft_wrap,
                      _environ={})
    table = Table(title="mlsec-gates", show_lines=False)
    for col in ("gate", "status", "blocking", "warnings", "waived", "errors", "files", "time"):
        table.add_column(col, justify="right" if col not in ("gate", "status") else "left")
    for r in run.results:
        c = r.counts()
        status = r.status.value + (f" ({clean(r.skip_reason)})" if r.skip_reason else "")
        table.add_row(r.gate, f"[{STATUS_STYLE[r.status]}]{escape(status)}[/]", str(c["blocking"]), str(c["warnings"]), str(c["waived"]), str(c["errors"]), str(c["files"]), f"{r.duration:.2f}s")
    console.print(f"policy: {escape(policy_line(run))}")
    console.print(table)
    if run.nothing_scanned:
        console.print(f"[bold magenta]ERROR[/] {escape(NOTHING_SCANNED)}")
    for r in run.results:
        for e in r.errors:
            console.print(f"[bold magenta]ERROR[/] [{r.gate}] {escape(clean_name(e.path or '-'))}: {_safe(e.message)}")
        for n in r.notes:
            console.print(f"[dim]note[/] [{r.gate}] {_safe(n)}")
    # one print for all findings: rich's cost per call was seconds for thousands of findings,
    # and each line still wraps on its own
    lines = []
    for f in run.findings:
        style = SEV_STYLE[f.severity]
        lines.append(f"[{style}]{f.severity.value.upper():8}[/] {verdict(f):8} {escape(clean_name(f.rule)):8} {escape(clean_name(f.location))}")
        lines.append(f"    {_safe(f.message)}")
        if f.evidence:
            lines.append(f"    evidence (redacted): {_safe(f.evidence)}")
        if f.remediation and not f.waived:
            lines.append(f"    [dim]fix:[/] {_safe(f.remediation)}")
        if f.waiver_reason:
            lines.append(f"    [dim]waiver:[/] {_safe(f.waiver_reason)}")
    if lines:
        console.print("\n".join(lines))
    verdicts = {Status.PASS: "[bold green]PASS[/]", Status.FAIL: "[bold red]FAIL[/]", Status.ERROR: "[bold magenta]ERROR[/]"}
    blocking = sum(1 for f in run.findings if f.blocking)
    console.print(f"\nResult: {verdicts.get(run.status, run.status.value)} — {blocking} blocking, {len(run.findings)} findings, exit code {run.exit_code}")
    return buf.getvalue()
