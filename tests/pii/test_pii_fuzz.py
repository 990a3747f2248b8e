"""Fuzz targets for the pii gate's readers and scan path (hypothesis).

Property: whatever bytes a dataset file holds, reading it and scanning every chunk either works or
raises one of the reader's own exceptions (InputError naming the file, Binary, NotScanned) —
never another exception, which the gate could only report as "cannot read (SomeError)". Text
targets mix random text with fragments of each format's syntax (and PII-shaped values, long runs,
control characters) so examples get past the first syntax check; binary targets mutate real
Parquet, Arrow IPC and ORC files and compressed streams. Limits are lowered (1 KiB lines, 4 KiB
chunks) so cuts, seams and the oversize paths are reached by small examples.

CI runs a bounded, derandomised number of examples per target; for long local runs set
``MLSEC_GATES_FUZZ_EXAMPLES=20000`` (random seeds). Every exception found becomes a regression
test at the end of this file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates.core.errors import InputError
from gates.pii import config, readers
from gates.pii.engine import BatchScan, scan_chunk, scan_many
from gates.pii.readers import Binary, NotScanned
from gates.pii.semantic import SemanticPass

_N = os.environ.get("MLSEC_GATES_FUZZ_EXAMPLES") or os.environ.get("MLSEC_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(_N) if _N else 30, deadline=None, derandomize=not _N, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
LIMITS = readers.Limits(max_line=1024, seam=64, chunk_chars=4096, max_json_bytes=32 << 10, ratio_floor=1 << 20)
CFG, _ = config.build({"examples": 3})

FRAGMENTS = [
    ",", ";", "\t", "|", '"', '""', "'", "\n", "\r\n", "\r", "{", "}", "[", "]", ":", ": ", "- ", "---\n", "&a ", "*a", "!!str ",
    "!!binary ", "!!python/object:os.system", "null", "true", "1e999", "-0", "\\u0000", "\\ud800", "\\", "#", "%YAML 1.2\n",
    "id,mail,card\n", "a\tb\n", '{"a": ', '"k": "v"', "[1, 2", "users[].email", "ana.silva@post.example.org", "4111 1111 1111 1111",
    "4242424242424242", "DE89370400440532013000", "078-05-1120", "+44 20 7946 0958", "192.168.0.1", "2001:db8::1",
    "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a" * 36, "-----BEGIN RSA PRIVATE KEY-----", "eyJhbGciOi", "password=hunter2",
    "https://user:pw@host/x?token=abc", "é", "中文", "\u202e", "\ufeff", "\x00", "\x1b[31m", "\x7f", " " * 50, "x" * 700, "9" * 40,
]
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=16)), max_size=60).map("".join)


def scan_all(path: Path, forced: str = "auto") -> None:
    """Read and scan ``path`` the way the gate does; only the reader's exceptions may escape."""
    try:
        info, chunks = readers.read(path, LIMITS, forced)
        bs, sem = BatchScan(CFG), SemanticPass(CFG)
        for ch in sem.tap(chunks):
            scan_chunk(bs, ch)
        sem.merge(bs.results())
    except InputError as exc:
        assert exc.path == str(path)
    except (Binary, NotScanned):
        pass


def write(tmp: Path, name: str, data: bytes) -> Path:
    d = tmp / "case"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name", ["x.csv", "x.tsv", "x.json", "x.jsonl", "x.yaml", "x.txt", "x.dat"])
@FUZZ
@given(text=TEXT)
def test_text_formats(tmp_path, name, text):
    scan_all(write(tmp_path, name, text.encode("utf-8", "surrogatepass")))


@pytest.mark.parametrize("name", ["x.csv", "x.json", "x.jsonl"])
@FUZZ
@given(data=st.binary(max_size=600))
def test_raw_bytes(tmp_path, name, data):
    scan_all(write(tmp_path, name, data))


def _compress(kind: str, data: bytes) -> bytes:
    return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress,
            "zst": lambda b: zstandard.ZstdCompressor().compress(b)}[kind](data)


@pytest.mark.parametrize("kind", ["gz", "bz2", "xz", "zst"])
@FUZZ
@given(text=TEXT, cut=st.integers(0, 400), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4))
def test_compressed_streams(tmp_path, kind, text, cut, flips):
    blob = bytearray(_compress(kind, text.encode("utf-8", "surrogatepass")))
    for pos, val in flips:
        blob[pos % len(blob)] = val
    if cut and cut < len(blob):
        blob = blob[:-cut]  # truncated streams
    scan_all(write(tmp_path, f"x.csv.{kind}", bytes(blob)))


def _columnar(fmt: str) -> bytes:
    t = pa.table({"id": list(range(20)), "mail": ["ana.silva@post.example.org" if i % 3 else None for i in range(20)],
                  "nested": [{"a": [str(i), "x"], "b": {"c": "4111111111111111"}} for i in range(20)]})
    buf = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(t, buf, row_group_size=7)
    elif fmt == "arrow":
        with ipc.new_file(buf, t.schema) as w:
            w.write_table(t)
    elif fmt == "arrows":
        with ipc.new_stream(buf, t.schema) as w:
            w.write_table(t)
    else:
        orc.write_table(t.drop_columns(["nested"]), buf)
    return buf.getvalue()


SEEDS = {f: _columnar(f) for f in ("parquet", "arrow", "arrows", "orc")}


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=6), cut=st.integers(0, 64))
def test_mutated_columnar_files(tmp_path, fmt, flips, cut):
    blob = bytearray(SEEDS[fmt])
    for pos, val in flips:
        blob[pos % len(blob)] = val
    if cut:
        blob = blob[:-cut]
    scan_all(write(tmp_path, f"x.{fmt}", bytes(blob)))


@FUZZ
@given(texts=st.lists(TEXT, min_size=1, max_size=5))
def test_small_file_batches_never_raise(tmp_path, texts):
    files = []
    for i, t in enumerate(texts):
        p = write(tmp_path, f"p{i}.csv", t.encode("utf-8", "surrogatepass"))
        try:
            files.append(list(readers.read(p, LIMITS)[1]))
        except (InputError, Binary, NotScanned):
            continue
    scan_many(files, CFG)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(["ana.silva@post.example.org", "4111111111111111"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def _cells(columns) -> list:
    return sorted((c.label, v, r, w) for c in columns for v, r, w in zip(c.values.to_pylist(), c.rows, c.paths))


@FUZZ
@given(records=st.lists(JSON_VALUES, max_size=30), indent=st.sampled_from([None, 0, 2]))
def test_streamed_json_array_equals_the_whole_parse(tmp_path, records, indent):
    """The streaming reader of top-level arrays yields exactly the cells, rows and JSON paths of
    parsing the document whole, however it is chunked."""
    import json

    p = write(tmp_path, "recs.json", json.dumps(records, indent=indent).encode())
    info, chunks = readers.read(p, readers.Limits(chunk_chars=64))
    streamed = _cells([c for ch in chunks for c in ch.columns])
    w = readers._Walker(p)
    w.walk(records, None, "", "$", fixed_row=False)
    assert streamed == _cells(w.columns())
    assert info.rows == len(records)


# ---- regressions found by the targets above -------------------------------------------------------

def test_regression_yaml_with_non_string_keys_and_binary(tmp_path):
    scan_all(write(tmp_path, "x.yaml", b"? [1, 2]\n: a\n1.5: b\nk: !!binary aGVsbG8=\n2020-01-01: d\n"))


def test_regression_jsonl_line_cut_at_the_limit(tmp_path):
    scan_all(write(tmp_path, "x.jsonl", b'{"a": "' + b"x" * 1100 + b'"}\n{"b": 1}\n'))
