"""Choosing the vulnerability service for a run from the options: the OSV database on disk
(``local``) or pip-audit's ``pypi``/``osv`` services, with the database (when given) also used to
score pip-audit's results offline."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from gates.core.errors import InputError
from gates.core.gate import GateContext

from .osv import OsvDatabase
from .services import LocalOsvService, PipAuditService, VulnerabilityService, osv_record_fetcher


def choose_service(ctx: GateContext, req_files: Sequence[Path]) -> VulnerabilityService | None:
    """The service the options ask for, or None after reporting why there is none (an error)."""
    opts = ctx.options
    source = opts.get("source") or "auto"
    db_path = opts.get("database")
    if source == "auto":
        source = "local" if db_path else ("osv" if opts.get("osv_url") else "pypi")
    db = None
    if db_path:
        try:
            db = OsvDatabase.load(ctx.resolve(db_path))
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
