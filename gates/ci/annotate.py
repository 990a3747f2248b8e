"""GitHub Actions workflow commands (``::error file=…,line=…::``) for a JSON report.

GitHub shows at most 10 error and 10 warning annotations per step, so they are spent with care:

- one annotation per **problem** (a package, a PII column, a model file, a metric: the grouping
  of the PR comment, :mod:`gates.core.reports.problems`), not per finding, so ten example rows
  of one column do not take ten slots;
- **every failing gate first**: the worst problem (or gate error) of each gate, worst gate first,
  before any gate gets a second; then the rest, worst first;
- errors (gate errors and blocking problems), then warnings; whatever does not fit is summed up
  in one notice pointing at the job summary. Waived findings are not annotated.

A CSV/TSV data row is annotated on its file line (the header is line 1). Values are escaped as the
runner's command parser expects, so a message can never inject a second workflow command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

from ..core.reports.common import source_line
from ..core.reports.problems import Problem, dependency_summary, group
from .report import to_run

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


def collect(report: dict[str, Any]) -> tuple[list[Annotation | Problem], list[Annotation | Problem]]:
    """Error-level and warning-level items (gate-error annotations, problems) in the order they
    are shown; :func:`annotation` makes a problem an annotation, only for those shown."""
    run = to_run(report)
    errors: list[tuple[str, int, Annotation | Problem]] = []
    for gate, g in report.get("gates", {}).items():
        for e in (g.get("errors") or []) if isinstance(g, dict) else []:
            errors.append((gate, 99, Annotation("error", f"{gate}: could not check: {e.get('message', '')}",
                                                title=f"mlsec-gates {gate}: error", file=_relpath(str(e.get("path") or "")))))
    problems = group([f for f in run.findings if not f.waived])
    errors += [(p.gate, p.severity.rank, p) for p in problems if p.blocking]
    warnings: list[tuple[str, int, Annotation | Problem]] = [(p.gate, p.severity.rank, p) for p in problems if not p.blocking]
    return _every_gate_first(errors), _every_gate_first(warnings)


def _every_gate_first(items: list[tuple[str, int, Annotation | Problem]]) -> list[Annotation | Problem]:
    """Worst first, except that each gate's worst item comes before any gate's second."""
    ranked = sorted(items, key=lambda t: -t[1])  # stable: problems keep their order within a rank
    firsts: dict[str, int] = {}
    for i, (gate, _, _) in enumerate(ranked):
        firsts.setdefault(gate, i)
    lead = set(firsts.values())
    return [ranked[i][2] for i in sorted(lead)] + [a for i, (_, _, a) in enumerate(ranked) if i not in lead]


def annotation(level: str, item: Annotation | Problem) -> Annotation:
    return item if isinstance(item, Annotation) else _problem(level, item)


def _problem(level: str, p: Problem) -> Annotation:
    f = p.first
    n = len(p.findings)
    dep = dependency_summary(p)
    msg = dep if dep is not None else str(f.message)
    if n > 1:
        msg += f" ({n} findings; all in the job summary)"
    if f.remediation:
        msg += f"\nFix: {f.remediation}"
    if n == 1:
        msg += f"\nfingerprint {f.fingerprint}"
    title = f"{', '.join(p.rules)} ({p.severity.value}, {p.gate})"
    return Annotation(level, msg, title=title, file=_relpath(f.path), line=source_line(f),
                      col=_pos(f.column) if f.line else None)


def render(report: dict[str, Any], max_errors: int = MAX_ERRORS, max_warnings: int = MAX_WARNINGS) -> list[str]:
    """The workflow commands to print: capped errors, capped warnings, one notice for the rest."""
    errors, warnings = collect(report)
    shown = [annotation("error", a) for a in errors[:max_errors]] + [annotation("warning", a) for a in warnings[:max_warnings]]
    left_e, left_w = len(errors) - min(len(errors), max_errors), len(warnings) - min(len(warnings), max_warnings)
    lines = [a.command() for a in shown]
    if left_e or left_w:
        lines.append(Annotation("notice", f"{left_e + left_w} more not annotated ({left_e} errors, {left_w} warnings): "
                                "see the job summary or the JSON/SARIF report", title="mlsec-gates").command())
    return lines


def write(lines: Iterable[str], out) -> None:
    for line in lines:
        out.write(line + "\n")
