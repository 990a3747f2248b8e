"""Fixtures for org-wide policy tests: a real HTTP server on 127.0.0.1 serving policies, an
isolated policy cache, and a tiny test-only gate with list/number options to lock."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pytest

import gates.core.registry as registry
from gates.core.findings import Rule, Severity
from gates.core.gate import Gate, GateContext


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: bool = True  # send Content-Length (False: body delimited by closing the connection)


class PolicyServer:
    """``http.server`` in a thread; ``routes[path]`` says what each path answers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?")[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                route = server.routes.get(path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                if route.length:
                    self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                try:
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.running = True

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve(self, path: str, text: str | bytes, **kw: Any) -> str:
        """Serve ``text`` at ``path``; returns its sha256."""
        body = text.encode() if isinstance(text, str) else text
        self.routes[path] = Route(body, **kw)
        return hashlib.sha256(body).hexdigest()

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def server():
    s = PolicyServer()
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "policy-cache"
    monkeypatch.setenv("MLSEC_GATES_CACHE_DIR", str(d))
    monkeypatch.setenv("MLSEC_GATES_POLICY_TIMEOUT", "3")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("MLSEC_GATES_GITHUB_TOKEN", raising=False)
    return d


class FormatsGate(Gate):
    """Test-only gate: every file whose extension is not in ``allowed_formats`` is a finding."""

    name = "fmt"
    title = "Formats (test gate)"
    description = "test-only"
    rules = {"FMT001": Rule("FMT001", "Format not allowed", Severity.HIGH, "not allowed", "convert it")}
    options_schema = {
        "allowed_formats": {"type": "array", "items": {"type": "string"}},
        "blocked_entities": {"type": "array", "items": {"type": "string"}},
        "max_mb": {"type": "number"},
        "strict": {"type": "boolean"},
    }
    default_options = {"allowed_formats": ["safetensors", "onnx", "pkl"], "blocked_entities": ["EMAIL"], "max_mb": 100, "strict": True}
    default_paths = ("**/*",)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--allow", action="append", help="also allow this format")

    def options_from_args(self, args) -> dict[str, Any]:
        return {"allowed_formats": args.allow} if getattr(args, "allow", None) else {}

    def run(self, ctx: GateContext) -> None:
        allowed = set(ctx.options.get("allowed_formats") or [])
        for p in ctx.discover():
            ext = p.suffix.lstrip(".")
            if ext in ("yml", "yaml", "json"):
                continue
            ctx.scanned(p)
            if ext not in allowed:
                ctx.add("FMT001", f"format {ext!r} is not allowed", p, key=ext)


@pytest.fixture(autouse=True)
def fmt_gate(monkeypatch) -> Callable[[], dict[str, Gate]]:
    """Install the test gate next to the real ones, as an entry point the registry lists."""
    eps = {**registry.installed(), "fmt": metadata.EntryPoint("fmt", f"{FormatsGate.__module__}:FormatsGate", registry.ENTRY_POINT_GROUP)}
    monkeypatch.setattr(registry, "installed", lambda: eps)
    return registry.available_gates


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def write() -> Callable[[Path, str], Path]:
    """``write(path, text)``: create a file (and its folders)."""
    return _write
