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

from . import vector as X
from .entities import TEST_EMAIL_DOMAINS, TEST_VALUES, WEAK_NUMERIC
from .scanner import _KNUTH, ColumnScanner, ColumnStats, ScanConfig

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
        if rows is None and not sc.allow_any and len(pos) >= 64:
            rws0 = [row_base + i + 1 for i in pos]
            for i in vector_pass(sc, cand, rws0, lines):
                cells[i] = None  # booked already
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
        kw = pc.match_substring_regex(cand, sc.kw_pattern).to_pylist() if sc.kw_pattern else None
        kv = pc.match_substring_regex(cand, sc.kv_pattern).to_pylist() if sc.kv_pattern else None
        sc.scan(cells, rws, lines=lines, paths=pth, whole=whole, kw=kw, kv=kv)

    def results(self) -> list[ColumnStats]:
        return [s.stats for s in self.scanners.values()]


def vector_pass(sc: ColumnScanner, cand: pa.Array, rows: list[int], lines: bool = False) -> list[int]:
    """Validate whole-cell candidates of the common structured shapes in pyarrow kernels and
    book the accepted ones; return the positions consumed. Rejected cells stay for the Python
    path, so results equal the per-cell validators'. Sampled entities (IP addresses under the
    default policy) get their sampling decided here: unsampled cells are counted, not parsed."""
    consumed: list[int] = []
    for cls, pat in sc.whole:
        if cls not in ("email", "num", "iban", "ip4"):
            continue
        idx = pc.indices_nonzero(pc.match_substring_regex(cand, pat))
        if len(idx) == 0:
            continue
        pos = idx.to_pylist()
        if cls == "ip4":
            if "IP_ADDRESS" in sc.sampled:
                skip = [i for i in pos if _unsampled(sc.cfg, rows[i])]
                if skip:
                    sc._stat("IP_ADDRESS").candidates += len(skip)
                    consumed.extend(skip)
            continue
        sub = pc.take(cand, idx)
        if cls == "email":
            groups = [("EMAIL_ADDRESS", X.emails, sub, pos)]
        elif cls == "iban":
            groups = [("IBAN_CODE", X.ibans, sub, pos)]
        else:
            is_ssn = pc.match_substring_regex(sub, X.SSN_FORMATTED)
            si = pc.indices_nonzero(is_ssn)
            ci = pc.indices_nonzero(pc.invert(is_ssn))
            not_ssn = [pos[j] for j in ci.to_pylist()]
            groups = [("US_SSN", X.ssns, pc.take(sub, si), [pos[j] for j in si.to_pylist()]),
                      ("CREDIT_CARD", X.cards, pc.take(sub, ci), not_ssn)]
        for entity, fn, cells, where in groups:
            if not where or entity not in sc.active or entity in sc.sampled:
                continue
            ok, norm = fn(cells)
            acc = pc.indices_nonzero(ok)
            if len(acc) == 0:
                continue
            norm_acc = pc.take(norm, acc)
            if entity == "EMAIL_ADDRESS":
                tmask = pc.ends_with(norm_acc, TEST_EMAIL_DOMAINS[0])
            else:
                tmask = pc.is_in(norm_acc, value_set=pa.array(sorted(TEST_VALUES.get(entity, ())), pa.string()))
            test = tmask.to_pylist() if pc.any(tmask).as_py() else None
            at = [where[j] for j in acc.to_pylist()]
            sc.bulk(entity, [rows[i] for i in at], norm_acc, test, lines)
            consumed.extend(at)
        if cls == "num" and sc.ctx & set(WEAK_NUMERIC) == {"PHONE_NUMBER"} and "PHONE_NUMBER" in sc.sampled:
            # a phone column: what is not a card or an SSN-shaped value would only be counted as
            # a phone candidate on rows outside the sample, so count those here
            done = set(consumed)
            skip = [i for i in not_ssn if i not in done and _unsampled(sc.cfg, rows[i])]
            if skip:
                sc._stat("PHONE_NUMBER").candidates += len(skip)
                consumed.extend(skip)
    return consumed


def _unsampled(cfg: ScanConfig, row: int) -> bool:
    """The complement of the scanner's row sampling rule (see ColumnScanner._sample)."""
    return row > cfg.sample_min_rows and (row * _KNUTH) % 1_000_003 >= cfg.sample_rate * 1_000_003


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
