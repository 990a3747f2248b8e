"""The core's side of remote references (scheme detection, the lazy entry-point lookup, the
architecture rule that the core never imports gates.remote), the fsspec fallback on fsspec's
in-memory filesystem, and the range reader and planners on their own."""

from __future__ import annotations

import ast
import io
import json
import zipfile
from pathlib import Path

import pytest

from gates.core import cli
from gates.core.errors import UsageError
from gates.core.remote import resolver_for, scheme_of
from gates.remote import RangeReader, RemoteError, Stats, safe_relpath
from gates.remote.plan import holes
from gates.remote.tarwalk import members

from .kits import tar_of
from .repo_fixture import UNSAFE_PICKLE
from .test_oci import big_safetensors
from .torchzip import write_checkpoint

PKG = Path(__file__).resolve().parents[2] / "gates"


def test_core_never_imports_the_remote_package():
    offenders = []
    for path in (PKG / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.ImportFrom) and node.level:
                names = [("." * node.level) + (node.module or "")]
            offenders += [f"{path.name}: {n}" for n in names if "remote" in n and n not in (".remote", "..remote")]
    assert offenders == []


@pytest.mark.parametrize("path,scheme", [("oci://h/r:t", "oci"), ("hf://a/b", "hf"), ("S3://b/k", "s3"), ("./models", None),
                                         ("C:\\models", None), ("models/oci://x", None), ("memory://x", "memory")])
def test_scheme_detection(path, scheme):
    assert scheme_of(path) == scheme


def test_resolvers_are_entry_points():
    from gates.remote import hf, oci, s3

    assert resolver_for("oci") is oci.resolve and resolver_for("hf") is hf.resolve and resolver_for("s3") is s3.resolve
    assert resolver_for("gs").__module__ == "gates.remote.fsspecsrc"


def test_fsspec_memory_filesystem(tmp_path, monkeypatch, capsys):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    fs.pipe("/bucket/models/evil.pkl", UNSAFE_PICKLE)
    fs.pipe("/bucket/models/w.safetensors", big_safetensors(tmp_path / "w.safetensors", 2 << 20).read_bytes())
    fs.pipe("/bucket/models/c.pt", write_checkpoint(tmp_path / "c.pt", 2 << 20).read_bytes())
    fs.pipe("/bucket/models/m.gguf", _gguf_file(tmp_path).read_bytes())
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "r.json"
    code = cli.main(["run", "memory://bucket/models", "--gate", "model", "--format", "json", "--output", str(out), "-q"])
    doc = json.loads(out.read_text())
    assert code == 1
    assert {f["path"] for f in doc["findings"] if f["blocking"]} == {"memory:///bucket/models/evil.pkl"}
    note = next(n for n in doc["gates"]["model"]["notes"] if "fetched" in n)
    assert "fetched" in note and int(note.split("fetched ")[1].split(" of")[0].replace(",", "")) < 512 << 10
    assert doc["gates"]["model"]["counts"]["files"] == 4 and not doc["gates"]["model"]["errors"]


def test_unknown_scheme_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "nosuchproto://x/y", "--gate", "model"]) == 2
    assert "no resolver" in capsys.readouterr().err


def _reader(data: bytes) -> RangeReader:
    return RangeReader(lambda a, b: data[a:b], len(data), Stats(), block=4096)


def test_range_reader_is_a_seekable_file():
    data = bytes(range(256)) * 100
    r = _reader(data)
    r.seek(1000)
    assert r.read(10) == data[1000:1010]
    r.seek(-5, io.SEEK_END)
    assert r.read() == data[-5:]
    assert r.pread(4090, 20) == data[4090:4110]
    before = r.stats.requests
    r.pread(4095, 2)
    assert r.stats.requests == before  # cached blocks
    v = r.view(100, 50)
    assert v.read() == data[100:150] and v.size == 50


def test_planners(tmp_path):
    st = big_safetensors(tmp_path / "a.safetensors", 4 << 20).read_bytes()
    (h,) = holes(_reader(st))
    assert h[1] == len(st) and h[0] < 200
    ck = write_checkpoint(tmp_path / "c.pt", 4 << 20).read_bytes()
    (h,) = holes(_reader(ck))
    assert h[1] - h[0] == (4 << 20) - 64
    assert holes(_reader(b"x" * 100)) == []  # small: whole
    garbage = b"\x10\0\0\0\0\0\0\0{" + b"\xff" * (2 << 20)
    assert holes(_reader(garbage)) == []  # unparseable: whole, the gate reports it
    plain_zip = tmp_path / "p.zip"
    with zipfile.ZipFile(plain_zip, "w") as zf:
        zf.writestr("data/0", b"\0" * (2 << 20))
    assert holes(_reader(plain_zip.read_bytes())) == []  # not a torch checkpoint: every member is read


def _gguf_file(tmp_path: Path) -> Path:
    gguf = pytest.importorskip("gguf")
    import numpy as np

    w = gguf.GGUFWriter(str(tmp_path / "m.gguf"), "llama")
    w.add_string("general.name", "tiny")
    w.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    w.add_tensor("t", np.zeros((1 << 20,), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tmp_path / "m.gguf"


def test_gguf_planner(tmp_path):
    data = _gguf_file(tmp_path).read_bytes()
    (h,) = holes(_reader(data))
    assert h[0] < 4096 and h[1] == len(data)


def test_tar_walk_follows_pax_long_names(tmp_path):
    name = "d/" + "x" * 150 + ".pkl"
    t = tar_of(tmp_path / "t.tar", {name: UNSAFE_PICKLE, "b.txt": b"hi"})
    ms = list(members(_reader(t.read_bytes())))
    assert [m.name for m in ms] == [name, "b.txt"]
    data = t.read_bytes()
    assert data[ms[0].offset:ms[0].offset + ms[0].size] == UNSAFE_PICKLE


@pytest.mark.parametrize("bad", ["/etc/passwd", "../x", "a/../../x", "", "./", "a\0b"])
def test_hostile_remote_paths_are_refused(bad):
    with pytest.raises(RemoteError):
        safe_relpath(bad)


def test_remote_error_is_a_usage_class_error():
    assert issubclass(RemoteError, Exception) and RemoteError("x").exit_code == UsageError("x").exit_code == 2
