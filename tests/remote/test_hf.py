"""Hub repositories scanned by reference against a loopback Hub (HF_ENDPOINT): a revision is
pinned to its commit, headers only are fetched for header-only formats, findings name
hf://org/repo@<commit>/<file>, the token is sent but never printed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .hubserver import Hub
from .repo_fixture import UNSAFE_PICKLE
from .test_oci import EMAILS, big_safetensors
from .torchzip import write_checkpoint

REPO = Path(__file__).resolve().parents[2]
TOKEN = "hf_TestTokenThatMustNeverBePrinted0123"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    w = tmp_path_factory.mktemp("hub")
    h = Hub(token=TOKEN)
    weights = bytearray(big_safetensors(w / "m.safetensors", 6 << 20).read_bytes())
    weights[-4:] = b"\x01\x02\x03\x04"  # tensor bytes the scan never fetches: the mirror's hash would be wrong
    weights = bytes(weights)
    h.weights_sha256 = hashlib.sha256(weights).hexdigest()
    ckpt = write_checkpoint(w / "c.bin", 3 << 20).read_bytes()
    card = b"---\nlicense: apache-2.0\n---\n# tiny\n"
    h.add("models", "acme/tiny", {"model.safetensors": weights, "config.json": b'{"model_type": "bert"}', "README.md": card,
                                  "pytorch_model.bin": ckpt}, lfs={"model.safetensors", "pytorch_model.bin"})
    h.add("models", "acme/evil", {"model.pkl": UNSAFE_PICKLE, "sub/model.safetensors": weights}, lfs={"sub/model.safetensors"})
    h.add("datasets", "acme/users", {"data/train.csv": EMAILS, "README.md": b"# users\n"})
    yield h
    h.stop()


def cli(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gates", *args], cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO), **env},
                          capture_output=True, text=True, timeout=240)


def scan(ref: str, tmp: Path, hub: Hub, *gates: str, token: str | None = TOKEN) -> tuple[int, dict | None, str]:
    out = tmp / "r.json"
    out.unlink(missing_ok=True)
    env = {"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp / "hfhome"), **({"HF_TOKEN": token} if token else {})}
    p = cli("run", ref, *[a for g in gates for a in ("--gate", g)], "--format", "json", "--output", str(out), cwd=tmp, env=env)
    return p.returncode, json.loads(out.read_text()) if out.exists() else None, p.stdout + p.stderr


def test_model_repo_passes_on_headers_and_pins_the_commit(hub, tmp_path):
    before = hub.served
    code, doc, out = scan("hf://acme/tiny", tmp_path, hub, "model", "provenance")
    assert code == 0, doc["findings"]
    commit = hub.repos[("models", "acme/tiny")].commit
    assert doc["root"] == f"hf://acme/tiny@{commit}"
    assert f"hf://acme/tiny@{commit}/model.safetensors" in {f["path"] for f in doc["gates"]["model"]["files"]}
    assert hub.served - before < 1 << 20  # of ~9 MiB
    assert TOKEN not in out


def test_unsafe_model_and_pii_dataset_block(hub, tmp_path):
    commit = hub.repos[("models", "acme/evil")].commit
    code, doc, _ = scan(f"hf://acme/evil@{commit}", tmp_path, hub, "model")
    assert code == 1
    assert {f["path"] for f in doc["findings"] if f["blocking"]} == {f"hf://acme/evil@{commit}/model.pkl"}
    dcommit = hub.repos[("datasets", "acme/users")].commit
    code, doc, _ = scan("hf://datasets/acme/users@main", tmp_path, hub, "pii")
    assert code == 1
    assert {f["path"] for f in doc["findings"] if f["blocking"]} == {f"hf://datasets/acme/users@{dcommit}/data/train.csv"}


def test_sub_path(hub, tmp_path):
    code, doc, _ = scan("hf://acme/evil@main/sub", tmp_path, hub, "model")
    assert code == 0 and doc["gates"]["model"]["counts"]["files"] == 1


def test_bom_records_the_hub_digest_not_the_mirror_hash(hub, tmp_path):
    out = tmp_path / "bom.json"
    env = {"HF_ENDPOINT": hub.endpoint, "HF_TOKEN": TOKEN}
    p = cli("run", "hf://acme/tiny", "--gate", "provenance", "--format", "cyclonedx", "--output", str(out), cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    commit = hub.repos[("models", "acme/tiny")].commit
    assert hub.weights_sha256 in text
    assert f"hf://acme/tiny@{commit}/model.safetensors" in text


def test_missing_token_repo_and_revision_fail_closed_without_leaking(hub, tmp_path):
    code, doc, out = scan("hf://acme/tiny", tmp_path, hub, "model", token=None)
    assert code == 2 and "HTTP 401" in out
    code, _, out = scan("hf://acme/nope", tmp_path, hub, "model")
    assert code == 2 and "HTTP 404" in out and TOKEN not in out
    code, _, out = scan("hf://acme/tiny@v9", tmp_path, hub, "model")
    assert code == 2 and TOKEN not in out
    code, _, out = scan("hf://spaces/acme/app", tmp_path, hub, "model")
    assert code == 2 and "Spaces" in out


def test_the_stand_in_answers_huggingface_hub_itself(hub, tmp_path, monkeypatch):
    """The loopback Hub must speak the shapes the real client expects, or the tests prove nothing."""
    hfh = pytest.importorskip("huggingface_hub")
    api = hfh.HfApi(endpoint=hub.endpoint, token=TOKEN)
    info = api.model_info("acme/tiny", files_metadata=True)
    assert info.sha == hub.repos[("models", "acme/tiny")].commit
    sizes = {s.rfilename: s.size for s in info.siblings}
    assert sizes["config.json"] == len(b'{"model_type": "bert"}')
    path = hfh.hf_hub_download("acme/tiny", "config.json", endpoint=hub.endpoint, token=TOKEN, cache_dir=str(tmp_path / "c"))
    assert Path(path).read_bytes() == b'{"model_type": "bert"}'
