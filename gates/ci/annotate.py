"""GitHub Actions workflow commands (``::error file=…,line=…::``) for a JSON report.

GitHub shows at most 10 error and 10 warning annotations per step, so the worst go first: gate
errors (a gate could not check its input), then blocking findings by severity, then warnings;
whatever does not fit is summed up in one notice pointing at the job summary. Waived findings are
not annotated (they are in the summary). Values are escaped as the runner's command parser expects,
so a message can never inject a second workflow command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

from ..core.findings import Severity

MAX_ERRORS = 10
MAX_WARNINGS = 10


@dataclass(frozen=True)
class Annotation:
    level: str  # error | warning | notice
    message: str
    title: str = ""
    file: str = ""
    line: int | None = None
    col: int | None = None

    def command(self) -> str:
        props = []
        if self.file:
            props.append(f"file={_prop(self.file)}")
            if self.line:
                props.append(f"line={self.line}")
                if self.col:
                    props.append(f"col={self.col}")
        if self.title:
            props.append(f"title={_prop(self.title)}")
        head = f"::{self.level}" + (" " + ",".join(props) if props else "")
        return f"{head}::{_data(self.message)}"


def _data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(s: str) -> str:
    return _data(s).replace(":", "%3A").replace(",", "%2C")


def _pos(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def _relpath(path: str) -> str:
    """Annotations need a path relative to the workspace (the working directory of the step)."""
    if path and os.path.isabs(path):
        rel = os.path.relpath(path)
        return rel if not rel.startswith("..") else path
    return path


def _rank(f: dict[str, Any]) -> int:
    try:
        return Severity.parse(f.get("severity", "info")).rank
    except ValueError:
        return 0


def collect(report: dict[str, Any]) -> tuple[list[Annotation], list[Annotation]]:
    """All error-level and warning-level annotations of a report, worst first."""
    errors: list[Annotation] = []
    for gate, g in report.get("gates", {}).items():
        for e in g.get("errors") or []:
            errors.append(Annotation("error", f"{gate}: could not check: {e.get('message', '')}",
                                     title=f"mlsec-gates {gate}: error", file=_relpath(str(e.get("path") or ""))))
    blocking = sorted((f for f in report.get("findings", []) if f.get("blocking")), key=lambda f: -_rank(f))
    warnings = sorted((f for f in report.get("findings", []) if not f.get("blocking") and not f.get("waived")),
                      key=lambda f: -_rank(f))
    errors += [_finding("error", f) for f in blocking]
    return errors, [_finding("warning", f) for f in warnings]


def _finding(level: str, f: dict[str, Any]) -> Annotation:
    line = _pos(f.get("line")) or _pos(f.get("row"))
    msg = str(f.get("message", ""))
    if f.get("remediation"):
        msg += f"\nFix: {f['remediation']}"
    msg += f"\nfingerprint {f.get('fingerprint', '')}"
    title = f"{f.get('rule', '')} ({f.get('severity', '')}, {f.get('gate', '')})"
    return Annotation(level, msg, title=title, file=_relpath(str(f.get("path") or "")), line=line, col=_pos(f.get("column")))


def render(report: dict[str, Any], max_errors: int = MAX_ERRORS, max_warnings: int = MAX_WARNINGS) -> list[str]:
    """The workflow commands to print: capped errors, capped warnings, one notice for the rest."""
    errors, warnings = collect(report)
    shown = errors[:max_errors] + warnings[:max_warnings]
    left_e, left_w = len(errors) - min(len(errors), max_errors), len(warnings) - min(len(warnings), max_warnings)
    lines = [a.command() for a in shown]
    if left_e or left_w:
        lines.append(Annotation("notice", f"{left_e + left_w} more not annotated ({left_e} errors, {left_w} warnings): "
                                "see the job summary or the JSON/SARIF report", title="mlsec-gates").command())
    return lines


def write(lines: Iterable[str], out) -> None:
    for line in lines:
        out.write(line + "\n")
