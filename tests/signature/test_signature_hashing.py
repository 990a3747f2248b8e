"""The streaming hasher must agree with hashlib on every block and shard boundary."""

from __future__ import annotations

import hashlib
import os

import pytest

from gates.signature import hashing
from gates.signature.hashing import Piece, digest_range, hash_pieces, shard_pieces


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(hashing, "BLOCK", 1000)  # exercise many reads on a small file


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 12_345])
def test_whole_file_matches_hashlib(tmp_path, small_blocks, size):
    data = os.urandom(size)
    f = tmp_path / "f"
    f.write_bytes(data)
    assert digest_range(f) == hashlib.sha256(data).digest()
    assert digest_range(f, "blake2") == hashlib.blake2b(data).digest()


def test_shards_match_hashlib(tmp_path, small_blocks):
    data = os.urandom(10_001)
    f = tmp_path / "f"
    f.write_bytes(data)
    pieces = shard_pieces("f", f, 3000)
    assert [(p.start, p.end) for p in pieces] == [(0, 3000), (3000, 6000), (6000, 9000), (9000, 10_001)]
    got = hash_pieces(pieces, max_workers=2)
    for p in pieces:
        assert got[p.name] == hashlib.sha256(data[p.start:p.end]).digest()


def test_parallel_equals_serial(tmp_path):
    pieces = []
    for i in range(6):
        f = tmp_path / f"f{i}"
        f.write_bytes(os.urandom(5000 * (i + 1)))
        pieces.append(Piece(f.name, f))
    assert hash_pieces(pieces, max_workers=1) == hash_pieces(pieces, max_workers=4)


def test_file_that_shrinks_is_an_error(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"abc")
    with pytest.raises(OSError):
        digest_range(f, start=0, end=10)


def test_unknown_algorithm(tmp_path):
    with pytest.raises(ValueError):
        hashing.hasher_for("md5")


def test_default_block_unaligned_shard(tmp_path):
    """With the real block size, a shard that starts and ends off block boundaries."""
    data = os.urandom(hashing.BLOCK * 2 + 12_345)
    f = tmp_path / "f"
    f.write_bytes(data)
    start, end = hashing.BLOCK - 7, 2 * hashing.BLOCK + 9
    assert digest_range(f, start=start, end=end) == hashlib.sha256(data[start:end]).digest()
    assert digest_range(f) == hashlib.sha256(data).digest()


def test_read_ahead_advice_failure_is_harmless(tmp_path, monkeypatch):
    """posix_fadvise is advice: a file system that refuses it must not stop verification."""
    calls = []

    def refuse(fd, offset, length, advice):
        calls.append((offset, length, advice))
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "posix_fadvise", refuse, raising=False)
    monkeypatch.setattr(os, "POSIX_FADV_SEQUENTIAL", 2, raising=False)
    data = os.urandom(5000)
    f = tmp_path / "f"
    f.write_bytes(data)
    assert digest_range(f, start=100, end=4000) == hashlib.sha256(data[100:4000]).digest()
    assert calls == [(100, 3900, 2)]


def test_prehash_digests_are_taken_not_recomputed(tmp_path, monkeypatch):
    """Pieces started before verification are not hashed a second time."""
    pieces = []
    for i in range(3):
        f = tmp_path / f"f{i}"
        f.write_bytes(os.urandom(3000 * (i + 1)))
        pieces.append(Piece(f.name, f))
    want = hash_pieces(pieces, max_workers=1)
    pre = hashing.Prehash(pieces[:2], "sha256", max_workers=2)
    calls = []
    real = hashing.digest_range
    monkeypatch.setattr(hashing, "digest_range", lambda p, *a, **k: calls.append(p.name) or real(p, *a, **k))
    assert hash_pieces(pieces, max_workers=2, prehash=pre) == want
    assert calls == ["f2"]  # only the piece the prehash did not start
    pre.close()


def test_prehash_other_algorithm_or_range_is_not_reused(tmp_path):
    f = tmp_path / "f"
    data = os.urandom(4000)
    f.write_bytes(data)
    pre = hashing.Prehash([Piece("f", f)], "sha256")
    assert pre.take(Piece("f", f), "blake2b") is None
    assert pre.take(Piece("f", f, 0, 10), "sha256") is None
    assert pre.take(Piece("f", f), "sha256").result() == hashlib.sha256(data).digest()
    pre.close()


def test_prehash_close_stops_reading(tmp_path, monkeypatch):
    """A signature that does not verify abandons the reads: close() returns at once and the
    running read stops at its next block."""
    import threading

    monkeypatch.setattr(hashing, "BLOCK", 1000)
    f = tmp_path / "f"
    f.write_bytes(os.urandom(200_000))
    gate = threading.Event()
    real_update = hashing.hasher_for("sha256")

    class Slow:
        def __init__(self):
            self.h = real_update()

        def update(self, b):
            gate.wait(5)
            self.h.update(b)

        def digest(self):
            return self.h.digest()

    monkeypatch.setitem(hashing._ALGORITHMS, "sha256", Slow)
    pre = hashing.Prehash([Piece("f", f)], "sha256", max_workers=1)
    (fut,) = pre._futures.values()
    pre.close()
    gate.set()
    with pytest.raises(hashing.Cancelled):
        fut.result(timeout=10)
