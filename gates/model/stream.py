"""A bounded, forward-only byte source for the parsers.

Why not ``file.read()``: model files are gigabytes, and most of their bytes (tensor data, array
buffers, large ``BINBYTES`` payloads) never need to be looked at. ``Source`` buffers small reads,
seeks past large payloads when the underlying file is seekable (and reads-and-discards in chunks
when it is not, e.g. a decompression stream), and refuses to read past a byte limit so a
decompression bomb cannot grow memory or time without bound.
"""

from __future__ import annotations

import io
import lzma
import zlib
from typing import Any, BinaryIO

from .budget import tick

CHUNK = 1 << 16


class Truncated(Exception):
    """The stream ended before a field it announced (a truncated or lying file)."""


class OverLimit(Exception):
    """Reading on would pass the configured byte limit (decompression bomb, huge line)."""


class Source:
    """Forward-only reader with ``read``/``readline``/``skip`` and an absolute position.

    ``size`` is the number of readable bytes when known (seekable files): skips beyond it fail
    at once instead of seeking into nothing. ``limit`` caps how many bytes may be consumed.
    """

    def __init__(self, f: BinaryIO, size: int | None = None, limit: int | None = None, base: int = 0) -> None:
        self._f = f
        self._buf = b""
        self._bpos = 0
        self._bufbase = 0  # position of ``_buf[0]`` relative to the start of this source
        self.size = size
        self._limit = limit
        self._hard = _cap(size, limit)
        self.base = base  # absolute offset of the first byte (for regions of a larger file)
        self._seekable = False
        self.start = 0
        try:
            self._seekable = bool(f.seekable())
            if self._seekable:
                self.start = f.tell()
        except (OSError, AttributeError, ValueError):
            self._seekable = False
        self._next = self.start  # where the next raw read starts in a seekable file

    @property
    def limit(self) -> int | None:
        return self._limit

    @limit.setter
    def limit(self, value: int | None) -> None:
        self._limit = value
        self._hard = _cap(self.size, value)

    # ---- position ------------------------------------------------------------------------------
    @property
    def pos(self) -> int:
        """Bytes consumed so far, relative to the start of this source."""
        return self._bufbase + self._bpos

    @property
    def offset(self) -> int:
        """Absolute byte offset of the next byte (for findings)."""
        return self.base + self._bufbase + self._bpos

    def remaining(self) -> int | None:
        return None if self.size is None else self.size - self.pos

    # ---- reading -------------------------------------------------------------------------------
    def _check(self, n: int) -> None:
        """Raise when consuming ``n`` more bytes would pass the size (truncated) or the limit."""
        if n < 0:
            raise Truncated("negative length")
        p = self.pos
        if self._limit is not None and p + n > self._limit:
            raise OverLimit(f"more than {self._limit} bytes")
        if self.size is not None and p + n > self.size:
            raise Truncated(f"needs {n} bytes, {self.size - p} left")

    def _fill(self, want: int) -> None:
        """Make at least ``want`` unread bytes available in the buffer, or as many as exist."""
        avail = len(self._buf) - self._bpos
        if avail >= want:
            return
        parts = [self._buf[self._bpos:]]
        self._bufbase += self._bpos
        need = want - avail
        while need > 0:
            chunk = self._raw_read(max(need, CHUNK))
            if not chunk:
                break
            parts.append(chunk)
            need -= len(chunk)
        self._buf = b"".join(parts)
        self._bpos = 0

    def _raw_read(self, n: int) -> bytes:
        tick()
        try:
            if self._seekable:
                # a region of the same file may have been read meanwhile (a nested payload)
                self._f.seek(self._next)
                data = self._f.read(n)
                self._next += len(data)
                return data
            return self._f.read(n)
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
            # decompressors raise these on corrupt or truncated input
            raise Truncated(f"the stream cannot be read ({type(exc).__name__})") from None

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes, else :class:`Truncated` (or :class:`OverLimit`)."""
        b = self._bpos
        e = b + n
        if 0 <= n and e <= len(self._buf) and self._bufbase + e <= self._hard:
            self._bpos = e
            return self._buf[b:e]
        self._check(n)
        self._fill(n)
        if len(self._buf) - self._bpos < n:
            raise Truncated(f"needs {n} bytes, stream ended")
        out = self._buf[self._bpos : self._bpos + n]
        self._bpos += n
        return out

    def read1(self) -> int | None:
        """One byte as an int, or None at the end of the stream."""
        b = self._bpos
        if b < len(self._buf) and self._bufbase + b < self._hard:
            self._bpos = b + 1
            return self._buf[b]
        p = self.pos
        if self.size is not None and p >= self.size:
            return None
        if self._limit is not None and p >= self._limit:
            raise OverLimit(f"more than {self._limit} bytes")
        self._fill(1)
        if self._bpos >= len(self._buf):
            return None
        self._bpos += 1
        return self._buf[self._bpos - 1]

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self._buf[self._bpos : self._bpos + n]

    def at_eof(self) -> bool:
        return not self.peek(1)

    def readline(self, maxlen: int = 1 << 20) -> bytes:
        """Up to and including ``\\n``; :class:`Truncated` without one, :class:`OverLimit` when
        longer than ``maxlen`` (protocol-0 arguments are lines)."""
        scanned = 0
        while True:
            i = self._buf.find(b"\n", self._bpos + scanned)
            if i >= 0:
                return self.read(i + 1 - self._bpos)
            have = len(self._buf) - self._bpos
            if have > maxlen:
                raise OverLimit(f"line longer than {maxlen} bytes")
            scanned = have
            self._fill(have + CHUNK)
            if len(self._buf) - self._bpos == have:
                raise Truncated("line without newline at end of stream")

    def skip(self, n: int) -> None:
        """Move forward ``n`` bytes without keeping them (seek when possible)."""
        self._check(n)
        avail = len(self._buf) - self._bpos
        if n <= avail:
            self._bpos += n
            return
        target = self.pos + n
        left = n - avail
        end_of_buf = self._bufbase + len(self._buf)
        self._buf, self._bpos = b"", 0
        if self._seekable and self.size is not None:
            self._f.seek(self.start + target)
            self._next = self.start + target
            self._bufbase = target
            return
        self._bufbase = end_of_buf
        while left > 0:
            chunk = self._raw_read(min(left, 1 << 20))
            if not chunk:
                raise Truncated("payload runs past the end of the stream")
            self._bufbase += len(chunk)
            left -= len(chunk)

    def region(self, offset: int, length: int) -> "Source | None":
        """A new source over ``[offset, offset+length)`` of the same seekable file (relative to
        this source's start), or None when the file cannot seek or is shorter (the caller fails
        closed). Nothing is copied: a nested payload of any size costs no memory."""
        if not self._seekable or offset < 0 or length < 0:
            return None
        try:
            end = self._f.seek(0, io.SEEK_END)
        except (OSError, ValueError):
            return None
        if self.start + offset + length > end:
            return None
        return Source(Region(self._f, self.start + offset, length), size=length, base=self.base + offset)


class Region(io.RawIOBase):
    """A seekable view ``[start, start+length)`` of a shared seekable file; each read seeks (so
    several regions of one file can be read in turn: zip members, nested torch payloads)."""

    def __init__(self, f: BinaryIO, start: int, length: int) -> None:
        self._f, self._start, self._len, self._pos = f, start, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._len}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        left = self._len - self._pos
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        self._f.seek(self._start + self._pos)
        data = self._f.read(n)
        self._pos += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def _cap(size: int | None, limit: int | None) -> int | float:
    caps = [c for c in (size, limit) if c is not None]
    return min(caps) if caps else float("inf")


def file_size(f: BinaryIO) -> int | None:
    """Size of a seekable file object from its current position, else None."""
    try:
        if not f.seekable():
            return None
        here = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(here)
        return end - here
    except (OSError, AttributeError, ValueError):
        return None
