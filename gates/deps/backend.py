"""Choosing the vulnerability service for a run from the options: the OSV database on disk
(``local``) or pip-audit's ``pypi``/``osv`` services, with the database (when given) also used to
score pip-audit's results offline."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Sequence

from gates.core.errors import InputError
from gates.core.gate import GateContext
from gates.core.hygiene import escape_controls

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
            ctx.error("source 'local' needs an OSV database (gates.deps.database or --database); "
                      "download one with `mlsec-gates deps db update --dest DIR`")
            return None
        check_age(ctx, db, Path(db.source))
        return LocalOsvService(db)
    timeout = int(opts.get("timeout") or 15)
    lookup = None
    if db is not None:
        lookup = lambda ident, aliases: db.find(ident) or next((db.find(a) for a in aliases if db.find(a)), None)  # noqa: E731
    elif opts.get("severity_lookup", True):
        lookup = osv_record_fetcher(opts.get("osv_url") if source == "osv" else None, timeout)
    resolve_files = list(req_files) if opts.get("resolve") else []
    return PipAuditService(source, opts.get("osv_url") if source == "osv" else None, timeout, resolve_files, lookup)


def database_date(db: OsvDatabase, path: Path) -> _dt.datetime | None:
    """When the database's data is from: its newest record's ``modified`` time (a copied old
    snapshot keeps its age), else the file's modification time."""
    if db.newest_modified:
        try:
            ts = _dt.datetime.fromisoformat(db.newest_modified.replace("Z", "+00:00"))
            return ts if ts.tzinfo else ts.replace(tzinfo=_dt.timezone.utc)
        except ValueError:
            pass
    try:
        return _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.timezone.utc)
    except OSError:
        return None


def check_age(ctx: GateContext, db: OsvDatabase, path: Path, now: _dt.datetime | None = None) -> None:
    """``max_db_age_days``: an older database is a DEPS008 warning, or an error under
    ``stale_database: error``; an age that cannot be told counts as too old."""
    limit = ctx.options.get("max_db_age_days")
    if not limit:
        return
    when = database_date(db, path)
    now = now or _dt.datetime.now(_dt.timezone.utc)
    age = (now - when).days if when is not None else None
    if age is not None and age <= int(limit):
        return
    what = f"is {age} days old" if age is not None else "has no date"
    msg = (f"the offline advisory database {what} (newest record {escape_controls(db.newest_modified or 'unknown')}; max_db_age_days: {limit}); "
           "refresh it with `mlsec-gates deps db update --dest DIR`")
    if ctx.options.get("stale_database") == "error":
        ctx.error(msg, path)
    else:
        ctx.add("DEPS008", msg, path, blocking=False, key="database-age", database_age_days=age, max_db_age_days=int(limit))
