"""An OSV database on disk, and this project's OSV range matcher.

Accepted layouts: a directory of OSV ``.json``/``.yaml`` files, a ``.json`` or ``.json.gz``
array of records, or OSV's per-ecosystem ``all.zip`` export. Records are indexed by canonical
package name once, so a lookup touches only the records that name the package.

Matching follows the OSV schema's evaluation algorithm: a version is affected when it is listed in
``versions`` or falls in an ``ECOSYSTEM`` (or ``SEMVER``) range, with events sorted by version:
``introduced`` opens, ``fixed`` closes (exclusive), ``last_affected`` closes (inclusive) and
``limit`` caps the range. Versions are compared with ``packaging``. ``GIT`` ranges name commits and
are not evaluated (the PyPA records that carry them also carry ``ECOSYSTEM`` ranges).

Unparseable ranges are errors, never "not affected": a record whose range for the queried package
cannot be evaluated raises :class:`RangeError` and the gate fails closed. The one known case in
the PyPA database is steam's PYSEC-2019-125 (``fixed: 2019-09-12``, a date, not PEP 440); the gate
reports it as an error naming the record until the user ignores that advisory id in the policy
(with a reason and an expiry), which is the deliberate decision the data forces on a steam user.
Non-PEP 440 strings in an explicit ``versions`` list are compared as exact strings instead: they
can only ever equal a version pinned with ``===``, so they cannot hide a match.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from gates.core.errors import InputError

MAX_DB_BYTES = 1 << 30  # decompressed
MAX_RECORD_BYTES = 16 << 20
RANGE_TYPES = ("ECOSYSTEM", "SEMVER")


class RangeError(ValueError):
    """An affected range for the queried package cannot be evaluated."""

    def __init__(self, record_id: str, package: str, detail: str, aliases: tuple[str, ...] = ()) -> None:
        self.record_id, self.package, self.detail, self.aliases = record_id, package, detail, aliases
        super().__init__(f"{record_id}: {detail}")


@dataclass(frozen=True)
class Match:
    """A record that affects a version, with the fix events of the matching package entries."""

    record: dict[str, Any]
    fixed: tuple[str, ...]

    @property
    def id(self) -> str:
        return str(self.record["id"])


@dataclass
class OsvDatabase:
    """Records indexed by canonical PyPI package name."""

    source: str
    by_package: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    records: int = 0
    withdrawn: int = 0
    newest_modified: str | None = None

    # ---- loading -----------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path, max_bytes: int = MAX_DB_BYTES) -> "OsvDatabase":
        db = cls(source=str(path))
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".json", ".yaml", ".yml") and p.is_file())
            if not files:
                raise InputError(str(path), "no OSV .json/.yaml files in the database directory")
            total = 0
            for f in files:
                size = f.stat().st_size
                total += size
                if size > MAX_RECORD_BYTES or total > max_bytes:
                    raise InputError(str(f), "OSV file too large")
                db._add_doc(_decode(f.read_bytes(), f.name, str(f)), str(f))
        elif path.is_file():
            name = path.name.lower()
            if name.endswith(".zip"):
                db._load_zip(path, max_bytes)
            elif name.endswith((".json.gz", ".gz")):
                with gzip.open(path, "rb") as fh:
                    data = _bounded_read(fh, max_bytes, str(path))
                db._add_doc(_decode(data, name[:-3], str(path)), str(path))
            elif name.endswith((".json", ".yaml", ".yml")):
                with path.open("rb") as fh:
                    data = _bounded_read(fh, max_bytes, str(path))
                db._add_doc(_decode(data, name, str(path)), str(path))
            else:
                raise InputError(str(path), "unknown OSV database format (expected a directory, .json, .json.gz or all.zip)")
        else:
            raise InputError(str(path), "OSV database not found")
        if db.records == 0:
            raise InputError(str(path), "the OSV database holds no records")
        return db

    def _load_zip(self, path: Path, max_bytes: int) -> None:
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            raise InputError(str(path), "not a readable zip archive") from None
        with zf:
            total = actual = 0
            for info in zf.infolist():
                if info.is_dir() or not info.filename.lower().endswith((".json", ".yaml", ".yml")):
                    continue
                total += info.file_size
                if info.file_size > MAX_RECORD_BYTES or total > max_bytes:
                    raise InputError(f"{path}!{info.filename}", "zip member too large (declared size above the limit)")
                with zf.open(info) as fh:
                    data = _bounded_read(fh, MAX_RECORD_BYTES, f"{path}!{info.filename}")
                actual += len(data)  # declared sizes can lie: count what was really inflated
                if actual > max_bytes:
                    raise InputError(f"{path}!{info.filename}", "zip members inflate past the size limit")
                self._add_doc(_decode(data, info.filename, f"{path}!{info.filename}"), f"{path}!{info.filename}")

    def _add_doc(self, doc: Any, where: str) -> None:
        items = doc if isinstance(doc, list) else [doc]
        for i, rec in enumerate(items):
            if not isinstance(rec, dict) or not isinstance(rec.get("id"), str):
                raise InputError(where, f"record {i} is not an OSV object with an 'id'")
            affected = rec.get("affected") or []
            if not isinstance(affected, list):
                raise InputError(where, f"{rec['id']}: 'affected' is not a list")
            self.records += 1
            mod = rec.get("modified")
            if isinstance(mod, str) and (self.newest_modified is None or _ts(mod) > _ts(self.newest_modified)):
                self.newest_modified = mod
            if rec.get("withdrawn"):
                self.withdrawn += 1
                continue  # withdrawn: never matched
            names = set()
            for a in affected:
                pkg = a.get("package") if isinstance(a, dict) else None
                if isinstance(pkg, dict) and str(pkg.get("ecosystem", "")).split(":")[0] == "PyPI" and isinstance(pkg.get("name"), str):
                    names.add(canonicalize_name(pkg["name"]))
            for n in names:
                self.by_package.setdefault(n, []).append(rec)

    # ---- queries -----------------------------------------------------------------------------
    def records_for(self, name: str) -> list[dict[str, Any]]:
        return self.by_package.get(canonicalize_name(name), [])

    def find(self, ident: str) -> dict[str, Any] | None:
        """A record by id or alias (used to add severities to online results)."""
        if not hasattr(self, "_by_id"):
            idx: dict[str, dict[str, Any]] = {}
            for recs in self.by_package.values():
                for r in recs:
                    for k in (r["id"], *(r.get("aliases") or [])):
                        idx.setdefault(k, r)
            self._by_id = idx
        return self._by_id.get(ident)

    def matches(self, name: str, version: str) -> tuple[list[Match], list[RangeError]]:
        """Records affecting ``name`` at ``version``, and the records whose range for the package
        could not be evaluated (the caller fails closed on those unless the policy ignores them)."""
        out, errors = [], []
        for rec in self.records_for(name):
            try:
                hit, fixed = affects(rec, name, version)
            except RangeError as exc:
                errors.append(exc)
                continue
            if hit:
                out.append(Match(rec, fixed))
        return out, errors

    def safe_version(self, name: str, version: str) -> str | None:
        """Smallest fix version above ``version`` that no record for the package affects."""
        cur = parse_version(version)
        if cur is None:
            return None
        candidates: set[Version] = set()
        for rec in self.records_for(name):
            for a in _entries(rec, name):
                for r in a.get("ranges") or []:
                    if r.get("type") in RANGE_TYPES:
                        for e in r.get("events") or []:
                            v = parse_version(e.get("fixed", "")) if isinstance(e, dict) and "fixed" in e else None
                            if v is not None and v > cur:
                                candidates.add(v)
        for v in sorted(candidates):
            try:
                if not any(affects(rec, name, str(v))[0] for rec in self.records_for(name)):
                    return str(v)
            except RangeError:
                return None
        return None


def _ts(s: str) -> str:
    """OSV timestamps as sortable text: ``2023-11-07 20:24:23+00:00`` and ``2023-11-07T20:24:23Z``
    both appear in the PyPA export."""
    return s.replace(" ", "T").replace("+00:00", "Z")


def _bounded_read(fh: io.BufferedIOBase | Any, limit: int, where: str) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise InputError(where, f"OSV data larger than the {limit}-byte limit (decompressed)")
    return data


def _decode(data: bytes, name: str, where: str) -> Any:
    try:
        if name.lower().endswith((".yaml", ".yml")):
            return yaml.safe_load(data.decode("utf-8"))
        return json.loads(data)
    except (ValueError, yaml.YAMLError, UnicodeDecodeError):
        raise InputError(where, "not valid OSV JSON/YAML") from None


def parse_version(s: str) -> Version | None:
    try:
        return Version(s)
    except (InvalidVersion, TypeError):
        return None


def _entries(rec: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    cn = canonicalize_name(name)
    for a in rec.get("affected") or []:
        pkg = a.get("package") or {}
        if str(pkg.get("ecosystem", "")).split(":")[0] == "PyPI" and canonicalize_name(str(pkg.get("name", ""))) == cn:
            yield a


def affects(rec: dict[str, Any], name: str, version: str) -> tuple[bool, tuple[str, ...]]:
    """Whether ``rec`` affects ``name==version``, and the record's fix versions for the package
    (every ``fixed`` event of its ranges, sorted: several release lines can each have a fix)."""
    c = _compiled(rec, name)
    rid = str(rec.get("id"))
    aliases = tuple(a for a in rec.get("aliases") or [] if isinstance(a, str))
    if c.error is not None:
        raise RangeError(rid, name, c.error, aliases)
    fixed = tuple(str(f) for f in c.fixed)
    v = parse_version(version)
    if c.ranges:
        if v is None:
            raise RangeError(rid, name, f"the audited version {version!r} is not a PEP 440 version and cannot be compared with the range", aliases)
        if any(_in_range(events, limits, v) for events, limits in c.ranges):
            return True, fixed
    if version in c.listed_raw:
        return True, fixed
    if v is not None:
        key = _release_key(str(v))
        if (key is not None and key in c.listed_keys) or v in c.listed_other:
            return True, fixed
    return False, fixed


@dataclass(frozen=True)
class _Compiled:
    """One record's entries for one package, parsed once: explicit versions, sorted range events
    (``None`` stands for ``introduced: 0``), limits, fix versions, or why they cannot be parsed."""

    listed_raw: frozenset[str] = frozenset()
    listed_keys: frozenset[tuple[int, ...]] = frozenset()  # plain N.N.N versions, trailing zeros dropped
    listed_other: frozenset[Version] = frozenset()  # every other PEP 440 version, parsed
    ranges: tuple[tuple[tuple[tuple[Version | None, int, str], ...], tuple[Version, ...]], ...] = ()
    fixed: tuple[Version, ...] = ()
    error: str | None = None


_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 1, "limit": 2}
_CACHE_KEY = "\x00mlsec-gates-compiled"


def _compiled(rec: dict[str, Any], name: str) -> _Compiled:
    cn = canonicalize_name(name)
    cache = rec.setdefault(_CACHE_KEY, {})
    if cn not in cache:
        try:
            cache[cn] = _compile(rec, cn)
        except RangeError as exc:
            cache[cn] = _Compiled(error=exc.detail)
    return cache[cn]


def _compile(rec: dict[str, Any], name: str) -> _Compiled:
    rid = str(rec.get("id"))
    raw: set[str] = set()
    keys: set[tuple[int, ...]] = set()
    other: set[Version] = set()
    ranges = []
    fixed: set[Version] = set()
    for a in _entries(rec, name):
        vs = a.get("versions") or []
        if not isinstance(vs, list):
            raise RangeError(rid, name, "'versions' is not a list")
        for x in vs:
            if isinstance(x, str):
                raw.add(x)
                key = _release_key(x)
                if key is not None:
                    keys.add(key)
                else:
                    pv = parse_version(x)
                    if pv is not None:
                        other.add(pv)
        for r in a.get("ranges") or []:
            if not isinstance(r, dict):
                raise RangeError(rid, name, "a range is not an object")
            if r.get("type") not in RANGE_TYPES:
                continue
            events, limits = _parse_events(rid, name, r.get("events"))
            fixed.update(pv for pv, _, kind in events if kind == "fixed" and pv is not None)
            ranges.append((events, limits))
    return _Compiled(frozenset(raw), frozenset(keys), frozenset(other), tuple(ranges), tuple(sorted(fixed)))


_PLAIN = re.compile(r"^\d+(?:\.\d+)*$")


def _release_key(s: str) -> tuple[int, ...] | None:
    """PEP 440 equality for plain release versions without parsing: ``1.0`` == ``1.0.0`` ==
    ``01.0``. Explicit ``versions`` lists hold thousands of these; parsing each is the slow part."""
    if not _PLAIN.match(s):
        return None
    parts = [int(p) for p in s.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _parse_events(rid: str, name: str, events: Any) -> tuple[tuple[tuple[Version | None, int, str], ...], tuple[Version, ...]]:
    if not isinstance(events, list) or not events:
        raise RangeError(rid, name, "a range has no events")
    parsed: list[tuple[Version | None, int, str]] = []
    limits: list[Version] = []
    for e in events:
        if not isinstance(e, dict) or len(e) != 1:
            raise RangeError(rid, name, "a range event is not a single key/value")
        (kind, value), = e.items()
        if kind not in _ORDER or not isinstance(value, str):
            raise RangeError(rid, name, f"unknown range event {kind!r}")
        if kind == "introduced" and value == "0":
            parsed.append((None, 0, kind))
            continue
        pv = parse_version(value)
        if pv is None:
            raise RangeError(rid, name, f"{kind} version {value!r} is not a PEP 440 version")
        if kind == "limit":
            limits.append(pv)
        else:
            parsed.append((pv, _ORDER[kind], kind))
    # OSV: evaluate events in version order (the PyPA data lists some out of order)
    parsed.sort(key=lambda p: (p[0] is not None, p[0] or _ZERO, p[1]))
    return tuple(parsed), tuple(limits)


_ZERO = Version("0")


def _in_range(events: tuple[tuple[Version | None, int, str], ...], limits: tuple[Version, ...], v: Version) -> bool:
    if limits and not any(v < lim for lim in limits):
        return False
    affected = False
    for pv, _, kind in events:
        if kind == "introduced":
            if pv is None or v >= pv:
                affected = True
        elif kind == "fixed":
            if pv is not None and v >= pv:
                affected = False
        elif pv is not None and v > pv:  # last_affected
            affected = False
    return affected
