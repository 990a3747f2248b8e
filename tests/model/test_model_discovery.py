"""Discovery by content: every file under a model path is sniffed, whatever its name.

Loaders do not look at extensions (``torch.load("x.dat")``), so a pickle that runs ``os.system``
must block as ``.ptl``, ``.nemo`` or ``.pth.tar.1`` exactly as it does as ``.pkl``; and a tree of
ordinary source files must stay cheap and pass.
"""

from __future__ import annotations

import gzip
import bz2
import json
import lzma
import os
import tarfile
import io
import time
import threading

import pytest

from modelsamples import npy_header, os_system, pickle_of, safetensors, gguf, onnx_model, ustr, zip_bytes

ODD_NAMES = ("model.ptl", "model.pt2", "model.nemo", "weights.dat", "x.pkl5", "yolo.weights", "ckpt.pth.tar.1",
             "ckpt.pt.old", "noext", ".hidden", "data.txt", "script.py")


def _p0(cmd: str = "echo x") -> bytes:
    return f"cos\nsystem\n(S'{cmd}'\ntR.".encode()


#: pickles of every protocol and the protocol-0/1 shapes that start with something other than c
UNSAFE = {
    "p0_global": _p0(),
    "p0_mark_obj": b"(cos\nsystem\nS'echo x'\no.",
    "p0_inst": b"(S'echo x'\nios\nsystem\n.",
    "p1_dict": b"}(S'k'\ncos\nsystem\n(S'echo x'\ntRu.",
    "p1_list": b"](cos\nsystem\n(S'echo x'\ntRe.",
    "p1_binput": b"]q\x00(cos\nsystem\nq\x01(U\x06echo xtRe.",
    **{f"p{n}": os_system(proto=n) for n in (2, 3, 4, 5)},
}


def _run(cli, tmp_path, *args):
    out = tmp_path / "report.json"
    r = cli("model", *args, "--format", "json", "--output", out, "-q")
    return r, (json.loads(out.read_text()) if out.exists() else {})


def _blocking(data):
    return [f for f in data.get("findings", []) if f["blocking"]]


@pytest.mark.parametrize("shape", sorted(UNSAFE))
def test_pickle_shapes_are_sniffed_as_pickles(shape):
    from gates.model.sniff import sniff

    assert sniff(UNSAFE[shape][:1024], "weights.dat") in ("pickle", "pickle?")


def test_malicious_pickles_under_unusual_names_block_file_by_file(tmp_path, cli, monkeypatch):
    d = tmp_path / "repo" / "models"
    d.mkdir(parents=True)
    expected = set()
    for i, name in enumerate(ODD_NAMES):
        shape = sorted(UNSAFE)[i % len(UNSAFE)]
        (d / name).write_bytes(UNSAFE[shape])
        expected.add(f"models/{name}")
    monkeypatch.chdir(tmp_path / "repo")
    r, data = _run(cli, tmp_path, "models")
    assert r.code == 1
    blocked = {f["path"] for f in _blocking(data) if f["rule"] == "MODEL001"}
    assert blocked == expected
    # the root walk (no target) finds them too
    r, data = _run(cli, tmp_path)
    assert r.code == 1 and {f["path"] for f in _blocking(data) if f["rule"] == "MODEL001"} == expected


@pytest.mark.parametrize("shape", sorted(UNSAFE))
def test_every_shape_blocks_named_dat(tmp_path, cli, monkeypatch, shape):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "blob.dat").write_bytes(UNSAFE[shape])
    monkeypatch.chdir(tmp_path)
    r, data = _run(cli, tmp_path, "m")
    assert r.code == 1 and any(f["rule"] == "MODEL001" and f.get("global") == "os.system" for f in _blocking(data)), shape


BENIGN_SOURCES = {
    "pkg/__init__.py": "import os\nimport sys\n",
    "pkg/mod.py": "class Foo:\n    pass\n",
    "pkg/other.py": "from x import y\n",
    "pkg/a.py": "a = 1\n",
    "README.md": "This is a model repository.\n(see below)\n",
    "notes.txt": "]] odd start\n",
    "dict.txt": "}} odd start\n",
    "sum.txt": "c\n",
    "data.csv": "a,b\n1,2\n",
    "config.json": json.dumps({"hidden_size": 4}),
    "image.png": "\x89PNG\r\n\x1a\n" + "\x00" * 40,
    "empty": "",
    "doc.md": "# Title\n",
    "photo.jpg": "\xff\xd8\xff\xe0" + "\x00" * 40,
}


def test_benign_tree_passes_and_odd_names_of_benign_models_pass(tmp_path, cli, monkeypatch):
    root = tmp_path / "repo"
    for rel, text in BENIGN_SOURCES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("latin-1"))
    (root / "w.dat").write_bytes(pickle_of(b"}" + ustr("a") + b"K\x01s", 2))  # {"a": 1}
    (root / "t.weights").write_bytes(safetensors({"a": ("F32", [1], b"\x00" * 4)}))
    monkeypatch.chdir(root)
    r, data = _run(cli, tmp_path)
    assert r.code == 0, [f["message"] for f in _blocking(data)]
    scanned = {f["path"] for f in data["gates"]["model"]["files"]}
    assert {"w.dat", "t.weights"} <= scanned
    # text that cannot start a pickle and unknown bytes never reach the scanner
    assert not {"doc.md", "photo.jpg", "empty"} & scanned


def test_many_plain_files_stay_cheap(tmp_path, cli, monkeypatch):
    root = tmp_path / "big"
    for i in range(40):
        d = root / f"d{i}"
        d.mkdir(parents=True)
        for j in range(50):
            (d / f"f{j}.py").write_text("import os\n" * 20)
            (d / f"g{j}.dat").write_bytes(b"\xff\xfe" * 32 if j % 2 else b"\x00" * 2048)
    (root / "d3" / "evil.data").write_bytes(_p0())
    monkeypatch.chdir(root)
    t0 = time.monotonic()
    r, data = _run(cli, tmp_path, "--workers", "1")
    assert r.code == 1 and {f["path"] for f in _blocking(data)} == {"d3/evil.data"}
    assert time.monotonic() - t0 < 30


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("where", ["explicit", "in-directory"])
def test_fifo_named_or_placed_as_model_is_a_blocking_error_and_never_opened(tmp_path, cli, monkeypatch, where):
    d = tmp_path / "models"
    d.mkdir()
    os.mkfifo(d / "model.pt")
    (d / "ok.safetensors").write_bytes(safetensors({"a": ("F32", [1], b"\x00" * 4)}))
    monkeypatch.chdir(tmp_path)
    result = {}

    def go():
        result["r"] = _run(cli, tmp_path, "models/model.pt" if where == "explicit" else "models")

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(30)
    if t.is_alive():  # unblock the reader so the test process can end, then fail
        with open(d / "model.pt", "wb"):
            pass
        pytest.fail("the gate blocked on a FIFO")
    r, data = result["r"]
    assert r.code != 0
    assert "FIFO" in json.dumps(data)


def test_scanner_refuses_a_fifo_swapped_in_after_discovery(tmp_path):
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    os.mkfifo(tmp_path / "x.pt")
    rep = scan_path(str(tmp_path / "x.pt"), config_from_options({"profiles": ["torch"]}))
    assert [(h.rule, h.key, h.blocking) for h in rep.hits] == [("MODEL003", "special", True)]


def _tar_with(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


MAGIC = {
    "zip": zip_bytes([("a", b"x")]),
    "tar": _tar_with("a", b"x"),
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24,
    "gzip": gzip.compress(b"x"),
    "bz2": bz2.compress(b"x"),
    "xz": lzma.compress(b"x"),
    "zstd": b"\x28\xb5\x2f\xfd" + b"\x00" * 8,
    "lz4": b"\x04\x22\x4d\x18" + b"\x00" * 8,
    "numpy": npy_header("<f4", (1,)) + b"\x00" * 4,
    "safetensors": safetensors({"a": ("F32", [1], b"\x00" * 4)}),
    "gguf": gguf({"general.architecture": "llama"}),
    "onnx": onnx_model(),
    "hdf5": b"\x89HDF\r\n\x1a\n" + b"\x00" * 100,
    "tflite": b"\x1c\x00\x00\x00TFL3" + b"\x00" * 40,
    "git-lfs-pointer": b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 12\n",
}


@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_sniff_by_content_whatever_the_name(fmt):
    from gates.model.sniff import sniff

    assert sniff(MAGIC[fmt][:1024], "anything.dat") == fmt
    assert sniff(MAGIC[fmt][:1024], "") == fmt


def test_hdf5_behind_a_user_block():
    from gates.model.sniff import sniff

    assert sniff(b"\x00" * 512 + b"\x89HDF\r\n\x1a\n" + b"\x00" * 100, "x") == "hdf5"


@pytest.mark.parametrize("fmt", sorted(MAGIC))
def test_discovery_keeps_every_model_format_under_any_name(tmp_path, fmt):
    from gates.model.discovery import worth_scanning

    p = tmp_path / "blob.dat"
    p.write_bytes(MAGIC[fmt])
    assert worth_scanning(p, "blob.dat")


def test_discovery_skips_plain_text_and_unknown_bytes(tmp_path):
    from gates.model.discovery import worth_scanning

    for name, text in BENIGN_SOURCES.items():
        if name.endswith(".json"):
            continue
        p = tmp_path / name.replace("/", "_")
        p.write_bytes(text.encode("latin-1"))
        # text that starts with an opcode byte is walked (protocol-0 pickles are text), the rest not
        from gates.model.sniff import PICKLE_OPCODES

        if not text[:1] or text.encode("latin-1")[0] not in PICKLE_OPCODES:
            assert not worth_scanning(p, p.name), name


def test_python_source_that_starts_like_a_pickle_is_text(tmp_path):
    from modelsamples import scan_file

    for i, text in enumerate(["import os\nimport sys\n", "from x import y\n", "class Foo:\n    pass\n", "(see below)\n"]):
        rep = scan_file(tmp_path, f"s{i}.py", text.encode())
        assert not rep.hits and rep.formats[0] in ("text", "unknown"), (text, rep.hits)


def test_text_named_like_a_pickle_still_blocks(tmp_path):
    from modelsamples import scan_file

    rep = scan_file(tmp_path, "m.pkl", b"import os\nimport sys\n")
    assert any(h.blocking for h in rep.hits)
