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


def bypass_samples(d: Path) -> dict[str, Path]:
    """Small malicious samples (harmless commands), one per published bypass class."""
    import gzip

    from modelsamples import (
        EMPTY_DICT, POP, STACK_GLOBAL, EMPTY_TUPLE, REDUCE, MARK, TUPLE, binget, binput, call, glob, joblib_array,
        legacy_torch, os_system, pickle_of, sbytes, torch_state_dict_pickle, torch_zip, ustr,
    )

    crc = bytearray(torch_zip(os_system()))
    i = crc.index(b"echo harmless")
    crc[i] = ord("E")
    samples = {
        "plain os.system (control)": ("plain.pkl", os_system()),
        "protocol-0 alias commands.getoutput": ("alias.pkl", b"ccommands\ngetoutput\n(S'id'\ntR."),
        "importlib + getattr resolver chain": ("chain.pkl", pickle_of(glob("builtins", "getattr") + MARK + call("importlib", "import_module", ustr("os")) + ustr("system") + TUPLE + REDUCE + MARK + ustr("id") + TUPLE + REDUCE)),
        "pkgutil.resolve_name": ("resolve.pkl", pickle_of(call("pkgutil", "resolve_name", ustr("os:system")))),
        "STACK_GLOBAL names from memo": ("memo.pkl", pickle_of(ustr("subprocess") + binput(0) + ustr("getoutput") + binput(1) + POP + POP + binget(0) + binget(1) + STACK_GLOBAL + MARK + ustr("id") + TUPLE + REDUCE, 4)),
        "dotted STACK_GLOBAL qualname": ("dotted.pkl", pickle_of(ustr("collections") + ustr("OrderedDict.__init__.__globals__") + STACK_GLOBAL + EMPTY_TUPLE + REDUCE, 4)),
        "payload then broken stream": ("broken.pkl", b"\x80\x02" + call("os", "system", ustr("id")) + b"\xff\xfe"),
        "second stacked pickle": ("stacked.pkl", pickle_of(EMPTY_DICT) + os_system()),
        "nested pickle.loads": ("nested.pkl", pickle_of(call("pickle", "loads", sbytes(os_system())))),
        "zip CRC mismatch (torch)": ("crc.pt", bytes(crc)),
        "legacy torch, payload in 4th pickle": ("legacy.pt", legacy_torch(os_system())),
        "joblib payload after numpy buffer": ("after.joblib", joblib_array(data=b"}." + b"\x00" * 30, after=POP + call("os", "system", ustr("id")))),
        "gzip-compressed joblib": ("comp.joblib", gzip.compress(joblib_array(after=POP + call("os", "system", ustr("id"))))),
        "pickle renamed .safetensors": ("model.safetensors", os_system()),
        "truncated checkpoint (fail closed)": ("trunc.pt", torch_zip(torch_state_dict_pickle(5), n_storages=5)[:-60]),
    }
    out = {}
    for label, (name, data) in samples.items():
        p = d / "bypass" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        out[label] = p
    return out


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


def measure(cmd: list[str], cwd: str) -> dict:
    """Run ``cmd`` once in this (fresh) process; report wall time and the child's peak RSS."""
    t0 = time.perf_counter()
    try:
        # cwd: fickling's CLI writes safety_results.json into the working directory
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT, cwd=cwd)
        code: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": wall, "rss_mb": rss_kb / 1024, "exit": code}


def run_one(cmd: list[str], cwd: Path) -> dict:
    # a wrapper process per run, so RUSAGE_CHILDREN covers exactly one tool invocation
    payload = json.dumps({"cmd": cmd, "cwd": str(cwd)})
    out = subprocess.run([sys.executable, __file__, "--measure", payload], capture_output=True, text=True, timeout=TIMEOUT + 60)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"seconds": float("nan"), "rss_mb": float("nan"), "exit": "bench error"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files")
    ap.add_argument("--detection", action="store_true", help="also run each tool on small bypass samples")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        job = json.loads(args.measure)
        print(json.dumps(measure(job["cmd"], job["cwd"])))
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
                r = run_one(cmd, tmp)
                rows.append((label, tool, f"{r['seconds']:.2f} s", f"{r['rss_mb']:.0f} MB", str(r["exit"])))
                print(f"  {label:32} {tool:18} {rows[-1][2]:>10} {rows[-1][3]:>8}  exit {rows[-1][4]}", file=sys.stderr)
        print("| file | tool | wall time | peak RSS | exit |")
        print("|---|---|---:|---:|---|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        if args.detection:
            tools = list(commands(tmp).keys())
            print("\nDetection (exit code; 1 = the tool flagged the file, 0 = passed it, other = error):\n")
            print("| sample | " + " | ".join(tools) + " |")
            print("|---|" + "---|" * len(tools))
            for label, path in bypass_samples(tmp).items():
                cells = []
                for tool, cmd in commands(path).items():
                    cells.append("n/a" if cmd is None else str(run_one(cmd, tmp)["exit"]))
                print(f"| {label} | " + " | ".join(cells) + " |")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
