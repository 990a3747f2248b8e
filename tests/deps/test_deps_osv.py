"""The OSV matcher, database formats and the CVSS calculator."""

from __future__ import annotations

import gzip
import json
import zipfile

import pytest

from gates.core.errors import InputError
from gates.deps import cvss
from gates.deps.osv import OsvDatabase, RangeError, affects
from gates.deps.severity import record_severity


def rec(rid, events=None, versions=None, name="pkg", **extra):
    a = {"package": {"ecosystem": "PyPI", "name": name}}
    if events is not None:
        a["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        a["versions"] = versions
    return {"id": rid, "modified": "2024-01-01T00:00:00Z", "affected": [a], **extra}


@pytest.mark.parametrize("version,expected", [("0.9", False), ("1.0", True), ("1.5", True), ("2.0", False), ("2.1", False)])
def test_introduced_fixed(version, expected):
    assert affects(rec("X", [{"introduced": "1.0"}, {"fixed": "2.0"}]), "pkg", version)[0] is expected


@pytest.mark.parametrize("version,expected", [("1.11.0", True), ("1.11.1", False), ("0.1", True)])
def test_last_affected_is_inclusive(version, expected):
    assert affects(rec("X", [{"introduced": "0"}, {"last_affected": "1.11.0"}]), "pkg", version)[0] is expected


def test_unsorted_events_two_release_lines():
    # PYSEC-2023-192's shape: events listed 2.x first, then 1.x
    r = rec("X", [{"introduced": "2.0.0"}, {"fixed": "2.0.6"}, {"introduced": "0"}, {"fixed": "1.26.17"}])
    assert affects(r, "pkg", "1.24.1") == (True, ("1.26.17", "2.0.6"))
    assert affects(r, "pkg", "1.26.17")[0] is False
    assert affects(r, "pkg", "2.0.5")[0] is True
    assert affects(r, "pkg", "2.0.6")[0] is False


def test_limit_caps_range():
    r = rec("X", [{"introduced": "1.0"}, {"limit": "1.5"}])
    assert affects(r, "pkg", "1.4")[0] and not affects(r, "pkg", "1.5")[0]


def test_prerelease_ordering():
    r = rec("X", [{"introduced": "0"}, {"fixed": "2.0.0"}])
    assert affects(r, "pkg", "2.0.0rc1")[0] is True


def test_explicit_versions_and_nonpep440_versions_compare_as_strings():
    r = rec("X", versions=["1.0", "0.9-doduo"])
    assert affects(r, "pkg", "1.0.0")[0] is True  # PEP 440 equality
    assert affects(r, "pkg", "0.9-doduo")[0] is True
    assert affects(r, "pkg", "1.1")[0] is False


def test_canonical_names_and_other_packages_ignored():
    r = rec("X", [{"introduced": "0"}, {"fixed": "2"}], name="Zope.Interface")
    assert affects(r, "zope-interface", "1")[0] is True
    assert affects(r, "zope", "1")[0] is False


def test_unparseable_event_is_an_error_not_clean():
    r = rec("PYSEC-2019-125", [{"introduced": "0"}, {"fixed": "2019-09-12"}], name="steam")
    with pytest.raises(RangeError, match="2019-09-12"):
        affects(r, "steam", "1.0.0")
    # the bad range only matters for its own package
    assert affects(r, "other", "1.0.0")[0] is False


def test_steam_record_in_shared_db_is_reported_as_unevaluable(osv_db):
    db = OsvDatabase.load(osv_db)
    matches, errors = db.matches("steam", "0.9.1")
    assert [e.record_id for e in errors] == ["PYSEC-2019-125"]
    assert "2019-09-12" in errors[0].detail


def write_all_formats(tmp_path, records):
    d = tmp_path / "dir"
    (d / "sub").mkdir(parents=True)
    for i, r in enumerate(records):
        (d / "sub" / f"{r['id']}.json").write_text(json.dumps(r)) if i % 2 else (d / f"{r['id']}.yaml").write_text(
            __import__("yaml").safe_dump(r))
    js = tmp_path / "db.json"
    js.write_text(json.dumps(records))
    gz = tmp_path / "db.json.gz"
    gz.write_bytes(gzip.compress(json.dumps(records).encode()))
    z = tmp_path / "all.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
    return [d, js, gz, z]


def test_every_database_format_gives_the_same_answer(tmp_path):
    records = [
        rec("A-1", [{"introduced": "0"}, {"fixed": "2.0"}], modified="2023-01-01T00:00:00Z"),
        rec("A-2", versions=["1.0"], modified="2024-05-06 07:08:09+00:00"),
        rec("A-3", [{"introduced": "0"}], withdrawn="2024-01-01T00:00:00Z", modified="2022-01-01T00:00:00Z"),
    ]
    for path in write_all_formats(tmp_path, records):
        db = OsvDatabase.load(path)
        matches, errors = db.matches("pkg", "1.0")
        assert sorted(m.id for m in matches) == ["A-1", "A-2"], path  # withdrawn A-3 skipped
        assert db.newest_modified == "2024-05-06 07:08:09+00:00"
        assert db.records == 3 and db.withdrawn == 1


def test_bad_databases_fail_closed(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError):
        OsvDatabase.load(bad)
    with pytest.raises(InputError, match="not found"):
        OsvDatabase.load(tmp_path / "missing.zip")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no OSV"):
        OsvDatabase.load(empty)
    noid = tmp_path / "noid.json"
    noid.write_text(json.dumps([{"affected": []}]))
    with pytest.raises(InputError, match="id"):
        OsvDatabase.load(noid)
    z = tmp_path / "trunc.zip"
    z.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(InputError):
        OsvDatabase.load(z)


def test_gzip_bomb_is_bounded(tmp_path):
    p = tmp_path / "bomb.json.gz"
    p.write_bytes(gzip.compress(b"[" + b" " * (4 << 20) + b"]"))
    with pytest.raises(InputError, match="limit"):
        OsvDatabase.load(p, max_bytes=1 << 20)


def test_safe_version_clears_every_advisory(osv_db):
    db = OsvDatabase.load(osv_db)
    assert db.safe_version("urllib3", "1.24.1") == "1.26.18"  # 1.26.17 still has PYSEC-2023-212
    assert db.safe_version("requests", "2.19.0") == "2.31.0"
    assert db.safe_version("py", "1.11.0") is None  # no fix exists


# ---- CVSS ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("vector,score", [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),   # typical XSS
    ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
    ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
    ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N", 6.8),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
])
def test_cvss3_known_scores(vector, score):
    assert cvss.score(vector).score == score


@pytest.mark.parametrize("vector,score", [
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
    ("CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 8.5),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N", 8.7),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", 5.3),
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N/E:A/MAV:A", 8.7),  # CVSS-BTE example of the reference calculator
    ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),
])
def test_cvss4_known_scores(vector, score):
    assert cvss.score(vector).score == score


@pytest.mark.parametrize("vector", ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:Z",
                                    "AV:N/AC:L", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:2.0/AV:N"])
def test_cvss_bad_vectors(vector):
    with pytest.raises(cvss.CvssError):
        cvss.score(vector)


def test_record_severity_sources():
    v3 = rec("X", severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}])
    assert record_severity(v3).label == "critical" and record_severity(v3).score == 9.8
    ghsa = rec("X", database_specific={"severity": "MODERATE"})
    assert record_severity(ghsa).label == "medium" and record_severity(ghsa).source == "GHSA"
    v4 = rec("X", severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"},
                            {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}])
    assert (record_severity(v4).score, record_severity(v4).source) == (9.3, "CVSS_V4")  # v4 preferred over v3
    broken = rec("X", severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}], database_specific={"severity": "HIGH"})
    assert record_severity(broken).label == "high" and record_severity(broken).source == "GHSA"  # falls through, never 'none'
    assert record_severity(rec("X")).label == "unknown"


def test_shared_db_vectors_all_score(osv_records):
    vectors = [s["score"] for r in osv_records for s in r.get("severity", []) if s["type"] == "CVSS_V3"]
    assert len(vectors) == 202
    scores = [cvss.score(v).score for v in vectors]
    assert all(0 <= s <= 10 for s in scores)
