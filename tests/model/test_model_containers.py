"""Containers: PyTorch zip/legacy/tar, zip tricks, nested archives, joblib, compression, npy, LFS."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import time
import zipfile
import zlib

import pytest

from modelsamples import (
    EMPTY_DICT, POP, blocked_globals, bytes8, call, joblib_array, legacy_torch, npy_header, os_system, patch_local_name,
    pickle_of, rules, scan_file, torch_state_dict_pickle, torch_zip, ustr, zip_bytes,
)


def test_torch_zip_20k_tensors_passes_fast(tmp_path):
    data = torch_zip(torch_state_dict_pickle(20_000), n_storages=20_000)
    t0 = time.perf_counter()
    rep = scan_file(tmp_path, "big.pt", data)
    elapsed = time.perf_counter() - t0
    assert not rep.hits, [(h.rule, h.message) for h in rep.hits[:3]]
    assert rep.formats[0] == "pytorch"
    assert elapsed < 30


def test_torch_zip_with_payload_in_data_pkl(tmp_path):
    rep = scan_file(tmp_path, "m.pt", torch_zip(os_system()))
    hit = [h for h in rep.hits if h.rule == "MODEL001"][0]
    assert hit.member == "archive/data.pkl" and hit.extra["global"] == "os.system"
    # the offset is absolute in the file (stored member)
    raw = (tmp_path / "m.pt").read_bytes()
    assert raw[hit.offset : hit.offset + 10] == b"cos\nsystem"


def test_pickle_hidden_in_oddly_named_member(tmp_path):
    data = torch_zip(torch_state_dict_pickle(2), n_storages=2, extra=[("archive/.data/notes.txt", os_system())])
    rep = scan_file(tmp_path, "m.pt", data)
    assert [h.member for h in rep.hits if h.rule == "MODEL001"] == ["archive/.data/notes.txt"]


def test_pickle_in_storage_slot_is_found(tmp_path):
    members = [("archive/data.pkl", torch_state_dict_pickle(1)), ("archive/data/0", os_system(proto=2))]
    rep = scan_file(tmp_path, "m.pt", zip_bytes(members))
    assert "os.system" in blocked_globals(rep)


def test_zip_local_name_differs_from_central(tmp_path):
    data = torch_zip(os_system())
    data = patch_local_name(data, "archive/data.pkl", "archive/data.xyz")
    rep = scan_file(tmp_path, "m.pt", data)
    assert any(h.rule == "MODEL004" and h.key == "name-mismatch" for h in rep.hits)
    assert "os.system" in blocked_globals(rep)  # still scanned from the central directory's view


def test_zip_crc_mismatch_reported_and_scanned(tmp_path):
    data = bytearray(torch_zip(os_system()))
    i = data.index(b"echo harmless")
    data[i] = ord("E")  # payload bytes change; CRCs in both headers still describe the old bytes
    rep = scan_file(tmp_path, "m.pt", bytes(data))
    assert any(h.rule == "MODEL004" and h.key == "crc-mismatch" for h in rep.hits)
    assert "os.system" in blocked_globals(rep)


def test_zip_encrypted_flag_trick(tmp_path):
    data = bytearray(torch_zip(os_system()))
    cd = data.index(b"PK\x01\x02")  # central header of the first member: set the encryption bit
    data[cd + 8] |= 1
    rep = scan_file(tmp_path, "m.pt", bytes(data))
    keys = {h.key for h in rep.hits}
    assert "flag-mismatch" in keys and "encrypted" in keys
    assert all(h.blocking is not False for h in rep.hits)


def test_zip_duplicate_names(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", torch_state_dict_pickle(1))
        with pytest.warns(UserWarning):
            zf.writestr("archive/data.pkl", os_system())
    rep = scan_file(tmp_path, "m.pt", buf.getvalue())
    assert any(h.rule == "MODEL004" and h.key.startswith("dup:") for h in rep.hits)
    assert "os.system" in blocked_globals(rep)


def test_deflated_zip_member(tmp_path):
    rep = scan_file(tmp_path, "m.zip", zip_bytes([("weird name", os_system())], compress=zipfile.ZIP_DEFLATED))
    assert "os.system" in blocked_globals(rep)


def test_nested_zip_in_zip(tmp_path):
    inner = torch_zip(os_system())
    outer = zip_bytes([("models/inner.pt", inner)], compress=zipfile.ZIP_DEFLATED)
    rep = scan_file(tmp_path, "bundle.zip", outer)
    hit = [h for h in rep.hits if h.rule == "MODEL001"][0]
    assert hit.member == "models/inner.pt!archive/data.pkl"


def test_nesting_depth_limit(tmp_path):
    data = os_system()
    for i in range(6):
        data = zip_bytes([(f"l{i}.zip", data)])
    rep = scan_file(tmp_path, "deep.zip", data)
    assert any(h.rule == "MODEL003" and h.key == "depth" for h in rep.hits)


def test_zip_bomb_ratio(tmp_path):
    rep = scan_file(tmp_path, "bomb.zip", zip_bytes([("zeros.bin", b"\x00" * (20 << 20))], compress=zipfile.ZIP_DEFLATED))
    assert any(h.rule == "MODEL003" and h.key == "ratio" for h in rep.hits)


def test_zip_path_traversal_name(tmp_path):
    rep = scan_file(tmp_path, "t.zip", zip_bytes([("../../evil.txt", b"hello")]))
    assert any(h.rule == "MODEL004" and h.key == "traversal" for h in rep.hits)


def test_corrupt_zip_is_inconclusive(tmp_path):
    data = torch_zip(torch_state_dict_pickle(1))[:-30]
    rep = scan_file(tmp_path, "m.pt", data)
    assert "MODEL003" in rules(rep)


def test_torchscript_is_a_policy_finding(tmp_path):
    data = zip_bytes([("m/data.pkl", torch_state_dict_pickle(1)), ("m/code/__torch__/model.py", b"def forward(self, x):\n  return x\n"), ("m/constants.pkl", pickle_of(EMPTY_DICT))])
    rep = scan_file(tmp_path, "m.pt", data)
    assert rep.formats[0] == "torchscript" and "MODEL008" in rules(rep)
    assert not scan_file(tmp_path, "n.pt", data, allow_torchscript=True).hits


def test_legacy_torch_payload_in_later_pickle(tmp_path):
    rep = scan_file(tmp_path, "old.pt", legacy_torch(os_system()))
    assert rep.formats[0] == "pytorch-legacy" and blocked_globals(rep) == {"os.system"}
    rep = scan_file(tmp_path, "old2.pt", legacy_torch(torch_state_dict_pickle(2), sys_info=os_system()))
    assert blocked_globals(rep) == {"os.system"}


def test_legacy_torch_benign_ignores_raw_storage(tmp_path):
    rep = scan_file(tmp_path, "old.pt", legacy_torch(torch_state_dict_pickle(3)) + b"cos\nsystem\n")
    assert not rep.hits


def test_legacy_torch_tar(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in [("sys_info", pickle_of(EMPTY_DICT)), ("pickle", os_system()), ("storages", pickle_of(b"K\x00"))]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    rep = scan_file(tmp_path, "old.tar", buf.getvalue())
    assert rep.formats[0] == "pytorch-legacy"
    assert [h.member for h in rep.hits if h.rule == "MODEL001"] == ["pickle"]


def test_joblib_walks_past_array_buffer(tmp_path):
    # the buffer is 0xff bytes (an invalid opcode): only a reader that skips exactly passes
    assert not scan_file(tmp_path, "a.joblib", joblib_array()).hits


def test_joblib_payload_after_array_buffer(tmp_path):
    payload = POP + call("os", "system", ustr("id"))
    rep = scan_file(tmp_path, "a.joblib", joblib_array(after=payload))
    assert blocked_globals(rep) == {"os.system"}


def test_joblib_buffer_that_looks_like_opcodes(tmp_path):
    # a naive walker reads the buffer as opcodes, sees a harmless dict and stops; joblib reads on
    fake = b"}." + b"\x00" * 30
    rep = scan_file(tmp_path, "a.joblib", joblib_array(data=fake, after=POP + call("subprocess", "run", ustr("id"))))
    assert blocked_globals(rep) == {"subprocess.run"}


def test_joblib_object_array_is_a_nested_pickle(tmp_path):
    inner = os_system()
    data = joblib_array(data=inner, dtype="O8", shape=(1,))
    rep = scan_file(tmp_path, "o.joblib", data)
    assert "os.system" in blocked_globals(rep)


@pytest.mark.parametrize("codec", ["gzip", "zlib", "bz2", "xz", "lzma"])
def test_compressed_joblib(tmp_path, codec):
    raw = joblib_array(after=POP + call("os", "system", ustr("id")))
    comp = {"gzip": gzip.compress, "zlib": zlib.compress, "bz2": bz2.compress, "xz": lzma.compress,
            "lzma": lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE)}[codec](raw)
    rep = scan_file(tmp_path, "m.joblib", comp)
    assert rep.formats[0] == codec and blocked_globals(rep) == {"os.system"}


def test_compressed_benign_passes_and_truncated_is_inconclusive(tmp_path):
    comp = gzip.compress(joblib_array())
    assert not scan_file(tmp_path, "m.joblib", comp).hits
    assert "MODEL003" in rules(scan_file(tmp_path, "t.joblib", comp[:-12]))


def test_decompression_bound(tmp_path):
    comp = gzip.compress(pickle_of(bytes8(b"\x00" * (4 << 20)), 4))
    rep = scan_file(tmp_path, "m.pkl.gz", comp, limits={"max_decompressed_mb": 1})
    assert "MODEL003" in rules(rep)


def test_lz4_without_module_is_inconclusive(tmp_path):
    try:
        import lz4  # noqa: F401
        pytest.skip("lz4 installed")
    except ImportError:
        pass
    rep = scan_file(tmp_path, "m.joblib", b"\x04\x22\x4d\x18" + b"\x00" * 20)
    assert "MODEL003" in rules(rep)


def test_npy_object_array_scans_its_pickle(tmp_path):
    rep = scan_file(tmp_path, "a.npy", npy_header("|O", (1,)) + os_system())
    assert "MODEL009" in rules(rep) and blocked_globals(rep) == {"os.system"}


def test_npy_numeric_checks_size(tmp_path):
    good = npy_header("<f4", (2, 3)) + b"\x00" * 24
    assert not scan_file(tmp_path, "a.npy", good).hits
    assert "MODEL003" in rules(scan_file(tmp_path, "b.npy", good[:-4]))
    assert "MODEL003" in rules(scan_file(tmp_path, "c.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': __import__('os')}"))


def test_npz_with_object_member(tmp_path):
    data = zip_bytes([("a.npy", npy_header("<f8", (1,)) + b"\x00" * 8), ("b.npy", npy_header("|O", (1,)) + os_system())])
    rep = scan_file(tmp_path, "x.npz", data)
    assert rep.formats[0] == "npz" and [h.member for h in rep.hits if h.rule == "MODEL001"] == ["b.npy"]


def test_git_lfs_pointer(tmp_path):
    ptr = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 123\n"
    rep = scan_file(tmp_path, "model.safetensors", ptr)
    assert "MODEL017" in rules(rep)


def test_7z_inconclusive(tmp_path):
    assert "MODEL003" in rules(scan_file(tmp_path, "m.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 30))


def test_truncated_torch_zip_storage_offsets_do_not_matter(tmp_path):
    # a huge stored tensor member is never read: the scan stays fast
    big = zip_bytes([("archive/data.pkl", torch_state_dict_pickle(1)), ("archive/data/0", b"\x00" * (50 << 20))])
    t0 = time.perf_counter()
    assert not scan_file(tmp_path, "m.pt", big).hits
    assert time.perf_counter() - t0 < 5
    assert struct.calcsize("<Q") == 8


def test_hidden_local_entry_not_in_central_directory(tmp_path):
    # a local entry spliced in before the central directory: zipfile and torch never list it,
    # streaming readers do
    hidden = zip_bytes([("evil.pkl", os_system())])
    hidden_local = hidden[: hidden.index(b"PK\x01\x02")]
    good = torch_zip(torch_state_dict_pickle(1), n_storages=1)
    cd = good.index(b"PK\x01\x02")
    eocd = good.rindex(b"PK\x05\x06")
    shifted = bytearray(good[:cd] + hidden_local + good[cd:])
    struct.pack_into("<I", shifted, eocd + len(hidden_local) + 16, cd + len(hidden_local))  # central dir offset
    rep = scan_file(tmp_path, "m.pt", bytes(shifted))
    assert any(h.rule == "MODEL004" and h.key.startswith("unlisted:") and h.severity == "high" for h in rep.hits)
    assert [h.member for h in rep.hits if h.rule == "MODEL001"] == ["<unlisted>evil.pkl"]


def test_benign_zips_have_no_unlisted_bytes(tmp_path):
    for compress in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        data = zip_bytes([("a/data.pkl", torch_state_dict_pickle(2)), ("a/data/0", b"\x00" * 16)], compress=compress)
        assert not scan_file(tmp_path, f"m{compress}.pt", data).hits
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # data descriptors (written when streaming)
        with zf.open("a/data.pkl", "w") as fh:
            fh.write(torch_state_dict_pickle(2))
    assert not scan_file(tmp_path, "dd.pt", buf.getvalue()).hits
