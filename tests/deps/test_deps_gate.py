"""The deps gate end to end through the CLI with the local OSV database (offline)."""

from __future__ import annotations

import datetime as _dt
import json
import socket
from pathlib import Path

import pytest


# Expected advisories, read off the raw PyPA records (ids named in shared/README.md plus the
# cryptography records whose ECOSYSTEM ranges were checked by hand: PYSEC-2023-11 introduced 1.8
# fixed 39.0.1; PYSEC-2023-254 introduced 3.1 fixed 41.0.6). six 1.16.0 has none.
EXPECTED = {
    ("requests", "PYSEC-2018-28"), ("requests", "PYSEC-2023-74"),
    ("urllib3", "PYSEC-2023-192"), ("urllib3", "PYSEC-2019-133"), ("urllib3", "PYSEC-2023-207"), ("urllib3", "PYSEC-2019-132"),
    ("urllib3", "PYSEC-2020-148"), ("urllib3", "PYSEC-2021-108"), ("urllib3", "PYSEC-2023-212"),
    ("py", "PYSEC-2022-42969"),
    ("cryptography", "PYSEC-2023-11"), ("cryptography", "PYSEC-2023-254"),
}


def run_json(cli, tmp_path, *args, policy: str | None = None):
    out = tmp_path / "report.json"
    extra = []
    if policy is not None:
        pol = tmp_path / "policy.yml"
        pol.write_text(policy)
        extra = ["--policy", str(pol)]
    r = cli("deps", *args, *extra, "--root", str(tmp_path), "--format", "json", "--output", str(out), "-q")
    return r, json.loads(out.read_text()) if out.exists() else None


def vulns(report):
    return [f for f in report["findings"] if f["rule"] == "DEPS001"]


def test_done_when_local_database(cli, tmp_path, reqfile, osv_db, no_network):
    req = reqfile()
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--source", "local", "--database", osv_db)
    assert r.code == 1, r.err
    found = {(f["package"], f["advisory"]) for f in vulns(rep)}
    assert found == EXPECTED
    assert not [f for f in vulns(rep) if f["package"] == "six"]
    assert "PYSEC-2024-225" not in {f["advisory"] for f in vulns(rep)}
    by = {f["advisory"]: f for f in vulns(rep)}
    u = by["PYSEC-2023-192"]
    assert u["fixed_versions"] == ["1.26.17", "2.0.6"] and u["version"] == "1.24.1" and u["line"] == 2
    assert u["cvss_score"] == 8.1 and u["severity"] == "high" and "CVE-2023-43804" in u["aliases"]
    assert u["safe_version"] == "1.26.18"
    assert by["PYSEC-2023-207"]["severity"] == "medium" and by["PYSEC-2023-207"]["blocking"] is False
    p = by["PYSEC-2022-42969"]
    assert p["fixed_versions"] == [] and p["severity_label"] == "unknown" and p["severity"] == "high"  # unknown -> high by default
    for f in vulns(rep):
        assert {"package", "version", "advisory", "aliases", "severity"} <= set(f) and isinstance(f["aliases"], list)
    notes = " ".join(rep["gates"]["deps"]["notes"])
    assert "pypa-advisory-database.json.gz" in notes and "2024-10-10" in notes
    assert no_network == []
    with pytest.raises(OSError):  # the guard is live: any connection attempt would have failed the run
        socket.create_connection(("127.0.0.1", 9))
    assert no_network


def test_cryptography_range_introduced_later_does_not_match(cli, tmp_path, reqfile):
    # PYSEC-2024-225's shape (introduced 38.0.0): the record is not in the 2024-10-10 snapshot,
    # so the negative case is checked on a record with that range
    db = tmp_path / "db"
    db.mkdir()
    (db / "PYSEC-2024-225.json").write_text(json.dumps({"id": "PYSEC-2024-225", "modified": "2024-11-01T00:00:00Z", "affected": [
        {"package": {"ecosystem": "PyPI", "name": "cryptography"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "38.0.0"}, {"fixed": "42.0.4"}]}]}]}))
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("cryptography==35.0.0\n"), "--source", "local", "--database", db)
    assert r.code == 0 and vulns(rep) == []
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("cryptography==39.0.0\n", "r2.txt"), "--source", "local", "--database", db)
    assert r.code == 1 and [f["advisory"] for f in vulns(rep)] == ["PYSEC-2024-225"]


def test_unpinned_lists_every_one_with_line(cli, tmp_path, reqfile, osv_db):
    req = reqfile("six==1.16.0\nflask>=2\nrich\n-e ./here\ngit+https://github.com/o/r#egg=r\nx @ https://h/x.whl\n")
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--source", "local", "--database", osv_db)
    assert r.code == 1
    pins = sorted((f["package"], f["line"], f["kind"]) for f in rep["findings"] if f["rule"] == "DEPS002")
    assert pins == [("flask", 2, "unpinned"), ("here", 4, "editable"), ("r", 5, "vcs"), ("rich", 3, "unpinned"), ("x", 6, "url")]
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--source", "local", "--database", osv_db, "--no-require-pins")
    assert r.code == 0 and len([f for f in rep["findings"] if f["rule"] == "DEPS006"]) == 5


def test_require_hashes(cli, tmp_path, reqfile, osv_db):
    req = reqfile("six==1.16.0 --hash=sha256:abc\nidna==3.7\n")
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--source", "local", "--database", osv_db, "--require-hashes")
    assert r.code == 1 and [(f["package"], f["line"]) for f in rep["findings"] if f["rule"] == "DEPS003"] == [("idna", 2)]


def ignores_policy(osv_db, *entries: str, extra: str = "") -> str:
    body = "".join(entries)
    return f"version: 1\ngates:\n  deps:\n    source: local\n    database: {osv_db}\n{extra}    ignores:\n{body}"


def test_ignores_alias_scope_expiry_and_staleness(cli, tmp_path, reqfile, osv_db):
    req = reqfile("requests==2.19.0\n")
    future = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()
    past = (_dt.date.today() - _dt.timedelta(days=1)).isoformat()
    # active ignores by alias (CVE of PYSEC-2018-28) and by id scoped to the package
    pol = ignores_policy(osv_db,
                         f"      - {{id: CVE-2018-18074, reason: internal only, expires: {future}}}\n",
                         f"      - {{id: PYSEC-2023-74, reason: no proxies, expires: {future}, package: requests, version: '<3'}}\n")
    r, rep = run_json(cli, tmp_path, req, policy=pol)
    assert r.code == 0, rep["findings"]
    assert sorted(f["advisory"] for f in rep["findings"] if f["rule"] == "DEPS007") == ["PYSEC-2018-28", "PYSEC-2023-74"]
    # an ignore scoped to another package or version does not apply
    pol = ignores_policy(osv_db, f"      - {{id: PYSEC-2023-74, reason: r, expires: {future}, package: urllib3}}\n",
                         f"      - {{id: PYSEC-2018-28, reason: r, expires: {future}, version: '2.20.0'}}\n")
    r, rep = run_json(cli, tmp_path, req, policy=pol)
    assert r.code == 1 and {f["advisory"] for f in vulns(rep)} == {"PYSEC-2018-28", "PYSEC-2023-74"}
    assert {f["rule"] for f in rep["findings"] if not f["blocking"]} >= {"DEPS005"}
    # expired: blocks, and the advisory blocks again
    pol = ignores_policy(osv_db, f"      - {{id: PYSEC-2018-28, reason: r, expires: {past}}}\n",
                         f"      - {{id: PYSEC-2023-74, reason: r, expires: {future}}}\n")
    r, rep = run_json(cli, tmp_path, req, policy=pol)
    assert r.code == 1
    exp = [f for f in rep["findings"] if f["rule"] == "DEPS004"]
    assert len(exp) == 1 and exp[0]["blocking"] and exp[0]["advisory"] == "PYSEC-2018-28" and exp[0]["line"] is not None
    assert [f["advisory"] for f in vulns(rep)] == ["PYSEC-2018-28"]


def test_stale_ignore_only_warns(cli, tmp_path, reqfile, osv_db):
    future = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()
    pol = ignores_policy(osv_db, f"      - {{id: GHSA-xxxx-yyyy-zzzz, reason: gone, expires: {future}}}\n")
    r, rep = run_json(cli, tmp_path, reqfile("six==1.16.0\n"), policy=pol)
    assert r.code == 0 and [f["rule"] for f in rep["findings"]] == ["DEPS005"]


def test_only_fixable_and_unknown_severity(cli, tmp_path, reqfile, osv_db):
    pol = f"version: 1\ngates:\n  deps:\n    source: local\n    database: {osv_db}\n    only_fixable: true\n"
    r, rep = run_json(cli, tmp_path, reqfile("py==1.11.0\n"), policy=pol)
    assert r.code == 0 and vulns(rep)[0]["advisory"] == "PYSEC-2022-42969" and not vulns(rep)[0]["blocking"]
    pol = f"version: 1\ngates:\n  deps:\n    source: local\n    database: {osv_db}\n    unknown_severity: low\n"
    r, rep = run_json(cli, tmp_path, reqfile("py==1.11.0\n", "r2.txt"), policy=pol)
    assert r.code == 0 and vulns(rep)[0]["severity"] == "low"


def test_unevaluable_range_is_an_error_until_ignored(cli, tmp_path, reqfile, osv_db):
    req = reqfile("steam==0.9.1\n")
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--source", "local", "--database", osv_db)
    assert r.code == 2 and "PYSEC-2019-125" in rep["gates"]["deps"]["errors"][0]["message"]
    future = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()
    pol = ignores_policy(osv_db, f"      - {{id: PYSEC-2019-125, reason: fixed-version is a date; reviewed, expires: {future}}}\n")
    r, rep = run_json(cli, tmp_path, req, policy=pol)
    assert r.code == 0, rep["gates"]["deps"]["errors"]


def test_discovery_lock_files_and_internal_packages(cli, tmp_path, osv_db, no_network):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "me"\ndependencies = ["requests>=2"]\n')
    (tmp_path / "uv.lock").write_text('version = 1\n[[package]]\nname = "urllib3"\nversion = "1.24.1"\n'
                                      '[[package]]\nname = "acme-internal"\nversion = "0.1"\n')
    pol = f"version: 1\ngates:\n  deps:\n    source: local\n    database: {osv_db}\n    internal_packages: [acme-internal]\n"
    (tmp_path / ".mlsec-gates.yml").write_text(pol)
    r = cli("run", tmp_path, "--gate", "deps", "--format", "json", "--output", tmp_path / "r.json", "-q")
    rep = json.loads((tmp_path / "r.json").read_text())
    assert r.code == 1
    assert {f["package"] for f in vulns(rep)} == {"urllib3"} and all(f["path"].endswith("uv.lock") for f in vulns(rep))
    assert not [f for f in rep["findings"] if f["rule"] == "DEPS002"]  # the pyproject beside the lock is not audited
    assert any("internal" in n for n in rep["gates"]["deps"]["notes"])


def test_input_errors_fail_closed(cli, tmp_path, reqfile, osv_db):
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("-r nowhere.txt\n"), "--source", "local", "--database", osv_db)
    assert r.code == 2
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n", "r2.txt"), "--source", "local", "--database", tmp_path / "missing.zip")
    assert r.code == 2 and "not found" in rep["gates"]["deps"]["errors"][0]["message"]
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n", "r3.txt"), "--source", "local")
    assert r.code == 2


def test_python_m_entry_point(tmp_path, reqfile, osv_db):
    import subprocess
    import sys

    req = reqfile("py==1.11.0\n")
    p = subprocess.run([sys.executable, "-m", "gates.deps", "--requirements", str(req), "--source", "local", "--database", str(osv_db),
                        "--root", str(tmp_path), "--format", "json"], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert p.returncode == 1 and "PYSEC-2022-42969" in p.stdout


def test_demo_runs_offline(cli, tmp_path, no_network):
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    r = cli("run", demo, "--gate", "deps", "--format", "json", "--output", tmp_path / "r.json", "-q")
    rep = json.loads((tmp_path / "r.json").read_text())
    assert r.code == 1 and no_network == []
    assert {(f["package"], f["advisory"], f["blocking"]) for f in vulns(rep)} == {("requests", "PYSEC-2018-28", True), ("urllib3", "PYSEC-2023-192", True)}
    assert [(f["advisory"], f["rule"]) for f in rep["findings"] if f["rule"] == "DEPS007"] == [("PYSEC-2023-207", "DEPS007")]


def test_paths_and_requirements_combine_and_includes_count_once(cli, tmp_path, reqfile, osv_db):
    sub = tmp_path / "svc"
    sub.mkdir()
    (sub / "requirements-base.txt").write_text("py==1.11.0\n")
    (sub / "requirements.txt").write_text("-r requirements-base.txt\nsix==1.16.0\n")
    extra = reqfile("requests==2.19.0\n", "extra.txt")
    r, rep = run_json(cli, tmp_path, sub, "--requirements", extra, "--source", "local", "--database", osv_db)
    assert r.code == 1
    found = sorted((f["package"], f["advisory"]) for f in vulns(rep))
    assert found == [("py", "PYSEC-2022-42969"), ("requests", "PYSEC-2018-28"), ("requests", "PYSEC-2023-74")]  # py once


def test_installed_environment_kinds(cli, tmp_path, osv_db):
    sp = tmp_path / "site-packages"
    for name, ver, direct in (("py", "1.11.0", None), ("mylib", "0.1", '{"url": "file:///src/mylib", "dir_info": {"editable": true}}'),
                              ("gitlib", "2.0", '{"url": "https://g/x.git", "vcs_info": {"vcs": "git", "commit_id": "ab"}}')):
        di = sp / f"{name}-{ver}.dist-info"
        di.mkdir(parents=True)
        (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n")
        if direct:
            (di / "direct_url.json").write_text(direct)
    r, rep = run_json(cli, tmp_path, "--installed", sp, "--source", "local", "--database", osv_db)
    assert r.code == 1
    assert [f["advisory"] for f in vulns(rep)] == ["PYSEC-2022-42969"]
    assert sorted((f["package"], f["kind"]) for f in rep["findings"] if f["rule"] == "DEPS002") == [("gitlib", "vcs"), ("mylib", "editable")]
