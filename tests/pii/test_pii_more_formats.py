"""Every dataset format is read or reported (issue 14, item 11): Arrow IPC/Feather, ORC and YAML
are read; other data containers are reported as not scanned (PII006), recognised by their magic
bytes first and their name second, never skipped silently."""

from __future__ import annotations

import gzip
import sqlite3
import zipfile

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.orc as orc
import pyarrow.parquet as pq
import pytest

from pii_helpers import fake_card

CARD = fake_card("4", 16, 21)
EMAIL = "ana.silva@post.example.org"


def table(n: int = 50) -> pa.Table:
    mails = [EMAIL if i == 7 else f"row {i}" for i in range(n)]
    cards = [CARD if i == 30 else "" for i in range(n)]
    return pa.table({"id": list(range(n)), "contact": mails, "notes": cards,
                     "profile": [{"home": {"mail": EMAIL if i == 3 else "x"}} for i in range(n)]})


def located(rep: dict) -> set[tuple[str, str, int]]:
    return {(f["entity"], f["column"], f["row"]) for f in rep["findings"]}


WANT = {("EMAIL_ADDRESS", "contact", 8), ("CREDIT_CARD", "notes", 31), ("EMAIL_ADDRESS", "profile.home.mail", 4)}


def write_arrow_file(p, t):
    with ipc.new_file(p, t.schema) as w:
        for b in t.to_batches(max_chunksize=20):
            w.write_batch(b)


def write_arrow_stream(p, t):
    with ipc.new_stream(p, t.schema) as w:
        w.write_table(t)


@pytest.mark.parametrize("name,writer", [
    ("t.arrow", write_arrow_file),
    ("t.feather", lambda p, t: feather.write_feather(t, p)),
    ("t.arrows", write_arrow_stream),
    ("t.orc", lambda p, t: orc.write_table(t, p, stripe_size=1024)),
])
def test_columnar_formats_are_read(pii, tmp_path, name, writer):
    p = tmp_path / name
    writer(p, table())
    code, rep, _ = pii(p)
    assert code == 1 and not rep["gates"]["pii"]["errors"]
    assert located(rep) == WANT
    assert rep["gates"]["pii"]["files"][0]["items"] == 50


def test_formats_are_found_by_content_not_name(pii, tmp_path):
    """Parquet named .csv, an Arrow file named .dat, ORC named .bin, gzip-compressed Parquet
    named .gz: what the bytes say wins."""
    t = table()
    a = tmp_path / "export.csv"
    pq.write_table(t, a)
    b = tmp_path / "dump.dat"
    write_arrow_file(b, t)
    c = tmp_path / "blob.bin"
    orc.write_table(t, c)
    d = tmp_path / "data.gz"
    pq.write_table(t, tmp_path / "tmp.parquet")
    d.write_bytes(gzip.compress((tmp_path / "tmp.parquet").read_bytes()))
    for p in (a, b, c, d):
        code, rep, _ = pii(p)
        assert not rep["gates"]["pii"]["errors"], (p.name, rep["gates"]["pii"]["errors"])
        assert located(rep) == WANT, p.name


def test_text_starting_with_orc_is_still_text(pii, tmp_path):
    p = tmp_path / "orcs.csv"
    p.write_text(f"ORC name,mail\nGrishnakh,{EMAIL}\n")
    code, rep, _ = pii(p)
    assert [(f["entity"], f["column"]) for f in rep["findings"]] == [("EMAIL_ADDRESS", "mail")]


def test_yaml_records_and_paths(pii, tmp_path):
    p = tmp_path / "users.yaml"
    p.write_text(f"- name: a\n  contact:\n    mail: {EMAIL}\n- name: b\n  card: '{CARD}'\n")
    code, rep, _ = pii(p)
    assert code == 1
    assert located(rep) == {("EMAIL_ADDRESS", "contact.mail", 1), ("CREDIT_CARD", "card", 2)}
    multi = tmp_path / "docs.yml"
    multi.write_text(f"owner: x\n---\nowner: {EMAIL}\n")
    _, rep, _ = pii(multi)
    assert located(rep) == {("EMAIL_ADDRESS", "owner", 2)}


def test_yaml_is_loaded_safely_and_errors_fail_closed(pii, tmp_path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("a: !!python/object/apply:os.system ['touch pwned']\n")
    bad = tmp_path / "bad.yml"
    bad.write_text("a: [1, 2\nb: c\n")
    code, rep, _ = pii(evil, bad)
    assert code == 2 and not (tmp_path / "pwned").exists()
    errs = {e["path"].rsplit("/", 1)[-1]: e["message"] for e in rep["gates"]["pii"]["errors"]}
    assert set(errs) == {"evil.yaml", "bad.yml"} and "invalid YAML" in errs["bad.yml"]


def test_unread_data_formats_are_reported_not_skipped(pii, tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    con = sqlite3.connect(d / "users.sqlite")
    con.execute("create table u (mail text)")
    con.execute("insert into u values (?)", (EMAIL,))
    con.commit()
    con.close()
    (d / "events.avro").write_bytes(b"Obj\x01" + b"\x00" * 64)
    (d / "sheet.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with zipfile.ZipFile(d / "bundle.csv", "w") as z:  # a ZIP under a CSV name
        z.writestr("inner.csv", f"mail\n{EMAIL}\n")
    (d / "plain.csv").write_text(f"mail\n{EMAIL}\n")
    code, rep, _ = pii(d)
    assert code == 1
    by_file = {f["path"].rsplit("/", 1)[-1]: f for f in rep["findings"]}
    assert set(by_file) == {"users.sqlite", "events.avro", "sheet.xlsx", "bundle.csv", "plain.csv"}
    for name in ("users.sqlite", "events.avro", "sheet.xlsx"):
        assert by_file[name]["rule"] == "PII006" and by_file[name]["blocking"] is False
    assert "SQLite" in by_file["users.sqlite"]["message"]
    # a ZIP under a CSV name is known by its content, and its members are read (archives.py)
    assert (by_file["bundle.csv"]["rule"], by_file["bundle.csv"]["member"], by_file["bundle.csv"]["entity"]) == \
        ("PII001", "inner.csv", "EMAIL_ADDRESS")
    assert by_file["plain.csv"]["entity"] == "EMAIL_ADDRESS"


def test_corrupt_columnar_files_fail_closed(pii, tmp_path):
    a = tmp_path / "bad.arrow"
    a.write_bytes(b"ARROW1\x00\x00 truncated")
    o = tmp_path / "bad.orc"
    o.write_bytes(b"ORC garbage ORC\x05")
    code, rep, _ = pii(a, o)
    assert code == 2
    errs = {e["path"].rsplit("/", 1)[-1]: e["message"] for e in rep["gates"]["pii"]["errors"]}
    assert set(errs) == {"bad.arrow", "bad.orc"}
    assert "Arrow" in errs["bad.arrow"] and "ORC" in errs["bad.orc"]
