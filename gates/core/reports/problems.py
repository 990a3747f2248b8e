"""Findings grouped into the problems a reviewer fixes one at a time.

A gate reports one finding per fact (one per advisory, one per example value of a PII column, one
per pickle global), which is right for SARIF and waivers but not for a reader: ten findings about
one column are one problem, solved by one change. A problem is:

- per **package** for findings that name one (``package`` extra: the deps gate), since one upgrade
  clears every advisory of the package;
- per **metric** for findings that name one (``metric`` extra: the eval gate);
- per **column** of a file for findings with a named column (the PII gate);
- per **file** otherwise (a model file, a signed artifact).

The core knows no gate: these keys are the documented ``extra`` fields, and a gate that sets none
gets one problem per file. Problems sort worst first across gates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..findings import Finding, Severity

HIGHISH = (Severity.CRITICAL, Severity.HIGH)


@dataclass
class Problem:
    gate: str
    subject: str  # the package, metric, column or file the findings are about
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def severity(self) -> Severity:
        fs = self.blocking or self.findings
        return max((f.severity for f in fs), key=lambda s: s.rank)

    @property
    def rules(self) -> list[str]:
        return sorted({f.rule for f in self.findings})

    @property
    def first(self) -> Finding:
        """The finding that stands for the problem: the worst, then the earliest in its file."""
        return min(self.findings, key=lambda f: (-f.severity.rank, not f.blocking, f.path, f.line or 0, f.row or 0, f.offset or 0))

    @property
    def advisories(self) -> list[Finding]:
        return [f for f in self.findings if isinstance(f.extra.get("advisory"), str)]

    def sort_key(self) -> tuple:
        return (not self.blocking, -self.severity.rank, -len(self.blocking), self.gate, self.subject)


def _key(f: Finding) -> tuple[str, str, str]:
    package = f.extra.get("package")
    if isinstance(package, str) and package:
        return (f.gate, "package", package.lower())
    metric = f.extra.get("metric")
    if isinstance(metric, str) and metric:
        return (f.gate, "metric", metric)
    if isinstance(f.column, str) and f.column:
        return (f.gate, "column", f"{f.path}\0{f.column}")
    return (f.gate, "file", f.path)


def group(findings: list[Finding]) -> list[Problem]:
    """``findings`` (not waived) as problems, worst first."""
    out: dict[tuple[str, str, str], Problem] = {}
    for f in findings:
        k = _key(f)
        subject = k[2].split("\0")[-1] if k[1] != "package" else str(f.extra.get("package"))
        out.setdefault(k, Problem(f.gate, subject)).findings.append(f)
    return sorted(out.values(), key=Problem.sort_key)


def dependency_summary(p: Problem) -> str | None:
    """``requests 2.19.0 → 2.31.0 fixes 2 advisories, 1 high`` for a package's advisories (plain
    text, already cleaned by the gate), or None when the problem is not about advisories."""
    advs = p.advisories
    if not advs:
        return None
    first = advs[0]
    version = first.extra.get("version")
    safe = first.extra.get("safe_version")
    ids = {f.extra["advisory"] for f in advs}
    n = len(ids)
    worst = [f"{sum(1 for f in advs if f.severity is s)} {s.value}" for s in HIGHISH if any(f.severity is s for f in advs)]
    counted = f"{n} advisor{'y' if n == 1 else 'ies'}" + (f", {', '.join(worst)}" if worst else "")
    head = f"{p.subject} {version}" if version else p.subject
    if isinstance(safe, str) and safe:
        return f"{head} → {safe} fixes {counted}"
    return f"{head}: {counted}, no fixed release"


def short_fix(p: Problem) -> str:
    """The fix in a few words: the upgrade for a package, a gate's short ``fix`` extra, else the
    first sentence of the remediation without its asides (the glossary has the whole text)."""
    f = p.first
    safe = f.extra.get("safe_version")
    if isinstance(safe, str) and safe:
        return f"upgrade to {safe}"
    fix = f.extra.get("fix")
    if isinstance(fix, str) and fix:
        return fix
    text = re.sub(r"\s*\([^()]*\)", "", f.remediation or "").strip()
    text = re.split(r"(?<=[.;])\s", text, maxsplit=1)[0].rstrip(".;")
    if len(text) > 110:
        text = text[:110].rsplit(" ", 1)[0] + "…"
    if text.count("`") % 2:
        text = text.replace("`", "")
    return text
