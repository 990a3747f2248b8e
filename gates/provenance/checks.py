"""The policy applied to one model's facts: licence, source, custom code and required facts.

Each check returns at most one :class:`Violation` (one finding per model and rule), anchored at
the fact that declared the first offending value; the message lists the others. Values are
cleaned here, at the one place where they become text.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gates.core.hygiene import clean, clean_name

from .facts import Fact, Kind, ModelFacts
from .licenses import Verdict, judge, symbols
from .metadata import source_id
from .options import Options


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    path: Path
    line: int | None
    key: str
    blocking: bool | None = None  # None: the policy's fail_on decides


def _where(f: Fact) -> str:
    return f"{clean_name(f.file.name)} {clean_name(f.key)}" + (f":{f.line}" if f.line else "")


def _symbol(opts: Options):
    def verdict(ident: str) -> Verdict:
        if ident in opts.deny:
            return Verdict.BAD
        if opts.allow and ident not in opts.allow:
            return Verdict.BAD
        return Verdict.OK

    return verdict


def check_licenses(m: ModelFacts, opts: Options) -> list[Violation]:
    declared = m.of(Kind.LICENSE)
    unknown = m.of(Kind.LICENSE_UNKNOWN)
    verdict = _symbol(opts)
    bad: list[Fact] = []
    known = False
    for f in declared:
        j = judge(f.value, verdict)
        if j is Verdict.BAD:
            bad.append(f)
        elif j is Verdict.UNKNOWN:
            unknown.append(f)
        else:
            known = True
    out: list[Violation] = []
    if bad:
        f = bad[0]
        why = "is denied by gates.provenance.licenses.deny" if any(
            s in opts.deny for s in symbols(f.value)) else "is not in gates.provenance.licenses.allow"
        more = f" (also: {', '.join(clean(b.value) + ' in ' + _where(b) for b in bad[1:4])})" if len(bad) > 1 else ""
        out.append(Violation("PROV001", f"licence {clean(f.value)} ({_where(f)}) {why}{more}", f.file, f.line, "license"))
    if unknown and not known and not bad:
        f = unknown[0]
        out.append(Violation("PROV002", f"licence cannot be identified: {clean(f.value)} ({_where(f)})", f.file, f.line, "license",
                             blocking=None if opts.unknown == "block" else False))
    return out


def _matches(ident: str, globs: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(ident.lower(), g) for g in globs)


def check_sources(m: ModelFacts, chain: Sequence[tuple[Fact, str]], opts: Options) -> list[Violation]:
    """``chain`` holds the origin/base facts of the model and of every local base it leads to,
    each with a note of the path it was reached by."""
    bad = []
    for f, via in chain:
        ident = source_id(f.value)
        if _matches(ident, opts.source_deny):
            bad.append((f, via, ident, "is denied by gates.provenance.sources.deny"))
        elif opts.source_allow and not _matches(ident, opts.source_allow):
            bad.append((f, via, ident, "is not in gates.provenance.sources.allow"))
    if not bad:
        return []
    f, via, ident, why = bad[0]
    what = "base model" if f.kind is Kind.BASE else "source"
    more = f" (also: {', '.join(clean(b[2]) for b in bad[1:4])})" if len(bad) > 1 else ""
    anchor = f if not via else _first_local(m) or f
    return [Violation("PROV003", f"{what} {clean(ident)} ({_where(f)}{via}) {why}{more}", anchor.file, anchor.line, "source")]


def _first_local(m: ModelFacts) -> Fact | None:
    got = m.of(Kind.LOCAL_BASE)
    return got[0] if got else None


def check_code(m: ModelFacts, hashes: Mapping[Path, str], opts: Options, display) -> list[Violation]:
    """``auto_map`` entries and ``*.py`` files pass only when every file is reviewed (its SHA-256
    listed) and every entry points at one of those files."""
    if opts.custom_code == "allow":
        return []
    entries = m.of(Kind.CODE)
    if not entries and not m.code_files:
        return []
    problems: list[str] = []
    for py in m.code_files:
        if hashes.get(py, "") not in opts.code_sha256:
            problems.append(f"{clean_name(display(py))} (sha256 {hashes.get(py, '?')[:16]}…) is not in custom_code_allow_sha256")
    for f in entries:
        if "--" in f.value:
            repo = f.value.split("--", 1)[0]
            problems.append(f"{_where(f)} loads code from another repository ({clean(repo)})")
            continue
        module = f.value.rsplit(".", 1)[0]
        target = f.file.parent / (module.replace(".", "/") + ".py")
        if target not in hashes:
            problems.append(f"{_where(f)} names {clean_name(module)}.py, which is not in the model folder")
        elif target not in m.code_files and hashes[target] not in opts.code_sha256:
            problems.append(f"{clean_name(display(target))} (sha256 {hashes[target][:16]}…) is not in custom_code_allow_sha256")
    if not problems:
        return []
    anchor = entries[0] if entries else None
    path, line = (anchor.file, anchor.line) if anchor else (m.code_files[0], None)
    total = len(problems)
    msg = f"custom code runs with trust_remote_code: {'; '.join(problems[:3])}" + (f" (+{total - 3} more)" if total > 3 else "")
    return [Violation("PROV004", msg, path, line, "custom_code", blocking=None if opts.custom_code == "block" else False)]


def check_required(m: ModelFacts, has_source: bool, opts: Options) -> list[Violation]:
    missing = []
    if "license" in opts.require and not m.of(Kind.LICENSE, Kind.LICENSE_UNKNOWN):
        missing.append("a licence")
    if "model_card" in opts.require and m.card is None:
        missing.append("a model card (README.md with YAML front matter)")
    if "source" in opts.require and not has_source:
        missing.append("a source or base model")
    if not missing:
        return []
    anchor = m.model.markers[0] if m.model.markers else m.model.root
    return [Violation("PROV005", f"model declares no {' and no '.join(missing)} (required by gates.provenance.require)",
                      anchor, None, "require")]
