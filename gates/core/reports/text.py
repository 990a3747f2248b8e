"""Console report (rich): a summary table, then each finding with where, why and how to fix."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..findings import Severity, Status
from ..runner import RunResult
from .common import verdict

STATUS_STYLE = {Status.PASS: "bold green", Status.FAIL: "bold red", Status.ERROR: "bold magenta", Status.SKIPPED: "dim"}
SEV_STYLE = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan", Severity.INFO: "dim"}


def render(run: RunResult, color: bool = False, width: int = 120) -> str:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=width, highlight=False, soft_wrap=False)
    table = Table(title="mlsec-gates", show_lines=False)
    for col in ("gate", "status", "blocking", "warnings", "waived", "errors", "files", "time"):
        table.add_column(col, justify="right" if col not in ("gate", "status") else "left")
    for r in run.results:
        c = r.counts()
        status = r.status.value + (f" ({r.skip_reason})" if r.skip_reason else "")
        table.add_row(r.gate, f"[{STATUS_STYLE[r.status]}]{escape(status)}[/]", str(c["blocking"]), str(c["warnings"]), str(c["waived"]), str(c["errors"]), str(c["files"]), f"{r.duration:.2f}s")
    console.print(table)
    for r in run.results:
        for e in r.errors:
            console.print(f"[bold magenta]ERROR[/] [{r.gate}] {escape(e.path or '-')}: {escape(e.message)}")
        for n in r.notes:
            console.print(f"[dim]note[/] [{r.gate}] {escape(n)}")
    for f in run.findings:
        style = SEV_STYLE[f.severity]
        console.print(f"[{style}]{f.severity.value.upper():8}[/] {verdict(f):8} {f.rule:8} {escape(f.location)}")
        console.print(f"    {escape(f.message)}")
        if f.evidence:
            console.print(f"    evidence (redacted): {escape(f.evidence)}")
        if f.remediation and not f.waived:
            console.print(f"    [dim]fix:[/] {escape(f.remediation)}")
        if f.waiver_reason:
            console.print(f"    [dim]waiver:[/] {escape(f.waiver_reason)}")
    verdicts = {Status.PASS: "[bold green]PASS[/]", Status.FAIL: "[bold red]FAIL[/]", Status.ERROR: "[bold magenta]ERROR[/]"}
    blocking = sum(1 for f in run.findings if f.blocking)
    console.print(f"\nResult: {verdicts.get(run.status, run.status.value)} — {blocking} blocking, {len(run.findings)} findings, exit code {run.exit_code}")
    return buf.getvalue()
