"""Runs gates under a policy and turns what they report into verdicts.

The runner is where fail-closed lives: a gate that raises, or that reports an input it could
not read, ends in ``error`` and the run exits 2 unless the policy says ``on_error: warn``.
Blocking is decided here from the policy (never by reports), then waivers are applied.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

from . import events
from .errors import InputError, OptionsError
from .files import display_path
from .findings import Finding, GateError, GateResult, Rule, Status
from .gate import Gate, GateContext
from .hygiene import clean, clean_name
from .merge import deep_merge
from .policy import Policy
from .registry import missing_dependency
from .rules import CORE_RULES
from .shard import Shard
from .waivers import apply_waivers

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
NO_INPUTS = "no inputs"
#: why a repository-wide gate did not run in shards 2..N
SHARD_ELSEWHERE = "repository-wide gate: runs in shard 1"
NOTHING_SCANNED = "nothing was scanned: no gate read any file (check the scanned root and the policy's paths)"


@dataclass
class RunResult:
    results: list[GateResult]
    root: Path
    policy: Policy
    started_at: str
    duration: float
    policy_findings: list[Finding] = field(default_factory=list)
    #: ``run --shard K/N``: this run is one part of a scan that ``mlsec-gates merge`` completes
    shard: Shard | None = None
    #: waivers (by index in the policy) that matched a finding, and the policy findings for the
    #: others by fingerprint: a merge of shards recomputes which waivers are stale from these
    used_waivers: frozenset[int] = frozenset()
    stale_waivers: Mapping[str, int] = field(default_factory=dict)
    #: the display root for reports (a remote reference such as ``oci://…``), when not ``root``
    display_root: str | None = None

    @property
    def findings(self) -> list[Finding]:
        out = [f for r in self.results for f in r.findings]
        return out + self.policy_findings

    @property
    def nothing_scanned(self) -> bool:
        """No gate read a file, failed to read one or found anything: that is not a pass,
        whatever the gates said (an input that could not be read is the gate's error)."""
        if self.shard is not None:
            return False  # a shard may own no file at all; the merged report decides
        return not any(r.files or r.errors or r.findings for r in self.results)

    @property
    def status(self) -> Status:
        if any(r.status is Status.ERROR for r in self.results):
            return Status.ERROR
        if any(r.status is Status.FAIL for r in self.results) or any(f.blocking for f in self.policy_findings):
            return Status.FAIL
        if self.nothing_scanned:
            return Status.ERROR
        return Status.PASS

    @property
    def exit_code(self) -> int:
        return {Status.PASS: EXIT_PASS, Status.FAIL: EXIT_FAIL}.get(self.status, EXIT_ERROR)

    def rules(self) -> dict[str, Rule]:
        out: dict[str, Rule] = dict(CORE_RULES)
        for r in self.results:
            out.update(r.rules)
        return out


def run_gate(
    gate: Gate,
    policy: Policy,
    root: Path,
    *,
    targets: Sequence[Path] = (),
    overrides: Mapping | None = None,
    args: argparse.Namespace | None = None,
    cwd: Path | None = None,
    shard: Shard | None = None,
    prepare: Callable[[GateContext, Sequence[Path] | None], list[Path]] | None = None,
) -> GateResult:
    """Run one gate, catching everything it raises (fail closed)."""
    options = policy.gate_options(gate.name)
    if overrides:
        options = deep_merge(options, dict(overrides))
    configured = frozenset({*policy.configured_options(gate.name), *(overrides or {})})
    ctx = GateContext(gate=gate, root=root, options=options, policy=policy.data, targets=tuple(targets), cwd=cwd or Path.cwd(),
                      args=args, configured=configured, shard=shard, prepare=prepare)
    rules = {**CORE_RULES, **gate.rules}
    t0 = time.perf_counter()
    skip = None
    try:
        if prepare is not None and not gate.per_file:
            prepare(ctx, None)  # a repository-wide gate may read files it does not discover: all of them
        skip = None if targets else gate.skip_reason(ctx)
        if skip is None:
            gate.run(ctx)
    except InputError as exc:
        ctx.errors.append(GateError(message=exc.reason, path=ctx.display(exc.path) if exc.path else ""))
    except OptionsError as exc:
        # the same message for every gate: which policy key, and why (the value itself may be a secret)
        ctx.errors.append(GateError(message=f"invalid policy option gates.{gate.name}.{clean(exc.key, pii=False)}: {clean(exc.reason)}",
                                    path=policy.path or ""))
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any crash must fail the gate, not pass it
        # SystemExit too: a library calling sys.exit(0) inside a gate must not end the run "passed"
        unavailable = missing_dependency(gate.name, exc) if isinstance(exc, ModuleNotFoundError) else None
        if unavailable is not None:  # a library the gate imports on first use: say which extra to install
            ctx.errors.append(GateError(message=str(unavailable)))
        else:
            where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            loc = f" at {clean_name(Path(where.filename).name)}:{where.lineno}" if where else ""
            # the exception text is kept to its type: it could quote input (PII, secrets)
            ctx.errors.append(GateError(message=f"gate crashed: {type(exc).__name__}{loc}"))
    duration = time.perf_counter() - t0
    if skip is not None:
        return GateResult(gate.name, gate.title, Status.SKIPPED, duration=duration, skip_reason=skip, rules=rules)

    findings = []
    for f in ctx.findings:
        blocking = bool(f.blocking if f.blocking is not None else policy.blocks(gate.name, f.severity))
        findings.append(f if f.blocking is blocking else f.replace(blocking=blocking))
    findings.sort(key=_order)

    if ctx.errors and policy.on_error(gate.name) != "warn":
        status = Status.ERROR
    elif any(f.blocking for f in findings):
        status = Status.FAIL
    elif not ctx.files and not findings and not ctx.errors:
        # nothing read is not a pass: the gate had no inputs (a configured glob that matched
        # nothing is already an error, from discovery)
        return dataclasses.replace(_result(gate, ctx, findings, Status.SKIPPED, duration, rules), skip_reason=NO_INPUTS)
    else:
        status = Status.PASS
    return _result(gate, ctx, findings, status, duration, rules)


def _result(gate: Gate, ctx: GateContext, findings: list[Finding], status: Status, duration: float, rules: dict[str, Rule]) -> GateResult:
    return GateResult(
        gate=gate.name, title=gate.title, status=status, findings=tuple(findings), files=tuple(ctx.files),
        errors=tuple(ctx.errors), duration=duration, rules=rules, notes=tuple(ctx.notes), inventory=tuple(ctx.inventory),
    )


def _order(f: Finding) -> tuple:
    """Blocking first, then warnings, then waived; worst severity first within each."""
    return (not f.blocking, f.waived, -f.severity.rank, f.path, f.line or f.row or 0, f.rule)


def finalize(results: list[GateResult], policy: Policy, root: Path, started: float, started_at: str, today: _dt.date | None = None) -> RunResult:
    """Apply waivers across all gates, recompute statuses and report stale waivers."""
    waivers = policy.waivers()
    all_findings = [f for r in results for f in r.findings]
    outcome = apply_waivers(all_findings, waivers, today)
    it = iter(outcome.findings)
    new_results = []
    for r in results:
        fs = tuple(sorted((next(it) for _ in r.findings), key=_order))
        status = r.status
        if status is Status.FAIL and not any(f.blocking for f in fs):
            status = Status.PASS
        elif status is Status.PASS and any(f.blocking for f in fs):
            status = Status.FAIL
        new_results.append(dataclasses.replace(r, status=status, findings=fs))
    policy_findings = []
    stale: dict[str, int] = {}
    ran = {r.gate for r in results if r.status is not Status.SKIPPED}
    for i, w in enumerate(waivers):
        if i in outcome.used:
            continue
        if w.gate and w.gate not in ran:
            continue  # the gate it belongs to did not run: we cannot tell whether it is stale
        rule = CORE_RULES["CORE002"]
        file, _, line = w.source.rpartition(":")
        policy_findings.append(
            stale_finding := Finding(
                gate="policy", rule="CORE002", severity=rule.severity, blocking=False,
                message=f"waiver for {w.rule}{' at ' + w.path if w.path else ''} matches no finding",
                why=rule.why, remediation=rule.remediation, path=display_path(Path(file or policy.path or ".")),
                line=int(line) if line.isdigit() else None, key=f"{w.rule}|{w.path}|{w.fingerprint}",
            )
        )
        stale[stale_finding.fingerprint] = i
    return RunResult(new_results, root, policy, started_at, time.perf_counter() - started, policy_findings,
                     used_waivers=frozenset(outcome.used), stale_waivers=stale)


def run_gates(
    gates: Mapping[str, Gate],
    policy: Policy,
    root: Path,
    *,
    only: Sequence[str] = (),
    targets: Sequence[Path] = (),
    overrides: Mapping[str, Mapping] | None = None,
    args: argparse.Namespace | None = None,
    explicit: bool = False,
    today: _dt.date | None = None,
    unavailable: Mapping[str, str] | None = None,
    shard: Shard | None = None,
    cwd: Path | None = None,
    prepare: Callable[[GateContext, Sequence[Path] | None], list[Path]] | None = None,
) -> RunResult:
    """Run the selected (else every enabled) gate. ``explicit`` runs a named gate even when the
    policy disables it (``mlsec-gates <gate>`` is an explicit request). ``unavailable`` maps
    installed gates that could not be imported (missing extra) to the message saying how to
    install them: such a gate, when it should run, ends in ``error`` (fail closed). ``shard``
    runs this shard's share: per-file gates on their files, the others in shard 1 only.
    ``cwd`` is where reported paths are relative to (a remote reference's local mirror), and
    ``prepare`` fetches the mirror's files as the gates come to read them."""
    started = time.perf_counter()
    started_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    results = []
    unavailable = dict(unavailable or {})
    names = list(only) or sorted({*gates, *unavailable})
    for index, name in enumerate(names, 1):
        events.emit(events.Event(events.GATE_START, name, index=index, total=len(names)))
        gate = gates.get(name)
        title = gate.title if gate is not None else name
        rules = {**CORE_RULES, **(gate.rules if gate is not None else {})}
        if not explicit and not policy.enabled(name):
            results.append(GateResult(name, title, Status.SKIPPED, skip_reason="disabled by policy", rules=rules))
        elif gate is None and not explicit and not policy.configures(name):
            # the built-in default turns every gate on; a gate nobody asked for and whose extra is
            # not installed is skipped, and says how to install it
            results.append(GateResult(name, title, Status.SKIPPED, skip_reason=f"not installed: {unavailable.get(name, '')}", rules=rules))
        elif gate is None:
            message = unavailable.get(name, f"gate {name!r} is not installed")
            results.append(GateResult(name, title, Status.ERROR, errors=(GateError(message=message),), rules=rules))
        elif shard is not None and not gate.per_file and not shard.first:
            results.append(GateResult(name, title, Status.SKIPPED, skip_reason=f"{SHARD_ELSEWHERE} (shard {shard})", rules=rules))
        else:
            results.append(run_gate(gate, policy, root, targets=targets, overrides=(overrides or {}).get(name), args=args,
                                    shard=shard, cwd=cwd, prepare=prepare))
        events.emit(events.Event(events.GATE_END, name, index=index, total=len(names)))
    events.emit(events.Event(events.RUN_END))
    run = finalize(results, policy, root, started, started_at, today)
    return dataclasses.replace(run, shard=shard) if shard is not None else run
