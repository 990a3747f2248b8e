"""The deps gate's options: the policy schema for ``gates.deps``, its defaults, and the CLI flags
that override them.

Everything the gate reads at run time comes through ``ctx.options``: :func:`from_args` turns the
command line into the same keys the policy uses, so ``run`` never sees an argparse namespace.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .inputs import FORMATS

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
         "properties": {"path": {"type": "string", "minLength": 1}, "format": {"enum": list(FORMATS)}}},
    ]
}

OPTIONS_SCHEMA: dict[str, Any] = {
    "source": {"enum": list(SOURCES), "description": "Advisory source: local (OSV database on disk, offline), pypi or osv (pip-audit, online); auto = local when `database` is set, else pypi."},
    "database": {"type": "string", "minLength": 1, "description": "OSV database for `local`: a directory of OSV files, a .json/.json.gz array, or OSV's all.zip."},
    "osv_url": {"type": "string", "minLength": 1, "description": "OSV /v1/query endpoint (mirror) for the `osv` source."},
    "sources": {"type": "array", "items": _SOURCE_SPEC, "description": "Dependency inputs relative to the root (default: discover requirements/constraints files, pyproject.toml, setup.cfg, Pipfile(.lock), pylock.toml, uv.lock, poetry.lock, conda environment.yml)."},
    "require_pins": {"type": "boolean", "description": "Every requirement must pin one version (lists all unpinned/URL/VCS/editable ones)."},
    "require_hashes": {"type": "boolean", "description": "Every requirement must carry a hash."},
    "internal_packages": {"type": "array", "items": {"type": "string", "minLength": 1}, "description": "Private packages: never sent to online services, never looked up, allowed to be absent from public databases."},
    "ignores": {"type": "array", "items": _IGNORE_SCHEMA},
    "only_fixable": {"type": "boolean", "description": "Advisories without a fixed version are reported but do not block."},
    "unknown_severity": {"$ref": "#/$defs/severity", "description": "Severity for advisories with no CVSS vector or rating (default high)."},
    "resolve": {"type": "boolean", "description": "pip-audit sources: let pip-audit resolve requirements files in a temporary virtualenv (slow, needs an index)."},
    "timeout": {"type": "integer", "minimum": 1, "maximum": 600, "description": "Network timeout in seconds for online sources."},
    "max_db_age_days": {"type": "integer", "minimum": 1, "description": "Offline (`local`) database: its newest record may be at most this many days old; older is a DEPS008 warning (or an error, see `stale_database`)."},
    "stale_database": {"enum": ["warn", "error"], "description": "What an offline database older than `max_db_age_days` is: a non-blocking DEPS008 finding (warn, default) or a gate error (exit 2)."},
    "severity_lookup": {"type": "boolean", "description": "Online sources: fetch OSV records (/v1/vulns/ID) to score pip-audit's results (default true)."},
}

DEFAULT_OPTIONS: dict[str, Any] = {
    "source": "auto", "require_pins": True, "require_hashes": False, "internal_packages": [], "ignores": [],
    "only_fixable": False, "unknown_severity": "high", "resolve": False, "timeout": 15, "severity_lookup": True,
    "stale_database": "warn",
}

EPILOG = """examples:
  mlsec-gates deps                                          # discover dependency files under the current directory
  mlsec-gates deps --requirements requirements.txt --source local --database osv/all.zip
  mlsec-gates deps --requirements requirements.txt --source osv --osv-url https://osv.internal/v1/query
  mlsec-gates deps uv.lock --source pypi
  mlsec-gates deps db update --dest ~/.cache/osv           # download OSV's PyPI export for offline runs
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The gate's flags on ``mlsec-gates deps``; :func:`from_args` maps them onto option keys."""
    parser.add_argument("--requirements", "-r", action="append", metavar="FILE", help="requirements file to audit (repeatable; like a PATH)")
    parser.add_argument("--source", choices=SOURCES, help="advisory source (overrides the policy)")
    parser.add_argument("--database", metavar="PATH", help="OSV database for --source local (directory, .json/.json.gz, all.zip)")
    parser.add_argument("--osv-url", metavar="URL", help="OSV /v1/query endpoint for --source osv")
    parser.add_argument("--installed", metavar="DIR", help="audit an installed environment (site-packages or virtualenv root)")
    parser.add_argument("--require-hashes", action="store_true", default=None, help="every requirement must carry a hash")
    parser.add_argument("--no-require-pins", dest="require_pins", action="store_false", default=None, help="report unpinned requirements as not audited instead of blocking")


def from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Option overrides from the CLI flags (deep-merged over the policy by the core)."""
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
