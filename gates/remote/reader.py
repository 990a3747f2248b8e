"""A seekable file object over byte ranges, with a block cache and a byte counter.

Why: the planners (which bytes of a model file do the gates read?) parse headers the same way a
local reader would, but every ``read`` becomes a ``Range`` request. Blocks are cached so a parser
that reads a length and then the bytes after it costs one request, and the counter tells the run
how many bytes crossed the network against the artifact's size.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

#: fetch(start, end) returns bytes [start, end) of the remote object
Fetch = Callable[[int, int], bytes]
BLOCK = 64 << 10
#: a span at least this long is fetched straight through, not through the block cache
DIRECT = 1 << 20


@dataclass
class Stats:
    """Bytes fetched over the network, and the requests it took."""

    fetched: int = 0
    requests: int = 0


class RangeReader(io.RawIOBase):
    """Read-only, seekable view of ``size`` remote bytes (``base`` offsets a member inside a blob)."""

    def __init__(self, fetch: Fetch, size: int, stats: Stats, *, base: int = 0, block: int = BLOCK,
                 cache: dict[int, bytes] | None = None) -> None:
        super().__init__()
        self._fetch = fetch
        self.size = size
        self.stats = stats
        self._base = base
        self._block = block
        self._pos = 0
        # the cache is shared by the views of one blob (a tar member's reader sees the layer's blocks)
        self._cache: dict[int, bytes] = cache if cache is not None else {}

    def view(self, offset: int, size: int) -> "RangeReader":
        """The bytes [offset, offset+size) of this object, as their own reader."""
        return RangeReader(self._fetch, size, self.stats, base=self._base + offset, block=self._block, cache=self._cache)

    # ---- io.RawIOBase ----------------------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, b) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        data = self.pread(self._pos, end - self._pos)
        self._pos += len(data)
        return data

    # ---- ranges -------------------------------------------------------------------------------
    def pread(self, start: int, length: int) -> bytes:
        """``length`` bytes at ``start`` (fewer at the end), through the block cache."""
        end = min(self.size, start + max(0, length))
        if start >= end:
            return b""
        a, z = self._base + start, self._base + end
        first, last = a // self._block, (z - 1) // self._block
        missing = [i for i in range(first, last + 1) if i not in self._cache]
        # one request for each run of missing blocks
        while missing:
            run = [missing.pop(0)]
            while missing and missing[0] == run[-1] + 1:
                run.append(missing.pop(0))
            lo, hi = run[0] * self._block, (run[-1] + 1) * self._block
            data = self._get(lo, hi)
            for j, i in enumerate(run):
                self._cache[i] = data[j * self._block:(j + 1) * self._block]
        buf = b"".join(self._cache.get(i, b"") for i in range(first, last + 1))
        off = a - first * self._block
        return buf[off: off + (z - a)]

    def copy_to(self, out, start: int, end: int, chunk: int = 8 << 20) -> None:
        """Write bytes [start, end) into the open file ``out`` at the same offsets, straight
        through (large spans are not cached: they are read once)."""
        pos = start
        while pos < end:
            n = min(chunk, end - pos)
            if n < DIRECT and all(i in self._cache for i in range((self._base + pos) // self._block,
                                                                 (self._base + pos + n - 1) // self._block + 1)):
                data = self.pread(pos, n)
            else:
                data = self._get(self._base + pos, self._base + pos + n)
            if len(data) != n:
                raise OSError(f"short read: {len(data)} of {n} bytes at {pos}")
            out.seek(pos)
            out.write(data)
            pos += n

    def _get(self, lo: int, hi: int) -> bytes:
        data = self._fetch(lo, hi)
        self.stats.fetched += len(data)
        self.stats.requests += 1
        return data
