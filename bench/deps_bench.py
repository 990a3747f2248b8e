"""Benchmark the deps gate: a 300-package pinned lock file audited with the local OSV database and
with real pip-audit through a loopback OSV server (same records, same answers).

    MLSEC_GATES_SHARED=../shared python bench/deps_bench.py [--packages 300]

Prints one table: wall time of the whole gate run (CLI in-process, including loading the
database), the matcher alone, and the pip-audit path.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "deps"))

from deps_osv_server import OsvServer, load_records  # noqa: E402

from gates.core.cli import main  # noqa: E402
from gates.deps.osv import OsvDatabase, parse_version  # noqa: E402


def lock_file(records: list[dict], n: int) -> str:
    """``n`` pins of packages from the database, each at the oldest PEP 440 version a record
    lists (so most of them are vulnerable, which is the expensive case)."""
    pins: dict[str, str] = {}
    for r in records:
        for a in r.get("affected", []):
            name = a["package"]["name"].lower()
            vs = [v for v in a.get("versions", []) if parse_version(v) is not None]
            if name not in pins and vs:
                pins[name] = min(vs, key=parse_version)
        if len(pins) >= n:
            break
    return "".join(f"{k}=={v}\n" for k, v in sorted(pins.items())[:n])


def run_cli(*args: str) -> tuple[int, float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main([*args, "--format", "json", "--output", str(out), "-q"])
        dt = time.perf_counter() - t
        return code, dt, json.loads(out.read_text())


def main_() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packages", type=int, default=300)
    ns = ap.parse_args()
    shared = Path(os.environ.get("MLSEC_GATES_SHARED", REPO.parent / "shared"))
    db_path = shared / "testdata" / "osv" / "pypa-advisory-database.json.gz"
    records = load_records(db_path)
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.lock.txt"
        req.write_text(lock_file(records, ns.packages))
        n = len(req.read_text().splitlines())

        t = time.perf_counter()
        db = OsvDatabase.load(db_path)
        t_load = time.perf_counter() - t
        t = time.perf_counter()
        hits = 0
        for line in req.read_text().splitlines():
            name, ver = line.split("==")
            hits += len(db.matches(name, ver)[0])
        t_match = time.perf_counter() - t

        code_l, t_local, rep_l = run_cli("deps", "--requirements", str(req), "--source", "local", "--database", str(db_path), "--root", tmp)
        os.environ["NO_PROXY"] = "127.0.0.1"
        with OsvServer(records) as srv:
            code_p, t_pip, rep_p = run_cli("deps", "--requirements", str(req), "--source", "osv", "--osv-url", srv.url, "--root", tmp)
            queries = srv.queries

    def n_vulns(rep: dict) -> int:
        return len([f for f in rep["findings"] if f["rule"] == "DEPS001"])

    print(f"{n} pinned packages, {hits} advisory matches; shared PyPA database ({db.records} records)")
    print("| path | time (s) | exit | DEPS001 findings |")
    print("|---|---:|---:|---:|")
    print(f"| local: load database (json.gz) | {t_load:.3f} | | |")
    print(f"| local: matcher only, {n} lookups | {t_match:.3f} | | |")
    print(f"| local: whole gate run (CLI) | {t_local:.3f} | {code_l} | {n_vulns(rep_l)} |")
    print(f"| pip-audit 2.10.1 via loopback OSV ({queries} queries + severity lookups) | {t_pip:.3f} | {code_p} | {n_vulns(rep_p)} |")

    def pairs(rep: dict) -> set:
        return {(f["package"], f["advisory"]) for f in rep["findings"] if f["rule"] == "DEPS001"}

    print(f"same (package, advisory) set from both paths: {pairs(rep_l) == pairs(rep_p)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
