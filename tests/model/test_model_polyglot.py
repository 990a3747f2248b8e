"""Polyglots: a file more than one loader accepts is judged as each of them reads it.

``pickle.load`` starts at byte 0 whatever else the file is; ``zipfile`` finds an archive from its
end. Each sample is assembled from bytes; nothing is loaded.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

from modelsamples import (EMPTY_DICT, SETITEM, binint, legacy_torch, npy_header, os_system, pickle_of, rules, scan_file,
                          torch_state_dict_pickle, torch_zip, ustr, zip_bytes)

BENIGN = pickle_of(EMPTY_DICT + ustr("a") + binint(1) + SETITEM)


def tar_header(name: bytes, size: int = 0, typeflag: bytes = b"0", linkname: bytes = b"") -> bytes:
    """One ustar header block, written field by field (the name may be any bytes: a pickle)."""
    def field(value: bytes, n: int) -> bytes:
        assert len(value) <= n
        return value + b"\0" * (n - len(value))

    hdr = (field(name, 100) + field(b"0000644", 8) + field(b"0000000", 8) + field(b"0000000", 8)
           + field(b"%011o" % size, 12) + field(b"00000000000", 12) + b" " * 8 + typeflag + field(linkname, 100)
           + b"ustar\x0000" + field(b"", 32) + field(b"", 32) + field(b"", 8) + field(b"", 8) + field(b"", 155))
    hdr = field(hdr, 512)
    chk = sum(hdr)
    return hdr[:148] + b"%06o\0 " % chk + hdr[156:]


def tar_of(*members: tuple[bytes, bytes]) -> bytes:
    out = b""
    for name, data in members:
        out += tar_header(name, len(data)) + data + b"\0" * (-len(data) % 512)
    return out + b"\0" * 1024


def test_tar_header_holding_a_pickle_blocks():
    evil = os_system("id")
    assert len(evil) < 100 and evil.endswith(b".")
    data = tar_of((evil, b""))
    # it really is both: tarfile lists the member, and the bytes at offset 0 are a complete pickle
    assert [m.size for m in tarfile.open(fileobj=io.BytesIO(data))] == [0]
    import pickletools
    assert any(op.name == "STOP" for op, _, _ in pickletools.genops(data))


def test_tar_header_pickle_is_judged(tmp_path):
    rep = scan_file(tmp_path, "archive.tar", tar_of((os_system("id"), b"")))
    assert rep.formats[0] == "tar"
    assert "MODEL001" in rules(rep)
    assert any(h.key == "polyglot:pickle" and h.blocking for h in rep.hits)


def test_gzipped_tar_header_pickle_is_judged(tmp_path):
    """The decompressed stream cannot seek back: the first bytes are walked from the buffer."""
    rep = scan_file(tmp_path, "archive.tar.gz", gzip.compress(tar_of((os_system("id"), b""))))
    assert "MODEL001" in rules(rep)


def test_plain_tar_and_legacy_torch_have_no_pickle_view(tmp_path):
    rep = scan_file(tmp_path, "a.tar", tar_of((b"weights.txt", b"1 2 3\n")))
    assert not rep.hits, rep.hits
    rep = scan_file(tmp_path, "legacy.pt", legacy_torch(pickle_of(EMPTY_DICT)))
    assert not [h for h in rep.hits if h.key.startswith("polyglot")], rep.hits


def test_inert_complete_pickle_in_tar_header_is_noted_not_blocked(tmp_path):
    rep = scan_file(tmp_path, "a.tar", tar_of((BENIGN, b"")))
    assert [(h.rule, h.key, h.blocking) for h in rep.hits] == [("MODEL004", "polyglot:pickle-inert", None)]


def test_pickle_with_a_zip_appended_is_judged_as_both(tmp_path):
    evil_zip = zip_bytes([("payload/data.pkl", os_system("id"))])
    rep = scan_file(tmp_path, "model.pkl", BENIGN + evil_zip)
    assert zipfile.is_zipfile(io.BytesIO(BENIGN + evil_zip))  # what zipfile-based loaders see
    assert "MODEL001" in rules(rep)
    (h,) = [h for h in rep.hits if h.rule == "MODEL001"]
    assert h.member == "payload/data.pkl"
    assert any(h.key == "polyglot:zip" for h in rep.hits)


def test_benign_pickle_and_zip_files_have_no_second_view(tmp_path):
    assert not scan_file(tmp_path, "model.pkl", BENIGN).hits
    rep = scan_file(tmp_path, "model.pt", torch_zip(torch_state_dict_pickle(3), n_storages=3))
    assert not rep.hits, rep.hits


def test_zip_in_tar_is_scanned(tmp_path):
    inner = zip_bytes([("x.pkl", os_system("id"))])
    rep = scan_file(tmp_path, "bundle.tar", tar_of((b"inner.zip", inner)))
    (h,) = [h for h in rep.hits if h.rule == "MODEL001"]
    assert h.member == "inner.zip!x.pkl"


def test_npy_in_zip_object_array_is_scanned(tmp_path):
    npy = npy_header("|O", (1,)) + os_system("id")
    rep = scan_file(tmp_path, "arrays.npz", zip_bytes([("arr.npy", npy)], compress=zipfile.ZIP_DEFLATED))
    assert {"MODEL001", "MODEL009"} <= rules(rep)
