"""Bounded everything (issue 14, item 12): decompression bombs stop early, a line longer than the
piece size is scanned in pieces with seams (a value straddling a cut is found once), long rows and
oversized JSON/YAML documents are still scanned, and a FIFO under a dataset name never blocks.

Inputs are generated here; limits are lowered through the policy (or the reader's ``Limits``)
so the files stay small, plus one realistic bomb (1 GiB from ~160 KB) that must end in seconds.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

from gates.core.errors import InputError
from gates.pii import readers
from gates.pii.engine import BatchScan, scan_chunk
from gates.pii import config
from pii_helpers import fake_card, found

EMAIL = "ana.silva@post.example.org"
CARD = fake_card("4", 16, 21)


def _stream(kind: str, data: bytes) -> bytes:
    if kind == "gz":
        return gzip.compress(data, 9)
    if kind == "xz":
        return lzma.compress(data, preset=9)
    if kind == "bz2":
        return bz2.compress(data, 9)
    return zstandard.ZstdCompressor(level=19).compress(data)


def bomb(path: Path, kind: str, total: int, member: int = 16 << 20) -> Path:
    """``total`` bytes of CSV-looking zeros as concatenated members/streams/frames (every one of
    these formats decodes concatenations as one stream): a real bomb, cheap to build."""
    one = _stream(kind, b"a,b\n" + b"0,0\n" * ((member - 4) // 4))
    with open(path, "wb") as fh:
        for _ in range(total // member):
            fh.write(one)
    return path


@pytest.mark.parametrize("kind", ["xz", "gz", "bz2", "zst"])
def test_decompression_bomb_stops_in_seconds(pii, tmp_path, kind):
    p = bomb(tmp_path / f"bomb.csv.{kind}", kind, 1 << 30)
    assert p.stat().st_size < 3 << 20
    t = time.monotonic()
    code, rep, _ = pii(p)
    took = time.monotonic() - t
    assert code == 2, rep
    (err,) = rep["gates"]["pii"]["errors"]
    assert err["path"].endswith(p.name) and "decompression ratio" in err["message"] and "max_decompression_ratio" in err["message"]
    assert took < 20  # stops after ~32 MiB, not 1 GiB (a full pass took >300 s before)


def test_ratio_limit_is_configurable_and_normal_files_pass(pii, tmp_path):
    p = tmp_path / "users.csv.gz"
    rows = "".join(f"{i},user{i}@corp.example.net\n" for i in range(200_000))
    p.write_bytes(gzip.compress(("id,mail\n" + rows).encode()))
    code, rep, _ = pii(p)
    assert code == 1 and found(rep, "EMAIL_ADDRESS") and not rep["gates"]["pii"]["errors"]
    z = bomb(tmp_path / "zeros.csv.gz", "gz", 48 << 20)
    code, rep, _ = pii(z, policy="version: 1\ngates:\n  pii:\n    max_decompression_ratio: 100000\n")
    assert code == 0 and not rep["gates"]["pii"]["errors"]


def _scan(path: Path, limits: readers.Limits) -> tuple[readers.FileInfo, dict]:
    cfg, _ = config.build({})
    info, chunks = readers.read(path, limits)
    bs = BatchScan(cfg)
    for ch in chunks:
        scan_chunk(bs, ch)
    return info, {st.label: st for st in bs.results()}


@pytest.mark.parametrize("offset", [-5, -20, -1, 1])
def test_value_straddling_a_cut_is_found_once(tmp_path, offset):
    """A 1 KiB piece size, values placed across (or right at) the first cut."""
    limits = readers.Limits(max_line=1024, seam=256)
    filler = "lorem ipsum dolor " * 400
    at = 1024 + offset
    line = filler[:at] + f" {EMAIL} card {CARD} " + filler
    p = tmp_path / "one-line.txt"
    p.write_text(line[:5000] + "\nsecond line\n")
    info, cols = _scan(p, limits)
    st = cols[None]
    assert st.entities["EMAIL_ADDRESS"].count == 1 and st.entities["CREDIT_CARD"].count == 1
    assert next(iter(st.entities["EMAIL_ADDRESS"].examples.values())).row == 1
    assert info.rows == 2 and st.rows == 2  # one row per line, however many pieces (five here); seams add nothing


def test_value_inside_a_seam_but_not_across_the_cut_is_not_double_counted(tmp_path):
    limits = readers.Limits(max_line=1024, seam=256)
    line = "x " * 400 + EMAIL + " " + "y " * 1000  # the e-mail ends ~100 chars before the cut
    p = tmp_path / "t.txt"
    p.write_text(line)
    _, cols = _scan(p, limits)
    assert cols[None].entities["EMAIL_ADDRESS"].count == 1


def test_long_jsonl_line_and_json_string_scanned_in_pieces(pii, tmp_path):
    blob = "a" * 3000
    p = tmp_path / "events.jsonl"
    p.write_text(json.dumps({"id": 1}) + "\n" + json.dumps({"blob": blob[:1500] + f" {EMAIL} " + blob}) + "\n")
    j = tmp_path / "doc.json"
    j.write_text(json.dumps({"blob": blob[:2044] + f" {EMAIL} " + blob}))  # across the 2 KiB cut
    policy = "version: 1\ngates:\n  pii:\n    max_line_kb: 2\n    max_json_mb: 0.002\n"
    code, rep, _ = pii(p, j, policy=policy)
    assert code == 1 and not rep["gates"]["pii"]["errors"]
    assert sorted((f["path"].rsplit("/", 1)[-1], f["line"]) for f in found(rep, "EMAIL_ADDRESS")) == [("doc.json", 1), ("events.jsonl", 2)]
    notes = " | ".join(rep["gates"]["pii"]["notes"])
    assert "scanned as text in pieces" in notes and "max_json_mb" in notes


def test_csv_row_longer_than_a_block_is_scanned_as_text(pii, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 64 << 10)
    monkeypatch.setattr(readers, "CSV_MID_FILE", 0)  # the block as set, not doubled for a small file
    p = tmp_path / "wide.csv"
    rows = ["id,note"] + [f"{i},fine" for i in range(1, 3000)] + [f"3000,{'z' * 200_000} {EMAIL}", f'3001,"{CARD}"']
    p.write_text("\n".join(rows) + "\n")
    code, rep, _ = pii(p)
    assert code == 1 and not rep["gates"]["pii"]["errors"]
    assert {f["entity"] for f in rep["findings"]} >= {"EMAIL_ADDRESS", "CREDIT_CARD"}
    assert any("longer than the CSV block" in n for n in rep["gates"]["pii"]["notes"])


def test_yaml_alias_bomb_stops(pii, tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    p = tmp_path / "laughs.yaml"
    p.write_text("\n".join(lines) + "\n")
    t = time.monotonic()
    code, rep, _ = pii(p)
    assert code == 2 and "aliases" in rep["gates"]["pii"]["errors"][0]["message"]
    assert time.monotonic() - t < 10


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_named_like_a_dataset_never_blocks(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    os.mkfifo(d / "data.csv")
    (d / "ok.csv").write_text(f"mail\n{EMAIL}\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for target in (d, d / "data.csv"):
        out = tmp_path / "r.json"
        p = subprocess.run([sys.executable, "-m", "gates.pii", str(target), "--format", "json", "--output", str(out), "-q"],
                           capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
        rep = json.loads(out.read_text())
        assert p.returncode == 2
        assert any(e["path"].endswith("data.csv") and "FIFO" in e["message"] for e in rep["gates"]["pii"]["errors"])


def test_reader_refuses_a_fifo_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs")
    f = tmp_path / "x.csv"
    os.mkfifo(f)
    with pytest.raises(Exception) as exc:
        readers.read(f, readers.Limits())
    assert "regular file" in str(getattr(exc.value, "reason", exc.value))


@pytest.mark.parametrize("name,head,tail", [("one.txt", b"", b"\n"), ("one.json", b'[{"id": 1}, {"s": "', b'"}]')])
def test_huge_single_line_stays_bounded(tmp_path, name, head, tail):
    """Realistic: a 256 MiB file of one line (plain text, and a JSON string inside a record of a
    top-level array), through the CLI in its own process: peak RSS stays under 300 MB and a
    value at the very end is found."""
    p = tmp_path / name
    chunk = ("lorem ipsum dolor sit amet " * 40000).encode()
    with open(p, "wb") as fh:
        fh.write(head)
        for _ in range((256 << 20) // len(chunk)):
            fh.write(chunk)
        fh.write(f" {EMAIL}".encode() + tail)
    out = tmp_path / "r.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    code = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "gates.pii", str(p), "--format", "json",
                        "--output", str(out), "-q", "--workers", "1"], capture_output=True, text=True, timeout=280, env=env)
    rss_mb = int(r.stdout.strip().splitlines()[-1]) / 1024
    rep = json.loads(out.read_text())
    assert [f["line"] for f in found(rep, "EMAIL_ADDRESS")] == [1]
    assert rss_mb < 300, rss_mb
    assert resource  # used in the child


def test_json_array_of_records_is_streamed(tmp_path):
    """A top-level array is decoded record by record (memory bounded by the largest record), with
    the rows, columns and JSON paths of a whole parse, across read boundaries (> 1 MiB) and chunks."""
    recs = [{"id": i, "n": 10 ** 15 + i, "who": {"mail": EMAIL if i in (3, 20_000) else f"x{i}"}} for i in range(30_000)]
    p = tmp_path / "recs.json"
    p.write_text(json.dumps(recs, indent=1))
    assert p.stat().st_size > 2 << 20
    limits = readers.Limits(chunk_chars=64 << 10)
    info, chunks = readers.read(p, limits)
    chunks = list(chunks)
    assert len(chunks) > 3 and info.rows == 30_000
    seen = [(c.label, v, r, w) for ch in chunks for c in ch.columns for v, r, w in zip(c.values.to_pylist(), c.rows, c.paths)]
    assert [(r, w) for lab, v, r, w in seen if v == EMAIL] == [(4, "$[3].who.mail"), (20_001, "$[20000].who.mail")]
    assert sum(1 for lab, v, r, w in seen if lab == "n") == 30_000  # every number whole, none cut at a read boundary
    assert {v for lab, v, r, w in seen if lab == "n"} == {str(10 ** 15 + i) for i in range(30_000)}


@pytest.mark.parametrize("doc,where", [
    ('[{"a": 1},\n {"b": 2} {"c": 3}]', "line 2 column 11"),
    ('[1, 2,\n\n  x]', "line 3 column 3"),
    ('[1, 2] extra', "line 1 column 8"),
    ('[{"a": "unterminated', "line 1 column 8"),
])
def test_json_array_errors_name_the_position(tmp_path, doc, where):
    p = tmp_path / "bad.json"
    p.write_text(doc)
    with pytest.raises(InputError) as exc:
        list(readers.read(p, readers.Limits())[1])
    assert where in exc.value.reason


def test_json_array_record_above_the_cap_is_scanned_as_text(tmp_path):
    p = tmp_path / "big-record.json"
    p.write_text(json.dumps([{"a": EMAIL}, {"blob": "y" * (3 << 20) + " " + CARD}]))  # one line, minified
    cfg, _ = config.build({})
    info, chunks = readers.read(p, readers.Limits(max_json_bytes=1 << 20))
    bs = BatchScan(cfg)
    for ch in chunks:
        scan_chunk(bs, ch)
    got = {(st.label, e) for st in bs.results() for e, s in st.entities.items() if s.count}
    assert ("a", "EMAIL_ADDRESS") in got and (None, "CREDIT_CARD") in got  # the big record still scanned
    assert any("max_json_mb" in n and "scanned as text" in n for n in info.notes)


def test_csv_chunks_are_larger_only_for_mid_sized_plain_files(tmp_path, monkeypatch):
    """Memory stays bounded by the chunk: twice the chunk for a plain file up to CSV_MID_FILE,
    the ordinary chunk above it and for a compressed file (its size says nothing)."""
    small, gz = tmp_path / "a.csv", tmp_path / "a.csv.gz"
    small.write_text("a,b\n1,2\n")
    gz.write_bytes(b"\x1f\x8b")
    assert readers._csv_chunk_bytes(small, None) == 2 * readers.CSV_BLOCK_BYTES
    assert readers._csv_chunk_bytes(gz, "gzip") == readers.CSV_BLOCK_BYTES
    assert readers._csv_chunk_bytes(tmp_path / "missing.csv", None) == readers.CSV_BLOCK_BYTES
    monkeypatch.setattr(readers, "CSV_MID_FILE", 4)
    assert readers._csv_chunk_bytes(small, None) == readers.CSV_BLOCK_BYTES
