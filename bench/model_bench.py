"""Benchmark: this gate vs picklescan, modelscan and fickling on the same generated files.

    python bench/model_bench.py [--keep DIR]

Generates (benign) files into a temporary directory: a 20k-tensor PyTorch checkpoint, a 200 MB
pickle made of large byte payloads, a 1M-opcode pickle and a 2 GB safetensors file (sparse).
Each tool runs as its CLI in a fresh process; wall time and that process's peak RSS
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, measured in a wrapper process per run) are
printed side by side, with each tool's exit code. A tool that is not installed prints
"not available". Peer tools are never test dependencies: install them yourself
(``pip install picklescan modelscan fickling``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "model"))

TIMEOUT = 900


def generate(d: Path) -> dict[str, Path]:
    from modelsamples import APPENDS, EMPTY_LIST, MARK, PROTO, STOP, binint, bytes8, torch_state_dict_pickle, torch_zip

    files = {}
    p = d / "checkpoint_20k.pt"
    p.write_bytes(torch_zip(torch_state_dict_pickle(20_000), n_storages=20_000))
    files["20k-tensor checkpoint"] = p

    p = d / "payloads_200mb.pkl"
    with open(p, "wb") as f:
        f.write(PROTO(4) + EMPTY_LIST + MARK)
        chunk = os.urandom(1 << 20) * 8
        for _ in range(25):
            f.write(bytes8(chunk))
        f.write(APPENDS + STOP)
    files["200 MB pickle (byte payloads)"] = p

    p = d / "opcodes_1m.pkl"
    p.write_bytes(PROTO(2) + EMPTY_LIST + (MARK + binint(7) * 1000 + APPENDS) * 1000 + STOP)
    files["1M-opcode pickle"] = p

    p = d / "big_2gb.safetensors"
    n = 2 << 30
    header = json.dumps({"w": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + n)
    files["2 GB safetensors (sparse)"] = p
    return files


def _bin(name: str) -> str | None:
    cand = Path(sys.executable).parent / name
    return str(cand) if cand.exists() else shutil.which(name)


def commands(path: Path) -> dict[str, list[str] | None]:
    gates = _bin("mlsec-gates")
    ps, ms, fk = _bin("picklescan"), _bin("modelscan"), _bin("fickling")
    return {
        "mlsec-gates model": [gates, "model", str(path), "--format", "json", "--output", os.devnull, "-q"] if gates else None,
        "picklescan": [ps, "-p", str(path)] if ps else None,
        "modelscan": [ms, "-p", str(path)] if ms else None,
        "fickling": [fk, "--check-safety", str(path)] if fk else None,
    }


def measure(cmd: list[str]) -> dict:
    """Run ``cmd`` once in this (fresh) process; report wall time and the child's peak RSS."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
        code: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": wall, "rss_mb": rss_kb / 1024, "exit": code}


def run_one(cmd: list[str]) -> dict:
    # a wrapper process per run, so RUSAGE_CHILDREN covers exactly one tool invocation
    out = subprocess.run([sys.executable, __file__, "--measure", json.dumps(cmd)], capture_output=True, text=True, timeout=TIMEOUT + 60)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"seconds": float("nan"), "rss_mb": float("nan"), "exit": "bench error"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return 0
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="model-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        files = generate(tmp)
        rows = []
        for label, path in files.items():
            for tool, cmd in commands(path).items():
                if cmd is None:
                    rows.append((label, tool, "not available", "", ""))
                    continue
                r = run_one(cmd)
                rows.append((label, tool, f"{r['seconds']:.2f} s", f"{r['rss_mb']:.0f} MB", str(r["exit"])))
                print(f"  {label:32} {tool:18} {rows[-1][2]:>10} {rows[-1][3]:>8}  exit {rows[-1][4]}", file=sys.stderr)
        print("| file | tool | wall time | peak RSS | exit |")
        print("|---|---|---:|---:|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
