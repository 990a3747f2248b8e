"""Run the scanner over columnar batches: prefilter in pyarrow, validate candidates in Python.

Measured on this project's benchmark (2 cores): the pyarrow ``match_substring_regex`` kernel
(RE2 in C++) filters a column at several hundred MB/s, so PII-sparse data never reaches Python;
for the candidate pass Python's ``re`` on short cells beat ``google-re2``'s per-call overhead (see
``bench/pii_bench.py --engines``), so ``re`` is the default there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from .scanner import ColumnScanner, ColumnStats, ScanConfig

if TYPE_CHECKING:
    from .readers import Chunk

SCANNABLE = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)


def as_strings(arr: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """A string view of a column, or None when the type cannot hold PII we look for (floats,
    booleans, timestamps). Integers are kept: SSNs and card numbers are often stored as ints."""
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type) if hasattr(arr, "cast") else pc.cast(arr, t.value_type)
        t = arr.type
    if any(f(t) for f in SCANNABLE):
        return arr
    if pa.types.is_integer(t) or pa.types.is_decimal(t):
        return pc.cast(arr, pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        try:
            return pc.cast(arr, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    return None


@dataclass
class BatchScan:
    """Scans labelled columns chunk after chunk, keeping one scanner per label."""

    cfg: ScanConfig
    engine: str = "re"
    scanners: dict[str | None, ColumnScanner] = field(default_factory=dict)

    def scanner(self, label: str | None) -> ColumnScanner:
        s = self.scanners.get(label)
        if s is None:
            s = self.scanners[label] = ColumnScanner(self.cfg, label, self.engine)
        return s

    def column(self, label: str | None, arr: pa.Array | pa.ChunkedArray, row_base: int = 0,
               rows: Sequence[int] | None = None, lines: bool = False, paths: Sequence[str] | None = None) -> None:
        """Scan one column chunk. Rows are ``row_base + i + 1`` unless ``rows`` gives them."""
        sc = self.scanner(label)
        sc.stats.rows += len(arr)
        if sc.rx is None or self.cfg.column_allowed(label) or len(arr) == 0:
            return
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()  # one RE2 compile per column, not per chunk
        mask = pc.match_substring_regex(arr, sc.pattern)
        idx = pc.indices_nonzero(mask)
        if len(idx) == 0:
            return
        cand = pc.take(arr, idx)
        cells = cand.to_pylist()
        pos = idx.to_pylist()
        whole: list[str | None] | None = None
        if len(cells) >= 64 and sc.whole:
            whole = [None] * len(cells)
            for cls, pat in sc.whole:
                for i in pc.indices_nonzero(pc.match_substring_regex(cand, pat)).to_pylist():
                    if whole[i] is None:
                        whole[i] = cls
        if rows is None:
            rws = [row_base + i + 1 for i in pos]
        else:
            rws = [rows[i] for i in pos]
        pth = [paths[i] for i in pos] if paths is not None else None
        sc.scan(cells, rws, lines=lines, paths=pth, whole=whole)

    def results(self) -> list[ColumnStats]:
        return [s.stats for s in self.scanners.values()]


# ---- files, in process or across worker processes ------------------------------------------------

def scan_chunk(bs: BatchScan, chunk: "Chunk") -> None:
    for col in chunk.columns:
        bs.column(col.label, col.values, chunk.row_base, rows=col.rows, lines=chunk.lines, paths=col.paths)


_WORKER: dict[str, Any] = {}


def _worker_init(cfg: ScanConfig) -> None:
    _WORKER["bs"] = BatchScan(cfg)


def _worker_scan(chunk: "Chunk") -> list[ColumnStats]:
    """Scan one chunk in a worker; compiled scanners are reused, their counts start afresh."""
    bs: BatchScan = _WORKER["bs"]
    for sc in bs.scanners.values():
        sc.stats = ColumnStats(sc.label)
    scan_chunk(bs, chunk)
    return [s for s in bs.results() if s.rows]


class Pool:
    """A lazily started process pool shared by all files of one gate run."""

    def __init__(self, cfg: ScanConfig, workers: int) -> None:
        self.cfg, self.workers, self._ex = cfg, workers, None

    def executor(self) -> Any:
        if self._ex is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._ex = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"),
                                           initializer=_worker_init, initargs=(self.cfg,))
        return self._ex

    def close(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(cancel_futures=True)
            self._ex = None


def merge_into(acc: dict[str | None, ColumnStats], parts: Iterable[ColumnStats], limit: int) -> None:
    for st in parts:
        mine = acc.get(st.label)
        if mine is None:
            acc[st.label] = st
        else:
            mine.merge(st, limit)


def scan_chunks(chunks: Iterator["Chunk"], cfg: ScanConfig, pool: Pool | None) -> list[ColumnStats]:
    """Scan every chunk, in this process or on ``pool`` (bounded number of chunks in flight)."""
    if pool is None or pool.workers < 2:
        bs = BatchScan(cfg)
        for chunk in chunks:
            scan_chunk(bs, chunk)
        return bs.results()
    from collections import deque

    ex = pool.executor()
    acc: dict[str | None, ColumnStats] = {}
    pending: deque = deque()
    for chunk in chunks:
        pending.append(ex.submit(_worker_scan, chunk))
        while len(pending) > 2 * pool.workers:
            merge_into(acc, pending.popleft().result(), cfg.examples)
    while pending:
        merge_into(acc, pending.popleft().result(), cfg.examples)
    return list(acc.values())
