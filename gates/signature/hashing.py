"""Fast, streaming file hashing for signatures.

Every file is read exactly once, in blocks into one reused buffer (``readinto``), so hashing
runs at hashlib's speed rather than at the speed of small reads. The block is 1 MiB: it stays in
the core's L2 cache between the copy out of the page cache and the hash, which costs 10–30% less
CPU per GiB than 8 MiB reads (measured here: 0.83 against 0.92 s, and 0.70 against 0.95 s, of
CPU per GiB of SHA-256; bench/signature_bench.py). ``hashlib`` releases the GIL for updates above 2 KiB, so several files
(or shards of one large file) are hashed in parallel threads. Nothing here interprets file
contents.
"""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

BLOCK = 1 << 20  # 1 MiB reads: few syscalls, and the block is still in L2 when hashlib reads it

#: OMS ``hash_type`` names → a hashlib constructor
_ALGORITHMS: dict[str, Callable[[], "hashlib._Hash"]] = {
    "sha256": hashlib.sha256,
    "blake2b": hashlib.blake2b,
    "blake2": hashlib.blake2b,  # the serialization name model-signing records for blake2b
}


def hasher_for(algorithm: str) -> Callable[[], "hashlib._Hash"]:
    """The hash constructor for an OMS algorithm name, or ``ValueError`` if unsupported."""
    if algorithm in _ALGORITHMS:
        return _ALGORITHMS[algorithm]
    if algorithm == "blake3":
        try:
            import blake3  # type: ignore[import-not-found]
        except ImportError:
            raise ValueError("hash algorithm blake3 needs the 'blake3' package") from None
        return blake3.blake3  # type: ignore[no-any-return]
    raise ValueError(f"unsupported hash algorithm {algorithm!r}")


class Cancelled(Exception):
    """Hashing stopped because its result is no longer wanted (the signature did not verify)."""


def digest_range(path: Path, algorithm: str = "sha256", start: int = 0, end: int | None = None,
                 stop: threading.Event | None = None) -> bytes:
    """Digest of ``path[start:end]`` (the whole file by default), read in large blocks; ``stop``
    (checked between blocks) abandons the work."""
    h = hasher_for(algorithm)()
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        _sequential(f.fileno(), start, end)
        if start:
            f.seek(start)
        remaining = None if end is None else end - start
        while remaining is None or remaining > 0:
            want = BLOCK if remaining is None else min(BLOCK, remaining)
            if stop is not None and stop.is_set():
                raise Cancelled(str(path))
            n = f.readinto(view[:want])
            if not n:
                break
            h.update(view[:n])
            if remaining is not None:
                remaining -= n
        if remaining:
            raise OSError(f"file shrank while hashing (short by {remaining} bytes)")
    return h.digest()


def _sequential(fd: int, start: int, end: int | None) -> None:
    """Tell the kernel the range is read once, front to back (bigger read-ahead on a cold cache)."""
    if hasattr(os, "posix_fadvise"):
        try:
            os.posix_fadvise(fd, start, 0 if end is None else end - start, os.POSIX_FADV_SEQUENTIAL)
        except OSError:
            pass  # advice only (e.g. not supported on this file system)


@dataclass(frozen=True)
class Piece:
    """One unit to hash: a whole file (``end is None``) or the shard ``[start, end)``."""

    rel: str
    path: Path
    start: int = 0
    end: int | None = None

    @property
    def name(self) -> str:
        """The OMS resource name: ``path`` for files, ``path:start:end`` for shards."""
        return self.rel if self.end is None else f"{self.rel}:{self.start}:{self.end}"


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def hash_pieces(pieces: Sequence[Piece], algorithm: str = "sha256", max_workers: int | None = None,
                prehash: "Prehash | None" = None) -> dict[str, bytes]:
    """Digest every piece, largest first across a thread pool; returns ``{name: digest}``.
    Pieces ``prehash`` already started (same file, range and algorithm) are taken from it."""
    hasher_for(algorithm)  # fail early on an unsupported algorithm
    started = {p.name: f for p in pieces if prehash is not None and (f := prehash.take(p, algorithm)) is not None}
    order = sorted((p for p in pieces if p.name not in started), key=lambda p: -((p.end or _size(p.path)) - p.start))
    n = max_workers or workers()
    if n == 1 or len(order) <= 1:
        out = {p.name: digest_range(p.path, algorithm, p.start, p.end) for p in order}
    else:
        with ThreadPoolExecutor(max_workers=n) as pool:
            futures = {p.name: pool.submit(digest_range, p.path, algorithm, p.start, p.end) for p in order}
            out = {name: f.result() for name, f in futures.items()}
    out.update({name: f.result() for name, f in started.items()})
    return out


class Prehash:
    """Hashing started before the signature is checked, so the bytes are read while the main
    thread imports and runs the verifier (sigstore's import and checks cost about 0.3 s of CPU;
    hashlib and ``readinto`` release the GIL). Digests are facts about the files on disk: a
    verified manifest takes those whose file, range and algorithm it names (:meth:`take`), and
    :meth:`close` abandons the rest when the signature does not verify."""

    def __init__(self, pieces: Sequence[Piece], algorithm: str, max_workers: int | None = None) -> None:
        hasher_for(algorithm)
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max_workers or workers(), thread_name_prefix="prehash")
        order = sorted(pieces, key=lambda p: -((p.end or _size(p.path)) - p.start))
        self._futures: dict[tuple[str, str, int, int | None, str], Future[bytes]] = {
            (p.name, str(p.path), p.start, p.end, algorithm): self._pool.submit(digest_range, p.path, algorithm, p.start, p.end, self._stop)
            for p in order
        }

    def take(self, piece: Piece, algorithm: str) -> "Future[bytes] | None":
        return self._futures.pop((piece.name, str(piece.path), piece.start, piece.end, algorithm), None)

    def close(self) -> None:
        """Stop whatever was not taken; returns at once (running reads stop at their next block)."""
        for f in self._futures.values():
            f.cancel()
        if self._futures:
            self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def shard_pieces(rel: str, path: Path, shard_size: int) -> list[Piece]:
    """The shards model-signing cuts a file into (empty files have none)."""
    size = path.stat().st_size
    out, start = [], 0
    while start < size:
        end = min(start + shard_size, size)
        out.append(Piece(rel, path, start, end))
        start = end
    return out


def sha256_file(path: Path) -> bytes:
    return digest_range(path, "sha256")


def total_size(paths: Iterable[Path]) -> int:
    return sum(_size(p) for p in paths)
