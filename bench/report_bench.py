"""CPU seconds of the report side of a pii gate run (issue 18, "many small files").

    python bench/report_bench.py /tmp/mlsec-gates-pii-bench/dense-5mb-10000-parts
    python bench/report_bench.py DIR --format json --format sarif --format text

Runs ``mlsec-gates pii DIR --workers 1 -q --format … --output …`` in this process and times,
with ``time.process_time``, what happens per finding rather than per scanned byte: the gate's
reporting of each file (``gates.pii.gate._report``: ``decide.report_file`` and ``ctx.add``), the
runner's per-finding steps after the gate returns, ``finalize`` (waivers) and each writer. Cyclic
garbage-collector passes are counted apart: a full pass frees what the scan left in reference
cycles, whichever code happens to allocate when it runs. Use ``--workers 1``-style numbers only to
compare two trees on the same machine (the machine may be shared: run each twice).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("target", help="a file or directory for the pii gate")
    ap.add_argument("--format", action="append", dest="formats", help="report format(s) (default: json)")
    args = ap.parse_args()

    import gates.core.reports as reports
    import gates.core.runner as runner
    import gates.pii.gate as pii_gate
    from gates.core import cli

    spent: dict[str, float] = {}
    phase = ["scan"]
    gc_spent: dict[str, float] = {}
    gc_start = [0.0]

    def on_gc(event: str, info: dict[str, Any]) -> None:
        if event == "start":
            gc_start[0] = time.process_time()
        else:
            gc_spent[phase[0]] = gc_spent.get(phase[0], 0.0) + time.process_time() - gc_start[0]

    def timed(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(*a: Any, **k: Any) -> Any:
            before, phase[0] = phase[0], label
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - t
                phase[0] = before
        return run

    pii_gate._report = timed("report files (decide + ctx.add)", pii_gate._report)
    runner.finalize = timed("finalize (waivers)", runner.finalize)
    gate_run = pii_gate.PiiGate.run
    ended = [0.0]

    def run_gate_body(self: Any, ctx: Any) -> None:
        try:
            gate_run(self, ctx)
        finally:
            ended[0] = time.process_time()

    pii_gate.PiiGate.run = run_gate_body
    run_gate = runner.run_gate

    def run_gate_after(*a: Any, **k: Any) -> Any:
        result = run_gate(*a, **k)
        spent["runner after the gate"] = time.process_time() - ended[0]
        return result

    runner.run_gate = run_gate_after
    writers = reports.writers
    cli.writers = lambda: {name: timed(f"write {name}", w) for name, w in writers().items()}

    gc.callbacks.append(on_gc)
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["pii", args.target, "--workers", "1", "-q"]
        for fmt in args.formats or ["json"]:
            argv += ["--format", fmt, "--output", str(Path(tmp) / f"report.{fmt}")]
        t0 = time.process_time()
        code = cli.main(argv)
        total = time.process_time() - t0
    gc.callbacks.remove(on_gc)
    side = sum(spent.values())
    for label, s in spent.items():
        print(f"{label:38} {s:7.3f} s   (of which cyclic GC {gc_spent.get(label, 0.0):.3f} s)")
    print(f"{'report side':38} {side:7.3f} s   (of which cyclic GC {sum(v for k, v in gc_spent.items() if k != 'scan'):.3f} s)")
    print(f"{'whole run (in process)':38} {total:7.3f} s   exit code {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
