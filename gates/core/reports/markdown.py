"""Markdown for a PR/MR comment and the job summary: what a reviewer reads in ten seconds.

Top to bottom, in order of what a reviewer needs:

1. a verdict line (how many problems block, how many findings they hold) and which policy ran;
2. one table of gates;
3. gate errors (a gate that could not check is never hidden);
4. ONE table of blocking problems, worst first across gates, one row per problem (a package, a
   PII column, a model file, an eval metric: see :mod:`.problems`), each with its rule linked to
   the documentation, advisory ids linked to their records, the location linked to the line on
   the forge, and the fix in a few words;
5. collapsed: the Why/Fix glossary (once per rule), warnings, waived findings, waiver snippets,
   gate notes.

The text stays within ``max_chars`` by dropping the lowest sections first and then problem rows,
saying what was left out and linking to the job page (summary, artifacts) for the rest; never by
cutting mid-table. The hidden marker on the first line lets the comment command find its own
comment.
"""

from __future__ import annotations

import datetime as _dt
import html
import re
from typing import Iterable

from ..findings import Finding, Status
from ..hygiene import clean_name
from ..runner import NOTHING_SCANNED, RunResult
from .common import SEVERITY_ICON, STATUS_ICON, redacted, source_line, waiver_snippet
from .links import Links, advisory_url
from .problems import Problem, dependency_summary, group, short_fix

MARKER = "<!-- mlsec-gates -->"
#: GitHub's limit for a comment body is 65,536 characters
MAX_CHARS = 65_000
MESSAGE_CHARS = 160
ADVISORIES_SHOWN = 4
SNIPPETS_PER_PROBLEM = 10


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


def _cell(text: str) -> str:
    """Inside a table a ``|`` ends the cell even within a code span unless escaped (GFM)."""
    return text.replace("|", "\\|")


def _short(text: str, limit: int = MESSAGE_CHARS) -> str:
    s = str(text)
    if len(s) > limit:
        s = s[:limit].rsplit(" ", 1)[0] + "…"
        if s.count("`") % 2:
            s = s.replace("`", "")
    return s


_RULE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")


def _rule_ref(rule: str) -> str:
    """A rule id as a shortcut reference link (``[DEPS001]``), defined once at the end of the text
    (:func:`_rule_refs`): a comment names the same rule many times, its URL is written once."""
    return f"[{rule}]" if _RULE_ID.match(rule) else _esc(rule)


def _rule_refs(findings: Iterable[Finding], links: Links) -> list[str]:
    gates: dict[str, str] = {}
    for f in findings:
        if _RULE_ID.match(f.rule):
            gates.setdefault(f.rule, f.gate)
    return [f"[{rule}]: {links.rule(gate, rule)}" for rule, gate in sorted(gates.items())]


def _link(label: str, url: str | None) -> str:
    return f"[{label}]({url})" if url else label


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


# -- the head ---------------------------------------------------------------------------------

def _headline(run: RunResult, blocking: list[Problem]) -> str:
    n_blocking = sum(1 for f in run.findings if f.blocking)
    errors = sum(len(r.errors) for r in run.results)
    icon = STATUS_ICON[run.status]
    if run.status is Status.ERROR:
        what = (f"{_plural(errors, 'gate error')} (could not check everything)" if errors
                else "nothing was scanned" if run.nothing_scanned else "error")
        if n_blocking:
            what += f"; {_plural(n_blocking, 'blocking finding')}"
    elif run.status is Status.FAIL:
        what = f"{_plural(len(blocking), 'problem')} to fix ({_plural(n_blocking, 'blocking finding')})"
    else:
        what = "all gates passed"
    return f"## {icon} mlsec-gates: {what}"


def _byline(run: RunResult, links: Links) -> str:
    parts = []
    if getattr(run, "policy", None) is not None:
        from .text import policy_line

        parts.append(f"policy {_code(policy_line(run))}")
    parts.append(f"exit code {run.exit_code}")
    parts.append(f"{run.duration:.1f}s")
    if links.job:
        parts.append(f"[job and full reports]({links.job})")
    return "<sub>" + " · ".join(parts) + "</sub>"


def _summary_table(run: RunResult) -> list[str]:
    rows = ["| Gate | Status | Blocking | Warnings | Waived | Errors | Files |", "|---|---|--:|--:|--:|--:|--:|"]
    for r in run.results:
        c = r.counts()
        status = f"{STATUS_ICON[r.status]} {r.status.value}"
        if r.status is Status.SKIPPED and r.skip_reason:
            status += f" ({_esc(r.skip_reason)})"
        rows.append(f"| **{r.gate}** — {_esc(r.title)} | {status} | {c['blocking']} | {c['warnings']} | {c['waived']} | {c['errors']} | {c['files']} |")
    if run.policy_findings:
        c_block = sum(1 for f in run.policy_findings if f.blocking)
        icon = "❌" if c_block else "⚠️"
        rows.append(f"| **policy** | {icon} | {c_block} | {len(run.policy_findings) - c_block} | 0 | 0 | — |")
    return rows


def _errors(run: RunResult) -> list[str]:
    out = []
    if run.nothing_scanned:
        out.append(f"- ⛔ {_esc(NOTHING_SCANNED)}")
    for r in run.results:
        for e in r.errors:
            out.append(f"- ⛔ **{r.gate}** — {_code(clean_name(e.path or r.gate))}: {_esc(e.message)}")
    return ["### ⛔ Errors", "", *out, ""] if out else []


# -- problem rows -----------------------------------------------------------------------------

def _rules(p: Problem, links: Links) -> str:
    return ", ".join(_rule_ref(r) for r in p.rules)


def _what(p: Problem, links: Links) -> str:
    dep = dependency_summary(p)
    if dep is not None:
        ids = list(dict.fromkeys(str(f.extra["advisory"]) for f in sorted(p.advisories, key=lambda f: -f.severity.rank)))
        shown = [_link(_esc(i), advisory_url(i)) for i in ids[:ADVISORIES_SHOWN]]
        more = f" +{len(ids) - ADVISORIES_SHOWN}" if len(ids) > ADVISORIES_SHOWN else ""
        others = [f for f in p.findings if "advisory" not in f.extra]
        extra = f"; {_esc(_short(others[0].message, 80))}" if others else ""
        return f"**{_esc(_short(dep, 100))}**: {', '.join(shown)}{more}{extra}"
    first = p.first
    count = f" — {_plural(len(p.findings), 'finding')}" if len(p.findings) > 1 else ""
    return _esc(_short(first.message)) + count


def _where(p: Problem, links: Links) -> str:
    f = p.first
    line = source_line(f)
    label = f"{f.path}:{line}" if line else (f.path or ".")
    text = _link(_code(label), links.source(f))
    others = len({g.path for g in p.findings} - {f.path})
    return text + (f" +{_plural(others, 'file')}" if others else "")


def _row(p: Problem, links: Links) -> str:
    sev = p.severity
    cells = [f"{SEVERITY_ICON[sev]} {sev.value}", p.gate, f"{_rules(p, links)} {_what(p, links)}", _where(p, links), _esc(short_fix(p))]
    return "| " + " | ".join(_cell(c) if i == 3 else c for i, c in enumerate(cells)) + " |"


PROBLEM_HEAD = ["| Severity | Gate | Problem | Where | Fix |", "|---|---|---|---|---|"]


# -- collapsed sections -----------------------------------------------------------------------

def _glossary(problems: list[Problem], run: RunResult, links: Links) -> list[str]:
    titles = {rid: r.title for rid, r in run.rules().items()}
    seen: dict[tuple[str, str], Finding] = {}
    for p in problems:
        for f in p.findings:
            seen.setdefault((p.gate, f.rule), f)
    if not seen:
        return []
    out = [f"<details><summary>Why it matters and how to fix it ({_plural(len(seen), 'rule')})</summary>", ""]
    for (gate, rule), f in seen.items():
        title = f" {_esc(titles[rule])}." if rule in titles else ""
        out.append(f"- **{_rule_ref(rule)}**{title} {_esc(f.why)} **Fix:** {_esc(f.remediation)}")
    return [*out, "", "</details>", ""]


def _warnings(problems: list[Problem], links: Links) -> list[str]:
    if not problems:
        return []
    n = sum(len(p.findings) for p in problems)
    return [f"<details><summary>⚠️ {_plural(len(problems), 'warning')} ({_plural(n, 'finding')}, not blocking)</summary>", "",
            *PROBLEM_HEAD, *(_row(p, links) for p in problems), "", "</details>", ""]


def _waived(findings: list[Finding], links: Links) -> list[str]:
    if not findings:
        return []
    out = [f"<details><summary>✔️ {_plural(len(findings), 'waived finding')}</summary>", ""]
    for f in findings:
        line = source_line(f)
        where = _link(_code(f"{f.path}:{line}" if line else f.path or "."), links.source(f))
        out.append(f"- {_rule_ref(f.rule)} {where}: {_esc(_short(f.message))}"
                   f" — **waived:** {_esc(f.waiver_reason or 'by policy')}")
    return [*out, "", "</details>", ""]


def _snippets(problems: list[Problem], open_findings: list[Finding], today: _dt.date) -> list[str]:
    """Per blocking problem, the waiver that covers it: one by rule and path when the problem is
    all the open findings of its rule in its file, else one per finding by fingerprint."""
    if not problems:
        return []
    per_file: dict[tuple[str, str], int] = {}
    for f in open_findings:
        per_file[(f.rule, f.rel_path or f.path)] = per_file.get((f.rule, f.rel_path or f.path), 0) + 1
    out = ["<details><summary>Waive a problem: YAML to paste under <code>waivers:</code> (fill in the reason)</summary>", ""]
    for p in problems:
        keys = {(f.rule, f.rel_path or f.path) for f in p.findings}
        whole = len(keys) == 1 and len(p.findings) > 1 and per_file[next(iter(keys))] == len(p.findings) \
            and not redacted(next(iter(keys))[1])
        if whole:
            lines, note = [waiver_snippet(p.first, today, by_path=True)], ""
        else:
            fs = p.blocking[:SNIPPETS_PER_PROBLEM]
            lines = [waiver_snippet(f, today) for f in fs]
            note = f", first {len(fs)} of {len(p.blocking)} findings" if len(p.blocking) > len(fs) else ""
        out.append(f"{_code(clean_name(p.subject))} ({', '.join(p.rules)}{note}):")
        out.append("```yaml\n" + "".join(lines) + "```")
    return [*out, "", "</details>", ""]


def _notes(run: RunResult) -> list[str]:
    notes = [f"- **{r.gate}**: {_esc(n)}" for r in run.results for n in r.notes]
    return ["<details><summary>Gate notes</summary>", "", *notes, "", "</details>", ""] if notes else []


# -- assembly ---------------------------------------------------------------------------------

class _Budget:
    """Text that never grows past ``limit`` characters; what did not fit is counted."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lines: list[str] = []
        self.size = 0

    def fits(self, lines: Iterable[str]) -> bool:
        return self.size + sum(len(s) + 1 for s in lines) <= self.limit

    def add(self, lines: list[str]) -> bool:
        if not self.fits(lines):
            return False
        self.lines.extend(lines)
        self.size += sum(len(s) + 1 for s in lines)
        return True


def render(run: RunResult, max_chars: int = MAX_CHARS, today: _dt.date | None = None, links: Links | None = None) -> str:
    today = today or _dt.date.today()
    links = links or Links.from_env()
    open_findings = [f for f in run.findings if not f.waived]
    problems = group(open_findings)
    blocking = [p for p in problems if p.blocking]
    warnings = [p for p in problems if not p.blocking]
    waived = [f for f in run.findings if f.waived]

    refs = _rule_refs(run.findings, links)
    out = _Budget(max_chars - 400 - sum(len(r) + 1 for r in refs))  # room for the notice, last line, link definitions
    out.add([MARKER, _headline(run, blocking), _byline(run, links), "", *_summary_table(run), ""])
    left_out: list[str] = []
    errors = _errors(run)
    if errors and not out.add(errors):
        for line in errors:
            if not out.add([line]):
                left_out.append("gate errors")
                break
    dropped = 0
    if blocking:
        out.add(["### Blocking problems", "", *PROBLEM_HEAD])
        for i, p in enumerate(blocking):
            # keep room for a one-line row that says how many more there are
            if not out.fits([_row(p, links), "x" * 200]):
                dropped = len(blocking) - i
                break
            out.add([_row(p, links)])
        if dropped:
            out.add([f"| … | | **{dropped} more problems not shown (comment size limit)** | | see {_job(links)} |"])
        out.add([""])
    for name, section in (("glossary", _glossary(problems, run, links)), ("warnings", _warnings(warnings, links)),
                          ("waived findings", _waived(waived, links)), ("waiver snippets", _snippets(blocking, open_findings, today)),
                          ("gate notes", _notes(run))):
        if section and not out.add(section):
            left_out.append(name)
    tail = []
    if left_out:
        tail.append(f"> ⚠️ Not shown (comment size limit): {', '.join(left_out)}; see {_job(links)}.")
    tail.append(f"<sub>mlsec-gates · {_plural(len(run.findings), 'finding')} in {_plural(len(problems), 'problem')}"
                f" · {_plural(len(waived), 'waived finding')}</sub>")
    text = "\n".join([*out.lines, *tail, "", *refs]) + "\n"
    return text if len(text) <= max_chars else text[:max_chars]


def _job(links: Links) -> str:
    return f"[the job summary and artifacts]({links.job})" if links.job else "the job summary, or the JSON/SARIF report"
