"""Real pip-audit 2.10.1 driven through loopback servers (nothing here reaches the internet)."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from deps_osv_server import OsvServer, PypiTlsProxy, make_test_ca
from test_deps_gate import EXPECTED, run_json, vulns


def test_done_when_pip_audit_through_osv_mirror(cli, tmp_path, reqfile, osv_server):
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile(), "--source", "osv", "--osv-url", osv_server.url)
    assert r.code == 1, rep and rep["gates"]["deps"]["errors"]
    assert {(f["package"], f["advisory"]) for f in vulns(rep)} == EXPECTED
    by = {f["advisory"]: f for f in vulns(rep)}
    # pip-audit reports no severity: the gate fetched the records from the mirror's /v1/vulns
    assert by["PYSEC-2023-192"]["cvss_score"] == 8.1 and by["PYSEC-2023-207"]["severity"] == "medium"
    assert by["PYSEC-2023-192"]["line"] == 2 and by["PYSEC-2023-192"]["path"].endswith("requirements.txt")
    assert "CVE-2023-43804" in by["PYSEC-2023-192"]["aliases"]
    assert osv_server.queries == 5  # one /v1/query per pinned dependency
    assert "pip-audit 2.10.1 (osv via http://127.0.0.1" in " ".join(rep["gates"]["deps"]["notes"])


def test_osv_mirror_answering_404_is_an_error(cli, tmp_path, reqfile, osv_records, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with OsvServer(osv_records, mode="404") as s:
        r, rep = run_json(cli, tmp_path, "--requirements", reqfile(), "--source", "osv", "--osv-url", s.url)
    assert r.code == 2 and rep["gates"]["deps"]["status"] == "error"
    assert "pip-audit" in rep["gates"]["deps"]["errors"][0]["message"]


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_default_pypi_service_unreachable_is_an_error(cli, tmp_path, reqfile, monkeypatch):
    proxy = f"http://127.0.0.1:{_closed_port()}"
    for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(k, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    pol = tmp_path / "p.yml"
    pol.write_text("version: 1\ngates:\n  deps:\n    severity_lookup: false\n")
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n"), "--policy", pol)
    msg = rep["gates"]["deps"]["errors"][0]["message"]
    assert r.code == 2 and "pypi" in msg and "source: local" in msg and "deps db update" in msg


def test_osv_url_credentials_and_query_never_reach_the_report(cli, tmp_path, reqfile, monkeypatch):
    """pip-audit's connection error quotes the mirror's path and query: a token there must not leak."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    url = f"http://user:SECRET1@127.0.0.1:{_closed_port()}/v1/query?key=SECRET2"
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n"), "--source", "osv", "--osv-url", url)
    assert r.code == 2 and "pip-audit" in rep["gates"]["deps"]["errors"][0]["message"]
    assert "SECRET" not in json.dumps(rep) + r.out + r.err


@pytest.fixture
def pypi_404_proxy(tmp_path, monkeypatch):
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI is needed to make the test CA for the PyPI TLS stand-in")
    ca, cert, key = make_test_ca(tmp_path)
    with PypiTlsProxy(cert, key) as p:
        for k in ("HTTPS_PROXY", "https_proxy"):
            monkeypatch.setenv(k, p.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
        yield p


NINE = "torch==2.3.0\nrequests==2.19.0\nnumpy==1.26.4\nsix==1.16.0\nidna==3.4\ncertifi==2024.2.2\nurllib3==1.24.1\npy==1.11.0\nflask==2.0.0\n"


def test_pypi_service_that_skips_everything_is_an_error(cli, tmp_path, reqfile, pypi_404_proxy):
    # pip-audit itself exits 0 here ("No known vulnerabilities found"): every lookup 404s and
    # every dependency is skipped. The gate reads the JSON and refuses to pass, and it does not
    # tell the user to drop public packages from the audit (internal_packages).
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile(NINE), "--source", "pypi")
    assert r.code == 2
    [err] = rep["gates"]["deps"]["errors"]
    assert "0 of 9 pinned dependencies audited" in err["message"]
    assert "source: local" in err["message"] and "mlsec-gates deps db update" in err["message"]
    assert "internal_packages" not in json.dumps(rep) + r.out + r.err
    notes = " ".join(rep["gates"]["deps"]["notes"])
    assert "0 of 9 pinned dependencies audited" in notes and "; 9 pinned" not in notes
    assert sorted(pypi_404_proxy.requests) == sorted(f"/pypi/{n}/{v}/json" for n, v in (ln.split("==") for ln in NINE.split()))


def test_internal_packages_are_never_sent_and_may_be_absent(cli, tmp_path, reqfile, pypi_404_proxy):
    pol = tmp_path / "p.yml"
    pol.write_text("version: 1\ngates:\n  deps:\n    source: pypi\n    internal_packages: [acme-models]\n")
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("acme-models==1.0\n"), "--policy", pol)
    assert r.code == 0 and pypi_404_proxy.requests == []


def test_two_pins_of_one_package_are_audited_in_separate_pip_audit_runs(cli, tmp_path, reqfile, osv_server):
    # pip-audit refuses one requirements file with two different pins of a name; the gate splits them
    reqfile("urllib3==1.26.18\n", "other.txt")
    req = reqfile("urllib3==1.24.1\n-r other.txt\n")
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--source", "osv", "--osv-url", osv_server.url)
    assert r.code == 1, rep["gates"]["deps"]["errors"]
    versions = {(f["version"], f["path"].rsplit("/", 1)[-1]) for f in vulns(rep)}
    assert ("1.24.1", "requirements.txt") in versions and ("1.26.18", "other.txt") not in versions
    assert osv_server.queries == 2


def test_no_dependency_files_is_skipped_not_passed(cli, tmp_path):
    (tmp_path / "README.md").write_text("nothing to audit\n")
    r = cli("run", tmp_path, "--gate", "deps", "--format", "json", "--output", tmp_path / "r.json", "-q")
    rep = json.loads((tmp_path / "r.json").read_text())
    assert r.code == 2 and rep["gates"]["deps"]["status"] == "skipped"  # and nothing was scanned (issue 13)


def test_pip_audit_error_text_is_cleaned_before_the_report(cli, tmp_path, reqfile, monkeypatch):
    """pip-audit quotes the offending requirements line in its error; a token and an ANSI escape
    on that line must not reach the report or the console."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    token = "ghp_" + "A1b2C3d4E5" * 4
    req = reqfile(f"six==1.16.0\n{token} \x1b[31m !!bad\n")
    pol = tmp_path / "p.yml"
    pol.write_text(f"version: 1\ngates:\n  deps:\n    source: osv\n    osv_url: http://127.0.0.1:{_closed_port()}/v1/query\n"
                   "    resolve: true\n    severity_lookup: false\n")
    r, rep = run_json(cli, tmp_path, "--requirements", req, "--policy", pol)
    assert r.code == 2
    messages = [e["message"] for e in rep["gates"]["deps"]["errors"]]
    assert any("pip-audit" in m and "invalid specifier at line 2" in m for m in messages), messages
    everything = json.dumps(rep) + r.out + r.err
    assert token not in everything and "\x1b" not in everything
