"""Every input format, written by its real library, located as file → column → row."""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from pii_helpers import fake_card, found

CARD = fake_card("4", 16, 21)
EMAIL = "ana.silva@post.example.org"


def by_entity(rep, entity):
    return sorted((f["row"], f["column"]) for f in found(rep, entity))


def test_csv_sniffed_dialect_and_quoted_newlines(pii, tmp_path):
    p = tmp_path / "semi.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_MINIMAL)
        w.writerow(["id", "comment", "contact"])
        w.writerow(["1", "line one\nline two; still the same cell", "none"])
        w.writerow(["2", "multi\n\nline", EMAIL])
        w.writerow(["3", f"paid with {CARD}", ""])
    code, rep, _ = pii(p)
    assert by_entity(rep, "EMAIL_ADDRESS") == [(2, "contact")]
    assert by_entity(rep, "CREDIT_CARD") == [(3, "comment")]
    assert rep["gates"]["pii"]["files"][0]["items"] == 3
    assert code == 1


def test_tsv(pii, tmp_path):
    p = tmp_path / "x.tsv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t")
        w.writerow(["a", "b"])
        w.writerows([["x", "y"], ["z", EMAIL]])
    _, rep, _ = pii(p)
    assert by_entity(rep, "EMAIL_ADDRESS") == [(2, "b")]


def test_json_paths_and_records(pii, tmp_path):
    p = tmp_path / "users.json"
    doc = {"users": [{"name": "a", "contact": {"emails": ["x", EMAIL]}}, {"name": "b", "card": CARD}],
           "meta": {"owner_email": EMAIL}, EMAIL: {"n": 1}}
    p.write_text(json.dumps(doc))
    _, rep, _ = pii(p)
    emails = found(rep, "EMAIL_ADDRESS")
    cols = {f["column"] for f in emails}
    assert {"users[].contact.emails[]", "meta.owner_email", "{key}"} <= cols
    rows = {f["column"]: f["row"] for f in emails}
    assert rows["users[].contact.emails[]"] == 1
    card = found(rep, "CREDIT_CARD")[0]
    assert (card["row"], card["column"], card["json_path"]) == (2, "users[].card", "$.users[1].card")
    assert all(EMAIL not in (f["column"] or "") and EMAIL not in (f.get("json_path") or "") for f in rep["findings"])


def test_jsonl_lines(pii, tmp_path):
    p = tmp_path / "events.jsonl"
    lines = [json.dumps({"id": 1, "user": {"mail": "x"}}), "", json.dumps({"id": 2, "user": {"mail": EMAIL}}),
             json.dumps({"id": 3, "items": [{"pan": CARD}]})]
    p.write_text("\n".join(lines) + "\n")
    _, rep, _ = pii(p)
    e = found(rep, "EMAIL_ADDRESS")[0]
    assert (e["row"], e["line"], e["column"]) == (3, 3, "user.mail")
    assert by_entity(rep, "CREDIT_CARD") == [(4, "items[].pan")]


def test_jsonl_bad_line_is_scanned_and_errors(pii, tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"a": 1}\n{"b": "' + EMAIL + '" broken\n')
    code, rep, _ = pii(p)
    assert code == 2
    assert "not valid JSON (first: line 2)" in rep["gates"]["pii"]["errors"][0]["message"]
    assert by_entity(rep, "EMAIL_ADDRESS") == [(2, None)]


def test_parquet_columns_row_groups_nested(pii, tmp_path):
    p = tmp_path / "t.parquet"
    n = 50
    table = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "email": pa.array([EMAIL if i == 37 else f"user{i}" for i in range(n)]),
        "ssn_int": pa.array([123456780 if i == 5 else i for i in range(n)], pa.int64()),
        "profile": pa.array([{"card": CARD if i == 12 else "none", "tags": ["a", EMAIL] if i == 44 else []} for i in range(n)]),
        "score": pa.array([0.5] * n),
        "cat": pa.array(["x"] * n).dictionary_encode(),
    })
    pq.write_table(table, p, row_group_size=10)
    code, rep, _ = pii(p)
    emails = {(f["row"], f["column"], f["row_group"]) for f in found(rep, "EMAIL_ADDRESS")}
    assert emails == {(38, "email", 3), (45, "profile.tags[]", 4)}
    card = found(rep, "CREDIT_CARD")[0]
    assert (card["row"], card["column"], card["row_group"]) == (13, "profile.card", 1)
    assert by_entity(rep, "US_SSN") == [(6, "ssn_int")]  # ints are scanned; "ssn" in the name is the context
    assert code == 1


@pytest.mark.parametrize("ext,opener", [
    (".gz", lambda p: gzip.open(p, "wt", encoding="utf-8")),
    (".bz2", lambda p: bz2.open(p, "wt", encoding="utf-8")),
    (".xz", lambda p: lzma.open(p, "wt", encoding="utf-8")),
    (".zst", lambda p: zstandard.open(p, "wt", encoding="utf-8")),
])
def test_compressed_csv_and_jsonl(pii, tmp_path, ext, opener):
    p = tmp_path / f"d.csv{ext}"
    with opener(p) as fh:
        w = csv.writer(fh)
        w.writerow(["n", "mail"])
        for i in range(1, 200):
            w.writerow([i, EMAIL if i == 150 else "-"])
    q = tmp_path / f"d.jsonl{ext}"
    with opener(q) as fh:
        for i in range(1, 10):
            fh.write(json.dumps({"k": CARD if i == 7 else "x"}) + "\n")
    _, rep, _ = pii(p, q)
    assert by_entity(rep, "EMAIL_ADDRESS") == [(150, "mail")]
    assert by_entity(rep, "CREDIT_CARD") == [(7, "k")]


def test_plain_text_and_utf16(pii, tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text(f"hello\nreach me: {EMAIL}\n")
    q = tmp_path / "wide.txt"
    q.write_text(f"x\ny\ncard {CARD}\n", encoding="utf-16")
    _, rep, _ = pii(p, q)
    assert sorted((f["path"].rsplit("/", 1)[-1], f["row"], f["entity"]) for f in rep["findings"]) == [
        ("notes.txt", 2, "EMAIL_ADDRESS"), ("wide.txt", 3, "CREDIT_CARD")]


def test_binary_and_corrupt_inputs(pii, tmp_path):
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02" * 1000)
    code, rep, _ = pii(blob)
    assert code == 0 and [f["rule"] for f in rep["findings"]] == ["PII005"]
    fake = tmp_path / "fake.csv"
    fake.write_bytes(b"a,b\n\x00\x00\x00")
    bad_gz = tmp_path / "bad.csv.gz"
    bad_gz.write_bytes(b"\x1f\x8b\x08\x00garbage")
    bad_pq = tmp_path / "bad.parquet"
    bad_pq.write_bytes(b"PAR1 not really")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"a": ')
    code, rep, _ = pii(fake, bad_gz, bad_pq, bad_json)
    assert code == 2
    errs = {e["path"].rsplit("/", 1)[-1]: e["message"] for e in rep["gates"]["pii"]["errors"]}
    assert set(errs) == {"fake.csv", "bad.csv.gz", "bad.parquet", "bad.json"}
    assert "binary" in errs["fake.csv"] and "line 1 column 7" in errs["bad.json"]


def test_size_caps_fail_closed(pii, tmp_path):
    p = tmp_path / "big.csv.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("a\n" + "0\n" * 1_500_000)  # 3 MB inflated from a few KB
    policy = "version: 1\ngates:\n  pii:\n    max_decompressed_mb: 1\n    max_json_mb: 0.001\n"
    j = tmp_path / "big.json"
    j.write_text(json.dumps({"x": "y" * 5000, "contact": EMAIL}))
    code, rep, _ = pii(p, j, policy=policy)
    assert code == 2
    msgs = " | ".join(e["message"] for e in rep["gates"]["pii"]["errors"])
    assert "max_decompressed_mb" in msgs
    # a JSON document above max_json_mb is not parsed whole, but still scanned (as text lines)
    assert any("max_json_mb" in n and "scanned as text" in n for n in rep["gates"]["pii"]["notes"])
    assert [(f["path"].rsplit("/", 1)[-1], f["line"]) for f in found(rep, "EMAIL_ADDRESS")] == [("big.json", 1)]


def test_deep_json_nesting(pii, tmp_path):
    p = tmp_path / "deep.json"
    p.write_text("[" * 5000 + "]" * 5000)
    code, rep, _ = pii(p)
    assert code == 2 and "nesting" in rep["gates"]["pii"]["errors"][0]["message"]


def test_directory_discovery_defaults(pii, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "a.csv").write_text(f"mail\n{EMAIL}\n")
    (d / "package.json").write_text(json.dumps({"author": EMAIL}))
    (d / "image.png").write_bytes(b"\x89PNG\x00\x00")
    _, rep, _ = pii(d)
    assert [f["path"].rsplit("/", 1)[-1] for f in rep["findings"]] == ["a.csv"]


def test_malformed_csv_rows_are_scanned_whole(pii, tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text(f"a,b\n1,2\nnote: contact {EMAIL}, later,extra\n")
    code, rep, _ = pii(p)
    assert [(f["column"], f["entity"]) for f in rep["findings"]] == [("(malformed rows)", "EMAIL_ADDRESS")]
    assert any("wrong number of fields" in n for n in rep["gates"]["pii"]["notes"])
    assert code == 1


def test_long_text_file_lines(pii, tmp_path):
    p = tmp_path / "mails.txt"
    p.write_text("".join(f"user{i}@corp.example.net\n" if i % 2 else "-\n" for i in range(1, 301)))
    _, rep, _ = pii(p)
    fs = found(rep, "EMAIL_ADDRESS")
    assert len(fs) == 1 and [(e["row"], e["line"]) for e in fs[0]["examples"]] == [(r, r) for r in range(1, 21, 2)]  # 10 examples
    assert fs[0]["column_count"] == 150 and fs[0]["column"] is None


def test_bom_latin1_and_duplicate_headers(pii, tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffmail,mail,\n".encode("utf-8") + f"x,{EMAIL},\n".encode())
    _, rep, _ = pii(p)
    assert by_entity(rep, "EMAIL_ADDRESS") == [(1, "mail_2")]
    q = tmp_path / "latin.csv"
    q.write_bytes("name,mail\nJosé,".encode("latin-1") + EMAIL.encode() + b"\n")
    code, rep, _ = pii(q)
    assert code == 2 and "encoding" in rep["gates"]["pii"]["errors"][0]["message"]
    code, rep, _ = pii(q, policy="version: 1\ngates:\n  pii:\n    encoding: latin-1\n")
    assert by_entity(rep, "EMAIL_ADDRESS") == [(1, "mail")] and code == 1


def test_python_dash_m_matches_cli(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "a.csv"
    p.write_text(f"mail\n{EMAIL}\n")
    r = subprocess.run([sys.executable, "-m", "gates.pii", str(p), "--format", "json", "-q"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1
    rep = json.loads(r.stdout)
    assert [(f["entity"], f["row"], f["column"]) for f in rep["findings"]] == [("EMAIL_ADDRESS", 1, "mail")]


def test_parquet_large_string_and_string_view(pii, tmp_path):
    p = tmp_path / "v.parquet"
    n = 3000
    cols = {"a_large": pa.array([EMAIL if i == 2500 else "x" for i in range(n)], pa.large_string())}
    if hasattr(pa, "string_view"):
        cols["b_view"] = pa.array([CARD if i == 10 else "y" for i in range(n)]).cast(pa.string_view())
    pq.write_table(pa.table(cols), p)
    _, rep, _ = pii(p)
    assert by_entity(rep, "EMAIL_ADDRESS") == [(2501, "a_large")]
    if hasattr(pa, "string_view"):
        assert by_entity(rep, "CREDIT_CARD") == [(11, "b_view")]


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-le-bom", "utf-32-be-bom", "utf-16"])
def test_utf32_and_utf16_text_are_read_by_their_byte_order_mark(pii, tmp_path, encoding):
    """UTF-32's little-endian mark begins with UTF-16's: read as UTF-16, every character came
    with a NUL, nothing matched and the file passed (exit 0). Also under a name of no format."""
    rows = "name,email\nAda Lovelace,ada.lovelace@corp-mail.net\nBob Jones,bob.jones@corp-mail.net\n"
    codec, bom = {"utf-32": ("utf-32", b""), "utf-32-le-bom": ("utf-32-le", b"\xff\xfe\x00\x00"),
                  "utf-32-be-bom": ("utf-32-be", b"\x00\x00\xfe\xff"), "utf-16": ("utf-16", b"")}[encoding]
    for name in ("people.csv", "people.dat"):
        (tmp_path / name).write_bytes(bom + rows.encode(codec))
    (tmp_path / "records.jsonl").write_bytes(bom + '{"mail": "ada.lovelace@corp-mail.net"}\n{"mail": "b@corp-mail.net"}\n'.encode(codec))
    code, rep, _ = pii(tmp_path)
    got = sorted((f["path"].rsplit("/", 1)[-1], f["column"], f["entity"]) for f in rep["findings"])
    assert got == [("people.csv", "email", "EMAIL_ADDRESS"), ("people.csv", "name", "PERSON"),
                   ("people.dat", "email", "EMAIL_ADDRESS"), ("people.dat", "name", "PERSON"),
                   ("records.jsonl", "mail", "EMAIL_ADDRESS")], got
    assert code == 1


def test_small_csv_is_parsed_from_the_bytes_sniffed(tmp_path):
    """A CSV shorter than the head the reader sniffs is parsed from that head: replacing the
    file between sniffing and parsing changes nothing (a file is judged as one content)."""
    from gates.pii import readers

    p = tmp_path / "people.csv"
    p.write_text(f"id,mail\n1,{EMAIL}\n")
    info, chunks = readers.read(p, readers.Limits(), inline=True)
    p.write_text("id,mail\n1,nobody\n2,nobody\n")
    got = [v for ch in chunks for c in ch.columns if c.label == "mail" for v in c.values.to_pylist()]
    assert got == [EMAIL] and info.rows == 1


@pytest.mark.parametrize("size", [65_535, 65_536, 65_537, 200_000])
def test_csv_around_the_head_size_reads_every_row(tmp_path, size):
    """Files just under, at and over the head size (parsed from the head, or from the file)."""
    from gates.pii import readers

    head = "id,note\n"
    row = "1,abcdefghij\n"
    body = row * ((size - len(head) - len(f"2,{EMAIL}\n")) // len(row))
    text = head + body + f"2,{EMAIL}\n"
    text = text[:-1] + "x" * (size - len(text)) + "\n" if len(text) < size else text
    p = tmp_path / "t.csv"
    p.write_text(text)
    info, chunks = readers.read(p, readers.Limits(), inline=True)
    notes = [v for ch in chunks for c in ch.columns if c.label == "note" for v in c.values.to_pylist()]
    assert len(notes) == text.count("\n") - 1 and notes[-1].startswith(EMAIL)


def test_csv_chunks_are_cut_where_their_bytes_reach_the_block(tmp_path, monkeypatch):
    """The reader's cheap bound on a chunk's bytes never moves a cut: each chunk but the last
    ends at the first batch with which its batches' ``nbytes`` reach the block."""
    import pyarrow.csv as pcsv

    from gates.pii import readers

    monkeypatch.setattr(readers, "CSV_READ_BYTES", 4096)
    p = tmp_path / "t.csv"
    p.write_text("id,a,b\n" + "".join(f"{i},{'x' * (i % 37)},{i * 7}\n" for i in range(20_000)))
    block = 50_000
    _, chunks = readers.read(p, readers.Limits(csv_block=block), inline=True)
    got = [ch.nrows for ch in chunks]
    ro = pcsv.ReadOptions(block_size=4096, use_threads=False)
    co = pcsv.ConvertOptions(column_types={k: pa.string() for k in ("id", "a", "b")})
    want, acc = [], []
    for b in pcsv.open_csv(p, read_options=ro, convert_options=co):
        acc.append(b)
        if sum(x.nbytes for x in acc) >= block:
            want.append(sum(x.num_rows for x in acc))
            acc = []
    if acc:
        want.append(sum(x.num_rows for x in acc))
    assert len(got) > 3 and got == want
