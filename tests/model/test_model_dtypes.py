"""NumPy and joblib object dtypes in every spelling, read as NumPy reads them.

An object dtype means the bytes after the header are a pickle (``np.load(allow_pickle=True)``,
``joblib.load``); a wrong item size means the scanner resumes at another offset than the loader.
Every sample is written from bytes; nothing is loaded.
"""

from __future__ import annotations

import struct

import pytest

from modelsamples import (BUILD, EMPTY_DICT, EMPTY_TUPLE, MARK, NEWFALSE, NEWOBJ, NEWTRUE, NONE, PROTO, REDUCE, SETITEMS, STOP,
                          TUPLE, binint, blocked_globals, glob, os_system, rules, scan_file, ustr)

EVIL = os_system("id")


def npy(descr, shape=(1,), version=(1, 0), raw_header: str | None = None) -> bytes:
    text = raw_header if raw_header is not None else repr({"descr": descr, "fortran_order": False, "shape": shape})
    enc = "utf-8" if version[0] == 3 else "latin-1"
    h = text.encode(enc)
    lenfmt = "<H" if version[0] == 1 else "<I"
    pre = 6 + 2 + struct.calcsize(lenfmt)
    h += b" " * (-(len(h) + pre + 1) % 64) + b"\n"
    return b"\x93NUMPY" + bytes(version) + struct.pack(lenfmt, len(h)) + h


OBJECT_SPELLINGS = ["O", "O8", "|O", "object", "i4,O", ("O", (2,)), [("a", "<i4"), ("b", "|O")],
                    [("a", "<i4"), ("nested", [("x", "<f8"), ("y", "|O")])], [("a", "|O", (2, 2))], "f8,(2,)O"]


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("descr", OBJECT_SPELLINGS, ids=repr)
def test_object_dtype_in_every_spelling_is_a_pickle(tmp_path, descr, version):
    rep = scan_file(tmp_path, "a.npy", npy(descr, version=version) + EVIL)
    assert "MODEL009" in rules(rep), rep.hits
    assert blocked_globals(rep) == {"os.system"}


NUMERIC = ["<f4", "|u1", "|b1", "<i8", "i4,f8", "M8[ns]", "<U3", "|S5", "|V8", ("<f4", (3,)), [("a", "<i4"), ("b", "<f8", (2,))],
           "f8,(2,)i4"]


@pytest.mark.parametrize("descr", NUMERIC, ids=repr)
def test_numeric_dtypes_pass_and_are_sized_like_numpy(tmp_path, descr):
    np = pytest.importorskip("numpy")
    size = np.lib.format.descr_to_dtype(descr).itemsize
    rep = scan_file(tmp_path, "a.npy", npy(descr, shape=(3,)) + b"\0" * (3 * size))
    assert not rep.hits, rep.hits
    rep = scan_file(tmp_path, "b.npy", npy(descr, shape=(3,)) + b"\0" * (3 * size - 1))
    assert [h.key for h in rep.hits] == ["npy-truncated"]


def test_python2_header_is_read_like_numpy(tmp_path):
    text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }"
    rep = scan_file(tmp_path, "a.npy", npy(None, raw_header=text) + b"\0" * 8)
    assert not rep.hits, rep.hits


@pytest.mark.parametrize("header", [
    "{'descr': 'not-a-dtype', 'fortran_order': False, 'shape': (1,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}",
    "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
    "__import__('os')",
])
def test_headers_numpy_refuses_are_inconclusive_not_silent(tmp_path, header):
    rep = scan_file(tmp_path, "a.npy", npy(None, raw_header=header) + EVIL)
    assert [(h.rule, h.blocking) for h in rep.hits] == [("MODEL003", True)]


def test_unsupported_minor_version_is_inconclusive(tmp_path):
    rep = scan_file(tmp_path, "a.npy", npy("|O", version=(1, 5)) + EVIL)
    assert [(h.rule, h.key) for h in rep.hits] == [("MODEL003", "npy-header")]


class TestWithoutNumpy:
    """The fallback: strict spellings are sized, anything mentioning objects is an object array,
    and what cannot be sized is a blocking inconclusive finding."""

    @pytest.fixture(autouse=True)
    def no_numpy(self, monkeypatch):
        from gates.model import dtypes

        monkeypatch.setattr(dtypes, "_numpy", lambda: None)

    @pytest.mark.parametrize("descr", OBJECT_SPELLINGS, ids=repr)
    def test_objects(self, tmp_path, descr):
        assert "MODEL009" in rules(scan_file(tmp_path, "a.npy", npy(descr) + EVIL))

    @pytest.mark.parametrize("descr,size", [("<f4", 4), ("i4,f8", 12), ("<U3", 12), (("<f4", (3,)), 12),
                                            ([("a", "<i4"), ("b", "<f8", (2,))], 20), ("M8[ns]", 8)], ids=repr)
    def test_sized(self, tmp_path, descr, size):
        assert not scan_file(tmp_path, "a.npy", npy(descr, shape=(2,)) + b"\0" * (2 * size)).hits

    @pytest.mark.parametrize("descr", ["<l", "g", "<p", "weird"])
    def test_cannot_size_blocks(self, tmp_path, descr):
        rep = scan_file(tmp_path, "a.npy", npy(descr) + b"\0" * 8)
        assert [(h.rule, h.key, h.blocking) for h in rep.hits] == [("MODEL003", "npy-dtype", True)]


# ---- joblib --------------------------------------------------------------------------------------
def _dtype(code: str, state: bytes | None) -> bytes:
    out = glob("numpy", "dtype") + MARK + ustr(code) + NEWFALSE + NEWTRUE + TUPLE + REDUCE
    return out + (state + BUILD if state is not None else b"")


def _state(elsize: int = -1, flags: int = 0, order: str = "<") -> bytes:
    return (MARK + binint(3) + ustr(order) + NONE + NONE + NONE + b"J" + struct.pack("<i", elsize) + b"J\xff\xff\xff\xff"
            + binint(flags) + TUPLE)


def joblib_wrapper(dtype: bytes, body: bytes, shape: tuple = (1,), padded: bool = True) -> bytes:
    """A NumpyArrayWrapper whose dtype is the given pickled value, followed by ``body``."""
    dims = b"".join(binint(d) for d in shape)
    state = (EMPTY_DICT + MARK + ustr("subclass") + glob("numpy", "ndarray") + ustr("shape") + MARK + dims + TUPLE
             + ustr("order") + ustr("C") + ustr("dtype") + dtype + ustr("allow_mmap") + NEWFALSE
             + (ustr("numpy_array_alignment_bytes") + binint(16) if padded else b"") + SETITEMS)
    return PROTO(2) + glob("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + state + BUILD + body


INLINE = EVIL[2:-1]  # the object array's pickle: joblib calls pickle.load on the file handle here


@pytest.mark.parametrize("code,state", [
    ("O8", _state(flags=63, order="|")),  # what joblib writes
    ("object", _state(flags=63, order="|")),
    ("|O", _state(flags=63, order="|")),
    ("O", None),  # a short state: no BUILD at all
    ("O8", _state(elsize=1, flags=0, order="|")),  # flags and size that lie
    ("i4,O", None),
], ids=lambda v: repr(v)[:20])
def test_joblib_object_dtype_in_any_spelling_walks_the_inline_pickle(tmp_path, code, state):
    data = joblib_wrapper(_dtype(code, state), EVIL, padded=False) + NONE + STOP
    rep = scan_file(tmp_path, "m.joblib", data)
    assert "os.system" in blocked_globals(rep), rep.hits


def test_joblib_structured_dtype_with_an_object_field(tmp_path):
    fields = (EMPTY_DICT + ustr("a") + MARK + _dtype("i4", _state()) + binint(0) + TUPLE + b"s"
              + ustr("b") + MARK + _dtype("O8", _state(flags=63, order="|")) + binint(8) + TUPLE + b"s")
    state = (MARK + binint(3) + ustr("|") + NONE + MARK + ustr("a") + ustr("b") + TUPLE + fields
             + binint(16) + binint(8) + binint(27) + TUPLE)
    data = joblib_wrapper(_dtype("V16", state), EVIL, padded=False) + NONE + STOP
    assert "os.system" in blocked_globals(scan_file(tmp_path, "m.joblib", data))


def test_joblib_builtin_dtype_ignores_a_lying_item_size(tmp_path):
    """NumPy ignores the pickled size of a built-in dtype: f8 is 8 bytes whatever the state says.
    Trusting the state would resume the walk inside the array while joblib resumes after it."""
    payload = b"\0" * 8  # one float64
    after = EVIL[2:-1]
    # with elsize=1 a naive reader skips 1 byte and walks 7 zero bytes (broken) instead of the call
    data = joblib_wrapper(_dtype("f8", _state(elsize=1)), bytes([3]) + b"\xff" * 3 + payload) + b"0" + after + STOP
    assert "os.system" in blocked_globals(scan_file(tmp_path, "m.joblib", data))


def test_joblib_numeric_array_passes(tmp_path):
    data = joblib_wrapper(_dtype("f8", _state()), bytes([3]) + b"\xff" * 3 + b"\0" * 32, shape=(4,)) + STOP
    rep = scan_file(tmp_path, "m.joblib", data, profiles=["numpy", "sklearn"])
    assert not rep.hits, rep.hits


def test_joblib_dtype_that_cannot_be_sized_is_inconclusive(tmp_path):
    data = joblib_wrapper(_dtype("not-a-dtype", _state()), b"\0" * 8) + STOP
    rep = scan_file(tmp_path, "m.joblib", data, profiles=["numpy", "sklearn"])
    assert any(h.rule == "MODEL003" and h.blocking for h in rep.hits), rep.hits
