"""Files that more than one loader accepts are judged as each of them would read them.

Two views are added to whatever the sniffer decided a stream is:

* **a pickle at offset 0.** ``pickle.load``/``joblib.load`` start at byte 0 whatever the file
  also is: a tar whose first 512-byte header holds a complete pickle, a GGUF or safetensors
  header that is also an opcode stream. Whenever the first byte is an opcode, the stream is
  walked from offset 0 too. Random headers break within a few opcodes; a walk that imports a
  global, or that reaches STOP, is a second program in the file and is judged like any pickle.
* **a zip at the end.** ``zipfile`` (and every loader built on it: numpy's ``.npz``, Keras)
  finds an archive by its end-of-central-directory record, so ``pickle + zip`` is a pickle to
  ``pickle.load`` and an archive to ``zipfile``. A valid EOCD at the end of a stream that did not
  sniff as zip is scanned as a zip as well.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from .fileio import is_seekable
from .stream import Region
from .pickles import importable, not_allowed, report_walk, walker_for
from .scan import Scan
from .sniff import PICKLE_OPCODES
from .stream import Source

#: formats that are already read as pickles (or are not a format at all): no second view
PICKLE_VIEWS = frozenset({"pickle", "pickle?", "joblib", "pytorch-legacy", "text", "unknown", "json"})
ZIP_VIEWS = frozenset({"zip", "pytorch", "torchscript", "keras", "npz"})
#: bytes walked from offset 0 when the stream cannot seek back (a decompressed member)
WINDOW = 1 << 20
EOCD = b"PK\x05\x06"
EOCD_SEARCH = 22 + 0xFFFF


def prefix_window(kind: str, src: Source, seekable: bool) -> bytes | None:
    """For a stream that cannot seek: the bytes to walk as a pickle, peeked *before* the handler
    consumes the stream (they stay in ``src``'s buffer). None when no pickle view is needed."""
    if kind in PICKLE_VIEWS or seekable:
        return None
    head = src.peek(1)
    if not head or head[0] not in PICKLE_OPCODES:
        return None
    return src.peek(WINDOW)


def scan_prefix_pickle(scan: Scan, kind: str, f: BinaryIO, start: int, size: int | None, window: bytes | None,
                       member: str | None, depth: int, base: int) -> None:
    """Walk the stream from offset 0 as ``pickle.load`` would, after the format's own handler ran.

    ``window`` holds the bytes of a stream that cannot seek; otherwise ``f`` is re-read from
    ``start``. Only walks that would import something (or complete) are reported."""
    if kind in PICKLE_VIEWS:
        return
    if window is not None:
        src = Source(io.BytesIO(window), size=len(window), base=base)
    elif is_seekable(f) and size:
        src = Source(Region(f, start, size), size=size, base=base)  # type: ignore[arg-type]
    else:
        return
    head = src.peek(1)
    if not head or head[0] not in PICKLE_OPCODES:
        return
    src.limit = scan.cfg.limits.max_pickle_bytes
    walker = walker_for(scan)(src, max_memo=scan.cfg.limits.max_memo, explain=not_allowed(scan), plain_load=True)
    res = walker.walk()
    scan.report.items += res.opcodes
    if res.globals and not importable(res.globals[0]):
        return  # the unpickler fails at its first import: nothing runs
    if not res.globals and not res.nested:
        if res.stopped:
            scan.hit("MODEL004", f"the {kind} file is also a complete pickle stream from byte 0 (it imports nothing)",
                     member, 0, severity="medium", key="polyglot:pickle-inert", extra={"view": "pickle"})
        return
    scan.hit("MODEL004", f"the {kind} file is also a pickle stream from byte 0: pickle.load and joblib.load run it, "
             "whatever else the file is", member, 0, severity="high", blocking=True, key="polyglot:pickle",
             extra={"view": "pickle"})
    report_walk(scan, res, member, depth, src, walker)


def appended_zip(f: BinaryIO, start: int, size: int | None) -> bool:
    """Whether the stream ends with a well-formed zip end-of-central-directory record (what
    ``zipfile.is_zipfile`` looks for), checked as strictly as ``zipfile`` does."""
    if size is None or size < 22 or not is_seekable(f):
        return False
    take = min(size, EOCD_SEARCH)
    try:
        f.seek(start + size - take)
        tail = f.read(take)
    except (OSError, ValueError):
        return False
    i = tail.rfind(EOCD)
    while i >= 0:
        rec = tail[i : i + 22]
        if len(rec) == 22:
            _, disk, cd_disk, n_here, n_total, cd_size, cd_off, clen = struct.unpack("<IHHHHIIH", rec)
            eocd_at = size - take + i
            if i + 22 + clen == len(tail) and cd_size + 0 <= eocd_at and disk == cd_disk == 0 and n_here == n_total:
                return True
        i = tail.rfind(EOCD, 0, i)
    return False
