"""A small REST client for the comment commands: retries on rate limits, ``Link`` pagination.

Tokens live only in the session headers; no message built here contains them. A ``next`` link to
another host is refused so a hostile server cannot collect the token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator
from urllib.parse import urljoin, urlsplit

import requests

MAX_PAGES = 50


class ApiError(Exception):
    """An API call failed; ``status`` is the HTTP status (0 for a connection problem)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def _reason(resp: requests.Response) -> str:
    try:
        msg = resp.json().get("message")
    except (ValueError, AttributeError):
        msg = None
    text = str(msg) if msg else (resp.reason or "")
    return text[:200]


@dataclass
class Api:
    """``base_url`` ends without a slash; paths start with one."""

    base_url: str
    headers: dict[str, str]
    timeout: float = 30.0
    retries: int = 3
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.headers.update(self.headers)
        self._origin = urlsplit(self.base_url)[:2]

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def _wait(self, resp: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the response is final."""
        h = resp.headers
        limited = resp.status_code == 429 or (resp.status_code == 403 and (h.get("x-ratelimit-remaining") == "0" or "retry-after" in h))
        if not limited and resp.status_code not in (502, 503, 504):
            return None
        if "retry-after" in h and h["retry-after"].strip().isdigit():
            return float(h["retry-after"])
        if h.get("x-ratelimit-reset", "").strip().isdigit():
            return max(0.0, float(h["x-ratelimit-reset"]) - time.time())
        return float(2**attempt)

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        if urlsplit(url)[:2] != self._origin:
            raise ApiError(0, f"refusing to send the token to another origin ({urlsplit(url).netloc})")
        for attempt in range(self.retries + 1):
            try:
                resp = self.session.request(method, url, timeout=self.timeout, **kw)
            except requests.RequestException as exc:
                if attempt == self.retries:
                    raise ApiError(0, f"{method} {urlsplit(url).path}: {type(exc).__name__}") from None
                self.sleep(float(2**attempt))
                continue
            wait = self._wait(resp, attempt)
            if wait is None:
                return resp
            if attempt == self.retries or wait > self.max_wait:
                raise ApiError(resp.status_code, f"{method} {urlsplit(url).path}: rate limited or unavailable "
                                                 f"(HTTP {resp.status_code}, retry in {wait:.0f}s)")
            self.sleep(wait)
        raise AssertionError("unreachable")

    def check(self, resp: requests.Response, what: str) -> Any:
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, f"{what}: HTTP {resp.status_code} {_reason(resp)}".rstrip())
        return resp.json() if resp.content else None

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, following ``Link: <…>; rel="next"``."""
        url: str | None = self.url(path)
        kw: dict[str, Any] = {"params": params}
        for _ in range(MAX_PAGES):
            if url is None:
                return
            resp = self.request("GET", url, **kw)
            items = self.check(resp, f"GET {urlsplit(url).path}")
            if not isinstance(items, list):
                raise ApiError(resp.status_code, f"GET {urlsplit(url).path}: expected a list")
            yield from (i for i in items if isinstance(i, dict))
            nxt = resp.links.get("next", {}).get("url")
            url = urljoin(url, nxt) if nxt else None
            kw = {}  # the next link carries the query
        raise ApiError(0, f"more than {MAX_PAGES} pages of comments")
