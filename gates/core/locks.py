"""Locks: settings a parent policy fixes or bounds for every policy merged after it.

A lock names key paths (dotted, ``*`` matches one key; a YAML list of segments for keys that
contain dots) and a direction. The floor is the value the path has once the declaring document is
merged; every later layer (and the command line's ``--fail-on`` and gate flags) must stay on the
right side of it:

- ``locked``: must keep exactly the floor value.
- ``only_stricter``: severity thresholds may only go down (``high`` → ``medium``), ``on_error``
  only from ``warn`` to ``fail``. A lock on ``defaults.fail_on``/``defaults.on_error`` also holds
  every gate's own ``fail_on``/``on_error`` (which fall back to the default).
- ``only_shrink`` / ``only_grow``: lists (or maps, by key) may only lose / gain items.
- ``only_increase`` / ``only_decrease``: numbers may only go up / down.
- ``only_true``: a true flag (e.g. ``gates.*.enabled``) may not become false.

``locks.waivers`` governs waivers added after it: ``max_days`` from today to ``expires``,
``forbid_rules`` (globs of rule ids no waiver may cover), ``require_fields`` (e.g. ``ticket``) and
``allow_inline: false`` (waivers only in the CODEOWNERS-guarded waiver file).

The core knows no gate: every lock is generic over paths.
"""

from __future__ import annotations

import copy
import datetime as _dt
import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .errors import PolicyError
from .matching import rules_overlap
from .merge import BUILTIN, Merged, dotted
from .yamlsrc import KeyPath

KINDS = ("locked", "only_stricter", "only_shrink", "only_grow", "only_increase", "only_decrease", "only_true")
STRICTNESS = {
    "threshold": ["info", "low", "medium", "high", "critical", "none"],
    "on_error": ["fail", "warn"],
}
IMPLIED = {("defaults", "fail_on"): ("gates", "*", "fail_on"), ("defaults", "on_error"): ("gates", "*", "on_error")}
_MISSING = object()


@dataclass(frozen=True)
class Lock:
    kind: str
    pattern: tuple[str, ...]
    source: str  # FILE:LINE of the lock entry
    floors: tuple[tuple[KeyPath, Any], ...]


@dataclass(frozen=True)
class WaiverRule:
    what: str  # "max_days", "forbid_rules", "require_fields", "allow_inline"
    value: Any
    source: str


@dataclass
class LockSet:
    locks: list[Lock] = field(default_factory=list)
    waiver_rules: list[WaiverRule] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.locks or self.waiver_rules)

    def max_days(self) -> tuple[int, str] | None:
        rules = [r for r in self.waiver_rules if r.what == "max_days"]
        if not rules:
            return None
        r = min(rules, key=lambda r: r.value)
        return r.value, r.source

    def required_fields(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for r in self.waiver_rules:
            if r.what == "require_fields":
                out.setdefault(r.value, r.source)
        return out


def effective_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """The data with each gate's ``fail_on``/``on_error`` filled from ``defaults`` (what the
    runner will actually use), so locks compare effective values."""
    view = copy.deepcopy(dict(data))
    defaults = view.get("defaults") or {}
    for g in (view.get("gates") or {}).values():
        if isinstance(g, dict):
            for k in ("fail_on", "on_error"):
                if g.get(k) is None and k in defaults:
                    g[k] = defaults[k]
    return view


def view_source(provenance: Mapping[KeyPath, str], path: KeyPath) -> str:
    """Where the effective value at ``path`` came from (a gate threshold inherited from
    ``defaults`` is attributed to the default)."""
    p = tuple(path)
    if p in provenance:
        return provenance[p]
    if len(p) == 3 and p[0] == "gates" and p[2] in ("fail_on", "on_error") and ("defaults", p[2]) in provenance:
        return provenance[("defaults", p[2])]
    while p:
        p = p[:-1]
        if p in provenance:
            return provenance[p]
    return BUILTIN


def expand(pattern: tuple[str, ...], data: Any) -> list[KeyPath]:
    """Concrete key paths in ``data`` that ``pattern`` (``*`` = any one key) matches."""
    found: list[KeyPath] = []

    def walk(node: Any, i: int, path: KeyPath) -> None:
        if i == len(pattern):
            found.append(path)
            return
        if not isinstance(node, dict):
            return
        seg = pattern[i]
        if any(c in seg for c in "*?["):
            for k in node:
                if fnmatch.fnmatchcase(str(k), seg):
                    walk(node[k], i + 1, (*path, k))
        elif seg in node:
            walk(node[seg], i + 1, (*path, seg))

    walk(data, 0, ())
    return found


def get_path(data: Any, path: KeyPath) -> Any:
    node = data
    for k in path:
        if not isinstance(node, dict) or k not in node:
            return _MISSING
        node = node[k]
    return node


def declare(doc_locks: Mapping[str, Any] | None, where: Callable[[KeyPath], str], state: Merged) -> LockSet:
    """Compile a document's ``locks:`` section; floors are taken from ``state`` (the effective
    policy once the declaring document is merged). A path that matches nothing is an error:
    a typo must not leave a setting unlocked."""
    out = LockSet()
    if not doc_locks:
        return out
    view = effective_view(state.data)
    problems = []
    for kind in KINDS:
        for i, entry in enumerate(doc_locks.get(kind) or []):
            pattern = tuple(entry) if isinstance(entry, list) else tuple(str(entry).split("."))
            src = where(("locks", kind, i))
            patterns = [pattern] + ([IMPLIED[pattern]] if pattern in IMPLIED else [])
            floors = [(p, copy.deepcopy(get_path(view, p))) for pat in patterns for p in expand(pat, view)]
            if not floors:
                problems.append(f"{src}: locks.{kind}: {'.'.join(pattern)} matches no setting of the policy (nothing would be locked)")
                continue
            for p, v in floors:
                err = _kind_applies(kind, v)
                if err:
                    problems.append(f"{src}: locks.{kind}: {dotted(p)} {err}")
            out.locks.append(Lock(kind, pattern, src, tuple(floors)))
    wl = doc_locks.get("waivers") or {}
    for what in ("max_days", "allow_inline"):
        if what in wl:
            out.waiver_rules.append(WaiverRule(what, wl[what], where(("locks", "waivers", what))))
    for what in ("forbid_rules", "require_fields"):
        for i, v in enumerate(wl.get(what) or []):
            out.waiver_rules.append(WaiverRule(what, v, where(("locks", "waivers", what, i))))
    if problems:
        raise PolicyError(f"{where(('locks',))}: invalid locks", problems)
    return out


def _kind_applies(kind: str, value: Any) -> str | None:
    if kind == "only_stricter" and _order_of(value) is None:
        return f"is {json.dumps(value)}: only_stricter applies to severity thresholds and on_error"
    if kind in ("only_shrink", "only_grow") and not isinstance(value, (list, dict)):
        return f"is not a list or map: {kind} does not apply"
    if kind in ("only_increase", "only_decrease") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"is not a number: {kind} does not apply"
    if kind == "only_true" and not isinstance(value, bool):
        return "is not true/false: only_true does not apply"
    return None


def _order_of(value: Any) -> list[str] | None:
    for order in STRICTNESS.values():
        if value in order:
            return order
    return None


def _items(v: Any) -> set[str]:
    if isinstance(v, dict):
        return {json.dumps(k) for k in v}
    if isinstance(v, list):
        return {json.dumps(x, sort_keys=True, default=str) for x in v}
    return {json.dumps(v, sort_keys=True, default=str)}


def _violation(kind: str, floor: Any, value: Any) -> str | None:
    """Why ``value`` breaks ``kind`` relative to ``floor`` (None when it does not)."""
    if value is _MISSING:
        return None if kind != "locked" or floor is _MISSING else "was removed"
    shown = json.dumps(value, default=str)
    if kind == "locked":
        return None if value == floor else f"is {shown} but is locked at {json.dumps(floor, default=str)}"
    if kind == "only_stricter":
        order = _order_of(floor)
        if order is None or value not in order:
            return f"is {shown}: not comparable with the floor {json.dumps(floor)}"
        return None if order.index(value) <= order.index(floor) else f"is {shown}, looser than the floor {json.dumps(floor)} (it may only get stricter)"
    if kind == "only_shrink":
        extra = _items(value) - _items(floor)
        return f"adds {', '.join(sorted(extra))} (it may only shrink from {json.dumps(floor, default=str)})" if extra else None
    if kind == "only_grow":
        gone = _items(floor) - _items(value)
        return f"drops {', '.join(sorted(gone))} (it may only grow)" if gone else None
    if kind in ("only_increase", "only_decrease"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"is {shown}, not a number"
        worse = value < floor if kind == "only_increase" else value > floor
        return f"is {shown}, {'below' if kind == 'only_increase' else 'above'} the floor {floor} ({kind})" if worse else None
    if kind == "only_true":
        return f"is {shown} but may not be turned off" if floor is True and value is not True else None
    return None


def check(lockset: LockSet, data: Mapping[str, Any], source_of: Callable[[KeyPath], str]) -> list[str]:
    """Every lock violation in ``data``, as ``CHILD_FILE:LINE: key: why; locked by PARENT:LINE``."""
    view = effective_view(data)
    problems = []
    for lock in lockset.locks:
        seen: set[tuple[str, str]] = set()
        for path, floor in lock.floors:
            why = _violation(lock.kind, floor, get_path(view, path))
            if why and (source_of(path), why) not in seen:  # a gate inheriting the default: one line
                seen.add((source_of(path), why))
                problems.append(f"{source_of(path)}: {dotted(path)} {why} — {lock.kind} lock set by {lock.source}")
    return problems


def check_waivers(lockset: LockSet, waivers: list[dict], sources: list[str], inline: bool, today: _dt.date,
                  known_rules: Iterable[str] = ()) -> list[str]:
    """Waiver governance for the waivers one layer added. A waiver's rule glob is forbidden when
    some rule id could match both it and a ``forbid_rules`` glob (``?ODEL001`` against
    ``MODEL00*``: :func:`gates.core.matching.rules_overlap`). ``known_rules`` is accepted for
    callers that pass it; the overlap test is exact, so it adds nothing."""
    problems = []
    md = lockset.max_days()
    required = lockset.required_fields()
    forbidden = [r for r in lockset.waiver_rules if r.what == "forbid_rules"]
    no_inline = next((r for r in lockset.waiver_rules if r.what == "allow_inline" and r.value is False), None)
    for w, src in zip(waivers, sources):
        rule = str(w.get("rule", ""))
        if inline and no_inline:
            problems.append(f"{src}: waiver for {rule}: waivers must live in the waiver file (.mlsec-gates-waivers.yml), not in a policy — allow_inline: false set by {no_inline.source}")
        for f in forbidden:
            if rules_overlap(rule, str(f.value)):
                problems.append(f"{src}: waiver for {rule}: rules matching {f.value!r} may not be waived — forbid_rules set by {f.source}")
        for name, lsrc in required.items():
            if not str(w.get(name) or "").strip():
                problems.append(f"{src}: waiver for {rule}: the field {name!r} is required — require_fields set by {lsrc}")
        if md is not None:
            try:
                days = (_dt.date.fromisoformat(str(w.get("expires"))) - today).days
            except ValueError:
                continue
            if days > md[0]:
                problems.append(f"{src}: waiver for {rule}: expires in {days} days, more than the {md[0]}-day maximum — max_days set by {md[1]}")
    return problems


def merge_locksets(sets: Iterable[LockSet]) -> LockSet:
    out = LockSet()
    for s in sets:
        out.locks.extend(s.locks)
        out.waiver_rules.extend(s.waiver_rules)
    return out


def enforce_override(lockset: LockSet | None, data: Mapping[str, Any], label: str) -> None:
    """Command-line overrides obey the locks too: they may tighten, never loosen."""
    if not lockset:
        return
    problems = check(lockset, data, lambda _p: label)
    if problems:
        raise PolicyError(f"{label} would loosen a locked setting", problems)
