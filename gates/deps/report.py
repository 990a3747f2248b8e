"""Turning what the inputs declared and what the service found into the gate's findings: pins
and hashes (DEPS002/003/006), advisories (DEPS001), and the policy's ignores (DEPS004/005/007)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

from packaging.utils import canonicalize_name

from gates.core.gate import GateContext
from gates.core.hygiene import clean, clean_name

from .ignores import Ignore
from .inputs import find_line
from .records import Advisory, Dependency, PackageResult
from .severity import to_core

_NOT_PINNED = {"unpinned": "is not pinned ({spec})", "url": "is a URL requirement", "vcs": "is a VCS requirement",
               "editable": "is an editable requirement", "path": "is a local path requirement"}


def check_pins(ctx: GateContext, deps: Sequence[Dependency], require_pins: bool, require_hashes: bool) -> None:
    """One finding per dependency that cannot be audited by version (blocking under
    ``require_pins``), and per pin without a hash under ``require_hashes``."""
    for d in deps:
        name, text = clean_name(d.name), clean(d.text)
        if not d.auditable:
            what = _NOT_PINNED.get(d.kind, "is not pinned ({spec})").format(spec=clean(d.specifier) or "any version")
            rule = "DEPS002" if require_pins else "DEPS006"
            ctx.add(rule, f"{name} {what}" + ("" if require_pins else "; it was not audited"), d.path, line=d.line,
                    key=f"{d.canonical_name}|{d.kind}", entity=name, package=name, version=None, kind=d.kind,
                    requirement=text, source_format=d.source_format)
        elif require_hashes and not d.hashes and d.source_format != "installed":
            version = clean_name(d.version)
            ctx.add("DEPS003", f"{name}=={version} has no hash", d.path, line=d.line, key=d.canonical_name, entity=name,
                    package=name, version=version, requirement=text, source_format=d.source_format)


def active_ignore(ignores: Sequence[Ignore], ids: Sequence[str], d: Dependency, today: _dt.date, used: set[int]) -> Ignore | None:
    """The first unexpired ignore covering one of ``ids`` for ``d``; marks every match as used."""
    hit = None
    for ig in ignores:
        if ig.matches(ids, d.name, d.version):
            used.add(ig.index)
            if not ig.expired(today) and hit is None:
                hit = ig
    return hit


def report_result(ctx: GateContext, res: PackageResult, ignores: Sequence[Ignore], used: set[int], today: _dt.date) -> bool:
    """Findings for one dependency's service result. Returns False when the service skipped it
    (it was not audited: an error unless it is an internal package)."""
    d = res.dependency
    internal = {canonicalize_name(n) for n in ctx.options.get("internal_packages") or []}
    if res.skip_reason is not None:
        if d.canonical_name in internal:
            ctx.note(f"{clean_name(d.name)}: skipped by the service (internal package)")
        else:
            # the service answered for other pins, so it works: this name is not on its index
            ctx.error(f"{clean_name(d.name)} {clean_name(d.version or '')} was not audited by the service ({clean(res.skip_reason)}); the service answered "
                      f"for other dependencies, so this name is missing from its index: if it is a private package, list it "
                      f"under gates.deps.internal_packages", d.path if d.path != Path(".") else None)
        return False
    unknown_as = ctx.options.get("unknown_severity") or "high"
    only_fixable = bool(ctx.options.get("only_fixable"))
    for a in res.advisories:
        _advisory(ctx, d, a, res.safe_version, ignores, used, today, unknown_as, only_fixable)
    return True


def _advisory(ctx: GateContext, d: Dependency, a: Advisory, safe: str | None, ignores: Sequence[Ignore], used: set[int],
              today: _dt.date, unknown_as: str, only_fixable: bool) -> None:
    sev = to_core(a.severity, unknown_as)
    name, version, summary = clean_name(d.name), clean_name(d.version), clean(a.summary)
    score = f" (CVSS {a.score:g})" if a.score is not None else (f" ({a.severity})" if a.severity != "unknown" else " (severity unknown)")
    fix_txt = f"; upgrade to {safe}" if safe else ("; fixed in " + ", ".join(a.fixed_versions) if a.fixed_versions else "; no fixed version")
    fields: dict[str, Any] = dict(
        package=name, version=version, advisory=a.id, aliases=list(a.aliases), cvss_score=a.score, cvss_vector=a.vector,
        severity_label=a.severity, severity_source=a.severity_source, fixed_versions=list(a.fixed_versions), safe_version=safe,
        summary=summary, requirement=clean(d.text), source_format=d.source_format,
    )
    ig = active_ignore(ignores, a.ids, d, today, used)
    common = dict(line=d.line, key=f"{d.canonical_name}|{a.id}")
    path = d.path if d.path != Path(".") else None
    if ig is not None:
        ctx.add("DEPS007", f"{name} {version}: {a.id}{score} ignored until {ig.expires}: {clean(ig.reason)}", path, blocking=False,
                ignore_reason=clean(ig.reason), ignore_expires=ig.expires.isoformat(), **common, **fields)
        return
    blocking = None
    msg = f"{name} {version} is affected by {a.id}{score}{fix_txt}"
    if summary:
        brief = " ".join(summary.split())
        msg += f" — {brief[:117] + '...' if len(brief) > 120 else brief}"
    if only_fixable and not a.fixed_versions:
        blocking = False
        msg += " (not blocking: only_fixable)"
    ctx.add("DEPS001", msg, path, severity=sev, blocking=blocking, **common, **fields)


def check_ignores(ctx: GateContext, ignores: Sequence[Ignore], used: set[int], today: _dt.date) -> None:
    """DEPS004 for expired ignores (blocking), DEPS005 for ignores that matched nothing."""
    pol, text = _policy_file(ctx)
    for ig in ignores:
        line = find_line(text, ig.id) if text else None
        iid = clean_name(ig.id)
        common = dict(line=line, key=f"ignore|{ig.id}|{ig.package or ''}|{ig.version or ''}", advisory=iid,
                      package=clean_name(ig.package) if ig.package else None, ignore_expires=ig.expires.isoformat(),
                      ignore_reason=clean(ig.reason))
        if ig.expired(today):
            ctx.add("DEPS004", f"ignore for {iid} expired on {ig.expires}" + ("" if ig.index in used else " (it also matches nothing)"),
                    pol, blocking=True, **common)
        elif ig.index not in used:
            ctx.add("DEPS005", f"ignore for {iid} matches no audited dependency", pol, blocking=False, **common)


def _policy_file(ctx: GateContext) -> tuple[Path | None, str]:
    from gates.core.policy import find_policy_file

    explicit = getattr(ctx.args, "policy", None) if ctx.args is not None else None
    p = Path(explicit) if explicit else find_policy_file(ctx.root)
    if p is None or not p.is_file():
        return None, ""
    try:
        return p, p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return p, ""
