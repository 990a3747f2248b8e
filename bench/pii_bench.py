"""Speed benchmark of the pii gate on data it did not generate, whole processes, side by side with
Presidio's pattern recognizers (issue 18).

    python bench/pii_bench.py --quick            # ~2 minutes: 10 MB files, 2 MB of small files
    python bench/pii_bench.py                    # 50 MB files, 5 MB of small files, a 300 MB CSV
    python bench/pii_bench.py --mb 50 --big-mb 300 --workers 0 --no-presidio

Inputs (``bench/pii_speed_data.py``): Faker (pinned in the ``test`` extra) across ten locales,
cut into CSVs of the requested size: *dense* (names, addresses, e-mails, phones, cards, IBANs,
IPs, SSNs/national ids, birth dates, a free-text comment; 15 columns), *sparse* (orders and
products with a free-text review; about 1 row in 1,000 carries an e-mail or phone), *free text*
(paragraphs, 1 in 20 with a card/IBAN/e-mail/phone in the prose); the CSVs that scikit-learn
(and plotly, vega_datasets... when installed) ship; the dense rows split into ~8 KB files against
the same bytes in one file, and those small files (and the package CSVs) in one TAR (ZIP), whose
members the gate reads as files; and, without ``--quick``, a 300 MB CSV for peak RSS.

    python bench/pii_bench.py --instructions 12  # instructions per whole process (valgrind), ~4 minutes
    python bench/pii_bench.py --instructions 12 --tree /tmp/base   # the same for another checkout

Each input is run ``--repeat`` times (default 3) and the median run by wall time is shown. A
run is ``python -m gates.pii FILE --format json --output OUT -q`` in a child process: wall
time from start to exit (interpreter start and imports included), CPU = user+sys of the child and
the processes it waited for (pool workers forked by the gate are; those started through the fork
server, when the gate runs a thread, are not: for runs with worker processes the whole machine's
CPU over the run is shown too, from /proc/stat), peak RSS of the child and of the workers it
forked (``wait4``). The machine is shared with other
agents: CPU seconds move far less with load than wall seconds, so read MB per CPU-second first.
Generated files are cached under ``--cache``.

Wall and CPU seconds on a shared virtual machine drift by 10-20 % within minutes, more than most
single changes. ``--instructions MB`` counts instead the instructions one whole process executes
(valgrind's callgrind, every thread) on the first MB of the dense, sparse and free-text files:
repeated runs agree to ~0.1 % once byte code is cached (a warm-up run sees to it), so two
commits can be compared (``--tree`` points
the runs at another checkout's ``gates/``). Instructions are not seconds (memory and the GIL
are not in them): confirm a gain in time with interleaved whole-process runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


# ---- children ------------------------------------------------------------------------------------

def machine_cpu() -> float | None:
    """CPU seconds the whole machine has spent (user, nice, system: /proc/stat), or None off Linux.
    Pool workers started through the fork server are not the child's children, so their CPU shows
    only here (along with whatever else the machine does meanwhile); forked ones are counted in
    the child's own figures too."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
        return (int(fields[1]) + int(fields[2]) + int(fields[3])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


#: the source tree whose ``gates`` the runs import (``--tree``). Children also start in it:
#: ``python -m`` puts the working directory first on ``sys.path``, so a run started in another
#: checkout would import that checkout's ``gates`` whatever ``PYTHONPATH`` says
TREE = [HERE.parent]


def child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(TREE[0]) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    # an installed wheel runs from byte code compiled at install time; a source tree under
    # PYTHONDONTWRITEBYTECODE=1 (set on some CI machines) would compile every module on every
    # run (~90 ms). Byte code goes to a cache of the bench's own instead (warmed by the first run).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "mlsec-gates-bench-pyc")
    return env


def gate_cmd(path: Path, out: Path, workers: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "gates.pii", str(path), "--format", "json", "--output", str(out), "-q"]
    return cmd + ["--workers", str(workers)] if workers is not None else cmd


def run_gate(path: Path, workers: int | None) -> dict:
    """One whole gate process on ``path``: wall, CPU (user+sys), peak RSS, exit code, findings."""
    out = Path(tempfile.mktemp(suffix=".json"))
    cmd = gate_cmd(path, out, workers)
    env = child_env()
    t0, m0 = time.perf_counter(), machine_cpu()
    proc = subprocess.Popen(cmd, env=env, cwd=TREE[0], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall, m1 = time.perf_counter() - t0, machine_cpu()
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    rep = json.loads(out.read_text()) if out.exists() else {}
    out.unlink(missing_ok=True)
    g = rep.get("gates", {}).get("pii", {})
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss / 1024, "code": os.waitstatus_to_exitcode(status),
            "machine_cpu": None if m0 is None or m1 is None else m1 - m0,
            "findings": len(rep.get("findings", [])), "errors": len(g.get("errors", [])), "stderr": err[-300:]}


def child_presidio(path: str) -> dict:
    """Presidio's predefined pattern recognizers (and its phone recognizer), no NLP model, cell by
    cell on ``path`` (a CSV): the same work the gate does, by the library people compare it to."""
    import csv

    try:
        import tldextract
        from presidio_analyzer.predefined_recognizers.generic import email_recognizer
        from presidio_analyzer.predefined_recognizers import (
            AbaRoutingRecognizer, CreditCardRecognizer, CryptoRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer,
            MacAddressRecognizer, PhoneRecognizer, UsBankRecognizer, UsItinRecognizer, UsSsnRecognizer,
        )
    except ImportError as exc:  # not a project dependency: the bench runs without it
        return {"missing": exc.name or "presidio-analyzer"}
    # the email check fetches the public suffix list on first use: the bundled snapshot instead
    email_recognizer.tldextract = type("offline", (), {"extract": staticmethod(tldextract.TLDExtract(suffix_list_urls=()))})
    recs = [CreditCardRecognizer(), EmailRecognizer(), UsSsnRecognizer(), IbanRecognizer(), IpRecognizer(), PhoneRecognizer(),
            UsBankRecognizer(), UsItinRecognizer(), AbaRoutingRecognizer(), CryptoRecognizer(), MacAddressRecognizer()]
    t0, c0 = time.perf_counter(), time.process_time()
    hits = 0
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            for cell in row.values():
                if cell:
                    for rec in recs:
                        hits += len(rec.analyze(cell, rec.supported_entities, None))
    return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, "hits": hits}


# ---- inputs --------------------------------------------------------------------------------------

def inputs(cache: Path, mb: float, small_mb: float, big_mb: float, pool_rows: int) -> dict[str, Path]:
    import pii_speed_data as D

    cache.mkdir(parents=True, exist_ok=True)
    size = int(mb * 1e6)
    out: dict[str, Path] = {}
    pools: dict[str, list] = {}

    def pool(kind: str) -> list:
        if kind not in pools:
            pools[kind] = D.POOLS[kind](pool_rows if kind != "freetext" else max(500, pool_rows // 2))
        return pools[kind]

    for kind in ("dense", "sparse", "freetext"):
        p = cache / f"{kind}-{mb:g}mb-{pool_rows}.csv"
        if not p.exists():
            D.write_csv(p, pool(kind), size)
        out[kind] = p
    one = cache / f"dense-{small_mb:g}mb-{pool_rows}.csv"
    if not one.exists():
        D.write_csv(one, pool("dense"), int(small_mb * 1e6), seed=3)
    parts = cache / f"dense-{small_mb:g}mb-{pool_rows}-parts"
    if not parts.exists():
        D.split_csv(one, parts, 8000)
    out["one file"], out["small files"] = one, parts
    out["small files, in a TAR"] = archive_of(parts, cache / f"{parts.name}.tar")
    real = cache / "package-csvs"
    if not real.exists() or not any(real.iterdir()):  # filled again once such a package is installed
        real.mkdir(exist_ok=True)
        for i, src in enumerate(D.package_csvs()):
            shutil.copy(src, real / f"{i:02d}-{src.name}")
    if any(real.iterdir()):
        out["package CSVs"] = real
        out["package CSVs, in a ZIP"] = archive_of(real, cache / "package-csvs.zip")
    else:
        print("no CSVs shipped by an installed package (pip install scikit-learn): that row is left out", file=sys.stderr)
    if big_mb:
        big = cache / f"sparse-{big_mb:g}mb-{pool_rows}.csv"
        if not big.exists():
            D.write_csv(big, pool("sparse"), int(big_mb * 1e6), seed=5)
        out["big"] = big
    return out


def archive_of(src: Path, dst: Path) -> Path:
    """The files of ``src`` in one archive (ZIP or TAR by ``dst``'s suffix), made with the standard
    library's writers: the gate reads an archive's members as files (gates/pii/archives.py), and
    the row beside the directory's shows what that costs."""
    if not dst.exists():
        tmp = dst.with_suffix(dst.suffix + ".part")
        if dst.suffix == ".zip":
            import zipfile

            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(src.iterdir()):
                    z.write(f, f.name)
        else:
            import tarfile

            with tarfile.open(tmp, "w") as t:
                for f in sorted(src.iterdir()):
                    t.add(f, f.name)
        tmp.rename(dst)
    return dst


def instructions(path: Path) -> tuple[int, int] | str:
    """(instructions, exit code) of one whole gate process on ``path`` under valgrind's callgrind
    (every thread counted; its profile is thrown away), or why there is no count."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return "valgrind not found (apt-get install valgrind)"
    out = Path(tempfile.mktemp(suffix=".json"))
    prof = Path(tempfile.mktemp(suffix=".callgrind"))
    cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={prof}", *gate_cmd(path, out, None)]
    p = subprocess.run(cmd, env=child_env(), cwd=TREE[0], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    out.unlink(missing_ok=True)
    prof.unlink(missing_ok=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    return (int(m.group(1)), p.returncode) if m else f"no count (exit {p.returncode}): {p.stderr[-200:]!r}"


def head_of(src: Path, mb: float, cache: Path) -> Path:
    """The first ``mb`` MB of a CSV, cut at a line end (cached)."""
    dst = cache / f"{src.stem}-head{mb:g}mb.csv"
    if not dst.exists():
        data = src.read_bytes()[: int(mb * 1e6)]
        dst.write_bytes(data[: data.rfind(b"\n") + 1])
    return dst


def count_instructions(files: dict[str, Path], mb: float, runs: int, cache: Path) -> None:
    print(f"instructions per whole process on the first {mb:g} MB of each file (callgrind; gates from {TREE[0]}):\n")
    print("| input | MB | G instructions, each run | exit |")
    print("|---|---:|---|---:|")
    for kind in ("dense", "sparse", "freetext"):
        path = head_of(files[kind], mb, cache)
        counts: list[int] = []
        code: int | str = "—"
        for _ in range(runs):
            got = instructions(path)
            if isinstance(got, str):
                code = got
                break
            counts.append(got[0])
            code = got[1]
        shown = ", ".join(f"{n / 1e9:.3f}" for n in counts) or "—"
        print(f"| {kind}: {path.name} | {size_of(path):.1f} | {shown} | {code} |")


def size_of(p: Path) -> float:
    if p.is_dir():
        return sum(f.stat().st_size for f in p.iterdir()) / 1e6
    return p.stat().st_size / 1e6


# ---- parent --------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 MB files, 2 MB of small files, no big file (~2 minutes)")
    ap.add_argument("--mb", type=float, help="size of the dense/sparse/free-text CSVs (default 50; --quick 10)")
    ap.add_argument("--small-mb", type=float, help="bytes split into ~8 KB files (default 5; --quick 2)")
    ap.add_argument("--big-mb", type=float, help="the RSS file (default 300; --quick 0: skipped)")
    ap.add_argument("--pool-rows", type=int, help="Faker rows per pool (default 10000; --quick 3000)")
    ap.add_argument("--workers", type=int, help="--workers for the gate (default: the gate's own, one per CPU)")
    ap.add_argument("--presidio-mb", type=float, default=None, help="slice of the dense data for Presidio (default 1; --quick 0.3)")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs per input; the table shows the median by wall time (default 3)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "mlsec-gates-pii-bench")
    ap.add_argument("--instructions", type=float, metavar="MB",
                    help="only count instructions (valgrind) on the first MB of the dense, sparse and free-text files")
    ap.add_argument("--tree", type=Path, help="the source tree whose gates/ runs (default: this checkout)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child_presidio(a.child[1])))
        return
    q = a.quick
    mb = a.mb or (10 if q else 50)
    small_mb = a.small_mb or (2 if q else 5)
    big_mb = a.big_mb if a.big_mb is not None else (0 if q else 300)
    pool_rows = a.pool_rows or (3000 if q else 10000)
    presidio_mb = a.presidio_mb if a.presidio_mb is not None else (0.3 if q else 1)

    if a.tree is not None:
        if not (a.tree / "gates" / "pii").is_dir():
            ap.error(f"--tree {a.tree}: no gates/pii there")
        TREE[0] = a.tree.resolve()
    t = time.perf_counter()
    files = inputs(a.cache, mb, small_mb, big_mb, pool_rows)
    print(f"inputs ready in {time.perf_counter() - t:.0f} s (cache {a.cache}); machine: {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    if a.instructions:
        run_gate(files["one file"], 1)  # byte code into the bench's cache first
        count_instructions(files, a.instructions, max(1, min(a.repeat, 2)), a.cache)
        return

    rows = []
    runs: list[tuple[str, Path, int | None]] = [(k, files[k], a.workers) for k in ("dense", "sparse", "freetext", "package CSVs")
                                                if k in files]
    if not q:
        runs += [(f"{k} (1 process)", files[k], 1) for k in ("dense", "sparse")]
    runs += [("one file", files["one file"], a.workers), ("small files", files["small files"], a.workers),
             ("small files, in a TAR", files["small files, in a TAR"], a.workers)]
    if "package CSVs, in a ZIP" in files:
        runs.append(("package CSVs, in a ZIP", files["package CSVs, in a ZIP"], a.workers))
    if "big" in files:
        runs.append(("big", files["big"], a.workers))
    res = {}
    run_gate(files.get("package CSVs", files["one file"]), 1)  # warm-up: byte code into the bench's cache, files into the page cache
    for name, path, w in runs:
        # the median run by wall time (a shared machine's load comes and goes)
        tries = sorted((run_gate(path, w) for _ in range(a.repeat)), key=lambda r: r["wall"])
        r = tries[len(tries) // 2]
        res[name] = r
        n = len(list(path.iterdir())) if path.is_dir() else 1
        rows.append((name, path, n, size_of(path), r, w))

    print("| input | files | MB | wall s | MB/s (wall) | CPU s | MB per CPU-s | peak RSS MB | exit | findings |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, path, n, size, r, w in rows:
        # gates.pii.parallel_min_mb, and the gate's POOL_MIN_FILES small files
        pooled = (size >= 128 or n >= 64) and w != 1
        cpu = f"{r['cpu']:.2f}" + (f" (machine {r['machine_cpu']:.2f})" if pooled and r["machine_cpu"] is not None
                                   else " (+workers)" if pooled else "")
        print(f"| {name}: {path.name} | {n} | {size:.1f} | {r['wall']:.2f} | {size / r['wall']:.1f} | {cpu} | "
              f"{size / r['cpu']:.1f} | {r['rss']:.0f} | {r['code']} | {r['findings']} |")
        if r["code"] not in (0, 1) or r["errors"]:
            print(f"|   ↳ {r['errors']} error(s); stderr: {r['stderr']!r} |")
    one, many = res["one file"], res["small files"]
    cpu_many = many["machine_cpu"] if many["machine_cpu"] is not None else many["cpu"]
    cpu_one = one["machine_cpu"] if one["machine_cpu"] is not None else one["cpu"]
    print(f"\nmany small files / one file (same bytes): wall {many['wall'] / one['wall']:.2f}x, "
          f"machine CPU {cpu_many / cpu_one:.2f}x")

    if not a.no_presidio:
        import pii_speed_data as D

        slice_path = a.cache / f"dense-{presidio_mb:g}mb-{pool_rows}-presidio.csv"
        if not slice_path.exists():
            D.write_csv(slice_path, D.dense_pool(min(pool_rows, 2000)), int(presidio_mb * 1e6), seed=9)
        p = subprocess.run([sys.executable, __file__, "--child", "presidio", str(slice_path)], capture_output=True, text=True)
        pres = json.loads(p.stdout or "{}") if p.returncode == 0 else {"missing": "presidio child failed"}
        ours = run_gate(slice_path, 1)
        size = size_of(slice_path)
        print(f"\nside by side on {slice_path.name} ({size:.2f} MB, Faker dense rows):")
        if "missing" in pres:
            print(f"  presidio: not installed ({pres['missing']}); pip install presidio-analyzer")
        else:
            print(f"  presidio pattern recognizers, per cell, scanning only (CSV parsing and imports excluded): "
                  f"{pres['wall']:.2f} s wall, {pres['cpu']:.2f} CPU s -> {size / pres['cpu']:.2f} MB per CPU-s")
        print(f"  mlsec-gates pii, whole process (imports, CSV, semantics, report): {ours['wall']:.2f} s wall, "
              f"{ours['cpu']:.2f} CPU s -> {size / ours['cpu']:.2f} MB per CPU-s")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
