"""Benchmark: the pii gate versus Presidio's pattern recognizers on the same labelled CSV.

    python bench/pii_bench.py [--dense-mb 50] [--sparse-mb 100] [--presidio-mb 1] [--workers 0]

Generates a PII-dense and a PII-sparse CSV (bench/pii_data.py: names, emails, phones, SSNs,
cards, IBANs, IPs mixed with order ids, uuids, versions, coordinates, timestamps; every value
synthetic), then prints, for each engine, MB/s (wall clock, and CPU seconds), peak RSS of the
largest process, and precision/recall per entity on the generated labels (cell level: row, column,
entity). Presidio (``pip install presidio-analyzer``; not a project dependency) runs its predefined
recognizers directly (no spaCy model) with ``.analyze(cell, entities)`` per cell, on the first
``--presidio-mb`` of the dense file; our precision/recall is computed on that same slice and on
the whole file. Each engine runs in its own child process so RSS numbers do not mix.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

ENTITIES = ("CREDIT_CARD", "EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "IBAN_CODE", "IP_ADDRESS")


# ---- children ------------------------------------------------------------------------------------

def child_gate(path: str, workers: int) -> dict:
    """Time the real gate, CLI included; also when the gate itself started (after the CLI has
    imported every gate, built its parser and loaded the policy)."""
    from gates.core import runner
    from gates.core.cli import main  # (gates.core only: the gates themselves load inside the timed run)

    started: list[float] = []
    run_gate = runner.run_gate

    def timed_run_gate(*args, **kwargs):  # noqa: ANN002, ANN003
        started.append(time.perf_counter())
        return run_gate(*args, **kwargs)

    runner.run_gate = timed_run_gate
    out = tempfile.mktemp(suffix=".json")
    t0, c0 = time.perf_counter(), time.process_time()
    code = main(["pii", path, "--format", "json", "--output", out, "-q", "--workers", str(workers)])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rep = json.loads(Path(out).read_text())
    os.unlink(out)
    return {"wall": wall, "cpu": cpu, "startup": started[0] - t0, "code": code, "findings": len(rep["findings"]),
            "errors": rep["gates"]["pii"]["errors"]}


def child_gate_labels(path: str) -> dict:
    """Every validated hit, without sampling, through the same engine the gate uses."""
    from gates.pii import config
    from gates.pii.engine import BatchScan, scan_chunk
    from gates.pii.readers import read

    cfg, limits = config.build({"sampling": {"enabled": False}})
    cfg = cfg.__class__(**{**cfg.__dict__, "record": True})
    info, chunks = read(Path(path), limits)
    bs = BatchScan(cfg)
    for ch in chunks:
        scan_chunk(bs, ch)
    preds = [(r, lab, e) for lab, sc in bs.scanners.items() for r, e in sc.hits]
    return {"preds": preds}


def presidio_recognizers():
    from presidio_analyzer.predefined_recognizers import (
        AbaRoutingRecognizer, CreditCardRecognizer, CryptoRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer,
        MacAddressRecognizer, NhsRecognizer, PhoneRecognizer, UsBankRecognizer, UsItinRecognizer, UsSsnRecognizer,
    )

    return [CreditCardRecognizer(), EmailRecognizer(), UsSsnRecognizer(), IbanRecognizer(), IpRecognizer(), PhoneRecognizer(),
            UsBankRecognizer(), UsItinRecognizer(), AbaRoutingRecognizer(), CryptoRecognizer(), NhsRecognizer(), MacAddressRecognizer()]


def child_presidio(path: str) -> dict:
    import csv

    try:
        import tldextract
        from presidio_analyzer.predefined_recognizers.generic import email_recognizer
    except ImportError as exc:  # not a project dependency: the bench runs without it
        return {"missing": exc.name or "presidio-analyzer"}

    # Presidio's email check fetches the public suffix list over the network on first use;
    # use the snapshot bundled with tldextract instead (same answers, no network)
    email_recognizer.tldextract = type("offline", (), {"extract": staticmethod(tldextract.TLDExtract(suffix_list_urls=()))})
    recs = presidio_recognizers()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    t0, c0 = time.perf_counter(), time.process_time()
    preds = []
    for i, row in enumerate(rows, 1):
        for col, cell in row.items():
            if not cell:
                continue
            for rec in recs:
                for res in rec.analyze(cell, rec.supported_entities, None):
                    preds.append((i, col, res.entity_type, res.score))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall": wall, "cpu": cpu, "preds": preds}


# ---- parent --------------------------------------------------------------------------------------

def run_child(*args: str) -> tuple[dict, int]:
    """Run this script as a child; return its JSON (plus ``cpu_all``: CPU seconds of the child
    and every process it waited for, i.e. the workers) and its peak RSS in MiB (from wait4)."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed ({proc.returncode})")
    data = json.loads(out)
    data["cpu_all"] = ru.ru_utime + ru.ru_stime
    return data, ru.ru_maxrss // 1024


def score(preds, labels, entities=ENTITIES) -> dict[str, tuple[float, float, int, int, int]]:
    truth = defaultdict(set)
    for r, c, e in labels:
        truth[e].add((r, c))
    got = defaultdict(set)
    for p in preds:
        got[p[2]].add((p[0], p[1]))
    out = {}
    for e in entities:
        tp = len(got[e] & truth[e])
        fp = len(got[e] - truth[e])
        fn = len(truth[e] - got[e])
        out[e] = (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp, fp, fn)
    extra = {e: len(s) for e, s in got.items() if e not in entities}
    tp = sum(v[2] for v in out.values())
    fp = sum(v[3] for v in out.values()) + sum(extra.values())
    fn = sum(v[4] for v in out.values())
    out["ALL (incl. other types)"] = (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0, tp, fp, fn)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dense-mb", type=float, default=50)
    ap.add_argument("--sparse-mb", type=float, default=100)
    ap.add_argument("--presidio-mb", type=float, default=1)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        kind, *rest = a.child
        fn = {"gate": lambda p, w: child_gate(p, int(w)), "labels": child_gate_labels, "presidio": child_presidio}[kind]
        print(json.dumps(fn(*rest)))
        return

    import pii_data

    tmp = Path(tempfile.mkdtemp(prefix="pii-bench-"))
    dense, sparse, small = tmp / "dense.csv", tmp / "sparse.csv", tmp / "dense_slice.csv"
    labels_dense = pii_data.write_csv_bytes(int(a.dense_mb * 1e6), "dense", dense)
    pii_data.write_csv_bytes(int(a.sparse_mb * 1e6), "sparse", sparse)
    labels_small = pii_data.write_csv_bytes(int(a.presidio_mb * 1e6), "dense", small)
    mb = {p: p.stat().st_size / 1e6 for p in (dense, sparse, small)}
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; files: dense {mb[dense]:.1f} MB, "
          f"sparse {mb[sparse]:.1f} MB, presidio slice {mb[small]:.2f} MB\n")

    rows = []
    for name, path in (("dense", dense), ("sparse", sparse), ("dense slice", small)):
        for w in sorted({1, a.workers or (os.cpu_count() or 1)}):
            r, rss = run_child("gate", str(path), str(w))
            rows.append((f"mlsec-gates pii, {w} worker(s)", name, mb[path], r["wall"], r["cpu_all"], rss, r["startup"]))
    pres, pres_rss = run_child("presidio", str(small))
    if "missing" in pres:
        print(f"presidio: not installed (no module {pres['missing']!r}; pip install presidio-analyzer); its rows are left out\n")
    else:
        rows.append(("presidio pattern recognizers", "dense slice", mb[small], pres["wall"], pres["cpu_all"], pres_rss, None))

    print("| engine | data | MB | wall s | MB/s (wall) | CPU s | MB per CPU-s | peak RSS MiB | of which start-up s | MB/s after start-up |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for eng, data, size, wall, cpu, rss, startup in rows:
        pooled = "2 worker" in eng or ("worker" in eng and not eng.endswith("1 worker(s)"))
        cpu_s, per_cpu = ("n/a", "n/a") if pooled else (f"{cpu:.2f}", f"{size / cpu:.1f}")
        rate = size / wall
        shown = f"{rate:.1f}" if rate >= 1 else f"{rate:.3f}"
        after = "n/a" if startup is None else f"{size / (wall - startup):.1f}"
        start_s = "n/a" if startup is None else f"{startup:.2f}"
        print(f"| {eng} | {data} | {size:.1f} | {wall:.2f} | {shown} | {cpu_s} | {per_cpu} | {rss} | {start_s} | {after} |")
    print("\nwall: the CLI run (importing every gate, policy, reading, scanning, decisions, JSON report), interpreter start excluded; "
          "start-up: the part of it before the pii gate starts (the CLI imports all gates and loads the policy), "
          "so 'MB/s after start-up' is the data path alone. "
          "CPU: the child and what it waited for, interpreter start included; n/a with worker processes (forkserver "
          "children are not counted). Peak RSS: the largest single process. Files below parallel_min_mb (24 MB) and "
          f"PII-sparse files run in one process whatever --workers says. Shared machine: load average now {os.getloadavg()[0]:.2f}.")

    ours_small = run_child("labels", str(small))[0]["preds"]
    ours_full = run_child("labels", str(dense))[0]["preds"]
    variants = [
        ("mlsec-gates pii (dense slice)", score(ours_small, labels_small)),
        ("mlsec-gates pii (whole dense file)", score(ours_full, labels_dense)),
    ]
    if "missing" not in pres:
        variants += [
            ("presidio, score >= 0 (default)", score(pres["preds"], labels_small)),
            ("presidio, score >= 0.5", score([p for p in pres["preds"] if p[3] >= 0.5], labels_small)),
        ]
    print("\nprecision / recall per entity (cell level; TP/FP/FN); ours with sampling off, i.e. every candidate validated\n")
    ents = list(variants[0][1])
    print("| entity | " + " | ".join(v[0] for v in variants) + " |")
    print("|---|" + "---|" * len(variants))
    for e in ents:
        cells = [f"{v[1][e][0]:.3f} / {v[1][e][1]:.3f} ({v[1][e][2]}/{v[1][e][3]}/{v[1][e][4]})" for v in variants]
        print(f"| {e} | " + " | ".join(cells) + " |")
    if "missing" in pres:
        print("\npresidio: not installed")
        return
    other = defaultdict(int)
    for p in pres["preds"]:
        if p[2] not in ENTITIES:
            other[p[2]] += 1
    print("\npresidio hits of other types on the slice (all false positives here):", dict(other) or "none")


if __name__ == "__main__":
    main()
