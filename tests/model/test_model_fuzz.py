"""Fuzz targets for the model gate's parsers (hypothesis).

Properties: the pickle walker returns a result for any bytes (a stream it cannot follow is an
*issue* in the result, never an exception), and the scanner returns a report for any file
(containers, compressed streams, headers, nests and polyglots alike): an exception there would
end as a "scanner failed" finding that says nothing about the file. Inputs mix random bytes with
real fragments (opcodes with arguments, zip/tar/npy/gzip headers, whole small archives that are
then mutated) so examples get past the first magic check.

CI runs a bounded, derandomised number of examples per target; locally, run for minutes with
``MLSEC_GATES_FUZZ_EXAMPLES=20000 pytest tests/model/test_model_fuzz.py`` (random seeds). Every
exception type found becomes a regression test at the end of this file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import struct
import tarfile
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelsamples import EMPTY_DICT, npy_header, os_system, pickle_of, safetensors, torch_state_dict_pickle, torch_zip, ustr, zip_bytes

_N = os.environ.get("MLSEC_GATES_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(_N) if _N else 60, deadline=None, derandomize=not _N, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

# opcodes with plausible arguments, so walks get past the first byte
OPCODES = [
    b"\x80\x02", b"\x80\x04", b"\x80\x05", b"\x95" + struct.pack("<Q", 8), b"(", b")", b"]", b"}", b".", b"0", b"1", b"2", b"N",
    b"\x88", b"\x89", b"t", b"\x85", b"\x86", b"\x87", b"R", b"b", b"s", b"u", b"a", b"e", b"l", b"d", b"o", b"\x81", b"\x92",
    b"\x93", b"\x94", b"Q", b"\x82\x01", b"\x83\x01\x00", b"K\x01", b"M\x01\x00", b"J\x01\x00\x00\x00", b"\x8a\x01\x01",
    b"X\x01\x00\x00\x00a", b"\x8c\x02os", b"\x8c\x06system", b"C\x01a", b"B\x02\x00\x00\x00ab", b"\x8e\x01" + b"\0" * 7 + b"a",
    b"cos\nsystem\n", b"ctorch._utils\n_rebuild_tensor_v2\n", b"cbuiltins\neval\n", b"i__builtin__\nobject\n", b"S'a'\n",
    b"V\\u0041\n", b"I01\n", b"L5L\n", b"F1.5\n", b"Pid\n", b"q\x00", b"h\x00", b"r\x00\x00\x00\x00", b"j\x00\x00\x00\x00",
    b"p0\n", b"g0\n", b"\x96\x01" + b"\0" * 7 + b"a", b"\x97", b"\x98", b"\x90", b"\x91", b"\x8f", b"\xff", b"\x00",
]
PICKLE_BYTES = st.lists(st.one_of(st.sampled_from(OPCODES), st.binary(max_size=6)), max_size=60).map(b"".join)


@FUZZ
@given(PICKLE_BYTES)
def test_walker_never_raises(data):
    from gates.model.pickle_engine import Walker
    from gates.model.stream import Source

    src = Source(io.BytesIO(data), size=len(data), limit=1 << 20)
    res = Walker(src, max_memo=1000).walk()
    assert res.opcodes >= 0
    assert res.stopped or res.issues or res.opcodes == 0 or not data


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


SEEDS = [
    torch_zip(torch_state_dict_pickle(2), n_storages=2),
    zip_bytes([("a.npy", npy_header("<f4", (2,)) + b"\0" * 8), ("b.pkl", os_system())], compress=zipfile.ZIP_DEFLATED),
    _tar([("pickle", pickle_of(EMPTY_DICT)), ("sys_info", pickle_of(EMPTY_DICT)), ("inner.zip", zip_bytes([("x", b"y")]))]),
    gzip.compress(pickle_of(EMPTY_DICT + ustr("a") + ustr("b") + b"s")),
    bz2.compress(zip_bytes([("m.pkl", os_system())])),
    npy_header("|O", (1,)) + os_system(),
    safetensors({"a": ("F32", [1], b"\0" * 4)}),
    pickle_of(EMPTY_DICT) + zip_bytes([("p.pkl", os_system())]),
    b"GGUF\x03\x00\x00\x00" + b"\0" * 16,
    lzma.compress(_tar([("m.pkl", os_system())])),
    b"\x28\xb5\x2f\xfd\x20\x05\x29\x00\x00hello",  # a small zstd frame
    b"\x04\x22\x4d\x18\x64\x40\xa7\x05\x00\x00\x80hello\x00\x00\x00\x00",  # a small lz4 frame
    b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 24,
    b"\x93NUMPY\x03\x00" + struct.pack("<I", 20) + b"{'descr': 'O', " + b" " * 5,
]


@st.composite
def mutated(draw) -> bytes:
    """A real sample with a few bytes overwritten, cut, or spliced with another one."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        data[i : i + 1] = draw(st.binary(min_size=0, max_size=4))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.integers(0, 4)) == 0:
        data += draw(st.sampled_from(SEEDS))
    return bytes(data)


FILES = st.one_of(mutated(), PICKLE_BYTES, st.binary(max_size=300))
NAMES = st.sampled_from(["m.pt", "m.pkl", "a.npy", "x.zip", "x.tar", "m.joblib", "blob.dat", "training_args.bin", "m.safetensors"])


@FUZZ
@given(FILES, NAMES)
def test_scanner_never_raises(data, name):
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    d = _tmpdir()
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(data)
    cfg = config_from_options({"profiles": ["torch", "numpy"], "second_opinion": False, "limits": {"max_seconds": 20}})
    rep = scan_path(p, cfg)  # any exception fails the property
    assert not any(h.key == "crash" for h in rep.hits)
    for h in rep.hits:
        assert "\x1b" not in h.message and (h.member is None or "\x1b" not in h.member)


_DIR: list[str] = []


def _tmpdir() -> str:
    if not _DIR:
        import tempfile

        _DIR.append(tempfile.mkdtemp(prefix="model-fuzz-"))
    return _DIR[0]


# ---- regressions found by the targets above ----------------------------------------------------
@pytest.mark.parametrize("data", [
    b"(\xb5/\xfdK\x03\x04\x14" + b"\0" * 64,  # zstd magic, corrupt frame: ZstdError escaped the reader
])
def test_regression_corrupt_streams_are_inconclusive(tmp_path, data):
    from modelsamples import scan_file

    rep = scan_file(tmp_path, "m.pt", data)
    assert [h.rule for h in rep.hits] == ["MODEL003"] and all(h.key != "crash" for h in rep.hits)


def test_empty_file_named_like_a_pickle_is_inconclusive(tmp_path):
    from modelsamples import scan_file

    assert [h.rule for h in scan_file(tmp_path, "m.pkl", b"").hits] == ["MODEL003"]
