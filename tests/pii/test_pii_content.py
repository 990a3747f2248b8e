"""Datasets known by their content: with the default paths, a table, JSON or columnar file under
any other name (``users.dat``, UCI's ``adult.data``, an export named ``dump``) is read as what it
is; prose, code, documentation and repository metadata are not."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gates.pii import content
from gates.pii.readers import detect
from pii_helpers import found

PEOPLE = "name,email\nAda Lovelace,ada.lovelace@corp-mail.net\nBob Jones,bob.jones@corp-mail.net\n"


def _files(report: dict, rule: str = "PII001") -> set[str]:
    return {f["path"].rsplit("/", 1)[-1] for f in report["findings"] if f["rule"] == rule}


def test_datasets_under_other_names_are_read_as_what_they_are(pii, tmp_path):
    d = tmp_path / "repo"
    (d / "exports").mkdir(parents=True)
    (d / "users.dat").write_text(PEOPLE)
    (d / "exports" / "dump").write_text("".join(json.dumps({"id": i, "contact": {"mail": f"user{i}@corp-mail.net"}}) + "\n"
                                                for i in range(3)))
    (d / "people.data").write_text(PEOPLE.replace(",", "\t"))
    pq.write_table(pa.table({"email": [f"user{i}@corp-mail.net" for i in range(3)]}), d / "part.out")
    (d / "backup.gz").write_bytes(gzip.compress(PEOPLE.encode()))
    code, rep, _ = pii(d)
    assert code == 1
    assert _files(rep) == {"users.dat", "dump", "people.data", "part.out", "backup.gz"}
    formats = {f["path"].rsplit("/", 1)[-1]: f["format"] for f in found(rep, "EMAIL_ADDRESS")}
    assert formats == {"users.dat": "csv", "dump": "jsonl", "people.data": "csv", "part.out": "parquet", "backup.gz": "csv"}
    # read as a table, not as lines: a name column is found, which a line of text never gives
    assert {f["path"].rsplit("/", 1)[-1] for f in found(rep, "PERSON")} == {"users.dat", "people.data", "backup.gz"}
    assert any("read by content" in n for n in rep["gates"]["pii"]["notes"])


def test_prose_code_docs_and_metadata_are_not_read(pii, tmp_path):
    d = tmp_path / "repo"
    d.mkdir()
    (d / "ok.csv").write_text("a,b\n1,2\n3,4\n")  # something to scan
    (d / "README.md").write_text("| name | email |\n|---|---|\n| Ada | ada.lovelace@corp-mail.net |\n| Bob | bob@corp-mail.net |\n")
    (d / "AUTHORS").write_text("Ada Lovelace <ada.lovelace@corp-mail.net>\nBob Jones <bob.jones@corp-mail.net>\n")
    (d / "setup.py").write_text('AUTHOR, EMAIL = "Ada", "ada.lovelace@corp-mail.net"\nA, B = 1, 2\nC, D = 3, 4\n')
    (d / "notes").write_text("Call Ada at ada.lovelace@corp-mail.net about the release.\nThen ship it.\n")
    (d / ".env.example").write_text("USER_EMAIL,ada.lovelace@corp-mail.net\nA,B\nC,D\n")
    code, rep, _ = pii(d)
    assert code == 0, rep["findings"]
    assert [f["path"].rsplit("/", 1)[-1] for f in rep["gates"]["pii"]["files"]] == ["ok.csv"]


def test_configured_paths_choose_by_name_and_an_explicit_file_is_read_by_content(pii, tmp_path):
    d = tmp_path / "repo"
    d.mkdir()
    (d / "ok.csv").write_text("a,b\n1,2\n3,4\n")
    (d / "users.dat").write_text(PEOPLE)
    code, rep, _ = pii(d, policy="version: 1\ngates:\n  pii:\n    paths: ['**/*.csv']\n")
    assert code == 0 and not rep["findings"]
    code, rep, _ = pii(d / "users.dat")
    assert code == 1 and {f["format"] for f in found(rep)} == {"csv"}


def test_every_shard_reads_its_own_files_by_content(cli, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    for i in range(6):
        (root / f"export-{i}.dat").write_text(PEOPLE)
        (root / f"notes-{i}").write_text("nothing here\n")

    def run(*extra: str) -> list[str]:
        out = tmp_path / "r.json"
        r = cli("run", str(root), "--gate", "pii", "--format", "json", "--output", str(out), "-q", *extra)
        assert r.code == 1, r.err
        return sorted(f["path"] for f in json.loads(out.read_text())["findings"] if f["rule"] == "PII001")

    full = run()
    assert len({p.rsplit("/", 1)[-1] for p in full}) == 6
    assert sorted(run("--shard", "1/2") + run("--shard", "2/2")) == full


@pytest.mark.parametrize("text, complete, want", [
    (PEOPLE, True, "csv"),
    ("a\tb\tc\n1\t2\t3\n", True, "csv"),
    ('id;name;"street, city"\n1;Ada;"1 Main St, Springfield"\n', True, "csv"),
    ("a,b\n1,2\n", True, None),  # two columns take three lines
    ("a,b\n1,2\n3,4\n", True, "csv"),
    ("a,b,c\n1,2\n3,4,5\n", True, None),  # ragged: not plainly a table
    ('{"a": 1}\n{"a": 2}\n', True, "jsonl"),
    ('{"a": 1}\n', True, "json"),
    ('[{"a": 1},', False, "json"),
    ("[1, 2]\n", True, "json"),
    ("{not json\n{either\n", True, None),
    ("Dear Ada, thanks for the note.\nSee you soon, Bob.\n", True, None),
    ("def f(a, b):\n    return a, b\n", True, None),
    ("", True, None),
    ("a,b,c\n1,2,3\n4,5,", False, "csv"),  # the cut last line is left out
])
def test_text_format(text, complete, want):
    assert content.text_format(text.encode(), complete) == want


def test_text_format_refuses_binary_and_tolerates_a_cut_character():
    assert content.text_format(b"a,b,c\n1,2,3\x00\n", True) is None
    head = ("name,city\n" + "Zoë,Málaga\n" * 3).encode()
    assert content.text_format(head + "é".encode()[:1], False) == "csv"
    assert content.text_format(b"\xff\xfe" + b"a,b,c\n" * 3, True) is None


def test_detect_reads_an_unknown_name_by_content(tmp_path):
    p = tmp_path / "x.dat"
    p.write_text(PEOPLE)
    assert detect(p) == ("csv", None)
    p.write_text("just words\n")
    assert detect(p) == ("text", None)
    (tmp_path / "y.md").write_text(PEOPLE)
    assert detect(tmp_path / "y.md") == ("text", None)  # a known name keeps its format


def test_archive_members_under_other_names_are_read_by_content(pii, tmp_path):
    import io
    import tarfile

    members = {"export/users.dat": PEOPLE.encode(), "img/0001.jpg": b"\xff\xd8\xff\xe0" + bytes(200),
               "notes/readme": b"plain words only\n"}
    with tarfile.open(tmp_path / "shard.tar", "w") as t:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    code, rep, _ = pii(tmp_path / "shard.tar")
    assert code == 1
    assert {f["member"] for f in found(rep)} == {"export/users.dat"}
    assert {f["entity"] for f in found(rep)} >= {"EMAIL_ADDRESS", "PERSON"}
    assert any("2 archive member(s) not matched" in n for n in rep["gates"]["pii"]["notes"])


NO_CONTACTS = ("full_name\tdate_of_birth\tcity\n"
               + "".join(f"{n}\t{d}\t{c}\n" for n, d, c in [("Ada Lovelace", "1985-12-10", "London"),
                                                          ("Bob Jones", "1979-03-02", "Leeds"),
                                                          ("Carla Gomez", "1990-07-21", "Madrid")]))


@pytest.mark.parametrize("name", ["people.txt", "people.log", "people.TXT", "people.txt.gz", "export.gz"])
def test_a_table_under_a_plain_text_name_is_read_as_a_table(pii, tmp_path, name):
    """Read as lines of text, a table's headers were lost: names, birth dates and cities are only
    found with their column's name, and the file passed with exit 0."""
    data = NO_CONTACTS.encode()
    (tmp_path / name).write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    code, rep, _ = pii(tmp_path)
    got = sorted((f["column"], f["entity"], f["format"]) for f in rep["findings"])
    assert got == [("city", "LOCATION", "csv"), ("date_of_birth", "DATE_OF_BIRTH", "csv"),
                   ("full_name", "PERSON", "csv")], got
    assert code == 1


def test_json_lines_in_a_log_and_prose_in_a_txt(pii, tmp_path):
    (tmp_path / "events.log").write_text("".join(json.dumps({"user": {"email": f"user{i}@corp-mail.net"}}) + "\n" for i in range(3)))
    (tmp_path / "notes.txt").write_text("Call Ada at ada.lovelace@corp-mail.net about the release.\nThen ship it, Bob.\n")
    code, rep, _ = pii(tmp_path)
    got = sorted((f["path"].rsplit("/", 1)[-1], f["column"], f["format"], f["line"]) for f in found(rep, "EMAIL_ADDRESS"))
    assert got == [("events.log", "user.email", "jsonl", 1), ("notes.txt", None, "text", 1)], got
    assert code == 1
