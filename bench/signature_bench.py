"""Verify a generated 1 GiB model directory with this gate and with the model_signing CLI (key
method: no network), side by side with a plain hashlib pass over the same bytes.

    python bench/signature_bench.py [--size-gb 1] [--dir /tmp/sigbench] [--rounds 5]

The directory is generated once (random bytes) and reused; the page cache is warmed first. Every
step runs as its own process, in interleaved rounds (the order rotates each round), and the table
gives medians of wall and CPU time (user + system, from ``wait4``) and the median of per-round
ratios against two hashlib baselines measured in the same rounds: 8 MiB reads (the plain loop) and
1 MiB reads (the fastest single-thread loop on a 2 MiB-L2 core). On a shared, loaded machine the
CPU ratio is the stable number; wall time depends on how many cores the other processes leave.
The model_signing CLI must be on PATH (pip install 'mlsec-gates[test]' brings it) or next to this
Python.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def generate(root: Path, total: int) -> None:
    """A model-shaped directory: 4 large weight shards plus small config/tokenizer files."""
    marker = root / ".complete"
    if marker.exists() and int(marker.read_text()) == total:
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    big = total // 4
    chunk = os.urandom(16 << 20)
    for i in range(4):
        with open(root / f"model-{i + 1:05d}-of-00004.safetensors", "wb") as f:
            left = big
            while left > 0:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n
                chunk = chunk[1:] + chunk[:1]  # cheap variation between chunks
    (root / "config.json").write_text('{"hidden_size": 4096}\n')
    (root / "tokenizer.json").write_bytes(os.urandom(2 << 20))
    (root / "generation_config.json").write_text("{}\n")
    marker.write_text(str(total))


def hash_dir(root: Path, block: int) -> None:
    """The baseline: one hashlib SHA-256 pass over every file, one thread, ``block``-byte reads."""
    buf = bytearray(block)
    view = memoryview(buf)
    for p in sorted(root.iterdir()):
        if p.is_file() and p.name != ".complete":
            h = hashlib.sha256()
            with open(p, "rb", buffering=0) as f:
                while n := f.readinto(view):
                    h.update(view[:n])


def run_cpu(cmd: list[str]) -> tuple[float, float]:
    """Like :func:`run`, with the child reaped by ``os.wait4`` so its own rusage is exact."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr.read()[-2000:]!r}")
    proc.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-gb", type=float, default=1.0)
    ap.add_argument("--dir", default="/tmp/mlsec-sigbench")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds; medians are reported")
    ap.add_argument("--hash", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--block", type=int, default=8 << 20, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hash:
        hash_dir(Path(args.hash), args.block)
        return
    base = Path(args.dir)
    model = base / "model"
    total = int(args.size_gb * (1 << 30))
    generate(model, total)
    size = sum(p.stat().st_size for p in model.iterdir() if p.is_file() and p.name != ".complete")
    key = ec.generate_private_key(ec.SECP256R1())
    priv, pub = base / "bench.key", base / "bench.pub"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    bindir = Path(sys.executable).parent
    gates = [str(bindir / "mlsec-gates")] if (bindir / "mlsec-gates").exists() else [sys.executable, "-m", "gates"]
    ms = str(bindir / "model_signing") if (bindir / "model_signing").exists() else shutil.which("model_signing")
    ours_sig, ms_sig = base / "ours.sig", base / "ms.sig"
    me = [sys.executable, str(Path(__file__).resolve())]

    hash_dir(model, 1 << 20)  # warm the page cache: every step reads cached bytes
    once = [("mlsec-gates sign --method key", run_cpu([*gates, "sign", str(model), "--method", "key", "--key", str(priv), "--signature", str(ours_sig), "--ignore-paths", ".complete"]))]
    if ms:
        once.append(("model_signing sign key", run_cpu([ms, "sign", "key", str(model), "--private_key", str(priv), "--signature", str(ms_sig), "--ignore-paths", str(model / ".complete")])))
    steps: list[tuple[str, list[str]]] = [
        ("hashlib sha256, 8 MiB reads, 1 thread (baseline)", [*me, "--hash", str(model), "--block", str(8 << 20)]),
        ("hashlib sha256, 1 MiB reads, 1 thread (baseline)", [*me, "--hash", str(model), "--block", str(1 << 20)]),
        ("mlsec-gates signature --public-key", [*gates, "signature", str(model), "--public-key", str(pub), "--signature", str(ours_sig),
                                                "--ignore-paths", ".complete", "-q", "--format", "json", "--output", str(base / "r.json")]),
    ]
    steps.append(("mlsec-gates --version (start-up alone)", [*gates, "--version"]))
    if shutil.which("sha256sum"):
        steps.append(("coreutils sha256sum", ["sha256sum", *[str(p) for p in sorted(model.iterdir()) if p.is_file() and p.name != ".complete"]]))
    if ms:
        steps.append(("model_signing verify key", [ms, "verify", "key", str(model), "--public_key", str(pub), "--signature", str(ms_sig), "--ignore-paths", str(model / ".complete")]))
        steps.append(("mlsec-gates verifies model_signing's signature", [*gates, "signature", str(model), "--public-key", str(pub), "--signature", str(ms_sig),
                                                                          "--ignore-paths", ".complete", "-q", "--format", "json", "--output", str(base / "r2.json")]))
    else:
        print("model_signing CLI not found: install model-signing to compare", file=sys.stderr)
    wall: dict[str, list[float]] = {n: [] for n, _ in steps}
    cpu: dict[str, list[float]] = {n: [] for n, _ in steps}
    for r in range(max(1, args.rounds)):
        order = steps[r % len(steps):] + steps[:r % len(steps)]  # rotate: no step always runs first
        for name, cmd in order:
            w, c = run_cpu(cmd)
            wall[name].append(w)
            cpu[name].append(c)
    b8, b1 = steps[0][0], steps[1][0]

    def ratio(series: dict[str, list[float]], name: str, base_name: str) -> float:
        """Median over rounds of the per-round ratio: both measured under the same load."""
        return median([a / b for a, b in zip(series[name], series[base_name])])

    print(f"model directory: {model} ({size / (1 << 30):.2f} GiB, {len(os.listdir(model)) - 1} files), CPUs: {os.cpu_count()}, "
          f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"{args.rounds} interleaved rounds; medians; every step is a whole process (start-up included); "
          "CPU = user + system time of that process")
    print("| step | wall s | CPU s | wall × hashlib 8 MiB | CPU × hashlib 8 MiB | wall × hashlib 1 MiB | CPU × hashlib 1 MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _ in steps:
        print(f"| {name} | {median(wall[name]):.2f} | {median(cpu[name]):.2f} | {ratio(wall, name, b8):.2f} | {ratio(cpu, name, b8):.2f} "
              f"| {ratio(wall, name, b1):.2f} | {ratio(cpu, name, b1):.2f} |")
    for name, (w, c) in once:
        print(f"| {name} (once) | {w:.2f} | {c:.2f} | | | | |")


if __name__ == "__main__":
    main()
