"""ModelKits scanned by reference in a real registry (Debian's docker-registry on 127.0.0.1),
pushed with ORAS using the KitOps media types."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from .kits import CODE_TARGZ, DATASET_TAR, DOCS_TAR, MODEL_TAR, kitfile, push, tar_of
from .repo_fixture import UNSAFE_PICKLE

REPO = Path(__file__).resolve().parents[2]
EMAILS = b"id,email,plan\n" + b"".join(b"%d,customer%d@example.org,pro\n" % (i, i) for i in range(60))


def cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "gates", *args], cwd=cwd, env=e, capture_output=True, text=True, timeout=240)


def big_safetensors(path: Path, data_bytes: int) -> Path:
    header = json.dumps({"w": {"dtype": "U8", "shape": [data_bytes], "data_offsets": [0, data_bytes]}}).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + data_bytes)
    return path


@pytest.fixture(scope="module")
def kits(registry, tmp_path_factory):
    w = tmp_path_factory.mktemp("kits")
    safe_dir, bad_dir = w / "safe", w / "unsafe"
    safe_dir.mkdir()
    bad_dir.mkdir()
    weights = big_safetensors(w / "model.safetensors", 8 << 20)
    safe = push(registry.host, "kits/safe:v1", safe_dir, kitfile("safe-kit", "model.safetensors", ["data/clean.csv"]), [
        (tar_of(safe_dir / "model.tar", {"model.safetensors": weights}), MODEL_TAR),
        (tar_of(safe_dir / "data.tar", {"data/clean.csv": b"id,value\n" + b"".join(b"%d,%d\n" % (i, i * 3) for i in range(50))}), DATASET_TAR),
        (tar_of(safe_dir / "docs.tar", {"README.md": b"# safe kit\n"}), DOCS_TAR),
        (tar_of(safe_dir / "code.tar.gz", {"src/train.py": b"print('train')\n"}, gzip=True), CODE_TARGZ),
    ])
    unsafe = push(registry.host, "kits/unsafe:v1", bad_dir, kitfile("unsafe-kit", "model.pkl", ["data/users.csv"]), [
        (tar_of(bad_dir / "model.tar", {"model.pkl": UNSAFE_PICKLE}), MODEL_TAR),
        (tar_of(bad_dir / "data.tar", {"data/users.csv": EMAILS}), DATASET_TAR),
    ])
    return {"safe": safe, "unsafe": unsafe, "weights_size": weights.stat().st_size}


def scan(ref: str, tmp: Path, *gates: str, env: dict | None = None) -> tuple[int, dict, str]:
    out = tmp / "r.json"
    args = ["run", ref, *[a for g in gates for a in ("--gate", g)], "--format", "json", "--output", str(out)]
    p = cli(*args, cwd=tmp, env=env)
    assert out.exists(), p.stderr
    return p.returncode, json.loads(out.read_text()), p.stderr + p.stdout


def test_unsafe_kit_blocks_and_names_files_inside_layers(kits, tmp_path):
    code, doc, _ = scan(kits["unsafe"], tmp_path, "model", "pii")
    assert code == 1
    blocking = [f for f in doc["findings"] if f["blocking"]]
    model = [f for f in blocking if f["gate"] == "model"]
    pii = [f for f in blocking if f["gate"] == "pii"]
    assert model and pii
    assert all(f["path"].startswith(kits["unsafe"].split(":v1")[0] + "@sha256:") for f in blocking)
    assert any(f["path"].endswith("!model.pkl") and f["rule"] == "MODEL001" for f in model)
    assert any(f["path"].endswith("!data/users.csv") for f in pii)
    assert doc["root"].startswith("oci://127.0.0.1:") and "@sha256:" in doc["root"]
    assert any("fetched" in n for n in doc["gates"]["model"]["notes"])


def test_safe_kit_passes_fetching_headers_only(kits, tmp_path):
    code, doc, err = scan(kits["safe"], tmp_path, "model", "pii")
    assert code == 0, doc["findings"]
    assert doc["gates"]["model"]["status"] == "pass" and doc["gates"]["model"]["counts"]["files"] >= 1
    note = next(n for n in doc["gates"]["model"]["notes"] if "fetched" in n)
    fetched, total = (int(x.replace(",", "")) for x in note.split("fetched ")[1].split(" bytes")[0].split(" of "))
    assert total >= kits["weights_size"]
    # the 8 MiB of tensor data stay in the registry: headers, tar headers and small files only
    assert fetched < 1 << 20, note


def test_kitfile_feeds_provenance_and_bom(kits, tmp_path):
    out = tmp_path / "bom.json"
    p = cli("run", kits["safe"], "--gate", "provenance", "--format", "cyclonedx", "--output", str(out), cwd=tmp_path)
    assert p.returncode in (0, 1), p.stderr
    bom = json.loads(out.read_text())
    text = json.dumps(bom)
    assert "apache-2.0" in text.lower() or "Apache-2.0" in text
    assert "oci://" in text


def test_digest_reference_and_cache(kits, tmp_path):
    code, doc, _ = scan(kits["unsafe"], tmp_path, "model")
    digest_ref = doc["root"]
    code2, doc2, _ = scan(digest_ref, tmp_path, "model")
    assert (code, code2) == (1, 1)
    assert sorted(f["fingerprint"] for f in doc["findings"]) == sorted(f["fingerprint"] for f in doc2["findings"])


def test_plain_http_only_to_loopback_and_bad_refs(tmp_path):
    p = cli("run", "oci://registry.invalid/x", "--gate", "model", cwd=tmp_path)
    assert p.returncode == 2 and "expected oci://" in p.stderr
    p = cli("run", "oci://127.0.0.1:1/none:v1", "--gate", "model", cwd=tmp_path)
    assert p.returncode == 2 and "ConnectionError" in p.stderr


def test_credentials_from_docker_config_are_never_printed(kits, tmp_path):
    docker = tmp_path / "docker"
    docker.mkdir()
    secret = "c2VjcmV0dXNlcjpodW50ZXIyLXRvcC1zZWNyZXQ="  # secretuser:hunter2-top-secret
    host = kits["unsafe"].split("/")[2]
    (docker / "config.json").write_text(json.dumps({"auths": {host: {"auth": secret}}}))
    p = cli("run", kits["unsafe"].replace("unsafe:v1", "missing:v1"), "--gate", "model", cwd=tmp_path, env={"DOCKER_CONFIG": str(docker)})
    assert p.returncode == 2
    assert "hunter2" not in p.stderr + p.stdout and secret not in p.stderr + p.stdout


def test_resolver_mirrors_every_layer_kind(kits, tmp_path, monkeypatch):
    """Tar layers walked by ranges, the gzip code layer streamed once, the Kitfile from the
    config; the tensor data of the 8 MiB safetensors stays a hole."""
    from gates.remote import oci

    monkeypatch.setenv("MLSEC_GATES_CACHE", str(tmp_path / "cache"))
    res = oci.resolve(kits["safe"], tmp_path)
    assert "model.safetensors" in res.pending and not res.partial  # created at full size, not fetched yet
    assert res.fill() == []
    assert set(res.paths) == {"Kitfile", "model.safetensors", "data/clean.csv", "README.md", "src/train.py"}
    assert (res.root / "src" / "train.py").read_text() == "print('train')\n"
    assert "license: apache-2.0" in (res.root / "Kitfile").read_text()
    assert res.partial == {"model.safetensors"}
    assert os.path.getsize(res.root / "model.safetensors") == kits["weights_size"]
    assert all(p.startswith(kits["safe"].split(":v1")[0] + "@sha256:") for p in res.paths.values())
    assert list((tmp_path / "cache" / "blobs" / "sha256").iterdir())  # config and gzip layer cached by digest


def test_hostile_layer_paths_fail_closed(registry, tmp_path):
    w = tmp_path / "kit"
    w.mkdir()
    ref = push(registry.host, "kits/hostile:v1", w, kitfile("hostile", "model.pkl", []), [
        (tar_of(w / "model.tar", {"../../escape.pkl": UNSAFE_PICKLE}), MODEL_TAR)])
    p = cli("run", ref, "--gate", "model", cwd=tmp_path)
    assert p.returncode == 2 and "escapes the artifact" in p.stderr
    assert not (tmp_path / "escape.pkl").exists()
