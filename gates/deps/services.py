"""Vulnerability services: where advisories come from (pip-audit's ``VulnerabilityService``).

- :class:`LocalOsvService` matches against an OSV database on disk with this project's matcher.
  It makes no network connection at all.
- :class:`PipAuditService` runs the real ``pip-audit`` (``pypi`` or ``osv`` service, optionally an
  ``--osv-url`` mirror) on a generated requirements file of exact pins, reads its JSON report and
  fails closed on everything pip-audit itself lets pass: skipped dependencies, a missing or
  unparseable report, an unreachable service, dependencies absent from the report.
"""

from __future__ import annotations

import abc
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from packaging.version import Version

from gates.core.hygiene import clean

from .records import Advisory, AuditReport, Dependency, PackageResult
from .osv import OsvDatabase, RangeError, parse_version
from .severity import record_severity

#: pip-audit is pinned in pyproject.toml; its JSON format is the contract this adapter reads
PIP_AUDIT_VERSION = "2.10.1"


def pip_audit_version() -> str:
    """The installed pip-audit's version (the report names it); ServiceError when it is absent."""
    import importlib.metadata

    try:
        return importlib.metadata.version("pip-audit")
    except importlib.metadata.PackageNotFoundError:
        raise ServiceError("pip-audit is not installed (pip install 'pip-audit==" + PIP_AUDIT_VERSION + "')") from None
MAX_REPORT_BYTES = 64 << 20


class ServiceError(Exception):
    """The service could not give an answer; the gate reports it as an error (exit 2)."""


class VulnerabilityService(abc.ABC):
    name: str

    @abc.abstractmethod
    def audit(self, deps: Sequence[Dependency]) -> AuditReport:
        """Advisories for each auditable dependency. Raise :class:`ServiceError` when the
        service cannot answer for the batch."""


def advisory_from_record(rec: dict[str, Any], fixed: Sequence[str]) -> Advisory:
    sev = record_severity(rec)
    summary = rec.get("summary") or (rec.get("details") or "").strip().split("\n")[0]
    return Advisory(
        id=str(rec["id"]), aliases=tuple(a for a in rec.get("aliases") or [] if isinstance(a, str)),
        summary=str(summary)[:300], fixed_versions=tuple(fixed), severity=sev.label, score=sev.score,
        vector=sev.vector, severity_source=sev.source, modified=rec.get("modified"),
    )


@dataclass(frozen=True)
class Unevaluable:
    """A record whose range for the audited package cannot be evaluated (see ``osv.RangeError``)."""

    dependency: Dependency
    error: RangeError


class LocalOsvService(VulnerabilityService):
    name = "local"

    def __init__(self, db: OsvDatabase) -> None:
        self.db = db
        self.unevaluable: list[Unevaluable] = []

    def audit(self, deps: Sequence[Dependency]) -> AuditReport:
        results = []
        for d in deps:
            assert d.version is not None
            matches, errors = self.db.matches(d.name, d.version)
            self.unevaluable.extend(Unevaluable(d, e) for e in errors)
            advisories = tuple(advisory_from_record(m.record, m.fixed) for m in matches)
            safe = self.db.safe_version(d.name, d.version) if advisories else None
            results.append(PackageResult(d, advisories, safe))
        return AuditReport(
            source=f"local OSV database {self.db.source}", results=tuple(results), database_modified=self.db.newest_modified,
        )


class PipAuditService(VulnerabilityService):
    """The real pip-audit as a subprocess (its Python API is private; its JSON is stable).

    Exact pins are written to a temporary requirements file and audited with ``--no-deps
    --disable-pip``: no virtualenv is created and nothing is resolved or downloaded. With
    ``resolve=True`` the user's own requirements files are passed instead and pip-audit resolves
    them in a temporary virtualenv (slow, needs an index).
    """

    def __init__(self, service: str = "pypi", osv_url: str | None = None, timeout: int = 15,
                 resolve_files: Sequence[Path] = (), severity_lookup: Callable[[str, Sequence[str]], dict[str, Any] | None] | None = None) -> None:
        if service not in ("pypi", "osv"):
            raise ValueError(service)
        self.name = service
        self.osv_url = osv_url
        self.timeout = timeout
        self.resolve_files = list(resolve_files)
        self.severity_lookup = severity_lookup
        parts = urlsplit(osv_url or "")
        # pip-audit's own messages quote the URL's path and query without the scheme
        self._secrets = [x for x in (parts.password, parts.username, parts.query) if x]

    def _scrub(self, text: str) -> str:
        """``text`` (pip-audit's own words, which may quote a requirements or lock file line) made
        safe for a report: the OSV URL's credentials and query removed, then the shared hygiene
        step (control characters escaped, credential and PII shapes redacted)."""
        for secret in self._secrets:
            text = text.replace(secret, "…")
        return clean(text)

    def command(self, req_files: Sequence[Path], out: Path, cache: Path) -> list[str]:
        cmd = [sys.executable, "-m", "pip_audit", "--format", "json", "--output", str(out), "--progress-spinner", "off",
               "--timeout", str(self.timeout), "--cache-dir", str(cache), "--desc", "on", "--aliases", "on",
               "--vulnerability-service", self.name]
        for f in req_files:
            cmd += ["-r", str(f)]
        if not self.resolve_files:
            cmd += ["--no-deps", "--disable-pip"]
        if self.osv_url:
            cmd += ["--osv-url", self.osv_url]
        return cmd

    def audit(self, deps: Sequence[Dependency]) -> AuditReport:
        label = f"pip-audit {pip_audit_version()} ({self.name}{' via ' + self._scrub(self.osv_url) if self.osv_url else ''})"
        if not deps and not self.resolve_files:
            return AuditReport(source=label)
        results: list[PackageResult] = []
        # pip-audit refuses one file with two pins of the same name: audit in rounds
        rounds: list[dict[tuple[str, str], list[Dependency]]] = []
        for d in deps:
            key = (d.canonical_name, str(d.version))
            for r in rounds:
                if key in r or all(k[0] != key[0] for k in r):
                    r.setdefault(key, []).append(d)
                    break
            else:
                rounds.append({key: [d]})
        if self.resolve_files:
            rounds = [{}]
        for r in rounds:
            results.extend(self._run(r, label))
        return AuditReport(source=label, results=tuple(results))

    def _run(self, batch: dict[tuple[str, str], list[Dependency]], label: str) -> list[PackageResult]:
        with tempfile.TemporaryDirectory(prefix="mlsec-gates-pip-audit-") as tmp:
            t = Path(tmp)
            out = t / "report.json"
            if self.resolve_files:
                files = self.resolve_files
            else:
                req = t / "requirements.txt"
                req.write_text("".join(f"{name}=={ver}\n" for name, ver in batch), encoding="utf-8")
                files = [req]
            env = dict(os.environ, PIP_NO_INPUT="1", PYTHONIOENCODING="utf-8")
            try:
                proc = subprocess.run(self.command(files, out, t / "cache"), capture_output=True, text=True, env=env,
                                      timeout=max(60, self.timeout * (len(batch) + 4)), stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise ServiceError(f"{label} timed out") from None
            except OSError as exc:
                raise ServiceError(f"cannot run pip-audit: {exc.strerror or type(exc).__name__}") from None
            if proc.returncode not in (0, 1) or not out.is_file():
                raise ServiceError(f"{label} failed (exit {proc.returncode}) without a report: {self._scrub(_error_text(proc.stderr))[:400]}")
            if out.stat().st_size > MAX_REPORT_BYTES:
                raise ServiceError(f"{label} report is larger than {MAX_REPORT_BYTES} bytes")
            try:
                report = json.loads(out.read_text(encoding="utf-8"))
                entries = report["dependencies"]
                if not isinstance(entries, list):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise ServiceError(f"{label} wrote an unparseable report") from None
        return self._results(entries, batch, label)

    def _results(self, entries: list[Any], batch: dict[tuple[str, str], list[Dependency]], label: str) -> list[PackageResult]:
        from packaging.utils import canonicalize_name

        seen: set[tuple[str, str]] = set()
        out: list[PackageResult] = []
        by_name = {k[0]: v for k, v in batch.items()}
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("name"), str):
                raise ServiceError(f"{label} report has a malformed dependency entry")
            name = canonicalize_name(e["name"])
            if "skip_reason" in e:
                deps = by_name.get(name) or [Dependency(e["name"], None, Path("."), kind="pinned", source_format="pip-audit")]
                for d in deps:
                    out.append(PackageResult(d, (), None, skip_reason=self._scrub(str(e.get("skip_reason")))[:300]))
                seen.update(k for k in batch if k[0] == name)
                continue
            version = str(e.get("version", ""))
            key = (name, version)
            deps = batch.get(key) or ([] if batch else [Dependency(e["name"], version, Path("."), kind="pinned", source_format="pip-audit")])
            if not deps:
                # pip-audit may normalise versions (1.0 -> 1.0.0 never happens, but be exact)
                alt = [k for k in batch if k[0] == name and parse_version(k[1]) == parse_version(version)]
                if not alt:
                    raise ServiceError(f"{label} reported {name} {version}, which was not audited")
                key = alt[0]
                deps = batch[key]
            seen.add(key)
            advisories = []
            for v in e.get("vulns") or []:
                advisories.append(self._advisory(v, label))
            safe = _safe_from_fixes(version, advisories)
            for d in deps:
                out.append(PackageResult(d, tuple(advisories), safe))
        missing = [k for k in batch if k not in seen]
        if missing:
            raise ServiceError(f"{label} report does not mention {len(missing)} audited dependencies (e.g. {missing[0][0]})")
        return out

    def _advisory(self, v: Any, label: str) -> Advisory:
        if not isinstance(v, dict) or not isinstance(v.get("id"), str):
            raise ServiceError(f"{label} report has a malformed vulnerability entry")
        aliases = tuple(a for a in v.get("aliases") or [] if isinstance(a, str))
        fixes = tuple(str(x) for x in v.get("fix_versions") or [])
        rec = self.severity_lookup(v["id"], aliases) if self.severity_lookup else None
        if rec is not None:
            a = advisory_from_record(rec, fixes)
            return Advisory(v["id"], aliases or a.aliases, str(v.get("description") or a.summary)[:300], fixes, a.severity, a.score,
                            a.vector, a.severity_source, a.modified)
        return Advisory(v["id"], aliases, str(v.get("description") or "")[:300], fixes)


def _safe_from_fixes(version: str, advisories: Sequence[Advisory]) -> str | None:
    """Smallest upgrade that clears every advisory: for each, its smallest fix above the current
    version; the answer is the largest of those (None when one advisory has no fix)."""
    cur = parse_version(version)
    if cur is None or not advisories:
        return None
    needed: list[Version] = []
    for a in advisories:
        fixes = sorted(v for v in (parse_version(x) for x in a.fixed_versions) if v is not None and v > cur)
        if not fixes:
            return None
        needed.append(fixes[0])
    return str(max(needed))


def _error_text(text: str) -> str:
    """pip-audit's error: from its last ``ERROR`` line on (at most three lines, joined), else its
    last line. Raw: the caller passes it through :meth:`PipAuditService._scrub`."""
    lines = [ln.strip() for ln in (text or "").strip().splitlines() if ln.strip()]
    if not lines:
        return "no error output"
    starts = [i for i, ln in enumerate(lines) if "ERROR" in ln]
    return " / ".join(lines[starts[-1]:starts[-1] + 3]) if starts else lines[-1]


def osv_record_fetcher(osv_url: str | None, timeout: int) -> Callable[[str, Sequence[str]], dict[str, Any] | None]:
    """Fetch full OSV records (``GET {base}/v1/vulns/{id}``) to score pip-audit's results, which
    carry no severity. A failed fetch returns None: the advisory's severity is then ``unknown``,
    which the policy treats as high by default (fail closed, not open)."""
    import requests

    base = (osv_url or "https://api.osv.dev/v1/query").rstrip("/")
    for suffix in ("/v1/query", "/v1/querybatch"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    session = requests.Session()
    cache: dict[str, dict[str, Any] | None] = {}

    def fetch(ident: str, aliases: Sequence[str]) -> dict[str, Any] | None:
        if ident in cache:
            return cache[ident]
        rec = None
        try:
            r = session.get(f"{base}/v1/vulns/{ident}", timeout=timeout)
            if r.status_code == 200 and len(r.content) < (8 << 20):
                data = r.json()
                rec = data if isinstance(data, dict) and data.get("id") else None
        except (requests.RequestException, ValueError):
            rec = None
        cache[ident] = rec
        return rec

    return fetch
