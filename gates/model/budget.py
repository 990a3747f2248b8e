"""One budget per top-level file, shared by every nesting level.

Per-archive limits cannot stop a nest: 42.zip keeps every single archive small, and a 16-way
fan-out four levels deep is 65,536 harmless members. So the counts that matter are kept for the
whole file, whatever level spends them: archives opened, members visited, bytes inflated by
decompressors, nesting depth and wall time. The first limit reached raises
:class:`BudgetExceeded`, which unwinds every handler up to the scanner, where it becomes **one**
inconclusive finding for the file (never one per member).

The budget in force is kept in a module variable while a file is scanned (a worker scans one
file at a time), so low-level readers (decompressors, :class:`~gates.model.stream.Source`) can
charge it without every call passing it along.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Iterator

#: how often (in charges) the clock is read: time.monotonic() is cheap, but not free
TICK_EVERY = 64


class BudgetExceeded(Exception):
    """A whole-file limit was reached; ``what`` says which, ``member`` where."""

    def __init__(self, what: str, member: str | None = None, key: str = "budget") -> None:
        super().__init__(what)
        self.what = what
        self.member = member
        self.key = key


@dataclass
class Budget:
    max_archives: int
    max_members: int
    max_inflated: int
    max_depth: int
    max_seconds: float
    deadline: float = field(default=0.0)
    archives: int = 0
    members: int = 0
    inflated: int = 0
    _ticks: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.max_seconds if self.max_seconds > 0 else float("inf")

    def archive(self, member: str | None) -> None:
        """One more container opened (the top-level one counts)."""
        self.archives += 1
        if self.archives > self.max_archives:
            raise BudgetExceeded(f"more than {self.max_archives} archives or compressed streams nested in one file", member, "archives")
        self.tick(member, force=True)

    def member(self, member: str | None) -> None:
        """One more archive member visited, at any level."""
        self.members += 1
        if self.members > self.max_members:
            raise BudgetExceeded(f"more than {self.max_members} archive members in one file, all levels together", member, "members")
        self.tick(member)

    def inflate(self, n: int, member: str | None = None) -> None:
        """``n`` more bytes produced by a decompressor (or announced by a compressed member)."""
        self.inflated += n
        if self.inflated > self.max_inflated:
            raise BudgetExceeded(f"more than {self.max_inflated >> 20} MB decompressed from one file, all levels together", member, "inflated")
        self.tick(member)

    def depth(self, depth: int, member: str | None) -> None:
        if depth > self.max_depth:
            raise BudgetExceeded(f"nesting deeper than {self.max_depth} levels (archives or nested pickles)", member, "depth")

    def tick(self, member: str | None = None, force: bool = False) -> None:
        self._ticks += 1
        if (force or not self._ticks % TICK_EVERY) and time.monotonic() > self.deadline:
            raise BudgetExceeded(f"scanning took longer than {self.max_seconds:g} s", member, "time")


_current: Budget | None = None


@contextlib.contextmanager
def active(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one low-level readers charge while a file is scanned."""
    global _current
    prev, _current = _current, budget
    try:
        yield budget
    finally:
        _current = prev


def charge_inflated(n: int) -> None:
    """Charge decompressed bytes to the file being scanned (no-op outside a scan)."""
    if _current is not None and n:
        _current.inflate(n)


def tick() -> None:
    """Let the budget check the clock (no-op outside a scan)."""
    if _current is not None:
        _current.tick()
