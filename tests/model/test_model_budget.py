"""Nesting budgets: one budget per top-level file, spent by every level, ending in one finding.

The bombs are built here from bytes (a 42.zip-style nest of about 20 KB and a 16-way fan-out
four levels deep); each must end non-zero within 5 s with at most a few findings, while a
torch-style zip with 20,000 tensor members still passes.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zlib

import pytest

from modelsamples import bytes8, os_system, pickle_of, rules, scan_file, torch_state_dict_pickle, torch_zip, zip_bytes


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def raw_zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from (name, payload as stored, crc, uncompressed size, method): compressed payloads
    are reused as they are, which is how a nest stays tiny."""
    out = io.BytesIO()
    cd = []
    for name, payload, crc, usize, method in members:
        off = out.tell()
        n = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(payload), usize, len(n), 0) + n + payload)
        cd.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(payload), usize, len(n),
                              0, 0, 0, 0, 0, off) + n)
    start = out.tell()
    blob = b"".join(cd)
    out.write(blob + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(cd), len(cd), len(blob), start, 0))
    return out.getvalue()


def nest_42(levels: int = 5, leaf_mb: int = 8, fan: int = 16) -> bytes:
    """42.zip's shape: ``fan`` copies of the level below at each of ``levels`` levels; the
    leaves are ``leaf_mb`` MB of zeros. 16^5 leaves of 8 MB = 8 TB, in about 25 KB."""
    zeros = b"\0" * (leaf_mb << 20)
    leaf, crc = _deflate(zeros), zlib.crc32(zeros)
    cur = raw_zip([(f"page{i:x}.dll", leaf, crc, len(zeros), 8) for i in range(fan)])
    for lvl in range(levels - 1):
        comp = _deflate(cur)
        cur = raw_zip([(f"l{lvl}_{i:x}.zip", comp, zlib.crc32(cur), len(cur), 8) for i in range(fan)])
    return cur


def fan_out(levels: int = 4, fan: int = 16) -> bytes:
    """16 zips of 16 zips of 16 zips of 16 one-byte files: 65,536 harmless members."""
    cur = raw_zip([(f"f{i:x}.txt", b"x", zlib.crc32(b"x"), 1, 0) for i in range(fan)])
    for lvl in range(levels - 1):
        comp = _deflate(cur)
        cur = raw_zip([(f"z{lvl}_{i:x}.zip", comp, zlib.crc32(cur), len(cur), 8) for i in range(fan)])
    return cur


def _run(cli, tmp_path, *args):
    out = tmp_path / "report.json"
    t0 = time.monotonic()
    r = cli("model", *args, "--format", "json", "--output", out, "-q")
    return r, json.loads(out.read_text()), time.monotonic() - t0


@pytest.mark.parametrize("leaf_mb", [8, 16])  # 8 MB leaves stop on depth, 16 MB on the expansion ratio
def test_42_style_nest_ends_fast_with_one_finding(tmp_path, cli, monkeypatch, leaf_mb):
    data = nest_42(leaf_mb=leaf_mb)
    assert len(data) < 40_000
    (tmp_path / "42.zip").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    r, rep, took = _run(cli, tmp_path, "42.zip")
    assert r.code == 1 and took < 5, took
    (f,) = rep["findings"]
    assert f["rule"] == "MODEL003" and f["blocking"] and "budget" in f["message"] and f["path"] == "42.zip"
    assert f["member"].count("!") >= 3  # says where in the nest it stopped


def test_fan_out_ends_fast_with_one_finding(tmp_path, cli, monkeypatch):
    data = fan_out()
    assert len(data) < 20_000
    (tmp_path / "fan.zip").write_bytes(data)
    monkeypatch.chdir(tmp_path)
    r, rep, took = _run(cli, tmp_path, "fan.zip")
    assert r.code == 1 and took < 5, took
    assert len(rep["findings"]) <= 3
    assert any(f["rule"] == "MODEL003" and "archives" in f["message"] for f in rep["findings"])


def test_small_fan_out_is_fine(tmp_path):
    """A few archives inside an archive are normal (a bundle of npz files): no budget finding."""
    rep = scan_file(tmp_path, "ok.zip", fan_out(levels=2, fan=8))
    assert not rep.hits, rep.hits


def test_torch_zip_with_20000_tensors_passes_through_the_cli(tmp_path, cli, monkeypatch):
    (tmp_path / "big.pt").write_bytes(torch_zip(torch_state_dict_pickle(20_000, numel=1), n_storages=20_000, numel=1))
    monkeypatch.chdir(tmp_path)
    r, rep, took = _run(cli, tmp_path, "big.pt")
    assert r.code == 0, rep["findings"][:3]


def test_members_are_counted_across_levels(tmp_path):
    inner = zip_bytes([(f"m{i}.txt", b"x") for i in range(30)])
    outer = zip_bytes([(f"z{i}.zip", inner) for i in range(4)])
    assert not scan_file(tmp_path, "a.zip", outer, limits={"max_members": 200}).hits
    rep = scan_file(tmp_path, "b.zip", outer, limits={"max_members": 100})  # no single zip is over 100
    assert [(h.rule, h.key) for h in rep.hits] == [("MODEL003", "members")]


def test_depth_ends_in_one_finding_for_many_deep_branches(tmp_path):
    deep = os_system()
    for i in range(6):
        deep = zip_bytes([(f"l{i}.zip", deep)])
    rep = scan_file(tmp_path, "wide.zip", zip_bytes([(f"b{i}.zip", deep) for i in range(50)]))
    assert [(h.rule, h.key) for h in rep.hits] == [("MODEL003", "depth")]


def test_inflated_bytes_are_counted_across_levels(tmp_path):
    import gzip

    payload = pickle_of(bytes8(b"\0" * (3 << 20)))  # the walker reads through the payload
    data = zip_bytes([(f"p{i}.pkl.gz", gzip.compress(payload)) for i in range(4)])
    assert "MODEL003" not in rules(scan_file(tmp_path, "a.zip", data, limits={"max_decompressed_mb": 64}))
    rep = scan_file(tmp_path, "b.zip", data, limits={"max_decompressed_mb": 5})
    assert [(h.rule, h.key) for h in rep.hits] == [("MODEL003", "inflated")]


def test_wall_time_budget(tmp_path):
    rep = scan_file(tmp_path, "fan.zip", fan_out(levels=3), limits={"max_seconds": 0.000001})
    assert [(h.rule, h.key) for h in rep.hits] == [("MODEL003", "time")]
