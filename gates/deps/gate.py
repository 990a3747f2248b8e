"""The deps gate: known vulnerabilities in the Python dependencies, failing closed.

Inputs (requirements files, pyproject.toml, lock files, an installed environment, …) become
:class:`~gates.deps.records.Dependency` records (:mod:`.collect`); a vulnerability service
(:mod:`.backend`: the OSV database on disk, or pip-audit's ``pypi``/``osv`` services) turns the
pinned ones into advisories; :mod:`.report` scores them, applies the policy's ignores and reports
one finding per dependency and advisory. Anything the gate could not check (an unparseable file,
a skipped dependency, an unreachable service, a range it cannot evaluate) is an error (exit 2),
never a pass.
"""

from __future__ import annotations

from pathlib import Path

import argparse
import datetime as _dt
from typing import Any

from packaging.utils import canonicalize_name

from gates.core import files as _files
from gates.core.gate import Gate, GateContext
from gates.core.hygiene import clean_name, escape_controls

from . import inputs, options
from .backend import choose_service
from .collect import collect
from .ignores import parse_ignores
from .report import active_ignore, check_ignores, check_pins, report_result
from .records import AuditReport, Dependency, PackageResult
from .rules import RULES
from .services import LocalOsvService, ServiceError

#: what to do when an online service cannot answer: audit offline, never drop public packages
OFFLINE_ADVICE = ("to audit without the online service, download the OSV database with `mlsec-gates deps db update --dest DIR` "
                  "and set `source: local` with `database: DIR/all.zip` under gates.deps")


class DepsGate(Gate):
    name = "deps"
    title = "Dependency vulnerabilities"
    description = "Known vulnerabilities in Python dependencies (OSV database on disk, or pip-audit's PyPI/OSV services), pins, hashes and expiring ignores."
    rules = RULES
    default_paths = inputs.DISCOVERY_GLOBS
    options_schema = options.OPTIONS_SCHEMA
    default_options = options.DEFAULT_OPTIONS
    epilog = options.EPILOG

    # ---- CLI ---------------------------------------------------------------------------------
    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        options.add_arguments(parser)

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        return options.from_args(args)

    def add_commands(self, subparsers: Any) -> None:
        """``mlsec-gates deps db update --dest DIR [--url URL]``. The gate's own parser takes PATH
        arguments, so ``db update`` is recognised there and dispatched before the gate runs."""
        from .dbupdate import DEFAULT_MAX_MB, DEFAULT_URL, cmd_db

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
                return cmd_db(args)
            return run_gate(args)

        gp.set_defaults(func=dispatch)

    def skip_reason(self, ctx: GateContext) -> str | None:
        if ctx.options.get("sources"):
            return None
        # walk, not ctx.discover(): discover() records escaped symlinks, and run() discovers again
        found = _files.walk(ctx.root, tuple(ctx.options.get("paths") or self.default_paths), tuple(ctx.options.get("exclude") or ()))
        if found.files or found.escaped or found.unreadable:
            return None
        return f"no dependency files found ({inputs.DESCRIPTION})"

    # ---- run ---------------------------------------------------------------------------------
    def run(self, ctx: GateContext) -> None:
        opts = ctx.options
        deps, req_files = collect(ctx)
        for d in deps:  # the run's inventory (CycloneDX report): every declared dependency, as a purl
            ctx.component("library", clean_name(d.name), clean_name(d.version) if d.version else None,
                          d.path if d.path != Path(".") else None,
                          purl=f"pkg:pypi/{d.canonical_name}" + (f"@{d.version}" if d.version else ""))
        internal = {canonicalize_name(n) for n in opts.get("internal_packages") or []}
        check_pins(ctx, deps, bool(opts.get("require_pins", True)), bool(opts.get("require_hashes")))
        auditable = [d for d in deps if d.auditable and d.canonical_name not in internal]
        n_internal = len([d for d in deps if d.auditable and d.canonical_name in internal])
        if n_internal:
            ctx.note(f"{n_internal} internal package pin(s) not looked up (internal_packages)")
        service = choose_service(ctx, req_files)
        if service is None:
            return
        try:
            report = service.audit(auditable)
        except ServiceError as exc:
            ctx.error(str(exc) + ("" if isinstance(service, LocalOsvService) else f"; {OFFLINE_ADVICE}"))
            return
        results = self._audited(ctx, report, auditable, internal)
        today = _dt.date.today()
        ignores = parse_ignores(opts.get("ignores") or [])
        used: set[int] = set()
        if isinstance(service, LocalOsvService):
            for u in service.unevaluable:
                ids = (u.error.record_id, *u.error.aliases)
                if active_ignore(ignores, ids, u.dependency, today, used) is None:
                    ctx.error(f"{u.error.record_id} for {u.dependency.name} {u.dependency.version}: {u.error.detail}; the range cannot be evaluated "
                              f"(ignore the advisory in the policy with a reason and an expiry once reviewed)", u.dependency.path)
        for res in results:
            report_result(ctx, res, ignores, used, today)
        check_ignores(ctx, ignores, used, today)

    @staticmethod
    def _audited(ctx: GateContext, report: AuditReport, auditable: list[Dependency], internal: set[str]) -> tuple[PackageResult, ...]:
        """Say how many pins the service really audited; when it answered for none of them, that
        is one error (the service is unusable, not the packages private) and no per-package noise."""
        answered = {r.dependency for r in report.results if r.skip_reason is None}
        n_ok = len(answered & set(auditable))
        note = f"advisories: {report.source}"
        if report.database_modified:
            note += f", newest record modified {escape_controls(report.database_modified)}"
        ctx.note(note + f"; {n_ok} of {len(auditable)} pinned dependencies audited")
        skipped = [r for r in report.results if r.skip_reason is not None and r.dependency.canonical_name not in internal]
        if auditable and n_ok == 0 and skipped:
            ctx.error(f"0 of {len(auditable)} pinned dependencies audited: {report.source} skipped every one "
                      f"(e.g. {skipped[0].dependency.name}: {skipped[0].skip_reason}); {OFFLINE_ADVICE}")
            return tuple(r for r in report.results if r.skip_reason is None)
        return report.results
