"""The ``mlsec-gates waivers`` commands: list the effective waivers, print the YAML that waives
one finding of a JSON report, print the waiver file schema.

They read the policy through :func:`gates.core.loader.policy_for_root`, like every other command,
so what they show is what a run would apply.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any, Callable

from .errors import UsageError
from .hygiene import clean, clean_name

DEFAULT_DAYS = 30

# add_commands runs for every command (``--version`` and a pii scan included): the policy loader,
# the schemas and YAML are imported by the commands below, when they run.


def add_commands(sub: argparse._SubParsersAction) -> None:
    w = sub.add_parser("waivers", help="list waivers (with days to expiry) or print the YAML to waive a finding")
    wsub = w.add_subparsers(dest="waivers_command", metavar="ACTION")
    wsub.required = True
    ls = wsub.add_parser("list", help="every effective waiver with its source and days to expiry")
    ls.add_argument("path", nargs="?", default=".", help="scanned root (to find its policy and waiver file)")
    ls.add_argument("--policy", metavar="FILE")
    ls.add_argument("--expiring", type=int, metavar="DAYS", help="exit 1 when a waiver expires within DAYS (or has expired): for a scheduled job")
    ls.add_argument("--json", action="store_true", help="JSON instead of a table")
    ls.add_argument("--allow-unpinned-policy", action="store_true", help=argparse.SUPPRESS)
    ls.set_defaults(func=cmd_waivers_list)
    ad = wsub.add_parser("add", help="print the waiver YAML for a finding of a JSON report")
    ad.add_argument("--report", required=True, metavar="FILE", help="a report written with --format json")
    ad.add_argument("--fingerprint", required=True, metavar="FP", help="the finding's fingerprint")
    ad.add_argument("--reason", help="why the finding is acceptable (left empty, the YAML will not validate until filled in)")
    ad.add_argument("--expires", type=_dt.date.fromisoformat, metavar="YYYY-MM-DD", help=f"default: {DEFAULT_DAYS} days from today, or the policy's max_days if shorter")
    ad.add_argument("--owner")
    ad.add_argument("--ticket")
    ad.add_argument("--root", default=".", help="root whose policy decides required fields and max_days")
    ad.add_argument("--policy", metavar="FILE")
    ad.add_argument("--allow-unpinned-policy", action="store_true", help=argparse.SUPPRESS)
    ad.set_defaults(func=cmd_waivers_add)
    sc = wsub.add_parser("schema", help="print the waiver file JSON Schema (for editors)")
    sc.set_defaults(func=cmd_waivers_schema)


def cmd_waivers_schema(args: argparse.Namespace) -> int:
    from .schema import waiver_file_schema

    sys.stdout.write(json.dumps(waiver_file_schema(), indent=2) + "\n")
    return 0


def cmd_waivers_list(args: argparse.Namespace) -> int:
    from .loader import policy_for_root

    policy = policy_for_root(Path(args.path), args.policy, args.allow_unpinned_policy)
    today = _dt.date.today()
    rows: list[dict[str, Any]] = []
    for w in policy.waivers():
        days = (w.expires - today).days
        # every string here was written in a policy: tokens, e-mails and control characters do not reach the log
        rows.append({"rule": clean_name(w.rule), "gate": _opt(w.gate, clean_name), "path": _opt(w.path, clean_name),
                     "fingerprint": _opt(w.fingerprint, clean_name), "owner": _opt(w.owner, clean),
                     "ticket": _opt(w.ticket, clean), "expires": w.expires.isoformat(), "days_left": days,
                     "source": clean_name(w.source)})
    due = [r for r in rows if args.expiring is not None and r["days_left"] <= args.expiring]
    if args.json:
        sys.stdout.write(json.dumps({"waivers": rows, "expiring": len(due)}, indent=2) + "\n")
    else:
        if not rows:
            print("no waivers")
        for r in sorted(rows, key=lambda r: r["days_left"]):
            left = f"expired {-r['days_left']}d ago" if r["days_left"] < 0 else f"{r['days_left']}d left"
            what = r["rule"] + (f" {r['path']}" if r["path"] else "") + (f" #{r['fingerprint']}" if r["fingerprint"] else "")
            flag = "!" if r in due else " "
            print(f"{flag} {r['expires']}  {left:>16}  {what}  owner={r['owner'] or '-'}  ticket={r['ticket'] or '-'}  ({r['source']})")
        if args.expiring is not None:
            print(f"{len(due)} waiver(s) expire within {args.expiring} days" if due else f"no waiver expires within {args.expiring} days")
    return 1 if due else 0


def _opt(value: str | None, how: Callable[[object], str]) -> str | None:
    return None if value is None else how(value)


def _finding(report: Path, fp: str) -> dict[str, Any]:
    try:
        data = json.loads(report.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{report}: cannot read the JSON report ({type(exc).__name__})") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise UsageError(f"{report}: not an mlsec-gates JSON report (no 'findings' list)")
    for f in findings:
        if isinstance(f, dict) and f.get("fingerprint") == fp:
            return {**f, "path": _root_relative(str(f.get("path") or ""), str(data.get("root") or ""))}
    raise UsageError(f"{report}: no finding with fingerprint {fp}")


def _root_relative(path: str, root: str) -> str:
    """Waiver paths are globs relative to the scanned root; reports may show cwd-relative or
    absolute paths."""
    if not path or not root:
        return path
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except (ValueError, OSError):
        return path


def cmd_waivers_add(args: argparse.Namespace) -> int:
    from .loader import policy_for_root
    from .reports.common import _yaml_str
    from .waiverfile import WAIVER_FILE_NAMES

    f = _finding(Path(args.report), args.fingerprint)
    policy = policy_for_root(Path(args.root), args.policy, args.allow_unpinned_policy)
    locks = policy.locks
    today = _dt.date.today()
    days = DEFAULT_DAYS
    md = locks.max_days() if locks else None
    if md is not None:
        days = min(days, md[0])
    expires = args.expires or today + _dt.timedelta(days=days)
    if md is not None and (expires - today).days > md[0]:
        raise UsageError(f"--expires {expires.isoformat()} is more than {md[0]} days away (max_days set by {md[1]})")
    required = locks.required_fields() if locks else {}
    fields = {"owner": args.owner, "ticket": args.ticket}
    lines = [f"- rule: {f.get('rule')}"]
    if f.get("gate"):
        lines.append(f"  gate: {f['gate']}")
    if f.get("path"):
        lines.append(f"  path: {_yaml_str(str(f['path']))}")
    lines.append(f"  fingerprint: {args.fingerprint}")
    if args.reason:
        lines.append(f"  reason: {_yaml_str(args.reason)}")
    else:
        lines.append('  reason: ""   # required: why is this acceptable? (empty does not validate)')
    lines.append(f"  expires: {expires.isoformat()}")
    for name, value in fields.items():
        if value:
            lines.append(f"  {name}: {_yaml_str(value)}")
        elif name in required:
            lines.append(f'  {name}: ""   # required by {required[name]}')
    sys.stdout.write(f"# paste under 'waivers:' in {WAIVER_FILE_NAMES[0]}\n")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
