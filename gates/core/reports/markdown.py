"""Markdown for a PR/MR comment and the job summary.

Built for a reviewer with seconds to spare: a verdict line, one summary table, then a collapsible
section per gate (open when it failed) with findings grouped by file, each with where, why, how to
fix and the waiver snippet to copy. The hidden marker on the first line lets the comment command
find and update its own comment. The whole text stays under GitHub's comment limit by leaving out
findings (with a count) rather than being cut mid-table.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from collections import defaultdict

from ..findings import Finding, GateResult, Status
from ..runner import RunResult
from .common import SEVERITY_ICON, STATUS_ICON, verdict, waiver_snippet

MARKER = "<!-- mlsec-gates -->"
MAX_CHARS = 65_000


def _esc(text: str) -> str:
    """Plain text from findings (which quote file and metric names): no HTML, no table breaks, and
    no ``[text](url)`` link or image a pull request could plant in the bot's comment."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ").replace("[", "\\[").replace("]", "\\]")


def _code(text: str) -> str:
    """An inline code span the text cannot close or break: file names come from the pull request,
    and a backtick or a newline in one must not turn the rest of the line into live Markdown."""
    s = re.sub(r"[\r\n\u2028\u2029\x85]+", " ", str(text))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s.startswith(("`", " ")) or s.endswith(("`", " ")) else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _headline(run: RunResult) -> str:
    fs = run.findings
    blocking = sum(1 for f in fs if f.blocking)
    errors = sum(len(r.errors) for r in run.results)
    icon = STATUS_ICON[run.status]
    if run.status is Status.ERROR:
        what = f"{errors} gate error{'s' if errors != 1 else ''} (could not check everything)"
    elif run.status is Status.FAIL:
        what = f"{blocking} blocking finding{'s' if blocking != 1 else ''}"
    else:
        what = "all gates passed"
    return f"## {icon} mlsec-gates: {what}"


def _summary_table(run: RunResult) -> list[str]:
    rows = ["| Gate | Status | Blocking | Warnings | Waived | Errors | Files |", "|---|---|--:|--:|--:|--:|--:|"]
    for r in run.results:
        c = r.counts()
        status = f"{STATUS_ICON[r.status]} {r.status.value}"
        if r.status is Status.SKIPPED and r.skip_reason:
            status += f" ({_esc(r.skip_reason)})"
        rows.append(f"| **{r.gate}** — {_esc(r.title)} | {status} | {c['blocking']} | {c['warnings']} | {c['waived']} | {c['errors']} | {c['files']} |")
    if run.policy_findings:
        rows.append(f"| **policy** | ⚠️ | 0 | {len(run.policy_findings)} | 0 | 0 | — |")
    return rows


def _finding_block(f: Finding, today: _dt.date) -> str:
    icon = SEVERITY_ICON[f.severity]
    lines = [f"- {icon} **{f.rule}** · {f.severity.value} · **{verdict(f)}** — {_code(f.location)}", f"  {_esc(f.message)}"]
    if f.evidence:
        lines.append(f"  <br>Evidence (redacted): `{_esc(f.evidence)}`")
    if f.why:
        lines.append(f"  <br>**Why:** {_esc(f.why)}")
    if f.remediation:
        lines.append(f"  <br>**Fix:** {_esc(f.remediation)}")
    if f.waived and f.waiver_reason:
        lines.append(f"  <br>**Waived:** {_esc(f.waiver_reason)}")
    elif f.waiver_reason:
        lines.append(f"  <br>**Waiver:** {_esc(f.waiver_reason)}")
    if not f.waived and (f.blocking or f.waiver_reason):
        snippet = waiver_snippet(f, today)
        lines.append("  <details><summary>Waive it (add under <code>waivers:</code>)</summary>\n")
        lines.append("  ```yaml\n" + "".join("  " + s + "\n" for s in snippet.splitlines()) + "  ```\n  </details>")
    return "\n".join(lines)


def _gate_header(r: GateResult) -> str:
    c = r.counts()
    parts = [f"{c['blocking']} blocking", f"{c['warnings']} warning{'s' if c['warnings'] != 1 else ''}"]
    if c["waived"]:
        parts.append(f"{c['waived']} waived")
    if c["errors"]:
        parts.append(f"{c['errors']} error{'s' if c['errors'] != 1 else ''}")
    open_attr = " open" if r.status in (Status.FAIL, Status.ERROR) else ""
    return f"<details{open_attr}><summary><b>{r.gate}</b> — {STATUS_ICON[r.status]} {r.status.value}: {', '.join(parts)} ({r.duration:.2f}s, {c['files']} file{'s' if c['files'] != 1 else ''})</summary>\n"


def render(run: RunResult, max_chars: int = MAX_CHARS, today: _dt.date | None = None) -> str:
    today = today or _dt.date.today()
    out: list[str] = [MARKER, _headline(run), "", *_summary_table(run), ""]
    budget = max_chars - 400  # room for the closing lines
    size = sum(len(s) + 1 for s in out)
    omitted = 0

    def push(text: str) -> bool:
        nonlocal size
        if size + len(text) + 1 > budget:
            return False
        out.append(text)
        size += len(text) + 1
        return True

    sections = [(r.gate, r) for r in run.results if r.status is not Status.SKIPPED]
    for name, r in sections:
        if not push(_gate_header(r)):
            omitted += len(r.findings)
            continue
        for e in r.errors:
            if not push(f"- ⛔ **error** — {_code(e.path or name)}: {_esc(e.message)}"):
                break
        for n in r.notes:
            push(f"- ℹ️ {_esc(n)}")
        by_file: dict[str, list[Finding]] = defaultdict(list)
        for f in r.findings:
            by_file[f.path or "(no file)"].append(f)
        if not r.findings and not r.errors:
            push("No findings.")
        for path, fs in by_file.items():
            if not push(f"\n#### {_code(path)}\n"):
                omitted += len(fs)
                continue
            for i, f in enumerate(fs):
                if not push(_finding_block(f, today)):
                    omitted += len(fs) - i
                    break
        out.append("\n</details>\n")  # always closed, even when the budget ran out (reserved room)
    if run.policy_findings:
        push("<details><summary><b>policy</b> — ⚠️ stale waivers</summary>\n")
        for f in run.policy_findings:
            push(_finding_block(f, today))
        out.append("\n</details>\n")
    if omitted:
        out.append(f"\n> ⚠️ {omitted} more finding{'s' if omitted != 1 else ''} not shown (comment size limit); see the JSON or SARIF report.")
    out.append(f"\n<sub>mlsec-gates · exit code {run.exit_code} · {run.duration:.2f}s</sub>")
    text = "\n".join(out) + "\n"
    return text[:max_chars]
