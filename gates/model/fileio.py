"""File-like views the container readers share: a window of a seekable file, streaming
decompressors with bounded output per read, and adapters between :class:`Source` and files.

None of these read more than they are asked for; limits are enforced by the :class:`Source`
that wraps them.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from typing import Any, BinaryIO

from .budget import charge_inflated
from .stream import Source


class Decompressing(io.RawIOBase):
    """Stream a zlib/raw-deflate/bz2/lzma decompressor over ``raw`` with bounded output per read."""

    def __init__(self, raw: BinaryIO, decomp: Any) -> None:
        self._raw, self._d = raw, decomp
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = 1 << 20 if n is None or n < 0 else n
        while len(self._buf) < n and not self._eof:
            tail = getattr(self._d, "unconsumed_tail", b"")
            if tail:
                data = tail
            elif getattr(self._d, "needs_input", True) is False:
                data = b""
            else:
                data = self._raw.read(1 << 16)
                if not data:
                    self._eof = True
                    if hasattr(self._d, "flush"):
                        self._buf += self._d.flush()
                    break
            out = self._d.decompress(data, max(n - len(self._buf), 1 << 16))
            charge_inflated(len(out))
            self._buf += out
            if getattr(self._d, "eof", False) and not getattr(self._d, "unconsumed_tail", b""):
                self._eof = True
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def decompressor_stream(kind: str, raw: BinaryIO) -> BinaryIO | None:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if kind in ("xz", "lzma"):
        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    if kind == "zlib":
        return Decompressing(raw, zlib.decompressobj())  # type: ignore[return-value]
    if kind == "deflate":
        return Decompressing(raw, zlib.decompressobj(-15))  # type: ignore[return-value]
    if kind == "lz4":
        try:
            import lz4.frame  # type: ignore[import-not-found]
        except ImportError:
            return None
        return lz4.frame.LZ4FrameFile(raw, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        try:
            import zstandard  # type: ignore[import-not-found]
        except ImportError:
            return None
        return zstandard.ZstdDecompressor().stream_reader(raw)  # type: ignore[return-value]
    return None


class ForwardOnly(io.RawIOBase):
    """Hide ``seek`` of decompressing files: their emulated seek decompresses everything."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._f.read(1 << 16 if n is None or n < 0 else n)
        except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
            raise
        except Exception as exc:  # noqa: BLE001 - zstandard/lz4 raise their own types on corrupt input
            raise OSError(f"decompression failed ({type(exc).__name__})") from None
        charge_inflated(len(data))
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class SourceFile(io.RawIOBase):
    """Expose the rest of a :class:`Source` as a file (for decompressors)."""

    def __init__(self, src: Source) -> None:
        self._src = src

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = 1 << 16 if n is None or n < 0 else n
        data = self._src.peek(n)
        self._src.skip(len(data))
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def is_seekable(f: BinaryIO) -> bool:
    try:
        return bool(f.seekable())
    except (AttributeError, OSError, ValueError):
        return False
