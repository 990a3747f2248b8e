"""A real HTTP server on 127.0.0.1 speaking the few GitHub and GitLab REST endpoints the comment
command uses: list (paginated with ``Link`` headers), create and update comments/notes.

It behaves like the services where it matters to the client: a read-only token gets 403 on
writes (fork pull requests), a body over the platform limit gets 422, a rate limit answers 429
with ``Retry-After``, and pages are small so pagination is exercised. Everything it receives is
recorded for the tests to assert on.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WRITE_TOKEN = "ghs_write_token_for_tests_only"
READ_TOKEN = "ghs_read_only_fork_token"
GITHUB_MAX_BODY = 65_536


@dataclass
class ForgeState:
    page_size: int = 2
    max_body: int = GITHUB_MAX_BODY
    rate_limit_next: int = 0  # answer this many requests with 429 first
    foreign_next: bool = False  # a hostile server: the next-page link points at another host
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # thread -> comments
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, token used
    next_id: int = 1000

    def seed(self, thread: str, bodies: list[str], system: bool = False) -> None:
        """Comments by a person (not by the token's account), e.g. reviewers."""
        for b in bodies:
            self.next_id += 1
            self.comments.setdefault(thread, []).append({"id": self.next_id, "body": b, "system": system, **HUMAN})


# who wrote a comment, as each API says it: the workflow token posts as a bot on GitHub (and
# cannot read /user); a GitLab project access token has its own bot user
HUMAN = {"user": {"login": "mallory", "type": "User"}, "author": {"id": 5, "username": "mallory"}}
TOKEN_AUTHOR = {"user": {"login": "github-actions[bot]", "type": "Bot"}, "author": {"id": 77, "username": "project_42_bot"}}


GH_LIST = re.compile(r"^/api/v3/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
GH_ONE = re.compile(r"^/api/v3/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
GL_LIST = re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$")
GL_ONE = re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)$")


def make_handler(state: ForgeState):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:  # keep test output clean
            pass

        def _token(self) -> str:
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                return auth[7:]
            return self.headers.get("PRIVATE-TOKEN", "")

        def _send(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            token = self._token()
            state.requests.append((method, url.path, token))
            if state.rate_limit_next > 0:
                state.rate_limit_next -= 1
                return self._send(429, {"message": "API rate limit exceeded"}, {"Retry-After": "0", "x-ratelimit-remaining": "0"})
            if token not in (WRITE_TOKEN, READ_TOKEN):
                return self._send(401, {"message": "Bad credentials"})
            gitlab = url.path.startswith("/api/v4/")
            if method == "GET" and url.path in ("/api/v3/user", "/api/v4/user"):
                if gitlab:
                    return self._send(200, TOKEN_AUTHOR["author"])
                return self._send(403, {"message": "Resource not accessible by integration"})
            m_list = (GL_LIST if gitlab else GH_LIST).match(url.path)
            m_one = (GL_ONE if gitlab else GH_ONE).match(url.path)
            if method == "GET" and m_list:
                thread = "/".join(m_list.groups())
                items = state.comments.get(thread, [])
                page = int(parse_qs(url.query).get("page", ["1"])[0])
                size = min(state.page_size, int(parse_qs(url.query).get("per_page", ["30"])[0]))
                chunk = items[(page - 1) * size: page * size]
                headers = {}
                if page * size < len(items):
                    host = "collector.invalid" if state.foreign_next else self.headers["Host"]
                    headers["Link"] = f'<http://{host}{url.path}?per_page={size}&page={page + 1}>; rel="next"'
                return self._send(200, chunk, headers)
            if method in ("POST", "PATCH", "PUT") and token == READ_TOKEN:
                msg = "Resource not accessible by integration" if not gitlab else "403 Forbidden"
                return self._send(403, {"message": msg})
            if method == "POST" and m_list:
                body = self._body().get("body", "")
                if len(body) > state.max_body:
                    return self._send(422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "custom",
                                                                                       "message": "body is too long (maximum is 65536 characters)"}]})
                thread = "/".join(m_list.groups())
                state.next_id += 1
                c = {"id": state.next_id, "body": body, "system": False, **TOKEN_AUTHOR}
                state.comments.setdefault(thread, []).append(c)
                return self._send(201, c)
            if method in ("PATCH", "PUT") and m_one:
                body = self._body().get("body", "")
                if len(body) > state.max_body:
                    return self._send(422, {"message": "Validation Failed"})
                cid = int(m_one.groups()[-1])
                for cs in state.comments.values():
                    for c in cs:
                        if c["id"] == cid and c.get("user") != TOKEN_AUTHOR["user"]:
                            return self._send(403, {"message": "Must have admin rights to Repository."})
                        if c["id"] == cid:
                            c["body"] = body
                            return self._send(200, c)
                return self._send(404, {"message": "Not Found"})
            return self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def do_PUT(self) -> None:
            self._handle("PUT")

    return Handler


class Forge:
    """``with Forge() as f:`` serves on ``f.url`` until the block ends."""

    def __init__(self) -> None:
        self.state = ForgeState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.state))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "Forge":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
