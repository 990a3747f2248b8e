"""A loopback stand-in for the Hugging Face Hub, answering the shapes huggingface_hub uses:
``/api/{models|datasets}/{repo}[/revision/{rev}]`` (commit, siblings with sizes and LFS digests),
``/{repo}/resolve/{rev}/{path}`` and ``/datasets/{repo}/resolve/…`` with ``Range`` and ``HEAD``
(``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag``, ``X-Linked-Size``). Optionally a token is
required. Counts the bytes it serves."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class HubRepo:
    commit: str
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)


class Hub:
    def __init__(self, token: str | None = None) -> None:
        self.repos: dict[tuple[str, str], HubRepo] = {}
        self.token = token
        self.served = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def do_HEAD(self):
                self._serve(head=True)

            def do_GET(self):
                self._serve(head=False)

            def _send(self, code: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, str(v))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                    hub.served += len(body)

            def _serve(self, head: bool):
                if hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                    return self._send(401, b'{"error":"Invalid credentials"}', head=head)
                path = unquote(urlsplit(self.path).path)
                m = re.match(r"^/api/(models|datasets)/([^/]+/[^/]+)(?:/revision/(.+))?$", path)
                if m:
                    repo = hub.repos.get((m.group(1), m.group(2)))
                    if repo is None or (m.group(3) or "main") not in ("main", repo.commit):
                        return self._send(404, b'{"error":"Repository not found"}', {"X-Error-Code": "RepositoryNotFound"}, head)
                    sib = []
                    for name, data in sorted(repo.files.items()):
                        entry = {"rfilename": name, "size": len(data), "blobId": hashlib.sha1(data).hexdigest()}
                        if name in repo.lfs:
                            entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
                        sib.append(entry)
                    body = json.dumps({"id": m.group(2), "sha": repo.commit, "siblings": sib, "private": False}).encode()
                    return self._send(200, body, {"Content-Type": "application/json"}, head)
                m = re.match(r"^/(datasets/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
                if m:
                    repo = hub.repos.get(("datasets" if m.group(1) else "models", m.group(2)))
                    if repo is None or m.group(3) not in ("main", repo.commit) or m.group(4) not in repo.files:
                        return self._send(404, b"Entry not found", {"X-Error-Code": "EntryNotFound"}, head)
                    data = repo.files[m.group(4)]
                    etag = hashlib.sha256(data).hexdigest() if m.group(4) in repo.lfs else hashlib.sha1(data).hexdigest()
                    h = {"X-Repo-Commit": repo.commit, "ETag": f'"{etag}"', "Accept-Ranges": "bytes"}
                    if m.group(4) in repo.lfs:
                        h.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": len(data)})
                    rng = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
                    if rng and not head:
                        a = int(rng.group(1))
                        b = min(len(data) - 1, int(rng.group(2))) if rng.group(2) else len(data) - 1
                        if a >= len(data):
                            return self._send(416, b"", h)
                        h["Content-Range"] = f"bytes {a}-{b}/{len(data)}"
                        return self._send(206, data[a:b + 1], h)
                    return self._send(200, data, h, head)
                return self._send(404, b"not found", head=head)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, kind: str, repo: str, files: dict[str, bytes], lfs: set[str] = frozenset()) -> str:
        commit = hashlib.sha1(json.dumps(sorted((k, hashlib.sha1(v).hexdigest()) for k, v in files.items())).encode()).hexdigest()
        self.repos[(kind, repo)] = HubRepo(commit, files, set(lfs))
        return commit

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
