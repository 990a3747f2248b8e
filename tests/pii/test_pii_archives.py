"""Archives: the members of ZIP and TAR files (also compressed) are read as files of their own,
within the caps (pandas reads a zipped CSV as the CSV; Hugging Face datasets and WebDataset shards
keep data in .zip and .tar archives)."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile

PEOPLE = "name,email\nAda,ada.lovelace@corp-mail.net\nBob,bob.jones@corp-mail.net\n"


def _zip(path, members: dict[str, bytes], **info) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            zi = zipfile.ZipInfo(name)
            zi.compress_type = zipfile.ZIP_DEFLATED
            for k, v in info.get(name, {}).items():
                setattr(zi, k, v)
            z.writestr(zi, data)


def _tar(path, members: dict[str, bytes], mode: str = "w") -> None:
    with tarfile.open(path, mode) as t:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))


def _flag_encrypted(path) -> None:
    """Set the 'encrypted' bit of a one-member ZIP (zipfile writes no encrypted members)."""
    data = bytearray(path.read_bytes())
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        data[i + at] |= 0x1
    path.write_bytes(bytes(data))


def _by_member(rep: dict) -> dict:
    return {(f["rule"], f.get("member"), f.get("entity")): f for f in rep["findings"]}


def test_a_zipped_csv_is_read_and_its_findings_name_the_member(pii, tmp_path):
    _zip(tmp_path / "people.csv.zip", {"people.csv": PEOPLE.encode()})
    code, rep, _ = pii(tmp_path)
    f = _by_member(rep)[("PII001", "people.csv", "EMAIL_ADDRESS")]
    assert f["path"].endswith("people.csv.zip") and f["row"] == 1 and f["blocking"] and code == 1
    assert rep["gates"]["pii"]["files"] and not rep["gates"]["pii"]["errors"]


def test_compressed_tars_are_read_member_by_member(pii, tmp_path):
    records = "".join(json.dumps({"id": i, "contact": {"mail": f"user{i}@corp-mail.net"}}) + "\n" for i in range(5))
    for mode, name in (("w", "a.tar"), ("w:gz", "b.tar.gz"), ("w:bz2", "c.tgz"), ("w:xz", "d.tar.xz")):
        _tar(tmp_path / name, {"data/train.jsonl": records.encode(), "README.txt": b"plain words only\n"}, mode)
    code, rep, _ = pii(tmp_path)
    hits = [f for f in rep["findings"] if f["rule"] == "PII001"]
    assert sorted(f["path"].rsplit("/", 1)[-1] for f in hits) == ["a.tar", "b.tar.gz", "c.tgz", "d.tar.xz"]
    assert {(f["member"], f["column"], f["entity"]) for f in hits} == {("data/train.jsonl", "contact.mail", "EMAIL_ADDRESS")}
    assert code == 1 and not rep["gates"]["pii"]["errors"]


def test_a_webdataset_shard_reads_the_members_the_paths_match(pii, tmp_path):
    """Members are chosen by the gate's paths, as the files of a directory: the JSON of each
    sample is read, its image is not (a note counts them); a matched member of binary content is
    one PII005 for the archive."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    members = {}
    for i in range(3):
        members[f"{i:06d}.png"] = png
        members[f"{i:06d}.json"] = json.dumps({"caption": "a cat", "uploader_email": f"u{i}@corp-mail.net"}).encode()
    members["bin/tool"] = b"#!/bin/sh\necho 10.1.2.3\n"
    members["odd.csv"] = png
    _tar(tmp_path / "shard-000000.tar", members)
    code, rep, _ = pii(tmp_path)
    emails = [f for f in rep["findings"] if f.get("entity") == "EMAIL_ADDRESS"]
    assert sorted(f["member"] for f in emails) == ["000000.json", "000001.json", "000002.json"]
    assert not [f for f in rep["findings"] if f.get("entity") == "IP_ADDRESS"]
    (binary,) = [f for f in rep["findings"] if f["rule"] == "PII005"]
    assert "1 archive member(s)" in binary["message"] and not binary["blocking"]
    assert any("4 archive member(s) not matched" in n for n in rep["gates"]["pii"]["notes"]) and code == 1


def test_the_policy_paths_choose_members(pii, tmp_path):
    _tar(tmp_path / "a.tar", {"data/people.csv": PEOPLE.encode(), "other/people.csv": PEOPLE.encode()})
    code, rep, _ = pii(tmp_path, policy="version: 1\ngates:\n  pii:\n    paths: ['**/*.tar', 'data/**']\n")
    assert {f.get("member") for f in rep["findings"]} == {"data/people.csv"} and code == 1


def test_nested_and_encrypted_members_are_reported_and_names_never_escape(pii, tmp_path):
    inner = io.BytesIO()
    _zip(inner, {"people.csv": PEOPLE.encode()})
    _zip(tmp_path / "outer.zip", {"inner.zip": inner.getvalue(), "../../escape.csv": PEOPLE.encode(),
                                  "/abs/name\x1b[31m.csv": PEOPLE.encode()})
    _zip(tmp_path / "locked.zip", {"secret.csv": PEOPLE.encode()})
    _flag_encrypted(tmp_path / "locked.zip")
    code, rep, _ = pii(tmp_path)
    got = _by_member(rep)
    assert ("PII006", "inner.zip", None) in got  # one level is read: a nested archive is named
    assert "encrypted" in got[("PII006", "secret.csv", None)]["message"]
    assert ("PII001", "secret.csv", "EMAIL_ADDRESS") not in got
    assert ("PII001", "../../escape.csv", "EMAIL_ADDRESS") in got
    assert not (tmp_path.parent / "escape.csv").exists() and not (tmp_path / "escape.csv").exists()
    shown = [f["member"] for f in rep["findings"] if f.get("member", "").startswith("/abs")]
    assert shown and all("\x1b" not in m for m in shown)
    assert code == 1


def test_a_member_that_cannot_be_parsed_is_an_error_and_the_next_members_are_still_read(pii, tmp_path):
    _zip(tmp_path / "mixed.zip", {"bad.json": b'{"a": [1, 2', "people.csv": PEOPLE.encode()})
    code, rep, _ = pii(tmp_path)
    (err,) = rep["gates"]["pii"]["errors"]
    assert err["path"].endswith("mixed.zip") and "archive member bad.json" in err["message"]
    assert ("PII001", "people.csv", "EMAIL_ADDRESS") in _by_member(rep) and code == 2


def test_archive_bounds_fail_closed(pii, tmp_path):
    """Members together beyond max_decompressed_mb, and a member far larger than its archive,
    are errors naming the archive (exit 2), read no further."""
    _zip(tmp_path / "big.zip", {"zeros.csv": b"a,b\n" + b"0,0\n" * (1 << 20)})
    code, rep, _ = pii(tmp_path / "big.zip", policy="version: 1\ngates:\n  pii:\n    max_decompressed_mb: 1\n")
    (err,) = rep["gates"]["pii"]["errors"]
    assert code == 2 and err["path"].endswith("big.zip") and "max_decompressed_mb" in err["message"]
    # ratios are checked once 32 MiB came out (a small file may compress extremely well)
    _zip(tmp_path / "bomb.zip", {"zeros.csv": b"a,b\n" + b"0,0\n" * (9 << 20)})
    code, rep, _ = pii(tmp_path / "bomb.zip", policy="version: 1\ngates:\n  pii:\n    max_decompression_ratio: 100\n")
    (err,) = rep["gates"]["pii"]["errors"]
    assert code == 2 and err["path"].endswith("bomb.zip") and "decompression bomb" in err["message"]


def test_members_read_before_a_bound_broke_are_still_reported(pii, tmp_path):
    _zip(tmp_path / "late.zip", {"people.csv": PEOPLE.encode(), "zeros.csv": b"a,b\n" + b"0,0\n" * (1 << 20)})
    code, rep, _ = pii(tmp_path / "late.zip", policy="version: 1\ngates:\n  pii:\n    max_decompressed_mb: 1\n")
    assert ("PII001", "people.csv", "EMAIL_ADDRESS") in _by_member(rep)
    assert [e["message"] for e in rep["gates"]["pii"]["errors"]] == [
        "archive members exceed the cap of 1 MiB (gates.pii.max_decompressed_mb)"] and code == 2


def test_too_many_members_is_an_error(pii, tmp_path, monkeypatch):
    from gates.pii import archives

    monkeypatch.setattr(archives, "MAX_MEMBERS", 5)
    _zip(tmp_path / "many.zip", {f"f{i}.csv": b"a\n1\n" for i in range(8)})
    _tar(tmp_path / "many.tar", {f"f{i}.csv": b"a\n1\n" for i in range(8)})
    code, rep, _ = pii(tmp_path)
    errs = sorted(e["path"].rsplit("/", 1)[-1] for e in rep["gates"]["pii"]["errors"] if "members" in e["message"])
    assert errs == ["many.tar", "many.zip"] and code == 2


def test_a_corrupt_archive_is_an_error_and_spreadsheets_stay_named(pii, tmp_path):
    good = io.BytesIO()
    _zip(good, {"people.csv": PEOPLE.encode()})
    (tmp_path / "broken.zip").write_bytes(good.getvalue()[:60])
    _zip(tmp_path / "book.xlsx", {"xl/sharedStrings.xml": b"<sst><si><t>ada.lovelace@corp-mail.net</t></si></sst>"})
    code, rep, _ = pii(tmp_path)
    assert [e["path"].rsplit("/", 1)[-1] for e in rep["gates"]["pii"]["errors"]] == ["broken.zip"] and code == 2
    (f,) = [f for f in rep["findings"] if f["path"].endswith("book.xlsx")]
    assert f["rule"] == "PII006" and f.get("member") is None


def test_an_archive_none_of_whose_members_is_read_is_nothing_scanned(pii, tmp_path):
    """A lone archive whose members the paths do not match and whose content is no dataset (prose
    named .dat, an image) has not been scanned: the run fails closed, as for a directory with no
    matching file. (A CSV named .dat is read by its content: test_pii_content.py.)"""
    _zip(tmp_path / "only.zip", {"notes.dat": b"Call Ada at ada@corp-mail.net.\n",
                                 "cat.png": b"\x89PNG\r\n\x1a\n" + bytes(300)})
    code, rep, r = pii(tmp_path)
    assert code == 2 and "nothing was scanned" in r.err
    assert any("2 archive member(s) not matched" in n for n in rep["gates"]["pii"]["notes"])
