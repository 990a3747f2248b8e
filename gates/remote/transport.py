"""HTTP for the resolvers: TLS except to loopback, credentials from the usual places, ranges.

Plain ``http://`` is refused unless the host is a loopback address (the same rule as for policy
URLs): a registry or hub reached in clear text could swap the model under the scan. Credentials
come from Docker's ``config.json`` (``auths``), ``HF_TOKEN`` and the AWS environment; they go
into request headers only and never into a message (errors name the reference, cleaned).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

import requests

from gates import __version__
from gates.core.hygiene import clean_name

from .errors import RemoteError
from .reader import Fetch

TIMEOUT = (10, 120)
USER_AGENT = f"mlsec-gates/{__version__} (remote scan)"


def is_loopback(host: str) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(host: str) -> str:
    """``https://host``, or ``http://host`` for a loopback host (a local registry)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    return f"{'http' if is_loopback(name) else 'https'}://{host}"


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return
    raise RemoteError(f"{clean_name(url)}: plain http is allowed to loopback addresses only (use https)")


def session() -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = USER_AGENT
    return s


def get(s: requests.Session, url: str, *, headers: Mapping[str, str] | None = None, what: str = "", stream: bool = False,
        ok: tuple[int, ...] = (200,), method: str = "GET") -> requests.Response:
    """One request; a network failure or an unexpected status is a :class:`RemoteError` that
    names ``what`` (never the headers)."""
    check_url(url)
    try:
        r = s.request(method, url, headers=dict(headers or {}), timeout=TIMEOUT, stream=stream, allow_redirects=True)
    except requests.RequestException as exc:
        raise RemoteError(f"{clean_name(what or url)}: {type(exc).__name__}") from None
    check_url(r.url)  # a redirect to clear text is refused as well
    if r.status_code not in ok:
        r.close()
        raise RemoteError(f"{clean_name(what or url)}: HTTP {r.status_code}")
    return r


def range_fetch(s: requests.Session, url: str, headers: Mapping[str, str], what: str) -> Fetch:
    """``fetch(start, end)`` by ``Range`` requests. A server that ignores ``Range`` (200) is read
    up to ``end`` and cut: correct, only more bytes."""
    def fetch(start: int, end: int) -> bytes:
        h = {**headers, "Range": f"bytes={start}-{end - 1}"}
        r = get(s, url, headers=h, what=what, stream=True, ok=(200, 206))
        try:
            if r.status_code == 206:
                return r.content
            return read_upto(r, end)[start:end]
        finally:
            r.close()
    return fetch


def docker_auth(registry: str) -> str | None:
    """The ``Authorization: Basic`` value for ``registry`` from Docker's config.json, if any."""
    path = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        auths = json.loads(path.read_text(encoding="utf-8")).get("auths") or {}
    except (OSError, ValueError, AttributeError):
        return None
    for key in (registry, f"https://{registry}", f"http://{registry}", f"https://{registry}/v1/"):
        entry = auths.get(key)
        if isinstance(entry, dict):
            if entry.get("auth"):
                return f"Basic {entry['auth']}"
            if entry.get("username") and entry.get("password"):
                return "Basic " + base64.b64encode(f"{entry['username']}:{entry['password']}".encode()).decode()
    return None


def read_upto(r: requests.Response, end: int) -> bytes:
    """The body up to byte ``end`` (a server that ignored ``Range``)."""
    data = bytearray()
    for chunk in r.iter_content(1 << 20):
        data += chunk
        if len(data) >= end:
            break
    return bytes(data)
