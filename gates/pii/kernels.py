"""Regex kernels over string columns, without pyarrow's compile-per-call on small arrays.

``pyarrow.compute.match_substring_regex`` compiles its RE2 pattern on every call: about 5-10 ms
for the scanner's alternations, however few cells the array holds. On large arrays that is noise;
on the columns of small files it was most of the cost (many 8 KB files took 40x the time of the
same rows in one file). Below :data:`SMALL` cells, a pattern compiled once per process with
google-re2 (the same engine, so the same answers) is run cell by cell instead.
"""

from __future__ import annotations

import functools
from typing import Any

import pyarrow as pa

from . import compute as pc

#: below this many cells the process-wide compiled RE2 wins (measured: ~8 ms per kernel call
#: against ~10 µs per cell for the scanner's prefilter alternation)
SMALL = 512


@functools.lru_cache(maxsize=512)
def compiled(pattern: str, never_capture: bool = False) -> Any:
    """``pattern`` compiled once per process with google-re2 (``never_capture``: every group
    non-capturing, for callers that only need where a match is), or None if that binding refuses
    it (the pyarrow kernel is used then)."""
    try:
        import re2

        opts = re2.Options()
        opts.max_mem = 64 << 20
        opts.never_capture = never_capture
        return re2.compile(pattern, options=opts)
    except Exception:  # noqa: BLE001 - re2.error, or no binding: fall back to the kernel
        return None


def may_hold(arr: pa.Array, literal: bytes, start: int = 0, end: int | None = None) -> bool:
    """False when no cell of a string array can contain ``literal``: its characters' buffer (from
    byte ``start`` to ``end``, else whole: a slice shares its parent's, so it may hold more) does
    not. One RE2 search over the buffer, without a copy and without the GIL (a literal: memchr
    speed; Python's ``re`` held the GIL ~5 ms per 12 MB chunk): several times faster than a
    per-cell kernel."""
    bufs = arr.buffers() if pa.types.is_string(arr.type) else []
    if len(bufs) < 3 or bufs[2] is None:
        return True
    view = memoryview(bufs[2])[start:end]
    rx = compiled("".join(f"\\x{b:02x}" for b in literal), never_capture=True)
    if rx is None:
        import re

        return re.search(re.escape(literal), view) is not None
    return rx.search(view) is not None


def match(arr: pa.Array, pattern: str) -> pa.Array:
    """``pc.match_substring_regex(arr, pattern)`` as a boolean per cell (a null cell does not
    match), small arrays through :func:`compiled`."""
    if len(arr) < SMALL and not isinstance(arr, pa.ChunkedArray):
        rx = compiled(pattern)
        if rx is not None:
            search = rx.search
            return pa.array([v is not None and search(v) is not None for v in arr.to_pylist()], pa.bool_())
    return pc.match_substring_regex(arr, pattern)


def as_strings(arr: Any, dates: bool = False) -> Any:
    """A string view of a column, for the regex kernels and the value tests: strings as they are
    (a dictionary column decoded), integers and decimals as digits (ids and card numbers are
    often stored as numbers), UTF-8 binary as text and, with ``dates``, dates and timestamps as
    ISO text (for birth-date tests); None for types that hold nothing looked for (floats,
    booleans) or binary that is not text. A ``large_string`` column too large for one ``string``
    array stays as it is (the caller decides)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = pc.cast(arr, t.value_type)
        t = arr.type
    if pa.types.is_string(t):
        return arr
    if pa.types.is_large_string(t):
        try:
            return pc.cast(arr, pa.string())  # one kernel set for all; a batch is far below 2 GiB
        except pa.ArrowInvalid:
            return arr
    if (pa.types.is_string_view(t) or pa.types.is_integer(t) or pa.types.is_decimal(t) or pa.types.is_binary(t)
            or pa.types.is_large_binary(t) or (dates and (pa.types.is_date(t) or pa.types.is_timestamp(t)))):
        try:
            return pc.cast(arr, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    return None
