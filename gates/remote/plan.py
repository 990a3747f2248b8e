"""Which bytes of a remote file the gates will read, by format: the rest becomes holes.

Why per format and why this is safe: the model gate reads a safetensors file's header, a GGUF
file's header and tensor table, and in a PyTorch zip every member except the raw tensor
storages (it peeks at a storage's first two bytes to catch a pickle hidden there). Exactly those
bytes are fetched; a storage whose first bytes look like a pickle is fetched whole. Anything the
planner cannot parse, and every other format (pickles, datasets, configs), is fetched whole: the
fallback costs bytes, never a missed finding. Small files are fetched whole too (one request).
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from typing import Callable

from .reader import RangeReader

#: files below this size are fetched whole: a request for the header costs as much
WHOLE_BELOW = 1 << 20
#: headers larger than this are not worth planning around (the gate reads them anyway)
MAX_HEADER = 64 << 20
#: bytes kept at the start of each torch storage (the gate sniffs two)
STORAGE_HEAD = 64
STORAGE_RE = re.compile(r"(?:^|/)data/\d+$")

Holes = list[tuple[int, int]]


def holes(r: RangeReader, name: str = "") -> Holes:
    """Byte ranges of ``r`` the gates never read (sorted, disjoint); ``[]`` means fetch all."""
    if r.size < WHOLE_BELOW:
        return []
    head = r.pread(0, 16)
    for test, plan in _PLANS:
        if test(head):
            try:
                return plan(r)
            except (ValueError, struct.error, zipfile.BadZipFile, UnicodeDecodeError, KeyError, IndexError):
                return []  # cannot follow it: fetch whole, the gate reports what is wrong
    return []


def _safetensors(r: RangeReader) -> Holes:
    n = struct.unpack("<Q", r.pread(0, 8))[0]
    if n > MAX_HEADER or 8 + n > r.size:
        return []
    header = r.pread(8, n)
    if not isinstance(json.loads(header.decode("utf-8")), dict):
        return []
    return [(8 + n, r.size)]


def _is_safetensors(head: bytes) -> bool:
    return len(head) >= 9 and head[8:9] == b"{" and struct.unpack("<Q", head[:8])[0] < MAX_HEADER


def _gguf(r: RangeReader) -> Holes:
    """Walk the GGUF header (metadata and tensor infos) to where the tensor data begins."""
    version = struct.unpack("<I", r.pread(4, 4))[0]
    wide = version >= 2
    pos = 8

    def u(n: int, fmt: str) -> int:
        nonlocal pos
        v = struct.unpack(fmt, r.pread(pos, n))[0]
        pos += n
        return v

    count = (lambda: u(8, "<Q")) if wide else (lambda: u(4, "<I"))

    def string() -> None:
        nonlocal pos
        n = count()  # read first: ``pos += count()`` would add to the position from before the read
        pos += n

    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

    def value(t: int, depth: int = 0) -> None:
        nonlocal pos
        if t in sizes:
            pos += sizes[t]
        elif t == 8:
            string()
        elif t == 9 and depth < 4:
            et, n = u(4, "<I"), count()
            if et in sizes:
                pos += sizes[et] * n
            else:
                for _ in range(n):
                    value(et, depth + 1)
                    if pos > MAX_HEADER:
                        raise ValueError("header too large")
        else:
            raise ValueError(f"GGUF value type {t}")

    tensors, kvs = count(), count()
    for _ in range(kvs):
        string()
        value(u(4, "<I"))
        if pos > MAX_HEADER:
            raise ValueError("header too large")
    for _ in range(tensors):
        string()
        nd = u(4, "<I")
        pos += nd * (8 if wide else 4) + 4 + 8
        if pos > MAX_HEADER:
            raise ValueError("header too large")
    end = pos  # the gate computes where (aligned) data starts and reads none of it
    r.pread(pos - 1, 1)  # the whole header must exist
    return [(end, r.size)] if end < r.size else []


def _zip(r: RangeReader) -> Holes:
    """Holes only inside stored PyTorch tensor storages whose first bytes are not a pickle."""
    with zipfile.ZipFile(r) as zf:  # reads the end record and the central directory by ranges
        infos = zf.infolist()
        names = {i.filename for i in infos}
        if not any(n.endswith("data.pkl") or n.endswith("/constants.pkl") for n in names):
            return []  # not a torch checkpoint: every member is read
        out: Holes = []
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or not STORAGE_RE.search(info.filename):
                continue
            if info.compress_size <= STORAGE_HEAD:
                continue
            local = r.pread(info.header_offset, 30)
            if local[:4] != b"PK\x03\x04":
                return []
            nlen, elen = struct.unpack("<HH", local[26:30])
            start = info.header_offset + 30 + nlen + elen
            head = r.pread(start, 2)
            if len(head) == 2 and head[0] == 0x80 and head[1] <= 5:
                continue  # looks like a pickle: the gate scans it, so it is fetched whole
            out.append((start + STORAGE_HEAD, start + info.compress_size))
    return sorted(out)


_PLANS: list[tuple[Callable[[bytes], bool], Callable[[RangeReader], Holes]]] = [
    (lambda h: h[:4] == b"GGUF", _gguf),
    (lambda h: h[:4] == b"PK\x03\x04", _zip),
    (_is_safetensors, _safetensors),
]
