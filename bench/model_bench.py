"""Benchmark: this gate vs ModelAudit, picklescan, modelscan and fickling on the same files.

    python bench/model_bench.py [--keep DIR]                     # speed and memory
    python bench/model_bench.py --corpus [--corpus-dir DIR]      # detection tables
        [--gate-tree DIR] [--misses FILE] [--jobs N] [--tools a,b]

Detection (``--corpus``): ``bench/model_corpus.py`` writes an UNSAFE corpus (one file per
published bypass technique, each citing its advisory) and a BENIGN corpus (files written by the
real libraries, each with the ``--profile`` names mlsec-gates needs); every tool then runs once
per file, in a fresh process, and the tables print blocked / passed / error per tool with its
total wall time and largest peak RSS. ``--gate-tree`` runs mlsec-gates from another checkout
(via PYTHONPATH); ``--misses`` writes every unsafe file the gate does not block and every benign
file it blocks, with what the gate said. Run it with the interpreter of the venv that has the
peer tools and the libraries installed (see model_corpus.py).

Generates (benign) files into a temporary directory: a 20k-tensor PyTorch checkpoint, a 200 MB
pickle made of large byte payloads, a 1M-opcode pickle and a 2 GB safetensors file (sparse).
Each tool runs as its CLI in a fresh process; wall time and that process's peak RSS
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, measured in a wrapper process per run) are
printed side by side, with each tool's exit code. A tool that is not installed prints
"not available". Peer tools are never test dependencies: install them yourself
(``pip install modelaudit picklescan modelscan fickling``).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
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
    ps, ms, fk, ma = _bin("picklescan"), _bin("modelscan"), _bin("fickling"), _bin("modelaudit")
    return {
        "mlsec-gates model": [gates, "model", str(path), "--format", "json", "--output", os.devnull, "-q"] if gates else None,
        "modelaudit": [ma, "scan", str(path)] if ma else None,
        "picklescan": [ps, "-p", str(path)] if ps else None,
        "modelscan": [ms, "-p", str(path)] if ms else None,
        "fickling": [fk, "--check-safety", str(path)] if fk else None,
    }


def tool_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1"})  # ModelAudit: no phoning home
    env.update(extra or {})
    return env


def measure(cmd: list[str], cwd: str, timeout: float = TIMEOUT, env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` once in this (fresh) process; report wall time and the child's peak RSS."""
    t0 = time.perf_counter()
    err = b""
    try:
        # cwd: fickling's CLI writes safety_results.json into the working directory
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout, cwd=cwd, env=tool_env(env))
        code: int | str = proc.returncode
        err = proc.stderr[-2000:]
    except subprocess.TimeoutExpired:
        code = "timeout"
    wall = time.perf_counter() - t0
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": wall, "rss_mb": rss_kb / 1024, "exit": code, "traceback": b"Traceback (most recent call last)" in err}


def run_one(cmd: list[str], cwd: Path, timeout: float = TIMEOUT, env: dict[str, str] | None = None) -> dict:
    # a wrapper process per run, so RUSAGE_CHILDREN covers exactly one tool invocation
    payload = json.dumps({"cmd": cmd, "cwd": str(cwd), "timeout": timeout, "env": env or {}})
    out = subprocess.run([sys.executable, __file__, "--measure", payload], capture_output=True, text=True, timeout=timeout + 60)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"seconds": float("nan"), "rss_mb": float("nan"), "exit": "bench error"}


# ---- detection over the advisory corpus ----------------------------------------------------------
CORPUS_TIMEOUT = 60.0
TOOLS = ("mlsec-gates model", "modelaudit", "picklescan", "modelscan", "fickling")


def gate_profiles(gates: str, env: dict[str, str]) -> set[str]:
    """The --profile choices this mlsec-gates offers (a profile a benign file needs may not exist yet)."""
    proc = subprocess.run([gates, "model", "--help"], capture_output=True, text=True, env=tool_env(env), timeout=120)
    if proc.returncode != 0:  # e.g. entry points of another checkout: every run would be an error
        sys.exit(f"mlsec-gates model --help failed ({proc.returncode}): {proc.stderr[-500:]}")
    out = proc.stdout
    start = out.find("--profile {")
    return set(out[start + 11:out.index("}", start)].split(",")) if start >= 0 else set()


def corpus_command(tool: str, rel: str, profiles: list[str], json_out: str) -> list[str] | None:
    exe = _bin(tool.split()[0])
    if exe is None:
        return None
    if tool == "mlsec-gates model":
        return [exe, "model", rel, "--format", "json", "--output", json_out, "-q", *[a for p in profiles for a in ("--profile", p)]]
    return {
        "modelaudit": [exe, "scan", rel],
        "picklescan": [exe, "-p", rel],
        "modelscan": [exe, "-p", rel],
        "fickling": [exe, "--check-safety", rel],
    }[tool]


def verdict(tool: str, r: dict) -> str:
    """blocked / passed / error from a tool's exit code (each CLI's documented convention)."""
    code = r["exit"]
    if code == "timeout":
        return "error"
    if tool != "mlsec-gates model" and r.get("traceback"):
        return "error"  # a crash exits 1 too: that is not a verdict
    if code == 1:
        return "blocked"
    if code == 0 or (tool == "modelscan" and code == 3):  # modelscan 3 = "no supported files": not scanned, let through
        return "passed"
    return "error"


def gate_said(json_path: Path) -> str:
    """The gate's own words for the misses file: blocking findings first, then notes/errors."""
    try:
        rep = json.loads(json_path.read_text())
    except (OSError, ValueError):
        return "no JSON report"
    parts = [f"{f['rule']} {f['severity']}{' (blocking)' if f.get('blocking') else ''}: {f['message']}" for f in rep.get("findings", [])]
    g = rep.get("gates", {}).get("model", {})
    parts += [f"note: {n}" for n in g.get("notes", [])] + [f"error: {e}" for e in g.get("errors", [])]
    text = " | ".join(parts) or f"status {rep.get('status')}, no findings"
    return text.replace("\n", " ")[:400]


def run_corpus(corpus: Path, tools: list[str], jobs: int, gate_tree: Path | None, misses: Path | None,
               save: Path | None = None, reuse: Path | None = None) -> None:
    """Run ``tools`` over the corpus; with ``reuse``, the other tools' rows come from an earlier
    ``save`` of the same corpus (peers do not change between runs of our gate)."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    samples = manifest["samples"]
    old: dict[tuple[int, str], dict] = {}
    if reuse:
        by_path = {s["path"]: i for i, s in enumerate(samples)}
        for row in json.loads(reuse.read_text()):
            if row["path"] in by_path and row["tool"] not in tools:
                old[(by_path[row["path"]], row["tool"])] = row["result"]
        tools = [t for t in TOOLS if t in tools or any(k[1] == t for k in old)]
    env = {"PYTHONPATH": str(gate_tree)} if gate_tree else {}
    gates = _bin("mlsec-gates")
    have = gate_profiles(gates, env) if gates else set()
    reports = Path(tempfile.mkdtemp(prefix="model-bench-json-"))
    jobs_list = []
    run_tools = [t for t in tools if not any(k[1] == t for k in old)]
    for i, smp in enumerate(samples):
        wanted = smp.get("profiles") or []
        prof = [p for p in wanted if p in have]
        smp["missing_profiles"] = [p for p in wanted if p not in have]
        for tool in run_tools:
            cmd = corpus_command(tool, smp["path"], prof, str(reports / f"{i}.json"))
            if cmd is not None:
                jobs_list.append((i, tool, cmd))
    results: dict[tuple[int, str], dict] = dict(old)
    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        futs = {ex.submit(run_one, cmd, corpus, CORPUS_TIMEOUT, env if tool == "mlsec-gates model" else None): (i, tool) for i, tool, cmd in jobs_list}
        for n, fut in enumerate(cf.as_completed(futs), 1):
            results[futs[fut]] = fut.result()
            if n % 50 == 0:
                print(f"  {n}/{len(jobs_list)} runs, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if save:
        save.write_text(json.dumps([{"path": samples[i]["path"], "tool": t, "result": r} for (i, t), r in sorted(results.items())], indent=0))
    if old:
        print(f"(rows of {', '.join(sorted({t for _, t in old}))} reused from {reuse})")
    for kind, good in (("unsafe", "blocked"), ("benign", "passed")):
        idx = [i for i, s in enumerate(samples) if s["kind"] == kind]
        print(f"\n{kind.upper()} corpus: {len(idx)} files ({'higher blocked is better' if kind == 'unsafe' else 'higher passed is better'})\n")
        print("| tool | blocked | passed | error | total wall time | largest peak RSS |")
        print("|---|---:|---:|---:|---:|---:|")
        for tool in tools:
            rs = [(i, results.get((i, tool))) for i in idx]
            if all(r is None for _, r in rs):
                print(f"| {tool} | not available | | | | |")
                continue
            v = [verdict(tool, r) for _, r in rs if r]
            secs = sum(r["seconds"] for _, r in rs if r)
            rss = max(r["rss_mb"] for _, r in rs if r)
            print(f"| {tool} | {v.count('blocked')} | {v.count('passed')} | {v.count('error')} | {secs:.1f} s | {rss:.0f} MB |")
    print("\nPer file (b = blocked, . = passed, E = error):\n")
    print("| file | kind | advisory | " + " | ".join(tools) + " |")
    print("|---|---|---|" + "---|" * len(tools))
    mark = {"blocked": "b", "passed": ".", "error": "E"}
    for i, smp in enumerate(samples):
        cells = [mark[verdict(t, results[(i, t)])] if (i, t) in results else "n/a" for t in tools]
        print(f"| {smp['path']} | {smp['kind']} | {smp.get('advisory', '')} | " + " | ".join(cells) + " |")
    if misses and "mlsec-gates model" in tools:
        write_misses(misses, samples, results, reports, gate_tree)
    shutil.rmtree(reports, ignore_errors=True)


def write_misses(path: Path, samples: list[dict], results: dict, reports: Path, gate_tree: Path | None) -> None:
    tree = gate_tree or REPO
    head = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True, text=True).stdout.strip()
    branch = subprocess.run(["git", "-C", str(tree), "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [f"# Model gate misses ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC)", "",
             f"Gate: `{tree}` on `{branch}` at `{head}`. Written by `bench/model_bench.py --corpus --misses` "
             "(corpus: `bench/model_corpus.py`; rebuild a sample with `python bench/model_corpus.py DIR`).", "",
             "Unsafe samples the gate did NOT block (exit 0 = passed, other = error), then benign samples it blocked.", ""]
    for kind, good in (("unsafe", "blocked"), ("benign", "passed")):
        lines += [f"## {kind} files not {good}", ""]
        n = 0
        for i, smp in enumerate(samples):
            r = results.get((i, "mlsec-gates model"))
            if smp["kind"] != kind or r is None or verdict("mlsec-gates model", r) == good:
                continue
            n += 1
            extra = f"; profiles {' '.join(smp.get('profiles') or [])}" if kind == "benign" else ""
            if smp.get("missing_profiles"):
                extra += f" (not in this gate: {', '.join(smp['missing_profiles'])})"
            peers = [t for t in TOOLS[1:] if (i, t) in results and verdict(t, results[(i, t)]) == good]
            extra += f"; {good} by: {', '.join(peers) or 'no peer'}" if any((i, t) in results for t in TOOLS[1:]) else ""
            lines.append(f"- `{smp['path']}` — {smp['technique']} — {smp.get('advisory') or 'n/a'}{extra} — exit {r['exit']}: {gate_said(reports / f'{i}.json')}")
        lines += ([] if n else ["(none)"]) + [""]
    path.write_text("\n".join(lines))
    print(f"\nmisses written to {path}", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep the files")
    ap.add_argument("--corpus", action="store_true", help="detection tables over the advisory and benign corpora (model_corpus.py)")
    ap.add_argument("--corpus-dir", type=Path, metavar="DIR", help="use (or build into) DIR instead of a temporary directory")
    ap.add_argument("--gate-tree", type=Path, metavar="DIR", help="run mlsec-gates from this checkout (PYTHONPATH)")
    ap.add_argument("--misses", type=Path, metavar="FILE", help="write the gate's misses (markdown) to FILE")
    ap.add_argument("--jobs", type=int, default=2, help="tool runs in parallel (default 2)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS))
    ap.add_argument("--save", type=Path, metavar="FILE", help="keep every run's result (JSON) for --reuse")
    ap.add_argument("--reuse", type=Path, metavar="FILE", help="take the tools not run now from an earlier --save")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        job = json.loads(args.measure)
        print(json.dumps(measure(job["cmd"], job["cwd"], job.get("timeout", TIMEOUT), job.get("env"))))
        return 0
    if args.corpus:
        corpus = args.corpus_dir or Path(tempfile.mkdtemp(prefix="model-corpus-"))
        try:
            if not (corpus / "manifest.json").exists():
                subprocess.run([sys.executable, str(REPO / "bench" / "model_corpus.py"), str(corpus)], check=True)
            run_corpus(corpus.resolve(), [t.strip() for t in args.tools.split(",")], args.jobs, args.gate_tree, args.misses, args.save, args.reuse)
        finally:
            if not args.corpus_dir:
                shutil.rmtree(corpus, ignore_errors=True)
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
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
