r"""Where a pattern can match in a string column: one RE2 pass over the column as one text.

``pyarrow.compute.match_substring_regex`` compiles its pattern on every call and starts every
call with an empty DFA. For the scanner's alternations (1,000+ characters) building the DFA's
states again cost twice the search itself: on 50 MB of PII-sparse Faker data the block pass took
~270 ms of kernel time in 16 calls. Here the pattern is compiled once per process with google-re2
(the same engine, so the same answers; its DFA states are kept between calls) and run over the
column's cells joined with newlines, so a search call is made per *match*, not per cell or block:
on PII-sparse data a few hundred calls for 50 MB. google-re2 releases the GIL while it searches,
so the two halves of a large column run on two threads.

The joined text gives a superset of the cells where ``pattern`` matches: cells are joined with
``\n\0\n`` and the pattern runs with ``(?m)``, so ``^``/``$`` hold at every cell's edges and a
cell's edge is a word boundary, so a match inside a cell is a match in the text; a match may
also start in one cell and run into the next, which only adds that cell. Callers test the cells
found with the exact per-cell pattern. Two rewrites keep a search call cheap: no capturing groups
(only where a match starts is needed; extracting groups of a match that runs far cost ~3 ms a
call), and ``[\s\S]`` ("anything", in the keyword-then-number alternative) becomes ``[^\0]``, so
a keyword is never paired with a number cells away: each search then ends at the next
separator instead of scanning on to the next number, which made sparse free text quadratic.
Columns with a NUL inside a cell are handed back whole, for the caller's per-cell match (rare:
the rewrite would not hold there).
"""

from __future__ import annotations

import bisect
from typing import Any, Callable

import pyarrow as pa

from . import kernels as K

#: a column is dense once more than one cell in 32 of those searched so far hit (after the first
#: :data:`DENSE_AFTER` hits): it is handed back whole, as a Python call per hit would cost more
#: than the per-cell kernel the caller then runs
DENSE_SHARE = 1 / 32
DENSE_AFTER = 64
#: below this many cells a column is searched on one thread
HALVES_MIN = 2048
SEPARATOR = "\n\x00\n"
#: the joined text is one pyarrow string (32-bit offsets): a column near 2 GiB is matched cell by cell
TEXT_MAX = (1 << 31) - 1


def compiled(pattern: str) -> Any:
    """The text-pass form of ``pattern`` compiled once per process (see the module's docstring),
    or None if google-re2 refuses it."""
    return K.compiled("(?m)" + pattern.replace(r"[\s\S]", r"[^\x00]"), never_capture=True)


def _joined(arr: pa.Array) -> tuple[memoryview, Callable[[int], int], int, bool]:
    """The cells of a string array joined with :data:`SEPARATOR` (nulls as empty cells), where
    cell ``i`` starts in it, the number of cells, and whether a cell holds a NUL."""
    from . import compute as pc

    a = arr if arr.null_count == 0 else pc.fill_null(arr, "")
    n = len(a)
    if n == 0:
        return memoryview(b""), lambda i: 0, 0, False
    offs = memoryview(a.buffers()[1]).cast("i")
    if offs[a.offset + n] - offs[a.offset] + len(SEPARATOR) * n >= TEXT_MAX:
        raise OverflowError("too long for one text")
    one = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, n], pa.int32()), a), SEPARATOR)
    text = memoryview(one.buffers()[2] or b"")
    base, first, step = a.offset, offs[a.offset], len(SEPARATOR)
    nul = K.may_hold(a, b"\x00", first, offs[base + n])

    def start(i: int) -> int:
        return offs[base + i] - first + step * i

    return text, start, n, nul


def _search(arr: pa.Array, rx: Any) -> list[int] | None:
    r"""Cells of ``arr`` where ``rx`` (compiled by google-re2) finds a match start, or None for
    every cell: when more than :data:`DENSE_SHARE` of them hit, or when a cell holds a NUL
    (the rewrite of ``[\s\S]`` would not hold there)."""
    try:
        text, start, n, nul = _joined(arr)
    except OverflowError:  # more than one string can hold: every cell, for the per-cell kernel
        return None
    if nul:
        return None
    end = len(text)
    search = rx.search
    out: list[int] = []
    pos = 0
    cells = range(n)
    while pos <= end:
        m = search(text, pos, end)
        if m is None:
            break
        i = bisect.bisect_right(cells, m.start(), key=start) - 1
        out.append(i)
        if len(out) >= DENSE_AFTER and len(out) > (i + 1) * DENSE_SHARE:
            return None
        if i + 1 >= n:
            break
        pos = start(i + 1)
    return out


def candidates(arrs: list[pa.Array], pattern: str, pool: Any = None) -> list[pa.Array] | None:
    """For each string array of ``arrs``, the positions (int64, ascending) of the cells where
    ``pattern`` may match (a superset: see the module's docstring); every position of a dense
    column or of one with a NUL in a cell. None when google-re2 refuses the pattern (the caller uses the kernel). With ``pool``
    (a thread pool), large columns are searched in two halves side by side."""
    rx = compiled(pattern)
    if rx is None:
        return None
    parts: list[tuple[int, int, pa.Array]] = []  # (array, offset of the part, part)
    for k, a in enumerate(arrs):
        if pool is not None and len(a) >= HALVES_MIN:
            half = len(a) // 2
            parts += [(k, 0, a.slice(0, half)), (k, half, a.slice(half))]
        else:
            parts.append((k, 0, a))
    if pool is not None and len(parts) > 1:
        found = list(pool.map(lambda p: _search(p[2], rx), parts))
    else:
        found = [_search(p[2], rx) for p in parts]
    pos: list[list[int]] = [[] for _ in arrs]
    for (k, at, part), got in zip(parts, found):
        pos[k].extend(range(at, at + len(part)) if got is None else (at + i for i in got))
    return [pa.array(p, pa.int64()) for p in pos]
