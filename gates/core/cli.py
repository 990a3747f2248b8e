"""The ``mlsec-gates`` command line.

Exit codes: 0 pass (warnings allowed), 1 policy violation, 2 usage/config/internal error or a
gate in ``error``. Gates contribute their own subcommand (``mlsec-gates <gate>``), their flags
and, optionally, extra commands; the CLI knows none of them by name.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .. import __version__
from . import cli_waivers, console, events
from .errors import GatesError, PolicyError, UsageError
from .hygiene import clean, clean_name
from .report_targets import report_targets
from .reports import FORMATS, writer

if TYPE_CHECKING:
    from .gate import Gate
    from .policy import Policy
    from .registry import GateUnavailable
    from .runner import RunResult

# Exit codes, as in :mod:`.runner` (checked by a test): ``--version`` and ``--help`` must not
# import the runner, the policy loader and what they pull in.
EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2

# Everything a command needs beyond building the parser is imported inside that command: the
# parser is built for every invocation (``--version`` and ``eval --help`` included), and a scan
# of one file should not pay for YAML, the policy schema tools, remote fetching or shard merges
# unless it uses them.

#: other packages add top-level commands (``comment``, ``annotations``) through this group; the
#: core names none of them (the CI platform code lives outside the core)
COMMANDS_GROUP = "mlsec_gates.commands"

EPILOG = """\
examples:
  mlsec-gates run                                  # every enabled gate on the current directory
  mlsec-gates run examples/demo --format markdown --output report.md
  mlsec-gates run . --format json --output r.json --format sarif --output r.sarif
  mlsec-gates eval --policy .mlsec-gates.yml       # one gate
  mlsec-gates policy validate .mlsec-gates.yml
  mlsec-gates policy show                          # effective policy after defaults

gates may add commands of their own (e.g. `mlsec-gates sign`): see `mlsec-gates <gate> --help`.
a gate whose extra is not installed says which `pip install 'mlsec-gates[<gate>]'` it needs.

exit codes: 0 pass, 1 policy violation, 2 usage/config/internal error (fail closed)
"""


def _add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", metavar="FILE", help="policy file (default: .mlsec-gates.yml in the scanned root, else the built-in policy)")
    p.add_argument("--format", dest="formats", action="append", choices=FORMATS, metavar="FMT",
                   help=f"report format ({', '.join(FORMATS)}); repeatable, paired in order with --output")
    p.add_argument("--output", dest="outputs", action="append", metavar="FILE", help="file for the matching --format (default: stdout)")
    p.add_argument("--sarif-suppressions", action="store_true",
                   help="keep waived findings in SARIF as accepted suppressions (default: left out)")
    p.add_argument("--fail-on", choices=["critical", "high", "medium", "low", "info", "none"], help="override the policy's severity threshold for this run")
    p.add_argument("--no-color", action="store_true", help="plain console output (also NO_COLOR=1; FORCE_COLOR=1 forces colour)")
    p.add_argument("--exit-zero", action="store_true",
                   help="report only: exit 0 when findings block (the reports still say fail); errors still exit 2")
    _add_unpinned_arg(p)
    _add_feedback_args(p)


def _add_feedback_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="no console report (errors are still printed, on stderr)")
    p.add_argument("-v", "--verbose", action="store_true", help="list each file on stderr as it is scanned")
    p.add_argument("--progress", choices=console.PROGRESS_CHOICES, default="auto",
                   help="progress bar on stderr: auto (a terminal, outside CI, after 2 s), always or never")


def _add_unpinned_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-unpinned-policy", action="store_true", help="allow extends: URLs without a sha256 pin (not recommended)")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``argv``: only the gate the command names is imported (its subcommand gets
    its real flags); every other gate is listed from entry-point metadata. A command no one
    declares (a gate's extra command such as ``sign``) loads every gate that can be imported."""
    from .registry import command_entry_points, gate_names, load_gate, load_gates

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
    _add_shard_args(run)
    run.set_defaults(func=cmd_run)
    _add_merge_command(sub)

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

    cli_waivers.add_commands(sub)
    _add_hook_command(sub)
    for ep in command_entry_points(COMMANDS_GROUP):
        try:
            add = ep.load()  # must stay light: it runs for every command
        except ImportError as exc:
            # stale install metadata (the package moved: gates.core.ci is gates.ci since 0.1) must
            # not take `run` down with it; the commands it would add are simply absent
            print(f"mlsec-gates: warning: commands {ep.name!r} ({ep.value}) not loaded: {clean(str(exc))}; "
                  "reinstall mlsec-gates", file=sys.stderr)
            continue
        add(sub)

    command = next((a for a in argv if not a.startswith("-")), None)
    names = gate_names()
    if command in names:
        loaded = {command: load_gate(command)}  # a missing extra ends here, with the install command
    elif command is not None and command not in sub.choices:
        loaded = load_gates()[0]  # a command some gate adds (``sign``): whichever gates can load
    else:
        loaded = {}
    for name in names:
        if name in loaded:
            _add_gate(sub, loaded[name])
        else:
            sub.add_parser(name, help=f"the {name} gate (mlsec-gates {name} --help)")
    for gate in loaded.values():
        gate.add_commands(sub)
    return parser


def _add_gate(sub: argparse._SubParsersAction, gate: Gate) -> None:
    gp = sub.add_parser(gate.name, help=gate.title, description=gate.description or gate.title,
                        epilog=gate.epilog or None, formatter_class=argparse.RawDescriptionHelpFormatter)
    gp.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to scan (default: the policy's paths under --root)")
    gp.add_argument("--root", default=".", help="scanned root; policy paths are relative to it (default: current directory)")
    _add_output_args(gp)
    gate.add_arguments(gp)
    gp.set_defaults(func=cmd_gate, gate_name=gate.name)


def _apply_fail_on(policy: Policy, fail_on: str | None) -> None:
    """``--fail-on`` replaces every threshold, but may not loosen one a parent policy locked."""
    if not fail_on:
        return
    from .locks import enforce_override

    data = copy.deepcopy(policy.data)
    data.setdefault("defaults", {})["fail_on"] = fail_on
    for g in data.get("gates", {}).values():
        g.pop("fail_on", None)
    enforce_override(policy.locks, data, f"--fail-on {fail_on}")
    policy.data = data


def _emit(run: RunResult, args: argparse.Namespace) -> None:
    """Write the reports ``--format``/``--output`` ask for, and the console report unless
    ``--quiet``. "Nothing was scanned" also goes to stderr, whatever the formats."""
    if run.nothing_scanned:
        from .runner import NOTHING_SCANNED

        print(f"mlsec-gates: error: {NOTHING_SCANNED}", file=sys.stderr)
    targets = [(t.fmt, t.path) for t in report_targets(args.formats, args.outputs)]
    to_stdout = [f for f, o in targets if o is None]
    console_report = not to_stdout and not getattr(args, "quiet", False)
    if not console_report and not (to_stdout and to_stdout[0] == "text"):
        _errors_to_stderr(run)  # the console report would have shown them: -q must not hide them
    suppressions = getattr(args, "sarif_suppressions", False)

    def render(fmt: str) -> str:  # only the requested writers are imported
        if fmt == "sarif" and suppressions:
            from .reports import sarif

            return sarif.render(run, suppressions=True)
        return writer(fmt)(run)

    for fmt, out in targets:
        if out is None:
            continue
        text = render(fmt)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    if to_stdout:
        fmt = to_stdout[0]
        if fmt == "text":
            sys.stdout.write(_inert(_text(run, args)))
        else:
            sys.stdout.write(_inert(render(fmt)))
    elif console_report:
        sys.stdout.write(_inert(_text(run, args)))
    sys.stdout.flush()


def _errors_to_stderr(run: RunResult) -> None:
    """Each gate error as one ``mlsec-gates: error:`` line on stderr (cleaned, inert)."""
    for r in run.results:
        for e in r.errors:
            where = f"{clean_name(e.path)}: " if e.path else ""
            print(_inert(f"mlsec-gates: error: [{r.gate}] {where}{clean_name(e.message)}"), file=sys.stderr)


_COMMAND_LINE = re.compile(r"(^|[\r\n])([^\S\r\n]*)::")


def _inert(text: str) -> str:
    """GitHub Actions takes any output line starting with ``::`` (after blanks) as a workflow
    command, and file or metric names from the pull request end up in these lines: mark such
    lines so input can never issue a command (our own annotations use ``mlsec-gates annotations``)."""
    return _COMMAND_LINE.sub(r"\1\2» ::", text)


def _text(run: RunResult, args: argparse.Namespace) -> str:
    from .reports import text

    s = console.settings_for(sys.stdout, getattr(args, "no_color", False))
    return text.render(run, color=s.color, width=s.width, soft_wrap=s.soft_wrap)


def _gates_for_run(args: argparse.Namespace) -> tuple[list[str], dict[str, Gate], dict[str, GateUnavailable]]:
    """The ``--gate`` names (checked against the installed gates) and the gates to import: the
    named ones, else every installed gate."""
    from .registry import gate_names, load_gates

    only = list(args.gates or [])
    installed = gate_names()
    for g in only:
        if g not in installed:
            raise UsageError(f"unknown gate {clean_name(g)!r} (installed: {', '.join(installed)})")
    gates, missing = load_gates(only or installed)
    return only, gates, missing


def cmd_run(args: argparse.Namespace) -> int:
    """Run every enabled gate (or the ``--gate`` ones): only those gates are imported."""
    from .loader import policy_for_root
    from .remote import scheme_of
    from .runner import run_gates

    if scheme_of(args.path):
        return cmd_run_remote(args)
    root = Path(args.path)
    if not root.is_dir():
        raise UsageError(f"{clean_name(args.path)}: not a directory")
    only, gates, missing = _gates_for_run(args)
    policy = policy_for_root(root, args.policy, args.allow_unpinned_policy, gates=gates)
    _apply_fail_on(policy, args.fail_on)
    # a gate named with --gate runs even when the policy disables it: a CI job that asks for one
    # gate must not pass silently because the repository switched that gate off
    run = run_gates(gates, policy, root, only=only, args=args, explicit=bool(only),
                    unavailable={n: str(e) for n, e in missing.items()}, shard=_shard(args))
    _emit(run, args)
    return run.exit_code


def cmd_gate(args: argparse.Namespace) -> int:
    """``mlsec-gates <gate>``: that gate alone, with its flags over the policy (locks apply)."""
    from .loader import policy_for_root
    from .locks import enforce_override
    from .merge import deep_merge
    from .registry import load_gate
    from .runner import run_gates

    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"--root {clean_name(args.root)}: not a directory")
    gate = load_gate(args.gate_name)
    gates = {gate.name: gate}
    policy = policy_for_root(root, args.policy, args.allow_unpinned_policy, gates=gates)
    _apply_fail_on(policy, args.fail_on)
    overrides = {gate.name: gate.options_from_args(args)}
    enforce_override(policy.locks, deep_merge(policy.data, {"gates": overrides}), f"mlsec-gates {gate.name} flags")
    targets = [Path(p) for p in args.paths]
    run = run_gates(gates, policy, root, only=[gate.name], targets=targets, overrides=overrides, args=args, explicit=True)
    _emit(run, args)
    return run.exit_code


def _add_hook_command(sub: argparse._SubParsersAction) -> None:
    hp = sub.add_parser(
        "hook", help="pre-commit: one gate on the staged files the policy selects for it",
        description="Run GATE on the FILES pre-commit passes, keeping only those the policy's paths and exclude "
                    "select for that gate (relative to --root). A gate the policy disables, or no file left, "
                    "passes with a note on stderr.",
        epilog="example (.pre-commit-hooks.yaml): entry: mlsec-gates hook pii", formatter_class=argparse.RawDescriptionHelpFormatter)
    hp.add_argument("hook_gate", metavar="GATE", help="the gate to run")
    hp.add_argument("files", nargs="*", metavar="FILE", help="the files pre-commit passes")
    hp.add_argument("--root", default=".", help="repository root; policy paths are relative to it (default: current directory)")
    _add_output_args(hp)
    hp.set_defaults(func=cmd_hook)


def cmd_hook(args: argparse.Namespace) -> int:
    """``mlsec-gates hook GATE FILE...``: what a pre-commit hook runs. The policy decides as it
    does for ``mlsec-gates run``: a disabled gate checks nothing, and only the files its
    ``paths``/``exclude`` select are scanned (a commit touching none of them passes)."""
    from .files import select as select_files
    from .loader import policy_for_root
    from .registry import gate_names, load_gate
    from .runner import run_gates

    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"--root {clean_name(args.root)}: not a directory")
    if args.hook_gate not in gate_names():
        raise UsageError(f"unknown gate {clean_name(args.hook_gate)!r} (installed: {', '.join(gate_names())})")
    gate = load_gate(args.hook_gate)
    gates = {gate.name: gate}
    policy = policy_for_root(root, args.policy, args.allow_unpinned_policy, gates=gates)
    _apply_fail_on(policy, args.fail_on)
    if not policy.enabled(gate.name):
        print(f"mlsec-gates: the {gate.name} gate is disabled by the policy; nothing to check", file=sys.stderr)
        return EXIT_PASS
    options = policy.gate_options(gate.name)
    include = list(options.get("paths") or gate.default_paths)
    kept, dropped = select_files([Path(f) for f in args.files], root, include, list(options.get("exclude") or []))
    if args.verbose and dropped:
        print(f"mlsec-gates: {len(dropped)} file(s) outside the {gate.name} gate's paths or excluded: "
              + ", ".join(clean_name(p) for p in dropped), file=sys.stderr)
    if not kept:
        print(f"mlsec-gates: none of the {len(args.files)} file(s) is in the {gate.name} gate's paths; nothing to check", file=sys.stderr)
        return EXIT_PASS
    flags = argparse.ArgumentParser(add_help=False)
    gate.add_arguments(flags)  # the gate's own flags at their defaults: gates read them from ctx.args
    gate_args = argparse.Namespace(**{**vars(flags.parse_args([])), **vars(args)})
    run = run_gates(gates, policy, root, only=[gate.name], targets=kept, args=gate_args, explicit=True)
    _emit(run, args)
    return run.exit_code


def _all_gates() -> tuple[dict[str, Gate], list[str]]:
    """Every importable gate, and the names of those whose extra is not installed (their own
    options cannot be checked; a warning says so)."""
    from .registry import load_gates

    gates, missing = load_gates()
    for name, exc in missing.items():
        print(f"mlsec-gates: warning: {exc}; its options in the policy are not checked", file=sys.stderr)
    return gates, list(missing)


def cmd_policy_validate(args: argparse.Namespace) -> int:
    """Validate one policy file and its ``extends`` chain; exit 2 with FILE:LINE messages."""
    from .loader import load_policy
    from .policy import find_policy_file

    path = Path(args.file) if args.file else find_policy_file(Path("."))
    if path is None:
        raise UsageError("no policy file given and no .mlsec-gates.yml in the current directory")
    gates, unloaded = _all_gates()
    load_policy(path, gates, allow_unpinned=args.allow_unpinned_policy, unloaded=unloaded)
    print(f"{clean_name(path)}: valid")
    return 0


def cmd_policy_show(args: argparse.Namespace) -> int:
    """Print the effective policy as YAML (or, with ``--explain``, each key with its source)."""
    import yaml

    from .explain import render_explain
    from .loader import policy_for_root

    gates, _unloaded = _all_gates()
    policy = policy_for_root(Path(args.path), args.policy, args.allow_unpinned_policy, gates=gates)
    if args.explain:
        sys.stdout.write(clean(render_explain(policy), keep_newlines=True))
        return 0
    header = f"# effective policy: {' + '.join(['built-in defaults', *(c.display for c in policy.chain)])}\n"
    # policy values are input: a URL with a token in it must not be echoed into a CI log
    sys.stdout.write(clean(header + yaml.safe_dump(policy.data, sort_keys=False, default_flow_style=False), keep_newlines=True))
    return 0


def cmd_policy_schema(args: argparse.Namespace) -> int:
    """Print the policy JSON Schema for this installation (every importable gate's options)."""
    import json

    from .schema import build_schema

    gates, unloaded = _all_gates()
    sys.stdout.write(json.dumps(build_schema(gates, unloaded), indent=2) + "\n")
    return 0


def _run_command(args: argparse.Namespace) -> int:
    """Run the parsed command. Commands that scan get their report flags checked first, the
    ``--verbose``/progress feedback while they scan, and ``--exit-zero`` applied to their code."""
    if not hasattr(args, "formats"):
        return int(args.func(args))
    report_targets(args.formats, args.outputs)  # before scanning: a flag mistake costs no scan
    # a command may declare --format without the feedback flags (their defaults then apply)
    progress, quiet = getattr(args, "progress", "auto"), getattr(args, "quiet", False)
    feedback = console.Feedback(verbose=getattr(args, "verbose", False),
                                progress=console.want_progress(progress, quiet, sys.stderr),
                                force_terminal=progress == "always")
    with events.listening(feedback), feedback:
        code = int(args.func(args))
    if getattr(args, "exit_zero", False) and code == EXIT_FAIL:
        print("mlsec-gates: --exit-zero: blocking findings reported, exit code 0 (report-only)", file=sys.stderr)
        return EXIT_PASS
    return code


# ---- shards, merge and remote references (issue 17) ------------------------------------------

def _add_shard_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shard", metavar="K/N",
                   help="scan shard K of N (split by file, size-balanced; repository-wide gates run in shard 1); "
                        "combine the shards' JSON reports with `mlsec-gates merge`")


def _shard(args: argparse.Namespace):  # -> Shard | None
    spec = getattr(args, "shard", None)
    if not spec:
        return None
    from .shard import parse_shard

    return parse_shard(spec)


def _add_merge_command(sub: argparse._SubParsersAction) -> None:
    m = sub.add_parser("merge", help="combine the JSON reports of `run --shard K/N` into one report (exit code: the merged verdict)",
                       description="Combine shard JSON reports (every shard 1..N exactly once) into one report in any format; "
                                   "exits 0/1/2 like the unsharded run would.")
    m.add_argument("reports", nargs="+", metavar="REPORT", help="JSON reports written by `mlsec-gates run --shard K/N --format json`")
    m.add_argument("--format", dest="formats", action="append", choices=FORMATS, metavar="FMT",
                   help=f"report format ({', '.join(FORMATS)}); repeatable, paired in order with --output")
    m.add_argument("--output", dest="outputs", action="append", metavar="FILE", help="file for the matching --format (default: stdout)")
    m.add_argument("--no-color", action="store_true", help="plain console output")
    m.add_argument("-q", "--quiet", action="store_true", help="no console report when writing reports to files")
    m.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    """Merge shard reports: findings keep their fingerprints, the exit code is the merged verdict."""
    from .registry import gate_names, load_gates
    from .shardmerge import load_reports, merge_reports

    reports = load_reports(args.reports)
    named = {n for r in reports for n in r.doc["gates"]} & set(gate_names())
    gates, _missing = load_gates(sorted(named))  # rule descriptions for SARIF/JUnit; a missing gate's come from its findings
    run = merge_reports(reports, {name: dict(g.rules) for name, g in gates.items()})
    _emit(run, args)
    return run.exit_code


def cmd_run_remote(args: argparse.Namespace) -> int:
    """``run oci://… | hf://… | s3://…``: the resolver mirrors what the gates read into a
    temporary directory (holes for the rest), the gates run on it, and reports name the remote
    references. The policy is the working directory's (or ``--policy``): an artifact does not
    bring its own."""
    import tempfile

    from .loader import policy_for_root
    from .remote import fetched_note, preparer, relabel, resolve
    from .runner import run_gates

    only, gates, missing = _gates_for_run(args)
    with tempfile.TemporaryDirectory(prefix="mlsec-gates-remote-") as tmp:
        res = resolve(args.path, Path(tmp))
        policy = policy_for_root(Path.cwd(), args.policy, args.allow_unpinned_policy, gates=gates)
        _apply_fail_on(policy, args.fail_on)
        run = run_gates(gates, policy, res.root, only=only, args=args, explicit=bool(only),
                        unavailable={n: str(e) for n, e in missing.items()}, shard=_shard(args), cwd=res.root,
                        prepare=preparer(res))
        run = relabel(run, res)
    if not getattr(args, "quiet", False):
        print(f"mlsec-gates: {fetched_note(res)}", file=sys.stderr)
    _emit(run, args)
    return run.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # what argparse would print, without reading every gate's entry point first
        print(f"mlsec-gates {__version__}")
        return EXIT_PASS
    try:
        parser = build_parser(argv)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
            return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else EXIT_ERROR
        return _run_command(args)
    except GatesError as exc:
        kind = "policy error" if isinstance(exc, PolicyError) else "error"
        print(_inert(f"mlsec-gates: {kind}: {clean(str(exc), keep_newlines=True)}"), file=sys.stderr)
        return exc.exit_code
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


def console_main() -> None:
    """The ``mlsec-gates`` console script: :func:`main`, then the process ends without the
    interpreter's teardown (:mod:`.fastexit`; same exit code)."""
    from .fastexit import exit_process

    exit_process(main())
