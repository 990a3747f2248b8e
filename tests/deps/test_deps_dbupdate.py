"""``mlsec-gates deps db update`` against a loopback HTTP server."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@pytest.fixture
def http(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    routes: dict[str, tuple[int, bytes]] = {}

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            code, body = routes.get(self.path, (404, b"nope"))
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield routes, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def zip_of(records) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for r in records:
            zf.writestr(f"{r['id']}.json", json.dumps(r))
    return buf.getvalue()


def test_db_update_downloads_and_the_result_is_usable(cli, http, tmp_path, reqfile):
    routes, base = http
    rec = {"id": "PYSEC-X-1", "modified": "2024-01-01T00:00:00Z",
           "affected": [{"package": {"ecosystem": "PyPI", "name": "six"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}]}]}
    routes["/PyPI/all.zip"] = (200, zip_of([rec]))
    r = cli("deps", "db", "update", "--dest", tmp_path / "osv", "--url", base + "/PyPI/all.zip")
    assert r.code == 0, r.err
    db = tmp_path / "osv" / "all.zip"
    assert db.is_file() and "1 OSV records" in r.out
    assert [p.name for p in db.parent.iterdir()] == ["all.zip"]  # no temporary left behind
    r = cli("deps", "--requirements", reqfile("six==1.16.0\n"), "--source", "local", "--database", db, "--root", tmp_path, "--format", "json")
    assert r.code == 1 and "PYSEC-X-1" in r.out


def test_db_update_failures_keep_the_old_database(cli, http, tmp_path):
    routes, base = http
    dest = tmp_path / "osv"
    dest.mkdir()
    (dest / "all.zip").write_bytes(b"old")
    routes["/notzip"] = (200, b"<html>captive portal</html>")
    routes["/big"] = (200, b"x" * (2 << 20))
    routes["/empty.zip"] = (200, zip_of([]))
    for path in ("/missing", "/notzip", "/big", "/empty.zip"):
        r = cli("deps", "db", "update", "--dest", dest, "--url", base + path, "--max-mb", "1")
        assert r.code == 2, path
        assert (dest / "all.zip").read_bytes() == b"old"
        assert sorted(p.name for p in dest.iterdir()) == ["all.zip"]


def test_db_command_usage(cli, tmp_path):
    assert cli("deps", "db", "update").code == 2  # --dest is required
    assert cli("deps", "db", "frobnicate", "--dest", tmp_path).code == 2
