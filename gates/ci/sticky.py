"""The sticky comment: one comment per PR/MR, found by the report's hidden marker and edited.

Only the first comment that starts with the marker is touched; nothing is ever deleted. With
``on-failure`` a passing run posts nothing new, but still edits an earlier comment so it no
longer shows a failure that was fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

from ..core.reports.markdown import MARKER
from .http import ApiError


class Thread(Protocol):
    """The few calls a platform needs: list, create and update comments of one PR/MR, and tell
    whether a comment was written by the token's own account."""

    def comments(self) -> Iterable[dict[str, Any]]: ...

    def mine(self, comment: dict[str, Any]) -> bool: ...

    def create(self, body: str) -> dict[str, Any]: ...

    def update(self, comment_id: Any, body: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    action: str  # created | updated | skipped | forbidden
    comment_id: Any = None
    detail: str = ""


def find(thread: Thread) -> dict[str, Any] | None:
    """Our earlier comment. Anyone can post a comment that starts with the marker: editing theirs
    would put the report under their name (and they could edit it afterwards), so only a comment
    the token's own account wrote counts."""
    for c in thread.comments():
        if c.get("system"):
            continue  # GitLab system notes
        if str(c.get("body") or "").lstrip().startswith(MARKER) and thread.mine(c):
            return c
    return None


def upsert(thread: Thread, bodies: Callable[[], Iterable[str]], failed: bool, when: str) -> Outcome:
    """Create or edit the comment. ``bodies`` yields the body, then shorter ones for a 422.

    A 401/403 (read-only token of a fork PR, or a token without the scope) is an ``forbidden``
    outcome, not an error: the gates' verdict stands on its own.
    """
    try:
        existing = find(thread)
        if existing is None and not failed and when == "on-failure":
            return Outcome("skipped", detail="gates passed and there is no earlier comment to update")
        last: ApiError | None = None
        for body in bodies():
            try:
                if existing is not None:
                    thread.update(existing["id"], body)
                    return Outcome("updated", existing["id"])
                made = thread.create(body)
                return Outcome("created", made.get("id"))
            except ApiError as exc:
                if exc.status != 422:
                    raise
                last = exc  # body too long or rejected: try the shorter one
        raise last or ApiError(422, "no body to post")
    except ApiError as exc:
        if exc.status in (401, 403):
            return Outcome("forbidden", detail=str(exc))
        raise
