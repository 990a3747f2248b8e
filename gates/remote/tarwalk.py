"""Walk an uncompressed tar by ranges: 512-byte headers only, members as offset/size views.

Why not ``tarfile`` on the range reader: ``tarfile`` reads every member's data to find the next
header when the stream is not seekable, and its extraction follows links. Here each header is
one small range read; pax (``x``) and GNU long names (``L``) are followed; links, devices and
anything but regular files and directories are listed as skipped (never materialised).
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from typing import Iterator

from .reader import RangeReader

BLOCK = 512
#: a pax header or long name larger than this is not a name: refuse the layer
MAX_META = 1 << 20


@dataclass(frozen=True)
class Member:
    name: str
    offset: int  # of the data, in the tar
    size: int
    kind: str  # "file", "dir" or "other"


def _padded(n: int) -> int:
    return (n + BLOCK - 1) // BLOCK * BLOCK


def members(r: RangeReader) -> Iterator[Member]:
    pos = 0
    long_name: str | None = None
    pax_path: str | None = None
    while pos + BLOCK <= r.size:
        buf = r.pread(pos, BLOCK)
        if buf == b"\0" * BLOCK:
            return
        try:
            ti = tarfile.TarInfo.frombuf(buf, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise ValueError(f"bad tar header at byte {pos}: {exc}") from None
        data = pos + BLOCK
        if ti.type in (tarfile.GNUTYPE_LONGNAME, tarfile.XHDTYPE, tarfile.XGLTYPE):
            if ti.size > MAX_META:
                raise ValueError(f"tar metadata record of {ti.size} bytes at byte {pos}")
            meta = r.pread(data, ti.size)
            if ti.type == tarfile.GNUTYPE_LONGNAME:
                long_name = meta.rstrip(b"\0").decode("utf-8", "surrogateescape")
            elif ti.type == tarfile.XHDTYPE:
                pax_path = _pax_path(meta) or pax_path
            pos = data + _padded(ti.size)
            continue
        name = pax_path or long_name or ti.name
        long_name = pax_path = None
        kind = "file" if ti.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE) else "dir" if ti.type == tarfile.DIRTYPE else "other"
        yield Member(name, data, ti.size if kind == "file" else 0, kind)
        # as tarfile does: data follows regular files and unknown types only
        pos = data + (_padded(ti.size) if kind == "file" or ti.type not in tarfile.SUPPORTED_TYPES else 0)


def _pax_path(meta: bytes) -> str | None:
    """The ``path`` record of a pax header (``"%d path=%s\\n"`` records)."""
    i = 0
    while i < len(meta):
        sp = meta.find(b" ", i)
        if sp < 0:
            break
        length = int(meta[i:sp])
        rec = meta[sp + 1: i + length - 1]
        key, _, val = rec.partition(b"=")
        if key == b"path":
            return val.decode("utf-8", "surrogateescape")
        if length <= 0:
            break
        i += length
    return None
