"""The ``mlsec-gates`` command line.

Exit codes: 0 pass (warnings allowed), 1 policy violation, 2 usage/config/internal error or a
gate in ``error``. Gates contribute their own subcommand (``mlsec-gates <gate>``), their flags
and, optionally, extra commands; the CLI knows none of them by name.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from pathlib import Path
from typing import Sequence

import yaml

from .. import __version__
from . import waiverfile
from .ci import add_commands as add_ci_commands
from .errors import GatesError, PolicyError, UsageError
from .explain import render_explain
from .locks import enforce_override
from .policy import Policy, build_schema, deep_merge, find_policy_file, load_policy
from .registry import available_gates
from .reports import FORMATS, writers
from .runner import EXIT_ERROR, RunResult, run_gates

EPILOG = """\
examples:
  mlsec-gates run                                  # every enabled gate on the current directory
  mlsec-gates run examples/demo --format markdown --output report.md
  mlsec-gates run . --format json --output r.json --format sarif --output r.sarif
  mlsec-gates eval --policy .mlsec-gates.yml       # one gate
  mlsec-gates policy validate .mlsec-gates.yml
  mlsec-gates policy show                          # effective policy after defaults

exit codes: 0 pass, 1 policy violation, 2 usage/config/internal error (fail closed)
"""


def _add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", metavar="FILE", help="policy file (default: .mlsec-gates.yml in the scanned root, else the built-in policy)")
    p.add_argument("--format", dest="formats", action="append", choices=FORMATS, metavar="FMT",
                   help=f"report format ({', '.join(FORMATS)}); repeatable, paired in order with --output")
    p.add_argument("--output", dest="outputs", action="append", metavar="FILE", help="file for the matching --format (default: stdout)")
    p.add_argument("--fail-on", choices=["critical", "high", "medium", "low", "info", "none"], help="override the policy's severity threshold for this run")
    p.add_argument("--no-color", action="store_true", help="plain console output")
    _add_unpinned_arg(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no console report when writing reports to files")


def _add_unpinned_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-unpinned-policy", action="store_true", help="allow extends: URLs without a sha256 pin (not recommended)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlsec-gates",
        description="Security and quality gates for ML projects: pii, model, deps, signature and eval.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"mlsec-gates {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run every enabled gate", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("path", nargs="?", default=".", help="root to scan (default: current directory)")
    run.add_argument("--gate", dest="gates", action="append", metavar="NAME", help="run only this gate (repeatable; it runs even when the policy disables it)")
    _add_output_args(run)
    run.set_defaults(func=cmd_run)

    pol = sub.add_parser("policy", help="validate, show or print the schema of the policy")
    psub = pol.add_subparsers(dest="policy_command", metavar="ACTION")
    psub.required = True
    v = psub.add_parser("validate", help="validate a policy file (exit 2 with FILE:LINE messages when invalid)")
    v.add_argument("file", nargs="?", help="policy file (default: .mlsec-gates.yml)")
    _add_unpinned_arg(v)
    v.set_defaults(func=cmd_policy_validate)
    s = psub.add_parser("show", help="print the effective policy (built-in defaults merged with yours) as YAML")
    s.add_argument("path", nargs="?", default=".", help="scanned root (to find its .mlsec-gates.yml)")
    s.add_argument("--policy", metavar="FILE")
    s.add_argument("--explain", action="store_true", help="every key with the file and line it came from, the merged documents and the locks")
    _add_unpinned_arg(s)
    s.set_defaults(func=cmd_policy_show)
    sc = psub.add_parser("schema", help="print the policy JSON Schema (for editors)")
    sc.set_defaults(func=cmd_policy_schema)

    waiverfile.add_commands(sub)
    add_ci_commands(sub)  # comment github|gitlab, annotations

    for name, gate in available_gates().items():
        gp = sub.add_parser(name, help=gate.title, description=gate.description or gate.title,
                            epilog=gate.epilog or None, formatter_class=argparse.RawDescriptionHelpFormatter)
        gp.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to scan (default: the policy's paths under --root)")
        gp.add_argument("--root", default=".", help="scanned root; policy paths are relative to it (default: current directory)")
        _add_output_args(gp)
        gate.add_arguments(gp)
        gp.set_defaults(func=cmd_gate, gate_name=name)
        extra = getattr(gate, "add_commands", None)
        if extra is not None:
            extra(sub)
    return parser


def _policy_for(root: Path, explicit: str | None, allow_unpinned: bool = False) -> Policy:
    gates = available_gates()
    path = Path(explicit) if explicit else find_policy_file(root)
    return load_policy(path, gates, allow_unpinned=allow_unpinned, root=root)


def _apply_fail_on(policy: Policy, fail_on: str | None) -> None:
    """``--fail-on`` replaces every threshold, but may not loosen one a parent policy locked."""
    if not fail_on:
        return
    data = copy.deepcopy(policy.data)
    data.setdefault("defaults", {})["fail_on"] = fail_on
    for g in data.get("gates", {}).values():
        g.pop("fail_on", None)
    enforce_override(policy.locks, data, f"--fail-on {fail_on}")
    policy.data = data


def _emit(run: RunResult, args: argparse.Namespace) -> None:
    formats = list(args.formats or [])
    outputs = list(args.outputs or [])
    if len(outputs) > len(formats):
        raise UsageError("each --output needs a --format before it")
    targets = [(fmt, outputs[i] if i < len(outputs) else None) for i, fmt in enumerate(formats)]
    to_stdout = [f for f, o in targets if o in (None, "-")]
    if len(to_stdout) > 1:
        raise UsageError("only one --format can go to stdout; give the others an --output FILE")
    w = writers()
    for fmt, out in targets:
        if out in (None, "-"):
            continue
        if fmt == "text":
            text = w["text"](run)
        else:
            text = w[fmt](run)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    if to_stdout:
        fmt = to_stdout[0]
        if fmt == "text":
            sys.stdout.write(_inert(_text(run, args)))
        else:
            sys.stdout.write(_inert(w[fmt](run)))
    elif not getattr(args, "quiet", False):
        sys.stdout.write(_inert(_text(run, args)))
    sys.stdout.flush()


_COMMAND_LINE = re.compile(r"(^|[\r\n])([^\S\r\n]*)::")


def _inert(text: str) -> str:
    """GitHub Actions takes any output line starting with ``::`` (after blanks) as a workflow
    command, and file or metric names from the pull request end up in these lines: mark such
    lines so input can never issue a command (our own annotations use ``mlsec-gates annotations``)."""
    return _COMMAND_LINE.sub(r"\1\2» ::", text)


def _text(run: RunResult, args: argparse.Namespace) -> str:
    from .reports import text

    color = sys.stdout.isatty() and not args.no_color and "NO_COLOR" not in os.environ
    width = 120 if not sys.stdout.isatty() else os.get_terminal_size().columns
    return text.render(run, color=color, width=width)


def cmd_run(args: argparse.Namespace) -> int:
    root = Path(args.path)
    if not root.is_dir():
        raise UsageError(f"{args.path}: not a directory")
    policy = _policy_for(root, args.policy, args.allow_unpinned_policy)
    _apply_fail_on(policy, args.fail_on)
    gates = available_gates()
    only = args.gates or []
    for g in only:
        if g not in gates:
            raise UsageError(f"unknown gate {g!r} (installed: {', '.join(gates)})")
    # a gate named with --gate runs even when the policy disables it: a CI job that asks for one
    # gate must not pass silently because the repository switched that gate off
    run = run_gates(gates, policy, root, only=only, args=args, explicit=bool(only))
    _emit(run, args)
    return run.exit_code


def cmd_gate(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"--root {args.root}: not a directory")
    gates = available_gates()
    gate = gates[args.gate_name]
    policy = _policy_for(root, args.policy, args.allow_unpinned_policy)
    _apply_fail_on(policy, args.fail_on)
    overrides = {gate.name: gate.options_from_args(args)}
    enforce_override(policy.locks, deep_merge(policy.data, {"gates": overrides}), f"mlsec-gates {gate.name} flags")
    targets = [Path(p) for p in args.paths]
    run = run_gates(gates, policy, root, only=[gate.name], targets=targets, overrides=overrides, args=args, explicit=True)
    _emit(run, args)
    return run.exit_code


def cmd_policy_validate(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else find_policy_file(Path("."))
    if path is None:
        raise UsageError("no policy file given and no .mlsec-gates.yml in the current directory")
    load_policy(path, available_gates(), allow_unpinned=args.allow_unpinned_policy)
    print(f"{path}: valid")
    return 0


def cmd_policy_show(args: argparse.Namespace) -> int:
    policy = _policy_for(Path(args.path), args.policy, args.allow_unpinned_policy)
    if args.explain:
        sys.stdout.write(render_explain(policy))
        return 0
    header = f"# effective policy: {' + '.join(['built-in defaults', *(c.display for c in policy.chain)])}\n"
    sys.stdout.write(header + yaml.safe_dump(policy.data, sort_keys=False, default_flow_style=False))
    return 0


def cmd_policy_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(build_schema(available_gates()), indent=2) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else EXIT_ERROR
        return int(args.func(args))
    except PolicyError as exc:
        print(_inert(f"mlsec-gates: policy error: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    except GatesError as exc:
        print(_inert(f"mlsec-gates: error: {exc}"), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mlsec-gates: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - fail closed with a clear message, not a traceback dump
        if os.environ.get("MLSEC_GATES_DEBUG"):
            raise
        print(f"mlsec-gates: internal error: {type(exc).__name__} (set MLSEC_GATES_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_ERROR
