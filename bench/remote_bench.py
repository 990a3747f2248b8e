"""Remote scans and shards: bytes fetched and wall time against downloading whole, and a
5,000-file repository scanned as 1, 2 and 4 shards (processes on this machine) plus the merge.

    python bench/remote_bench.py              # 2 GB safetensors + 1 GB torch checkpoint
    python bench/remote_bench.py --quick      # 1/8 of those sizes, 1,000 files (a smoke run)
    python bench/remote_bench.py --skip-remote | --skip-shards

Needs the remote and test extras (`pip install -e '.[test]'`) and Debian's docker-registry
(.ci/setup-tools). The models are generated: a safetensors header followed by zeros (a sparse
file) and a PyTorch-layout zip whose one tensor storage is sparse. They go to a docker-registry
on 127.0.0.1 as ModelPack raw layers (pushed through the distribution API, streamed) and to
moto's S3 server. "whole" is one plain GET of every byte, as a downloader would do.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.remote.servers import Registry, free_port  # noqa: E402
from tests.remote.torchzip import SAFE_DATA_PKL  # noqa: E402

ZEROS = b"\0" * (64 << 20)


def sparse_safetensors(path: Path, data_bytes: int) -> Path:
    header = json.dumps({"w": {"dtype": "U8", "shape": [data_bytes], "data_offsets": [0, data_bytes]}}).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + data_bytes)
    return path


def sparse_checkpoint(path: Path, storage_bytes: int) -> Path:
    """A torch.save-layout zip (stored members) written by hand so the storage stays a hole."""
    crc = 0
    left = storage_bytes
    while left:
        n = min(left, len(ZEROS))
        crc = zlib.crc32(ZEROS[:n], crc)
        left -= n
    members = [("archive/data.pkl", SAFE_DATA_PKL, zlib.crc32(SAFE_DATA_PKL), len(SAFE_DATA_PKL)),
               ("archive/byteorder", b"little", zlib.crc32(b"little"), 6),
               ("archive/data/0", None, crc, storage_bytes),
               ("archive/version", b"3\n", zlib.crc32(b"3\n"), 2)]
    central = b""
    with open(path, "wb") as f:
        for name, data, c, size in members:
            off = f.tell()
            nb = name.encode()
            pad = (-(off + 30 + len(nb)) % 64) if data is None else 0  # torch aligns storages to 64 bytes
            extra = struct.pack("<HH", 0xFFFF, pad - 4) + b"\0" * (pad - 4) if pad >= 4 else b""
            if data is None and pad and pad < 4:
                extra = struct.pack("<HH", 0xFFFF, pad + 60) + b"\0" * (pad + 60)
            f.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, c, size, size, len(nb), len(extra)) + nb + extra)
            if data is None:
                f.seek(size, os.SEEK_CUR)
            else:
                f.write(data)
            central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0x21, c, size, size, len(nb), 0, 0, 0, 0, 0, off) + nb
        cd = f.tell()
        f.write(central)
        f.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd, 0))
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(16 << 20):
            h.update(chunk)
    return h.hexdigest()


def push_modelpack(host: str, repo: str, files: list[Path]) -> str:
    """A ModelPack-style artifact: raw weight layers with their file path annotated. Blobs are
    streamed to the registry (monolithic upload), never held in memory."""
    import requests

    base = f"http://{host}/v2/{repo}"

    def put_blob(path: Path | None, data: bytes | None = None) -> tuple[str, int]:
        digest = "sha256:" + (sha256_file(path) if path else hashlib.sha256(data or b"").hexdigest())
        loc = requests.post(f"{base}/blobs/uploads/", timeout=60).headers["Location"]
        url = loc if loc.startswith("http") else f"http://{host}{loc}"
        sep = "&" if "?" in url else "?"
        size = path.stat().st_size if path else len(data or b"")
        body = open(path, "rb") if path else data
        try:
            r = requests.put(f"{url}{sep}digest={digest}", data=body, headers={"Content-Type": "application/octet-stream",
                                                                               "Content-Length": str(size)}, timeout=3600)
        finally:
            if path:
                body.close()  # type: ignore[union-attr]
        r.raise_for_status()
        return digest, size

    config = json.dumps({"descriptor": {"name": "bench"}, "modelfs": {"type": "layers", "diffIds": []}}).encode()
    cdig, csize = put_blob(None, config)
    layers = []
    for p in files:
        d, s = put_blob(p)
        layers.append({"mediaType": "application/vnd.cncf.model.weight.v1.raw", "digest": d, "size": s,
                       "annotations": {"org.cncf.model.filepath": p.name}})
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/vnd.cncf.model.manifest.v1+json",
                "config": {"mediaType": "application/vnd.cncf.model.config.v1+json", "digest": cdig, "size": csize},
                "layers": layers}
    requests.put(f"{base}/manifests/v1", data=json.dumps(manifest),
                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, timeout=60).raise_for_status()
    return f"oci://{host}/{repo}:v1"


def gates(*args: str, env: dict | None = None, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "gates", *args], capture_output=True, text=True, cwd=cwd,
                       env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, timeout=3600)
    return time.perf_counter() - t0, p


def fetched_note(report: Path) -> tuple[int, int]:
    doc = json.loads(report.read_text())
    note = next(n for r in doc["gates"].values() for n in r["notes"] if "fetched" in n)
    a, b = note.split("fetched ")[1].split(" bytes")[0].split(" of ")
    return int(a.replace(",", "")), int(b.replace(",", ""))


def whole_http(url: str) -> tuple[float, int]:
    import requests

    t0 = time.perf_counter()
    n = 0
    with requests.get(url, stream=True, timeout=3600) as r:
        r.raise_for_status()
        for chunk in r.iter_content(8 << 20):
            n += len(chunk)
    return time.perf_counter() - t0, n


def whole_s3(s3, bucket: str, key: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = 0
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    while chunk := body.read(8 << 20):
        n += len(chunk)
    return time.perf_counter() - t0, n


def bench_remote(tmp: Path, st_bytes: int, ckpt_bytes: int, s3_scale: int = 1) -> list[str]:
    import boto3
    from moto.server import ThreadedMotoServer

    rows = ["| source | file | size | scan: fetched | scan s | whole: bytes | whole s |", "|---|---|--:|--:|--:|--:|--:|"]
    st = sparse_safetensors(tmp / "model.safetensors", st_bytes)
    ck = sparse_checkpoint(tmp / "checkpoint.pt", ckpt_bytes)
    files = [st, ck]
    s3_files = files if s3_scale == 1 else [sparse_safetensors(tmp / "s3-model.safetensors", st_bytes // s3_scale),
                                            sparse_checkpoint(tmp / "s3-checkpoint.pt", ckpt_bytes // s3_scale)]
    (tmp / "registry-data").mkdir()
    reg = Registry(tmp / "registry-data")
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "MLSEC_GATES_CACHE": str(tmp / "cache")}
    try:
        t0 = time.perf_counter()
        ref = push_modelpack(reg.host, "bench/model", files)
        print(f"# pushed to the registry in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        s3.create_bucket(Bucket="bench")
        t0 = time.perf_counter()
        for p in s3_files:
            s3.upload_file(str(p), "bench", f"models/{p.name}")
        print(f"# uploaded to S3 in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        import requests

        manifest = requests.get(f"http://{reg.host}/v2/bench/model/manifests/v1",
                                headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, timeout=60).json()
        out = tmp / "oci.json"
        secs, proc = gates("run", ref, "--gate", "model", "--format", "json", "--output", str(out), "-q", env=env, cwd=tmp)
        got, total = fetched_note(out)
        rows.append(f"| OCI registry | ModelPack artifact, both files (exit {proc.returncode}) | {total:,} | {got:,} | {secs:.2f} | — | — |")
        for p, layer in zip(files, manifest["layers"]):
            ws, wn = whole_http(f"http://{reg.host}/v2/bench/model/blobs/{layer['digest']}")
            rows.append(f"| OCI registry | {p.name} | {p.stat().st_size:,} | — | — | {wn:,} | {ws:.2f} |")
        for p in s3_files:
            out = tmp / f"s3-{p.name}.json"
            secs, proc = gates("run", f"s3://bench/models/{p.name}", "--gate", "model", "--format", "json", "--output", str(out), "-q",
                               env=env, cwd=tmp)
            got, total = fetched_note(out)
            ws, wn = whole_s3(s3, "bench", f"models/{p.name}")
            rows.append(f"| S3 (moto) | {p.name} (exit {proc.returncode}) | {total:,} | {got:,} | {secs:.2f} | {wn:,} | {ws:.2f} |")
    finally:
        moto.stop()
        reg.stop()
    return rows


def make_repo(root: Path, n: int) -> None:
    """``n`` files: pickles (1 in 50 unsafe), safetensors, CSVs (1 in 40 with e-mails), JSONL."""
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    import pickle

    for i in range(n):
        k = i % 4
        if k == 0:
            body = b"cos\nsystem\n(S'x'\ntR." if i % 200 == 0 else pickle.dumps({"w": list(range(i % 300))}, protocol=4)
            (root / "models" / f"m{i:05d}.pkl").write_bytes(body)
        elif k == 1:
            h = json.dumps({"w": {"dtype": "F32", "shape": [i % 500], "data_offsets": [0, 4 * (i % 500)]}}).encode()
            (root / "models" / f"w{i:05d}.safetensors").write_bytes(struct.pack("<Q", len(h)) + h + b"\0" * (4 * (i % 500)))
        elif k == 2:
            rows = "".join(f"{j},{'u%d@example.org' % j if i % 160 == 2 else j * 7},x\n" for j in range(20 + i % 80))
            (root / "data" / f"d{i:05d}.csv").write_text("id,val,c\n" + rows)
        else:
            (root / "data" / f"t{i:05d}.jsonl").write_text("".join(json.dumps({"t": f"row {j}"}) + "\n" for j in range(10)))
    (root / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  model: {paths: ['models/**']}\n  pii: {paths: ['data/**']}\n")


def bench_shards(tmp: Path, files: int, gate_names: list[str]) -> list[str]:
    root = tmp / "repo"
    make_repo(root, files)
    rows = [f"| {files:,}-file repo, gates {'+'.join(gate_names)} | wall s | findings | blocking | exit |", "|---|--:|--:|--:|--:|"]
    common = [*[a for g in gate_names for a in ("--gate", g)], "-q"]
    secs, p = gates("run", ".", *common, "--format", "json", "--output", str(tmp / "full.json"), cwd=root)
    full = json.loads((tmp / "full.json").read_text())
    rows.append(f"| unsharded | {secs:.2f} | {full['summary']['findings']} | {full['summary']['blocking']} | {p.returncode} |")
    for n in (1, 2, 4):
        t0 = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "gates", "run", ".", *common, "--shard", f"{k}/{n}", "--format", "json",
                                   "--output", str(tmp / f"s{n}-{k}.json")], cwd=root, env={**os.environ, "PYTHONPATH": str(REPO)},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in range(1, n + 1)]
        for proc in procs:
            proc.wait()
        run_s = time.perf_counter() - t0
        msecs, mp = gates("merge", *[str(tmp / f"s{n}-{k}.json") for k in range(1, n + 1)], "--format", "json",
                          "--output", str(tmp / f"m{n}.json"), "-q", cwd=root)
        merged = json.loads((tmp / f"m{n}.json").read_text())
        same = sorted(f["fingerprint"] for f in merged["findings"]) == sorted(f["fingerprint"] for f in full["findings"])
        rows.append(f"| {n} shard(s) in parallel + merge ({msecs:.2f}s) | {run_s + msecs:.2f} | {merged['summary']['findings']}"
                    f"{'' if same else ' (DIFFERENT)'} | {merged['summary']['blocking']} | {mp.returncode} |")
    return rows


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's access log
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1/8 of the model sizes and 1,000 files")
    ap.add_argument("--s3-scale", type=int, default=1, help="S3 files this many times smaller (moto holds objects in memory)")
    ap.add_argument("--skip-remote", action="store_true")
    ap.add_argument("--skip-shards", action="store_true")
    ap.add_argument("--files", type=int, default=0, help="files in the sharded repository (default 5,000; 1,000 with --quick)")
    ap.add_argument("--gates", default="model,pii", help="gates for the shard runs (default model,pii)")
    a = ap.parse_args()
    scale = 8 if a.quick else 1
    with tempfile.TemporaryDirectory(prefix="remote-bench-") as d:
        tmp = Path(d)
        if not a.skip_remote:
            print("\n".join(bench_remote(tmp, (2 << 30) // scale, (1 << 30) // scale, a.s3_scale)))
            print()
        if not a.skip_shards:
            print("\n".join(bench_shards(tmp, a.files or (1000 if a.quick else 5000), a.gates.split(","))))


if __name__ == "__main__":
    main()
