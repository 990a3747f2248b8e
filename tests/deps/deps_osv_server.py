"""Loopback servers that stand in for services unreachable from the test machine.

- :class:`OsvServer` speaks the OSV API (``POST /v1/query``, ``POST /v1/querybatch``,
  ``GET /v1/vulns/ID``) on 127.0.0.1, answering from OSV records loaded from disk (the shared
  PyPA database). Queries are answered from the raw records with a deliberately simple
  evaluation written for this server (sorted ECOSYSTEM events and explicit ``versions``),
  independent of the gate's matcher. ``mode='404'`` answers every query with 404, as a mirror that
  lost its data would.
- :class:`PypiTlsProxy` is an HTTPS proxy that terminates TLS for ``pypi.org`` with a test CA
  (made with the ``openssl`` CLI) and answers ``/pypi/NAME/VERSION/json`` with 404: pip-audit's
  ``pypi`` service then *skips* every dependency and exits 0 with "no known vulnerabilities",
  the trap the gate must catch.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


def load_records(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def _v(s: str) -> Version | None:
    try:
        return Version(s)
    except InvalidVersion:
        return None


def simple_affects(rec: dict[str, Any], name: str, version: str) -> bool:
    cur = Version(version)
    for a in rec.get("affected", []):
        if canonicalize_name(a["package"]["name"]) != canonicalize_name(name):
            continue
        if version in a.get("versions", []):
            return True
        for r in a.get("ranges", []):
            if r["type"] != "ECOSYSTEM":
                continue
            evs = []
            for e in r["events"]:
                (k, val), = e.items()
                evs.append((Version("0") if val == "0" else _v(val), k))
            if any(v is None for v, _ in evs):
                continue
            state = False
            for v, k in sorted(evs, key=lambda x: (x[0], x[1] != "introduced")):
                if k == "introduced" and cur >= v:
                    state = True
                elif k == "fixed" and cur >= v:
                    state = False
                elif k == "last_affected" and cur > v:
                    state = False
            if state:
                return True
    return False


def api_form(rec: dict[str, Any]) -> dict[str, Any]:
    """Records as api.osv.dev serves them: RFC 3339 ``...Z`` timestamps. The PyPA export has
    ``2023-10-04 17:15:00+00:00`` forms that pip-audit 2.10.1 cannot parse (it crashes, which
    the gate reports as an error)."""
    out = dict(rec)
    for k in ("published", "modified", "withdrawn"):
        v = out.get(k)
        if isinstance(v, str):
            out[k] = v.replace(" ", "T").split(".")[0].split("+")[0].rstrip("Z") + "Z"
    return out


class OsvServer:
    def __init__(self, records: list[dict[str, Any]], mode: str = "ok") -> None:
        self.mode = mode
        records = [api_form(r) for r in records]
        self.by_name: dict[str, list[dict[str, Any]]] = {}
        self.by_id: dict[str, dict[str, Any]] = {}
        for r in records:
            if r.get("withdrawn"):
                continue
            self.by_id[r["id"]] = r
            for a in r.get("affected", []):
                self.by_name.setdefault(canonicalize_name(a["package"]["name"]), []).append(r)
        self.queries = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                outer.queries += 1
                if outer.mode == "404":
                    return self._send(404, {"code": 5, "message": "Not Found"})
                if self.path.endswith("/v1/query"):
                    return self._send(200, outer.answer(body))
                if self.path.endswith("/v1/querybatch"):
                    return self._send(200, {"results": [outer.answer(q) for q in body.get("queries", [])]})
                self._send(404, {})

            def do_GET(self) -> None:
                if self.path.startswith("/v1/vulns/") and outer.mode == "ok":
                    rec = outer.by_id.get(self.path.rsplit("/", 1)[1])
                    return self._send(200, rec) if rec else self._send(404, {})
                self._send(404, {})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/query"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, q: dict[str, Any]) -> dict[str, Any]:
        name, version = q["package"]["name"], q["version"]
        vulns = [r for r in self.by_name.get(canonicalize_name(name), []) if simple_affects(r, name, version)]
        return {"vulns": vulns} if vulns else {}

    def __enter__(self) -> "OsvServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def make_test_ca(tmp: Path, host: str = "pypi.org") -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``host`` (openssl CLI). Returns (ca, cert, key)."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=mlsec-gates test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", f"/CN={host}")
    (tmp / "ext.cnf").write_text(f"subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return tmp / "ca.pem", tmp / "srv.pem", tmp / "srv.key"


class PypiTlsProxy:
    """``HTTPS_PROXY`` target: accepts ``CONNECT pypi.org:443``, terminates TLS with the test
    certificate and answers every PyPI JSON API request with 404 (package not found)."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.requests: list[str] = []
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            if not head.startswith(b"CONNECT pypi.org:443"):
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = self.ctx.wrap_socket(conn, server_side=True)
            f = tls.makefile("rb")
            while True:
                line = f.readline()
                if not line:
                    return
                length = 0
                while True:
                    h = f.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    if h.lower().startswith(b"content-length:"):
                        length = int(h.split(b":")[1])
                if length:
                    f.read(length)
                self.requests.append(line.decode().split(" ")[1])
                body = b'{"message": "Not Found"}'
                tls.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def __enter__(self) -> "PypiTlsProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop = True
        self.sock.close()
