"""S3 prefixes scanned by reference against moto's standalone server on 127.0.0.1: only the
headers of header-only formats are fetched, findings name s3://bucket/key, secrets stay out."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest

from .repo_fixture import UNSAFE_PICKLE
from .test_oci import big_safetensors
from .torchzip import write_checkpoint

REPO = Path(__file__).resolve().parents[2]
HIDDEN = b"cos\nsystem\n(S'echo hidden'\ntR."


@pytest.fixture(scope="module")
def bucket(s3_server, tmp_path_factory):
    w = tmp_path_factory.mktemp("s3data")
    s3 = boto3.client("s3", endpoint_url=s3_server["AWS_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id=s3_server["AWS_ACCESS_KEY_ID"], aws_secret_access_key=s3_server["AWS_SECRET_ACCESS_KEY"])
    s3.create_bucket(Bucket="models")
    s3.upload_file(str(big_safetensors(w / "m.safetensors", 16 << 20)), "models", "safe/model.safetensors")
    s3.upload_file(str(write_checkpoint(w / "ckpt.pt", 8 << 20)), "models", "safe/ckpt.pt")
    s3.put_object(Bucket="models", Key="safe/config.json", Body=b'{"model_type": "bert"}')
    s3.put_object(Bucket="models", Key="bad/model.pkl", Body=UNSAFE_PICKLE)
    s3.upload_file(str(write_checkpoint(w / "hidden.pt", 2 << 20)), "models", "bad/weights.pt")
    # a torch checkpoint whose tensor storage is really a pickle: the planner must fetch it
    hidden = w / "hid.pt"
    write_checkpoint(hidden, 2 << 20)
    data = bytearray(hidden.read_bytes())
    with zipfile.ZipFile(hidden) as zf:
        info = zf.getinfo("archive/data/0")
    # the storage's data follows its local header, name and extra field
    nlen, elen = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + nlen + elen
    data[start:start + len(HIDDEN) + 2] = b"\x80\x02" + HIDDEN
    s3.put_object(Bucket="models", Key="bad/hid.pt", Body=bytes(data))
    s3.put_object(Bucket="models", Key="models-old/other.pkl", Body=UNSAFE_PICKLE)
    return s3_server


def cli(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gates", *args], cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO), **env},
                          capture_output=True, text=True, timeout=240)


def scan(ref: str, tmp: Path, env: dict) -> tuple[int, dict, str]:
    out = tmp / "r.json"
    p = cli("run", ref, "--gate", "model", "--format", "json", "--output", str(out), cwd=tmp, env=env)
    assert out.exists(), p.stderr
    return p.returncode, json.loads(out.read_text()), p.stdout + p.stderr


def fetched(doc: dict) -> tuple[int, int]:
    note = next(n for n in doc["gates"]["model"]["notes"] if "fetched" in n)
    a, b = note.split("fetched ")[1].split(" bytes")[0].split(" of ")
    return int(a.replace(",", "")), int(b.replace(",", ""))


def test_safe_prefix_passes_on_headers(bucket, tmp_path):
    code, doc, out = scan("s3://models/safe", tmp_path, bucket)
    assert code == 0, doc["findings"]
    assert {f["path"] for f in doc["gates"]["model"]["files"]} >= {"s3://models/safe/model.safetensors", "s3://models/safe/ckpt.pt"}
    got, total = fetched(doc)
    assert total > 24 << 20 and got < 512 << 10, (got, total)
    assert "testing-secret" not in out


def test_unsafe_objects_are_named_by_key(bucket, tmp_path):
    code, doc, _ = scan("s3://models/bad/", tmp_path, bucket)
    assert code == 1
    paths = {f["path"] for f in doc["findings"] if f["blocking"]}
    assert "s3://models/bad/model.pkl" in paths
    # the pickle hidden in a tensor storage was fetched and found
    assert "s3://models/bad/hid.pt" in paths
    assert "s3://models/bad/weights.pt" not in paths
    assert not any("models-old" in p for p in paths)


def test_single_object_and_missing_prefix(bucket, tmp_path):
    code, doc, _ = scan("s3://models/bad/model.pkl", tmp_path, bucket)
    assert code == 1 and {f["path"] for f in doc["findings"]} == {"s3://models/bad/model.pkl"}
    p = cli("run", "s3://models/nothing-here", "--gate", "model", cwd=tmp_path, env=bucket)
    assert p.returncode == 2 and "no object" in p.stderr
    p = cli("run", "s3://no-such-bucket/x", "--gate", "model", cwd=tmp_path, env=bucket)
    assert p.returncode == 2 and "NoSuchBucket" in p.stderr and "testing-secret" not in p.stderr


def test_plain_http_endpoint_only_on_loopback(tmp_path):
    p = cli("run", "s3://models/x", "--gate", "model", cwd=tmp_path, env={"AWS_ENDPOINT_URL": "http://s3.example.com"})
    assert p.returncode == 2 and "loopback" in p.stderr


def test_shards_of_a_remote_prefix_merge(bucket, tmp_path):
    parts = []
    for k in (1, 2):
        out = tmp_path / f"s{k}.json"
        cli("run", "s3://models/bad", "--gate", "model", "--shard", f"{k}/2", "--format", "json", "--output", str(out), "-q", cwd=tmp_path, env=bucket)
        parts.append(str(out))
    p = cli("merge", *parts, "--format", "json", "--output", str(tmp_path / "m.json"), "-q", cwd=tmp_path, env=bucket)
    _, whole, _ = scan("s3://models/bad", tmp_path, bucket)
    merged = json.loads((tmp_path / "m.json").read_text())
    assert p.returncode == whole["exit_code"] == 1
    assert sorted(f["fingerprint"] for f in merged["findings"]) == sorted(f["fingerprint"] for f in whole["findings"])
    # each shard fetched only its own files' bytes
    shard_fetched = [fetched(json.loads(Path(x).read_text()))[0] for x in parts]
    assert max(shard_fetched) < fetched(whole)[0]
