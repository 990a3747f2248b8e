"""Where an ``extends:`` entry points, and fetching it safely.

A source is a local path (relative to the extending file), an ``https://`` URL, a
``gh:org/repo/path@ref`` shorthand for the raw GitHub URL, or ``pkg:module/resource.yaml`` for a
policy shipped inside a Python package. Remote sources must carry a ``sha256`` pin (unless the
run allows unpinned policies): an org policy is code that decides what blocks the build, so the
bytes a repository runs under must be the bytes it reviewed. Fetched bytes are cached by digest
so a pinned run works offline once the cache holds them.

Fetching is bounded: a timeout per request and an overall deadline, a few retries for transient
failures, a size cap, at most a few redirects with every hop checked, and plain ``http://`` only
to the loopback interface (tests, local mirrors). URLs are shown without credentials or query
strings, which may hold tokens.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import ipaddress
import os
import posixpath
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from .errors import PolicyError
from .yamlsrc import MAX_POLICY_BYTES, read_policy_bytes

if TYPE_CHECKING:
    import requests

GITHUB_RAW = "https://raw.githubusercontent.com"
MAX_REDIRECTS = 5
RETRIES = 3
BACKOFF = 0.2
DEFAULT_TIMEOUT = 10.0
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class SourceSpec:
    """One ``extends:`` entry as written, with the place it was written (``FILE:LINE``)."""

    raw: str
    sha256: str | None
    where: str


@dataclass(frozen=True)
class Resolved:
    """A source made concrete: ``kind`` is ``file``, ``url`` or ``pkg``; ``ident`` is canonical
    (absolute path, URL, ``pkg:`` id) for cycle detection; ``display`` names it in messages."""

    kind: str
    ident: str
    display: str
    sha256: str | None
    auth_host: str | None = None  # host that may receive the GitHub token (gh: sources only)


@dataclass(frozen=True)
class Fetched:
    resolved: Resolved
    data: bytes
    digest: str
    how: str  # "read", "fetched", "cache"


def parse_spec(entry: Any, where: str) -> SourceSpec:
    if isinstance(entry, str):
        return SourceSpec(entry, None, where)
    return SourceSpec(str(entry["source"]), entry.get("sha256"), where)


def redact_url(url: str) -> str:
    """The URL without user info and with any query replaced by ``?…`` (tokens live there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "…" if parts.query else "", ""))


def resolve(spec: SourceSpec, parent: Resolved | None) -> Resolved:
    """Turn a spec into a concrete source. ``parent`` is the extending document (None for the
    repository's own file, whose relative paths are resolved against the current directory)."""
    raw = spec.raw.strip()
    if raw.startswith("gh:"):
        return _resolve_gh(raw, spec)
    if raw.startswith(("https://", "http://")):
        check_url(raw, spec.where)
        return Resolved("url", raw, redact_url(raw), spec.sha256)
    if raw.startswith("pkg:"):
        return _resolve_pkg(raw[4:], spec)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", raw):
        raise PolicyError(f"{spec.where}: extends: unsupported source scheme in {redact_url(raw)!r} (use a path, https://, gh: or pkg:)")
    if parent is not None and parent.kind == "url":
        raise PolicyError(f"{spec.where}: extends: a fetched policy cannot extend the local path {raw!r} (use a pinned URL or pkg:)")
    if parent is not None and parent.kind == "pkg":
        pkg_id = parent.ident[4:]
        module, _, res = pkg_id.partition("/")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(res), raw))
        return _resolve_pkg(f"{module}/{joined}", spec)
    base = Path(parent.ident).parent if parent is not None else Path.cwd()
    p = Path(raw).expanduser()
    p = (p if p.is_absolute() else base / p).resolve()
    return Resolved("file", str(p), _display_path(p), spec.sha256)


def _display_path(p: Path) -> str:
    try:
        return str(p.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _resolve_gh(raw: str, spec: SourceSpec) -> Resolved:
    body, at, ref = raw[3:].rpartition("@")
    parts = body.split("/") if at else []
    if not at or len(parts) < 3 or not ref or any(not p or p in (".", "..") for p in parts):
        raise PolicyError(f"{spec.where}: extends: {raw!r}: expected gh:ORG/REPO/PATH@REF (the ref is required; pin a tag or commit)")
    base = os.environ.get("MLSEC_GATES_GITHUB_RAW_URL", GITHUB_RAW).rstrip("/")
    url = f"{base}/{parts[0]}/{parts[1]}/{ref}/{'/'.join(parts[2:])}"
    check_url(url, spec.where)
    return Resolved("url", url, redact_url(url), spec.sha256, auth_host=urlsplit(base).hostname)


def _resolve_pkg(body: str, spec: SourceSpec) -> Resolved:
    module, _, res = body.partition("/")
    parts = res.split("/") if res else []
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$", module) or not parts or any(p in ("", ".", "..") for p in parts):
        raise PolicyError(f"{spec.where}: extends: 'pkg:{body}': expected pkg:MODULE/PATH/TO/policy.yaml inside the package")
    return Resolved("pkg", f"pkg:{module}/{'/'.join(parts)}", f"pkg:{module}/{'/'.join(parts)}", spec.sha256)


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, where: str) -> None:
    """https anywhere; plain http only to loopback (local mirrors, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return
    raise PolicyError(f"{where}: extends: {redact_url(url)}: only https:// sources are allowed (plain http only to 127.0.0.1/localhost)")


def cache_dir() -> Path:
    env = os.environ.get("MLSEC_GATES_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mlsec-gates" / "policies"


def cache_get(digest: str) -> bytes | None:
    """The cached bytes for ``digest``, re-verified (a corrupted cache entry is ignored)."""
    p = cache_dir() / f"{digest}.yml"
    try:
        data = p.read_bytes()[: MAX_POLICY_BYTES + 1]
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == digest else None


def cache_put(digest: str, data: bytes) -> None:
    """Best effort: a read-only cache only costs a re-fetch next time."""
    d = cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".yml")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, d / f"{digest}.yml")
    except OSError:
        pass


def timeout() -> float:
    try:
        return max(0.05, float(os.environ.get("MLSEC_GATES_POLICY_TIMEOUT", DEFAULT_TIMEOUT)))
    except ValueError:
        return DEFAULT_TIMEOUT


def load(res: Resolved, where: str, allow_unpinned: bool) -> Fetched:
    """Read or fetch ``res`` and check its pin. Remote sources come from the cache when pinned
    and cached; otherwise they are fetched and, once verified, cached."""
    if res.kind == "url":
        if res.sha256 is None and not allow_unpinned:
            raise PolicyError(f"{where}: extends: {res.display} is fetched over the network and needs a sha256 pin "
                              "(write it as {source: URL, sha256: HEX}; --allow-unpinned-policy to skip, not recommended)")
        if res.sha256:
            cached = cache_get(res.sha256)
            if cached is not None:
                return Fetched(res, cached, res.sha256, "cache")
        data = fetch(res, where)
        how = "fetched"
    elif res.kind == "pkg":
        data, how = _read_pkg(res, where), "read"
    else:
        data, how = _read_file(Path(res.ident), res.display, where), "read"
    digest = hashlib.sha256(data).hexdigest()
    if res.sha256 and digest != res.sha256:
        raise PolicyError(
            f"{where}: extends: {res.display}: sha256 digest mismatch: pinned {res.sha256}, got {digest} "
            "(the policy changed or was tampered with; review the change, then update the pin)"
        )
    if res.kind == "url" and res.sha256:
        cache_put(digest, data)
    return Fetched(res, data, digest, how)


def _read_file(p: Path, display: str, where: str) -> bytes:
    return read_policy_bytes(p, f"{where}: extends: {display}")


def _read_pkg(res: Resolved, where: str) -> bytes:
    module, _, rel = res.ident[4:].partition("/")
    try:
        node = importlib.resources.files(module)
    except ModuleNotFoundError:
        raise PolicyError(f"{where}: extends: {res.display}: package {module!r} is not installed") from None
    for part in rel.split("/"):
        node = node.joinpath(part)
    return read_policy_bytes(node, f"{where}: extends: {res.display}")


class _Transient(Exception):
    """A failure worth retrying (connection trouble, timeout, 5xx, 429)."""


def fetch(res: Resolved, where: str) -> bytes:
    """GET with retries for transient failures; permanent ones (4xx, size, redirects) fail at once."""
    last = ""
    for attempt in range(RETRIES):
        if attempt:
            time.sleep(BACKOFF * (2 ** (attempt - 1)))
        try:
            return _fetch_once(res, where)
        except _Transient as exc:
            last = str(exc)
    raise PolicyError(f"{where}: extends: {res.display}: cannot fetch after {RETRIES} attempts: {last} "
                      f"(no cached copy{' of sha256 ' + res.sha256 if res.sha256 else ''})")


def request_headers(res: Resolved, url: str) -> dict[str, str]:
    """No compression (the size cap counts what the server sends); the GitHub token only to the
    ``gh:`` host over https, never to a host a redirect leads to."""
    headers = {"Accept": "application/yaml, text/plain, */*", "Accept-Encoding": "identity", "User-Agent": "mlsec-gates"}
    token = os.environ.get("MLSEC_GATES_GITHUB_TOKEN") or os.environ.get("GITHUB_TOKEN")
    parts = urlsplit(url)
    if token and res.auth_host and parts.hostname == res.auth_host and parts.scheme == "https":
        headers["Authorization"] = f"token {token}"
    return headers


def _fetch_once(res: Resolved, where: str) -> bytes:
    import requests  # only a policy that extends a URL pays for it

    limit = timeout()
    deadline = time.monotonic() + 3 * limit
    url = res.ident
    with requests.Session() as session:
        for _hop in range(MAX_REDIRECTS + 1):
            headers = request_headers(res, url)
            try:
                resp = session.get(url, headers=headers, timeout=(limit, limit), stream=True, allow_redirects=False)
            except requests.Timeout:
                raise _Transient(f"timed out after {limit:g}s") from None
            except requests.RequestException as exc:
                raise _Transient(type(exc).__name__) from None
            with resp:
                if resp.is_redirect:
                    target = urljoin(url, resp.headers.get("Location", ""))
                    check_url(target, f"{where}: extends: {res.display} redirected")
                    url = target
                    continue
                if resp.status_code == 429 or resp.status_code >= 500:
                    raise _Transient(f"HTTP {resp.status_code}")
                if resp.status_code != 200:
                    raise PolicyError(f"{where}: extends: {res.display}: HTTP {resp.status_code}")
                return _read_body(resp, res, where, deadline, limit)
        raise PolicyError(f"{where}: extends: {res.display}: more than {MAX_REDIRECTS} redirects (redirect loop?)")


def _read_body(resp: requests.Response, res: Resolved, where: str, deadline: float, limit: float) -> bytes:
    import requests

    too_big = f"{where}: extends: {res.display}: larger than the {MAX_POLICY_BYTES}-byte limit for a policy"
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_POLICY_BYTES:
        raise PolicyError(too_big)
    buf = bytearray()
    try:
        for chunk in resp.iter_content(chunk_size=65536):
            buf += chunk
            if len(buf) > MAX_POLICY_BYTES:
                raise PolicyError(too_big)
            if time.monotonic() > deadline:
                raise _Transient(f"timed out after {3 * limit:g}s reading the body")
    except requests.RequestException as exc:
        raise _Transient(f"timed out after {limit:g}s" if "timed out" in str(exc).lower() else type(exc).__name__) from None
    return bytes(buf)
