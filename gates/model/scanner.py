"""Scan one file: sniff its format, dispatch to the registered handler, and collect the hits.

``scan_path`` is what a worker process runs. It returns a :class:`FileReport` of raw hits; it
never raises for bad input (a file it cannot follow is an *inconclusive* hit, which blocks).
The dispatcher is attached to each :class:`Scan` so that handlers can descend into members
without importing this module.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from typing import BinaryIO, Iterator

from . import polyglot
from .config import FileReport, Hit, ScanConfig
from .fileio import is_seekable
from .names import pickle_named, weights_named
from .registry import HANDLERS
from .scan import Scan
from .sniff import sniff
from .stream import OverLimit, Source, Truncated, file_size

UNRECOGNISED = ("unknown", "text")  # content that matched no format we analyse


def scan_path(path: str, cfg: ScanConfig) -> FileReport:
    """Scan the file at ``path`` (worker entry point)."""
    report = FileReport(path=path)
    scan = Scan(cfg, report, path, dispatch=scan_stream)
    try:
        with _open_regular(path) as f:
            if f is None:
                scan.inconclusive("not a regular file (FIFO, socket or device): it was not read", key="special")
                return report
            size = os.fstat(f.fileno()).st_size
            if cfg.limits.max_file_bytes and size > cfg.limits.max_file_bytes:
                scan.hit("MODEL015", f"file is {size} bytes, over the policy's max_file_mb", blocking=True, key="size",
                         extra={"size": size})
                return report
            kind = scan_stream(scan, f, member=None, depth=0, name=path, size=size)
        if kind in UNRECOGNISED and pickle_named(path):
            scan.inconclusive("the file is named like a pickle but its content is not a recognisable model format", offset=0, key="unrecognised")
        elif kind in UNRECOGNISED and weights_named(path):
            scan.inconclusive("the file is named like PyTorch weights (loaded with torch.load) but its content is not a recognisable "
                              "model format", offset=0, key="unrecognised")
    except OSError as exc:
        scan.inconclusive(f"cannot read the file ({exc.strerror or type(exc).__name__})", key="unreadable")
    except RecursionError:
        scan.inconclusive("structure nested too deeply to follow", key="recursion")
    return report


@contextlib.contextmanager
def _open_regular(path: str) -> Iterator[BinaryIO | None]:
    """Open ``path`` for reading without blocking, and yield None unless it is a regular file:
    a FIFO or device swapped in after discovery must not hang or feed the worker forever."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            yield None
            return
        os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f


def safe_scan(path: str, cfg: ScanConfig) -> FileReport:
    """``scan_path`` that turns a scanner bug into a blocking finding instead of a pass."""
    try:
        return scan_path(path, cfg)
    except Exception as exc:  # noqa: BLE001 - fail closed; the type only (the text may quote input)
        report = FileReport(path=path)
        report.hits.append(Hit("MODEL003", f"the scanner failed on this file ({type(exc).__name__})", blocking=True, key="crash"))
        return report


def scan_bytes(scan: Scan, data: bytes, member: str | None, depth: int, name: str = "") -> None:
    scan_stream(scan, io.BytesIO(data), member=member, depth=depth, name=name, size=len(data))


def scan_stream(scan: Scan, f: BinaryIO, member: str | None, depth: int, name: str, size: int | None, base: int = 0,
                limit: int | None = None) -> str:
    """Sniff ``f`` and dispatch. Returns the format name."""
    if depth > scan.cfg.limits.max_depth:
        scan.inconclusive(f"nesting deeper than {scan.cfg.limits.max_depth} levels (archive or nested pickle)", member, key="depth")
        return "unknown"
    try:
        return _dispatch(scan, f, member, depth, name, size, base, limit)
    except (Truncated, OverLimit) as exc:
        scan.inconclusive(f"stream cannot be read to the end: {exc}", member, None, key="stream")
        return "unknown"


def _dispatch(scan: Scan, f: BinaryIO, member: str | None, depth: int, name: str, size: int | None, base: int, limit: int | None) -> str:
    if size is None:
        size = file_size(f)
    src = Source(f, size=size, base=base, limit=limit)
    kind = sniff(src.peek(1024), name)
    idx = len(scan.report.formats)
    scan.fmt("pickle" if kind == "pickle?" else kind)  # reserved first: nested content appends after its container
    seekable = is_seekable(f)
    window = polyglot.prefix_window(kind, src, seekable)
    handler = HANDLERS.get(kind)
    if handler is not None:
        refined = handler(scan, f, src, member, depth, name, size)
        if refined:
            scan.report.formats[idx] = refined
    final = scan.report.formats[idx]
    # other loaders' views of the same bytes: a pickle from byte 0, a zip found from the end
    polyglot.scan_prefix_pickle(scan, final, f, src.start, size, window, member, depth, base)
    if final not in polyglot.ZIP_VIEWS and polyglot.appended_zip(f, src.start, size):
        _scan_appended_zip(scan, final, f, src.start, size, member, depth, base)
    return final


def _scan_appended_zip(scan: Scan, kind: str, f: BinaryIO, start: int, size: int | None, member: str | None, depth: int, base: int) -> None:
    scan.hit("MODEL004", f"the {kind} file ends with a zip archive: zipfile-based loaders (numpy .npz, Keras, zip readers) "
             "open it as an archive", member, None, severity="high", key="polyglot:zip", extra={"view": "zip"})
    f.seek(start)
    scan.fmt("zip")
    handler = HANDLERS["zip"]
    assert handler is not None
    handler(scan, f, Source(f, size=size, base=base), member, depth, "appended.zip", size)
