"""Start-up time of whole ``mlsec-gates`` processes, side by side with ``pip-audit --version`` and
a bare interpreter (issue 18).

Every case is a fresh process (what a CI step or a pre-commit hook pays), timed wall-clock and
reported as the median of N runs, after one warm-up run each (the file cache, not Python's).
The ``eval`` case checks one metric of a two-line JSON results file: the smallest real run; the
pii case scans a 3-row CSV next to a bare ``import pyarrow``, with and without numpy (the gate
imports it without: that is what it cannot go below).

Run: python bench/startup_bench.py [-n 15]   (from the venv that has mlsec-gates and pip-audit)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
#: as an installed wheel runs: from byte code (a machine with PYTHONDONTWRITEBYTECODE=1 would
#: otherwise compile every module of an editable install on every run); the first run writes it
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "mlsec-gates-bench-pyc")


def tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def tiny_eval_tree(root: Path) -> Path:
    (root / "results.json").write_text('{"accuracy": 0.91}\n')
    (root / "tiny.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    (root / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: results.json\n"
                                           "    metrics:\n      accuracy: {min: 0.8}\n")
    return root


def median_seconds(cmd: list[str], cwd: Path, n: int) -> tuple[float, int]:
    subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, check=False)  # warm-up (and byte code)
    times, rc = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, check=False).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), rc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=15, help="runs per case (median reported)")
    args = ap.parse_args()
    gates = tool("mlsec-gates")
    with tempfile.TemporaryDirectory() as tmp:
        root = tiny_eval_tree(Path(tmp))
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "pip-audit --version": [tool("pip-audit"), "--version"],
            "mlsec-gates --version": [gates, "--version"],
            "mlsec-gates --help": [gates, "--help"],
            "mlsec-gates eval --help": [gates, "eval", "--help"],
            "mlsec-gates eval (1 metric)": [gates, "eval"],
            # the pii gate's fixed cost above pyarrow's own import (issue 18): one 3-row CSV; the
            # gate imports pyarrow without numpy (gates.pii.arrowload), so that is its floor
            "import pyarrow (+compute, csv)": [sys.executable, "-c", "import pyarrow, pyarrow.compute, pyarrow.csv"],
            "  the same without numpy": [sys.executable, "-c", "import sys; sys.modules['numpy'] = None; "
                                         "import pyarrow, pyarrow.compute, pyarrow.csv"],
            "python -m gates.pii (3-row CSV)": [sys.executable, "-m", "gates.pii", "tiny.csv", "--format", "json",
                                                "--output", "pii.json", "-q"],
        }
        results = {name: median_seconds(cmd, root, args.n) for name, cmd in cases.items()}
    ref = results["pip-audit --version"][0]
    print(f"median of {args.n} whole-process runs, {os.cpu_count()} CPUs, python {sys.version.split()[0]}")
    print(f"{'case':32} {'seconds':>8} {'x pip-audit':>12}  exit")
    for name, (sec, rc) in results.items():
        print(f"{name:32} {sec:8.3f} {sec / ref:12.2f}  {rc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
