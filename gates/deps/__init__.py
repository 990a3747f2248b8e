"""The deps gate: known vulnerabilities in the Python dependencies, failing closed.

Inputs (requirements files, pyproject.toml, pylock.toml, uv.lock, poetry.lock, an installed
environment) become :class:`~gates.deps.model.Dependency` records; a vulnerability service
(``local`` OSV database on disk, or pip-audit's ``pypi``/``osv`` services) turns the pinned ones
into advisories; the gate scores them (CVSS, GHSA label, else ``unknown``), applies the policy's
ignores and reports one finding per dependency and advisory. Anything the gate could not check
(an unparseable file, a skipped dependency, an unreachable service, a range it cannot evaluate)
is an error (exit 2), never a pass.
"""

from __future__ import annotations

import argparse
import datetime as _dt
from pathlib import Path
from typing import Any, Sequence

from packaging.utils import canonicalize_name

from gates.core.errors import InputError
from gates.core.findings import Rule, Severity
from gates.core.gate import Gate, GateContext
from gates.core.hygiene import clean_name

from . import inputs
from .ignores import Ignore, parse_ignores
from .model import Advisory, Dependency, PackageResult
from .severity import to_core

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("DEPS001", "Dependency with a known vulnerability", Severity.HIGH,
             "An installed version is affected by a published advisory; the severity is the advisory's (CVSS base score, else GHSA's rating, else the policy's `unknown_severity`).",
             "Upgrade to the version in `safe_version` (the smallest release that clears every advisory for the package), or add a policy ignore with a reason and an expiry."),
        Rule("DEPS002", "Requirement not pinned to one version", Severity.HIGH,
             "An unpinned, URL, VCS, editable or path requirement cannot be audited by version, and what gets installed can change between builds.",
             "Pin an exact version (`name==X.Y.Z`) from a lock file or `pip-compile`; depend on published releases instead of URLs."),
        Rule("DEPS003", "Requirement without a hash", Severity.HIGH,
             "The policy requires hashes (`require_hashes`): without one, a replaced or tampered artifact would install unnoticed.",
             "Generate hashes (`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`) and install with `--require-hashes`."),
        Rule("DEPS004", "Advisory ignore expired", Severity.HIGH,
             "The policy ignore's expiry date has passed, so the advisory it covered blocks again and the exception needs a fresh decision.",
             "Upgrade the package, or renew the ignore with a new `expires` date and an updated reason after review."),
        Rule("DEPS005", "Advisory ignore matches nothing", Severity.LOW,
             "The policy ignores an advisory no audited dependency has (fixed, removed or mistyped): dead exceptions hide future mistakes.",
             "Delete the ignore from the policy."),
        Rule("DEPS006", "Dependency not audited", Severity.LOW,
             "The requirement is not pinned to one version (and `require_pins` is off), so no advisory lookup was possible for it.",
             "Pin it, or audit the lock file or installed environment instead of the loose requirement."),
        Rule("DEPS007", "Advisory ignored by policy", Severity.INFO,
             "The advisory affects the dependency but a current policy ignore covers it; listed so the exception stays visible.",
             "Remove the ignore once the package is upgraded."),
    )
}

SOURCES = ("auto", "local", "pypi", "osv")
_IGNORE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "reason", "expires"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "description": "Advisory id or any of its aliases (PYSEC-…, GHSA-…, CVE-…)."},
        "reason": {"type": "string", "minLength": 1},
        "expires": {"type": "string", "format": "date", "description": "YYYY-MM-DD; after this date the ignore blocks."},
        "package": {"type": "string", "minLength": 1, "description": "Only for this package."},
        "version": {"type": "string", "minLength": 1, "description": "Only for this version (or PEP 440 specifier)."},
    },
}
_SOURCE_SPEC = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "additionalProperties": False, "required": ["path"],
         "properties": {"path": {"type": "string", "minLength": 1}, "format": {"enum": list(inputs.FORMATS)}}},
    ]
}


class DepsGate(Gate):
    name = "deps"
    title = "Dependency vulnerabilities"
    description = "Known vulnerabilities in Python dependencies (OSV database on disk, or pip-audit's PyPI/OSV services), pins, hashes and expiring ignores."
    rules = RULES
    default_paths = inputs.DISCOVERY_GLOBS
    options_schema = {
        "source": {"enum": list(SOURCES), "description": "Advisory source: local (OSV database on disk, offline), pypi or osv (pip-audit, online); auto = local when `database` is set, else pypi."},
        "database": {"type": "string", "minLength": 1, "description": "OSV database for `local`: a directory of OSV files, a .json/.json.gz array, or OSV's all.zip."},
        "osv_url": {"type": "string", "minLength": 1, "description": "OSV /v1/query endpoint (mirror) for the `osv` source."},
        "sources": {"type": "array", "items": _SOURCE_SPEC, "description": "Dependency inputs relative to the root (default: discover requirements*.txt, pyproject.toml, pylock.toml, uv.lock, poetry.lock)."},
        "require_pins": {"type": "boolean", "description": "Every requirement must pin one version (lists all unpinned/URL/VCS/editable ones)."},
        "require_hashes": {"type": "boolean", "description": "Every requirement must carry a hash."},
        "internal_packages": {"type": "array", "items": {"type": "string", "minLength": 1}, "description": "Private packages: never sent to online services, never looked up, allowed to be absent from public databases."},
        "ignores": {"type": "array", "items": _IGNORE_SCHEMA},
        "only_fixable": {"type": "boolean", "description": "Advisories without a fixed version are reported but do not block."},
        "unknown_severity": {"$ref": "#/$defs/severity", "description": "Severity for advisories with no CVSS vector or rating (default high)."},
        "resolve": {"type": "boolean", "description": "pip-audit sources: let pip-audit resolve requirements files in a temporary virtualenv (slow, needs an index)."},
        "timeout": {"type": "integer", "minimum": 1, "maximum": 600, "description": "Network timeout in seconds for online sources."},
        "severity_lookup": {"type": "boolean", "description": "Online sources: fetch OSV records (/v1/vulns/ID) to score pip-audit's results (default true)."},
    }
    default_options = {
        "source": "auto", "require_pins": True, "require_hashes": False, "internal_packages": [], "ignores": [],
        "only_fixable": False, "unknown_severity": "high", "resolve": False, "timeout": 15, "severity_lookup": True,
    }
    epilog = """examples:
  mlsec-gates deps                                          # discover dependency files under the current directory
  mlsec-gates deps --requirements requirements.txt --source local --database osv/all.zip
  mlsec-gates deps --requirements requirements.txt --source osv --osv-url https://osv.internal/v1/query
  mlsec-gates deps uv.lock --source pypi
  mlsec-gates deps db update --dest ~/.cache/osv           # download OSV's PyPI export for offline runs
"""

    # ---- CLI ---------------------------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--requirements", "-r", action="append", metavar="FILE", help="requirements file to audit (repeatable; like a PATH)")
        parser.add_argument("--source", choices=SOURCES, help="advisory source (overrides the policy)")
        parser.add_argument("--database", metavar="PATH", help="OSV database for --source local (directory, .json/.json.gz, all.zip)")
        parser.add_argument("--osv-url", metavar="URL", help="OSV /v1/query endpoint for --source osv")
        parser.add_argument("--installed", metavar="DIR", help="audit an installed environment (site-packages or virtualenv root)")
        parser.add_argument("--require-hashes", action="store_true", default=None, help="every requirement must carry a hash")
        parser.add_argument("--no-require-pins", dest="require_pins", action="store_false", default=None, help="report unpinned requirements as not audited instead of blocking")

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if getattr(args, "source", None):
            out["source"] = args.source
        if getattr(args, "database", None):
            out["database"] = str(Path(args.database).resolve())
        if getattr(args, "osv_url", None):
            out["osv_url"] = args.osv_url
            out.setdefault("source", "osv")  # a mirror URL means the osv service
        if getattr(args, "require_hashes", None):
            out["require_hashes"] = True
        if getattr(args, "require_pins", None) is False:
            out["require_pins"] = False
        srcs = [{"path": str(Path(r).resolve()), "format": "requirements"} for r in getattr(args, "requirements", None) or []]
        if getattr(args, "installed", None):
            srcs.append({"path": str(Path(args.installed).resolve()), "format": "installed"})
        if srcs:
            out["sources"] = srcs  # replaces the policy's list; combined with PATH arguments
            out["_cli_sources"] = True
        return out

    def add_commands(self, subparsers: Any) -> None:
        """``mlsec-gates deps db update --dest DIR [--url URL]``. The gate's own parser takes PATH
        arguments, so ``db update`` is recognised there and dispatched before the gate runs."""
        from .dbupdate import DEFAULT_MAX_MB, DEFAULT_URL

        gp = subparsers.choices.get(self.name)
        if gp is None:
            return
        g = gp.add_argument_group("deps db update (download OSV's PyPI export for --source local)")
        g.add_argument("--dest", metavar="DIR", help="directory (or .zip path) to write all.zip to")
        g.add_argument("--url", default=DEFAULT_URL, help=f"export URL (default: {DEFAULT_URL})")
        g.add_argument("--download-timeout", type=float, default=60.0, metavar="SECONDS")
        g.add_argument("--max-mb", type=int, default=DEFAULT_MAX_MB, help="size cap for the download (MB)")
        run_gate = gp.get_default("func")

        def dispatch(args: argparse.Namespace) -> int:
            if list(args.paths[:1]) == ["db"]:
                return _cmd_db(args)
            return run_gate(args)

        gp.set_defaults(func=dispatch)

    def skip_reason(self, ctx: GateContext) -> str | None:
        from gates.core import files as _files

        if ctx.options.get("sources"):
            return None
        # walk, not ctx.discover(): discover() records escaped symlinks, and run() discovers again
        found = _files.walk(ctx.root, tuple(ctx.options.get("paths") or self.default_paths), tuple(ctx.options.get("exclude") or ()))
        if found.files or found.escaped or found.unreadable:
            return None
        return "no dependency files found (requirements*.txt, pyproject.toml, pylock.toml, uv.lock, poetry.lock)"

    # ---- run ---------------------------------------------------------------------------------
    def run(self, ctx: GateContext) -> None:
        opts = ctx.options
        deps, req_files = self._collect(ctx)
        for d in deps:  # the run's inventory (CycloneDX report): every declared dependency, as a purl
            ctx.component("library", clean_name(d.name), clean_name(d.version) if d.version else None,
                          d.path if d.path != Path(".") else None,
                          purl=f"pkg:pypi/{d.canonical_name}" + (f"@{d.version}" if d.version else ""))
        internal = {canonicalize_name(n) for n in opts.get("internal_packages") or []}
        self._check_pins(ctx, deps, bool(opts.get("require_pins", True)), bool(opts.get("require_hashes")))
        auditable = [d for d in deps if d.auditable and d.canonical_name not in internal]
        n_internal = len([d for d in deps if d.auditable and d.canonical_name in internal])
        if n_internal:
            ctx.note(f"{n_internal} internal package pin(s) not looked up (internal_packages)")
        service = self._service(ctx, req_files)
        if service is None:
            return
        from .services import LocalOsvService, ServiceError

        try:
            report = service.audit(auditable)
        except ServiceError as exc:
            ctx.error(str(exc))
            return
        note = f"advisories: {report.source}"
        if report.database_modified:
            note += f", newest record modified {report.database_modified}"
        ctx.note(note + f"; {len(auditable)} pinned dependencies audited")
        today = _dt.date.today()
        ignores = parse_ignores(opts.get("ignores") or [])
        used: set[int] = set()
        if isinstance(service, LocalOsvService):
            for u in service.unevaluable:
                ids = (u.error.record_id, *u.error.aliases)
                ig = self._active_ignore(ignores, ids, u.dependency, today, used)
                if ig is None:
                    ctx.error(f"{u.error.record_id} for {u.dependency.name} {u.dependency.version}: {u.error.detail}; the range cannot be evaluated "
                              f"(ignore the advisory in the policy with a reason and an expiry once reviewed)", u.dependency.path)
        for res in report.results:
            self._report(ctx, res, ignores, used, today)
        self._check_ignores(ctx, ignores, used, today)

    def _collect(self, ctx: GateContext) -> tuple[list[Dependency], list[Path]]:
        specs: list[tuple[Path, str | None]] = []
        skipped: list[Path] = []
        if ctx.targets and not ctx.options.get("_cli_sources"):
            srcs, skipped = inputs.discovered_sources(ctx.discover())
        elif ctx.options.get("sources"):
            if ctx.targets:
                specs.extend((p, None) for p in ctx.discover())
            for s in ctx.options["sources"]:
                path, fmt = (s, None) if isinstance(s, str) else (s["path"], s.get("format"))
                try:
                    p = ctx.resolve(path)
                except ValueError as exc:
                    ctx.error(str(exc), ctx.root)
                    continue
                if not p.exists():
                    ctx.error("dependency source not found", p)
                    continue
                if p.is_dir() and fmt != "installed":
                    found, _ = inputs.discovered_sources(q for q in _walk(ctx, p))
                    specs.extend((src.path, src.format) for src in found)
                else:
                    specs.append((p, fmt))
            srcs = [inputs.source_for(p, f) for p, f in specs]
        else:
            srcs, skipped = inputs.discovered_sources(ctx.discover())
        for p in skipped:
            ctx.note(f"{ctx.display(p)} not audited: a lock file beside it says what is installed")
        if not srcs:
            ctx.note("no dependency files found (requirements*.txt, pyproject.toml, pylock.toml, uv.lock, poetry.lock)")
        deps: dict[tuple, Dependency] = {}
        scanned: set[Path] = set()
        for src in srcs:
            src.root = ctx.root
            try:
                got = src.collect()
            except InputError as exc:
                ctx.error(exc.reason, exc.path)
                continue
            for f in src.files():
                if f.resolve() not in scanned:
                    scanned.add(f.resolve())
                    ctx.scanned(f, len([d for d in got if d.path == f]))
            for d in got:
                # a file both discovered and included with -r is read twice: count its lines once
                deps.setdefault((d.path.resolve(), d.line, d.canonical_name, d.version, d.kind), d)
        return list(deps.values()), [src.path for src in srcs if src.format == "requirements"]

    def _check_pins(self, ctx: GateContext, deps: Sequence[Dependency], require_pins: bool, require_hashes: bool) -> None:
        for d in deps:
            if not d.auditable:
                what = {"unpinned": f"is not pinned ({d.specifier or 'any version'})", "url": "is a URL requirement",
                        "vcs": "is a VCS requirement", "editable": "is an editable requirement", "path": "is a local path requirement"}.get(d.kind, "is not pinned")
                rule = "DEPS002" if require_pins else "DEPS006"
                ctx.add(rule, f"{d.name} {what}" + ("" if require_pins else "; it was not audited"), d.path, line=d.line,
                        key=f"{d.canonical_name}|{d.kind}", entity=d.name, package=d.name, version=None, kind=d.kind,
                        requirement=d.text, source_format=d.source_format)
            elif require_hashes and not d.hashes and d.source_format != "installed":
                ctx.add("DEPS003", f"{d.name}=={d.version} has no hash", d.path, line=d.line, key=d.canonical_name, entity=d.name,
                        package=d.name, version=d.version, requirement=d.text, source_format=d.source_format)

    def _service(self, ctx: GateContext, req_files: Sequence[Path]):  # -> VulnerabilityService | None
        from .osv import OsvDatabase
        from .services import LocalOsvService, PipAuditService, osv_record_fetcher

        opts = ctx.options
        source = opts.get("source") or "auto"
        db_path = opts.get("database")
        if source == "auto":
            source = "local" if db_path else ("osv" if opts.get("osv_url") else "pypi")
        db = None
        if db_path:
            try:
                p = ctx.resolve(db_path)
                db = OsvDatabase.load(p)
            except ValueError as exc:
                ctx.error(str(exc), ctx.root)
                return None
            except InputError as exc:
                ctx.error(exc.reason, exc.path)
                return None
        if source == "local":
            if db is None:
                ctx.error("source 'local' needs an OSV database (gates.deps.database or --database)")
                return None
            return LocalOsvService(db)
        timeout = int(opts.get("timeout") or 15)
        lookup = None
        if db is not None:
            lookup = lambda ident, aliases: db.find(ident) or next((db.find(a) for a in aliases if db.find(a)), None)  # noqa: E731
        elif opts.get("severity_lookup", True):
            lookup = osv_record_fetcher(opts.get("osv_url") if source == "osv" else None, timeout)
        resolve_files = list(req_files) if opts.get("resolve") else []
        return PipAuditService(source, opts.get("osv_url") if source == "osv" else None, timeout, resolve_files, lookup)

    # ---- results -----------------------------------------------------------------------------
    @staticmethod
    def _active_ignore(ignores: Sequence[Ignore], ids: Sequence[str], d: Dependency, today: _dt.date, used: set[int]) -> Ignore | None:
        hit = None
        for ig in ignores:
            if ig.matches(ids, d.name, d.version):
                used.add(ig.index)
                if not ig.expired(today) and hit is None:
                    hit = ig
        return hit

    def _report(self, ctx: GateContext, res: PackageResult, ignores: Sequence[Ignore], used: set[int], today: _dt.date) -> None:
        d = res.dependency
        internal = {canonicalize_name(n) for n in ctx.options.get("internal_packages") or []}
        if res.skip_reason is not None:
            if d.canonical_name in internal:
                ctx.note(f"{d.name}: skipped by the service (internal package)")
            else:
                ctx.error(f"{d.name} {d.version or ''} was not audited by the service ({res.skip_reason}); "
                          f"list it in gates.deps.internal_packages if it is a private package", d.path if d.path != Path(".") else None)
            return
        unknown_as = ctx.options.get("unknown_severity") or "high"
        only_fixable = bool(ctx.options.get("only_fixable"))
        for a in res.advisories:
            self._advisory(ctx, d, a, res.safe_version, ignores, used, today, unknown_as, only_fixable)

    def _advisory(self, ctx: GateContext, d: Dependency, a: Advisory, safe: str | None, ignores: Sequence[Ignore], used: set[int],
                  today: _dt.date, unknown_as: str, only_fixable: bool) -> None:
        sev = to_core(a.severity, unknown_as)
        score = f" (CVSS {a.score:g})" if a.score is not None else (f" ({a.severity})" if a.severity != "unknown" else " (severity unknown)")
        fix_txt = f"; upgrade to {safe}" if safe else ("; fixed in " + ", ".join(a.fixed_versions) if a.fixed_versions else "; no fixed version")
        fields: dict[str, Any] = dict(
            package=d.name, version=d.version, advisory=a.id, aliases=list(a.aliases), cvss_score=a.score, cvss_vector=a.vector,
            severity_label=a.severity, severity_source=a.severity_source, fixed_versions=list(a.fixed_versions), safe_version=safe,
            summary=a.summary, requirement=d.text, source_format=d.source_format,
        )
        ig = self._active_ignore(ignores, a.ids, d, today, used)
        common = dict(line=d.line, key=f"{d.canonical_name}|{a.id}")
        path = d.path if d.path != Path(".") else None
        if ig is not None:
            ctx.add("DEPS007", f"{d.name} {d.version}: {a.id}{score} ignored until {ig.expires}: {ig.reason}", path, blocking=False,
                    ignore_reason=ig.reason, ignore_expires=ig.expires.isoformat(), **common, **fields)
            return
        blocking = None
        msg = f"{d.name} {d.version} is affected by {a.id}{score}{fix_txt}"
        if a.summary:
            brief = " ".join(a.summary.split())
            msg += f" — {brief[:117] + '...' if len(brief) > 120 else brief}"
        if only_fixable and not a.fixed_versions:
            blocking = False
            msg += " (not blocking: only_fixable)"
        ctx.add("DEPS001", msg, path, severity=sev, blocking=blocking, **common, **fields)

    def _check_ignores(self, ctx: GateContext, ignores: Sequence[Ignore], used: set[int], today: _dt.date) -> None:
        pol, text = _policy_file(ctx)
        for ig in ignores:
            line = inputs.find_line(text, ig.id) if text else None
            common = dict(line=line, key=f"ignore|{ig.id}|{ig.package or ''}|{ig.version or ''}", advisory=ig.id,
                          package=ig.package, ignore_expires=ig.expires.isoformat(), ignore_reason=ig.reason)
            if ig.expired(today):
                ctx.add("DEPS004", f"ignore for {ig.id} expired on {ig.expires}" + ("" if ig.index in used else " (it also matches nothing)"),
                        pol, blocking=True, **common)
            elif ig.index not in used:
                ctx.add("DEPS005", f"ignore for {ig.id} matches no audited dependency", pol, blocking=False, **common)


def _walk(ctx: GateContext, directory: Path) -> list[Path]:
    from gates.core import files as _files

    found = _files.walk(directory, tuple(inputs.DISCOVERY_GLOBS), tuple(ctx.options.get("exclude") or ()))
    for p, reason in found.unreadable:
        ctx.error(f"cannot list directory: {reason}", p)
    return list(found.files)


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


def _cmd_db(args: argparse.Namespace) -> int:
    import sys

    from .dbupdate import UpdateError, update

    if list(args.paths) != ["db", "update"] or not args.dest:
        print("usage: mlsec-gates deps db update --dest DIR [--url URL] [--max-mb N]", file=sys.stderr)
        return 2
    try:
        path, size, records = update(Path(args.dest), args.url, args.download_timeout, args.max_mb << 20)
    except UpdateError as exc:
        print(f"mlsec-gates: deps db update failed: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({size} bytes, {records} OSV records)")
    return 0


GATE = DepsGate
