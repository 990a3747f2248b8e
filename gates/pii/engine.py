"""Run the scanner over columnar batches: prefilter with RE2, validate candidates in Python.

The prefilter (one RE2 pass over each column as one text, :mod:`.textscan`, then RE2 on the cells
it found) keeps PII-sparse data from ever reaching Python;
for the candidate pass Python's ``re`` on short cells beat ``google-re2``'s per-call overhead (see
``bench/pii_bench.py --engines``), so ``re`` is the default there.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence

import pyarrow as pa

from gates.core.errors import InputError

from . import compute as pc
from . import kernels as K
from . import semantic as _semantic
from . import phones as _phones
from . import textscan as _textscan
from . import vector as X
from .entities import TEST_EMAIL_DOMAINS, TEST_VALUES, WEAK_NUMERIC, column_context
from .scanner import _KNUTH, CLASS_LITERALS, ColumnScanner, ColumnStats, ScanConfig
from .semantic import SemanticPass

if TYPE_CHECKING:
    from .datasets import Datasets, Parts
    from .pool import Pool
    from .readers import Chunk
    from .semantic import Preset

#: compiled scanners per (policy, what the column's name gives context for and rules out,
#: engine, settled entities), for the life of the process: built once, copied per file and
#: column under the column's own name (see ColumnScanner.fresh); the policy is kept alive so its
#: id stays unique. Everything a scanner builds comes from its name's context, not the name: a
#: JSON document's paths are column names by the thousand (43k in botocore's EC2 API
#: definition), nearly all with one context, and each built its own patterns (35 % of that scan)
_TEMPLATES: dict[tuple[int, frozenset[str], frozenset[str], str, frozenset[str]], tuple[ScanConfig, ColumnScanner]] = {}
_TEMPLATE_MAX = 4096
NOTHING: frozenset[str] = frozenset()


def _template(cfg: ScanConfig, label: str | None, engine: str, skip: frozenset[str] = NOTHING) -> ColumnScanner:
    """The template for ``label``'s context: never scans; :meth:`ColumnScanner.fresh` with the
    label makes the column's scanner."""
    pos, neg = column_context(label)
    key = (id(cfg), pos, neg, engine, skip)
    hit = _TEMPLATES.get(key)
    if hit is not None and hit[0] is cfg:
        return hit[1]
    if len(_TEMPLATES) >= _TEMPLATE_MAX:
        _TEMPLATES.clear()
    sc = ColumnScanner(cfg, label, engine, skip)
    _TEMPLATES[key] = (cfg, sc)
    return sc


@dataclass
class BatchScan:
    """Scans labelled columns chunk after chunk, keeping one scanner per label."""

    cfg: ScanConfig
    engine: str = "re"
    scanners: dict[str | None, ColumnScanner] = field(default_factory=dict)
    #: per label, entities its scanner need not look for (see :meth:`settle`)
    skips: dict[str | None, frozenset[str]] = field(default_factory=dict)
    #: a part of a table: its share of one file's budgets (see :meth:`ColumnScanner.as_part`)
    share: float = 1.0
    #: the counts of columns that had nothing to scan yet, kept without a scanner (a scanner is
    #: ~2.5 KB: a JSON document's 43,000 paths, most of them without a candidate, built one each)
    quiet: dict[str | None, ColumnStats] = field(default_factory=dict)
    #: every label counted, in the order first seen (the order of :meth:`results`)
    seen: dict[str | None, None] = field(default_factory=dict)

    def scanner(self, label: str | None) -> ColumnScanner:
        s = self.scanners.get(label)
        if s is None:
            s = self.scanners[label] = _template(self.cfg, label, self.engine, self.skips.get(label, NOTHING)).fresh(label)
            if self.share < 1.0:
                s.as_part(max(_semantic.PART_CHECK, math.ceil(self.cfg.sample_min_rows * self.share)),
                          _semantic.part_examples(self.cfg.examples, self.share))
            counted = self.quiet.pop(label, None)
            if counted is not None:
                s.stats.rows += counted.rows
            self.seen.setdefault(label, None)
        return s

    def template(self, label: str | None) -> ColumnScanner:
        """The column's scanner if it has one, else the template it would be copied from: for
        its patterns and settings only (a template never scans)."""
        s = self.scanners.get(label)
        return s if s is not None else _template(self.cfg, label, self.engine, self.skips.get(label, NOTHING))

    def settle(self, skips: dict[str | None, frozenset[str]], fresh: bool = False) -> None:
        """Take the column-semantics pass's settled entities per label. A scanner already
        counting keeps its set (its counts so far would be lost), unless ``fresh``: the caller
        starts every scanner's counts afresh anyway (a worker's chunk, see :func:`_scan_alone`)."""
        for label, skip in skips.items():
            s = self.scanners.get(label)
            if s is None:
                self.skips[label] = skip
            elif fresh and s.skip != skip:
                self.skips[label] = skip
                del self.scanners[label]

    def column(self, label: str | None, arr: pa.Array | pa.ChunkedArray, row_base: int = 0,
               rows: Sequence[int] | None = None, lines: bool = False, paths: Sequence[str] | None = None,
               pre: pa.Array | None = None, cross: Sequence[int] | None = None, edges: Sequence[int] | None = None,
               flags: list[list[bool] | None] | None = None,
               whole_given: tuple[pa.Array, list[str | None]] | None = None) -> None:
        """Scan one column chunk. Rows are ``row_base + i + 1`` unless ``rows`` gives them;
        ``pre``, when given, is the prefilter's answer computed together with other columns,
        ``whole_given`` what :func:`whole_cells` left of its candidates (run across files, with
        the settled cells booked already), and ``flags`` which of the candidates left match
        the keyword and key-value patterns.
        ``cross`` marks seams of cut lines: only matches straddling ``cross[i]`` count there
        (the rest was found in the pieces), and the seams add no rows; ``edges`` marks the
        pieces of cut lines (see :meth:`ColumnScanner.scan`)."""
        if pre is not None and len(pre) == 0 and cross is None and label not in self.scanners:
            # no candidate, and no scanner yet: only the rows are counted
            quiet = self.quiet.get(label)
            if quiet is None:
                quiet = self.quiet[label] = ColumnStats(label)
                self.seen.setdefault(label, None)
            quiet.rows += len(arr) if rows is None else len(set(rows))
            return
        sc = self.scanner(label)
        if cross is None:
            # the column's rows, the denominator of a finding's share: the elements of a list
            # column (``a[]``) and the pieces of a cut line share their row, and counting each as
            # a row diluted the share (every record with three addresses: 33 %, which let a
            # column over ``max_fraction`` pass)
            sc.stats.rows += len(arr) if rows is None else len(set(rows))
        if sc.rx is None or self.cfg.column_allowed(label) or len(arr) == 0:
            return
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()  # one RE2 compile per column, not per chunk
        if not pa.types.is_string(arr.type):
            arr = K.as_strings(arr)
            if arr is None or not pa.types.is_string(arr.type):
                raise InputError(str(label), "column too large for one batch")
        if pre is not None:
            idx = pre
        elif sc.dense:
            # most cells of this column were candidates last time: the prefilter would keep
            # nearly everything, so only drop empty cells
            idx = _non_empty(arr)
        else:
            idx = prefilter(arr, sc.pattern, sc.block_pattern, dense=True)
        if len(idx) == 0:
            sc.dense = False
            return
        non_empty = len(arr) - arr.null_count
        sc.dense = len(idx) > 0.6 * max(non_empty, 1) and len(idx) >= 256
        if whole_given is not None and len(whole_given[0]) == 0:
            return  # the one-token pass across files took every candidate
        cand = arr if len(idx) == len(arr) else pc.take(arr, idx)  # a dense column: no copy
        whole: list[str | None] | None = None
        if whole_given is not None:
            left, whole = whole_given
            if len(left) < len(cand):
                cand, idx = pc.take(cand, left), pc.take(idx, left)
            if len(cand) == 0:
                return
        elif len(cand) >= SMALL and sc.whole and cross is None and edges is None:
            # one-token cells: classified (and mostly validated and booked) in pyarrow; only
            # what is left reaches Python
            vector = rows is None and not sc.allow_any
            left, whole = whole_cells(sc, cand, pc.add(idx, row_base + 1) if vector else None, lines)
            if len(left) < len(cand):
                cand, idx = pc.take(cand, left), pc.take(idx, left)
            if len(cand) == 0:
                return
        cells = cand.to_pylist()
        pos = idx.to_pylist()
        rws = [row_base + i + 1 for i in pos] if rows is None else [rows[i] for i in pos]
        pth = [paths[i] for i in pos] if paths is not None else None
        if flags is not None:
            kw, kv = flags  # each None where the scanner has no such pattern
        else:
            kw, kv = _flags(cand, sc.kw_pattern, whole), _flags(cand, sc.kv_pattern, whole)
        crs = [cross[i] for i in pos] if cross is not None else None
        eds = [edges[i] for i in pos] if edges is not None else None
        sc.scan(cells, rws, lines=lines, paths=pth, whole=whole, kw=kw, kv=kv, cross=crs, edges=eds)

    def results(self) -> list[ColumnStats]:
        out = []
        for label in self.seen:
            s = self.scanners.get(label)
            if s is not None:
                out.append(s.stats)
            elif label in self.quiet:
                out.append(self.quiet[label])
        return out


#: from this many cells on a column is prefiltered as one text (:mod:`.textscan`); shorter ones
#: cell by cell (:func:`kernels.match`)
TEXT_MIN = 256
SMALL = K.SMALL
_match = K.match


def _flags(cand: pa.Array, pattern: str | None, whole: list[str | None] | None) -> list[bool] | None:
    """Which cells match a keyword-led ``pattern``; cells that are one token (``whole``) cannot
    hold a keyword followed by a value, so they are not tested."""
    if not pattern:
        return None
    if whole is None:
        return _match(cand, pattern).to_pylist()
    rest = [i for i, w in enumerate(whole) if w is None]
    out = [False] * len(cand)
    if rest:
        idx = pa.array(rest, pa.int64())
        for i in pc.indices_nonzero(_match(pc.take(cand, idx), pattern)).to_pylist():
            out[rest[i]] = True
    return out


#: a large column the text pass hands back whole is probed on this many first cells; when
#: :data:`DENSE_PROBE_SHARE` of them match the block pattern, the column is dense
DENSE_PROBE = 2048
DENSE_PROBE_SHARE = 0.9


def prefilter(arr: pa.Array, pattern: str, block_pattern: str | None = None, dense: bool = False) -> pa.Array:
    """Indices of the cells that match ``pattern``. See :func:`prefilter_many`."""
    return prefilter_many([arr], pattern, block_pattern, dense=dense)[0]


def _non_empty(arr: pa.Array) -> pa.Array:
    """Indices of the cells that are neither null nor empty."""
    return pc.indices_nonzero(pc.greater(pc.utf8_length(arr), X.lit(0)))


def prefilter_many(arrs: list[pa.Array], pattern: str, block_pattern: str | None = None, threads: bool = False,
                   dense: bool = False) -> list[pa.Array]:
    """For each string array of ``arrs``, the indices (int64) of the cells that match ``pattern``.

    Cells are first found by one RE2 pass over each column as one text (:mod:`.textscan`; with
    ``block_pattern``, which matches wherever ``pattern`` does and is cheaper to run), then only
    those are tested with ``pattern`` one by one. On PII-sparse data that is a few hundred search
    calls for 50 MB, with no per-call compile. ``threads`` searches large columns in two halves
    on :func:`_threads` (only from a thread that is not one of them).

    With ``dense`` (for :meth:`BatchScan.column`, whose dense path takes every non-empty cell of
    a column most of whose cells matched: the scan finds nothing in the others), a column of
    :data:`kernels.SMALL` cells or more whose first quarter (at most :data:`DENSE_PROBE` cells)
    nearly all match the block pattern is handed back as its non-empty cells, without the
    per-cell kernels over the rest (on a 50 MB dense CSV they were ~80 ms of the first chunk,
    which no earlier chunk had marked dense)."""
    small = [len(a) < TEXT_MIN for a in arrs]
    pool = _threads() if threads else None
    big = [a for a, s in zip(arrs, small) if not s]
    found = _textscan.candidates(big, block_pattern or pattern, pool) if big else []
    if found is None:  # google-re2 refused the pattern: the kernel on every cell
        found = [None] * len(big)
    it = iter(found)
    todo = [(a, None if s else next(it)) for a, s in zip(arrs, small)]

    def exact(a: pa.Array, idx: pa.Array | None) -> pa.Array:
        if (idx is None or len(idx) == len(a)) and block_pattern and len(a) >= K.SMALL:
            if dense:
                probe = min(DENSE_PROBE, len(a) // 4)
                hits = pc.sum(_match(a.slice(0, probe), block_pattern)).as_py() or 0
                if hits >= DENSE_PROBE_SHARE * probe:
                    return pc.cast(_non_empty(a), pa.int64())
            # every cell is left (a dense column): the block pattern first, cell by cell, then the
            # full one on its hits. pyarrow's kernel ran the scanner's full alternation at ~4.5 µs
            # a cell against ~0.4 µs for the block pattern (its DFA stays small): on 66k dense
            # Faker cells 0.31 s became 0.03 s + the full pattern on the 27 % that hit
            idx = pc.cast(pc.indices_nonzero(_match(a, block_pattern)), pa.int64())
        if idx is None or len(idx) == len(a):
            return pc.cast(pc.indices_nonzero(_match(a, pattern)), pa.int64())
        if len(idx) == 0:
            return idx
        return pc.filter(idx, _match(pc.take(a, idx), pattern))

    if pool is not None and len(todo) > 1:  # the kernel releases the GIL: dense columns side by side
        return list(pool.map(lambda t: exact(*t), todo))
    return [exact(a, idx) for a, idx in todo]


def _arange(n: int) -> pa.Array:
    return pc.indices_nonzero(pa.repeat(X.lit(True), n)) if n else pa.array([], pa.uint64())


def _without(a: pa.Array, drop: list[pa.Array]) -> pa.Array:
    """The values of ``a`` (positions) that are in none of the ``drop`` arrays, in order."""
    if not drop or len(a) == 0:
        return a
    return pc.filter(a, pc.invert(pc.is_in(a, value_set=pa.concat_arrays([pc.cast(d, a.type) for d in drop]))))


class _Book:
    """Where :func:`whole_cells` books what it settles: one column's scanner."""

    def __init__(self, sc: ColumnScanner, lines: bool) -> None:
        self.sc, self.lines = sc, lines

    def bulk(self, entity: str, rows: pa.Array, at: pa.Array, norm: pa.Array, test: list[bool] | None) -> None:
        """Cells ``at`` (ascending positions) accepted as ``entity``, ``norm`` their values."""
        self.sc.bulk(entity, pc.take(rows, at), norm, test, self.lines)

    def count(self, entity: str, at: pa.Array) -> None:
        """Cells ``at`` counted as candidates of ``entity`` outside the row sample."""
        self.sc._stat(entity).candidates += len(at)


class _Split(_Book):
    """The same for the columns of several files concatenated (:func:`scan_many`): each cell
    is booked on its own file's scanner, ``starts`` giving where each column begins."""

    def __init__(self, scs: list[ColumnScanner], starts: list[int], lines: bool) -> None:
        super().__init__(scs[0], lines)
        self.scs, self.starts = scs, starts

    def _spans(self, at: pa.Array) -> Iterator[tuple[int, int, int]]:
        pos = at.to_pylist()
        lo = 0
        while lo < len(pos):
            k = bisect.bisect_right(self.starts, pos[lo]) - 1
            hi = bisect.bisect_left(pos, self.starts[k + 1], lo)
            yield k, lo, hi
            lo = hi

    def bulk(self, entity: str, rows: pa.Array, at: pa.Array, norm: pa.Array, test: list[bool] | None) -> None:
        taken = pc.take(rows, at)  # once for all the files: each gets its slice
        for k, lo, hi in self._spans(at):
            self.scs[k].bulk(entity, taken.slice(lo, hi - lo), norm.slice(lo, hi - lo),
                             test[lo:hi] if test is not None else None, self.lines)

    def count(self, entity: str, at: pa.Array) -> None:
        for k, lo, hi in self._spans(at):
            self.scs[k]._stat(entity).candidates += hi - lo


def whole_cells(sc: ColumnScanner, cand: pa.Array, rows: pa.Array | None, lines: bool,
                book: _Book | None = None) -> tuple[pa.Array, list[str | None]]:
    """Find the cells that are exactly one token of a class, each class tried on the cells no
    earlier class took. With ``rows`` (the cells' data rows, for columns without allowlists),
    validate the common structured shapes in pyarrow kernels and book the accepted cells.
    Return the positions the Python path must still see (ascending) and, for each of them, the
    class of its one token or None. Rejected cells stay for the Python path unless nothing else
    could be found in them, so results equal the per-cell validators'. Sampled entities (IP
    addresses, phone numbers under the default policy) get their sampling decided here:
    unsampled cells are counted, not parsed. Nothing here converts a cell to a Python object.
    ``book`` says where accepted cells are booked (default: ``sc``)."""
    book = book if book is not None else _Book(sc, lines)
    everything = _arange(len(cand))
    consumed: list[pa.Array] = []
    classified: list[tuple[str, pa.Array]] = []
    remaining = everything
    for cls, pat in sc.whole:
        if len(remaining) == 0:
            break
        sub_all = cand if len(remaining) == len(cand) else pc.take(cand, remaining)
        need = CLASS_LITERALS.get(cls)
        if need is not None and not K.may_hold(sub_all, need.encode()):
            continue  # no cell holds the class's literal (one memchr-speed search, not a regex per cell)
        m = _match(sub_all, pat)
        hit = pc.indices_nonzero(m)
        if len(hit) == 0:
            continue
        pos = pc.take(remaining, hit)
        remaining = pc.filter(remaining, pc.invert(m))
        classified.append((cls, pos))
        if rows is None or cls not in ("email", "num", "iban", "ip4", "ip6"):
            continue
        if cls in ("ip4", "ip6"):
            # a part of a table leaves its sample to the per-cell pass, which keeps validating
            # until the part's verdict is settled (ColumnScanner.as_part)
            if "IP_ADDRESS" in sc.sampled and sc.settled is None:
                skip = pc.filter(pos, _unsampled(sc.cfg, pc.take(rows, pos)))
                if len(skip):
                    book.count("IP_ADDRESS", skip)
                    consumed.append(skip)
            continue
        sub = pc.take(sub_all, hit)
        not_ssn = pos
        if cls == "email":
            groups = [("EMAIL_ADDRESS", X.emails, sub, pos)]
        elif cls == "iban":
            groups = [("IBAN_CODE", X.ibans, sub, pos)]
        else:
            is_ssn = _match(sub, X.SSN_FORMATTED)
            not_ssn = pc.filter(pos, pc.invert(is_ssn))
            groups = [("US_SSN", X.ssns, pc.filter(sub, is_ssn), pc.filter(pos, is_ssn)),
                      ("CREDIT_CARD", X.cards, pc.filter(sub, pc.invert(is_ssn)), not_ssn)]
        done: list[pa.Array] = []
        for entity, fn, cells, where in groups:
            if not len(where) or entity not in sc.active or entity in sc.sampled:
                continue
            ok, norm = fn(cells)
            # where the Python path could not find anything else in a rejected cell, the
            # rejection is final too: an email that fails the full pattern, a 13-19 digit
            # number that fails Luhn/issuer in a column without weak-number context
            if entity == "EMAIL_ADDRESS" or (entity == "CREDIT_CARD" and sc.strict):
                rejected = pc.filter(where, pc.invert(ok))
                if len(rejected):
                    consumed.append(rejected)
                    done.append(rejected)
            acc = pc.indices_nonzero(ok)
            if len(acc) == 0:
                continue
            norm_acc = pc.take(norm, acc)
            if entity == "EMAIL_ADDRESS":
                tmask = pc.ends_with(norm_acc, TEST_EMAIL_DOMAINS[0])
            else:
                tmask = pc.is_in(norm_acc, value_set=pa.array(sorted(TEST_VALUES.get(entity, ())), pa.string()))
            test = tmask.to_pylist() if pc.any(tmask).as_py() else None
            at = pc.take(where, acc)
            book.bulk(entity, rows, at, norm_acc, test)
            consumed.append(at)
            done.append(at)
        if cls == "num":
            # what ColumnScanner._num could still do with a whole-cell number it did not book
            # here: 9 digits (SSN/ITIN/ABA), and in a column with context a 10-digit NHS number,
            # an 8-17 digit account or a phone number. The rest (an 11-digit tax id in an "ssn"
            # column, a 15-digit number that failed the card checks) would pass through it
            # without a count: they are dropped here instead of being walked in Python.
            rest = _without(pos, done)
            if len(rest):
                digits = pc.replace_substring(pc.replace_substring(pc.take(cand, rest), " ", ""), "-", "")
                plain = pc.match_substring_regex(digits, "^[0-9]+$")
                n = pc.utf8_length(digits)
                keep = pc.and_(plain, pc.equal(n, X.lit(9)))
                if sc.card_on and "CREDIT_CARD" in sc.sampled:  # cards were not validated above
                    keep = pc.or_(keep, pc.and_(plain, pc.greater_equal(n, X.lit(12))))
                if not sc.strict:
                    if "PHONE_NUMBER" in sc.ctx:
                        keep = None  # any shape may be a phone number
                    else:
                        if "UK_NHS" in sc.ctx:
                            keep = pc.or_(keep, pc.and_(plain, pc.equal(n, X.lit(10))))
                        if "US_BANK_NUMBER" in sc.ctx:
                            keep = pc.or_(keep, pc.and_(plain, pc.and_(pc.greater_equal(n, X.lit(8)), pc.less_equal(n, X.lit(17)))))
                if keep is not None:
                    drop = pc.filter(rest, pc.invert(keep))
                    if len(drop):
                        consumed.append(drop)
        if (cls == "num" and sc.ctx & set(WEAK_NUMERIC) == {"PHONE_NUMBER"} and "PHONE_NUMBER" in sc.sampled
                and sc.settled is None):
            # a phone column: what is not a card or an SSN-shaped value would only be counted as
            # a phone candidate on rows outside the sample, so count those here
            rest = _without(not_ssn, done)
            skip = pc.filter(rest, _unsampled(sc.cfg, pc.take(rows, rest)))
            if len(skip):
                book.count("PHONE_NUMBER", skip)
                consumed.append(skip)
    left = _without(everything, consumed)
    whole: list[str | None] = [None] * len(left)
    for cls, pos in classified:
        for j in pc.indices_nonzero(pc.is_in(left, value_set=pos)).to_pylist():
            whole[j] = cls
    return left, whole


def _unsampled(cfg: ScanConfig, rows: pa.Array) -> pa.Array:
    """Which ``rows`` fall outside the scanner's row sample (the rule of ColumnScanner._sample,
    in uint64 arithmetic: exact while row * 2654435761 < 2**64, i.e. below 6.9e9 rows)."""
    if len(rows) and pc.max(rows).as_py() >= 6_000_000_000:
        lim, cut = cfg.sample_min_rows, cfg.sample_rate * 1_000_003
        return pa.array([r > lim and (r * _KNUTH) % 1_000_003 >= cut for r in rows.to_pylist()], pa.bool_())
    r = pc.cast(rows, pa.uint64())
    h = pc.multiply(r, X.lit(_KNUTH, pa.uint64()))
    m = X.lit(1_000_003, pa.uint64())
    rem = pc.subtract(h, pc.multiply(pc.divide(h, m), m))
    return pc.and_(pc.greater(r, X.lit(cfg.sample_min_rows)), pc.greater_equal(rem, X.lit(cfg.sample_rate * 1_000_003)))


# ---- files, in process or across worker processes ------------------------------------------------

#: columns of one chunk scanned side by side from this many rows on (see :func:`_threads`)
THREAD_MIN_ROWS = 4096


@functools.lru_cache(maxsize=1)
def _threads() -> Any:
    """Two threads for the columns of a chunk, or None on one CPU. pyarrow's kernels (the
    prefilter, the vectorised validators) release the GIL, so one column's kernels run while
    another column's cells are validated in Python: on 50 MB of dense Faker data ~13 % less
    wall time (median of five interleaved runs). Worker processes never use them (one thread each: the processes are the
    parallelism there)."""
    if (os.cpu_count() or 1) < 2:
        return None
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(2, thread_name_prefix="pii-column")


def scan_chunk(bs: BatchScan, chunk: "Chunk", given: dict[int, pa.Array] | None = None, threads: bool = False,
               flags: dict[int, list[list[bool] | None]] | None = None,
               wholes: dict[int, tuple[pa.Array, list[str | None]]] | None = None) -> None:
    """Scan every column of a chunk. Large string columns are prefiltered first, together
    (:func:`prefilter_many`: on two threads with ``threads``). ``given`` holds prefilter answers
    computed already (by :func:`scan_many`, across files), by ``id`` of the column, ``flags``
    its keyword flags of the candidates and ``wholes`` its one-token cells (see
    :meth:`BatchScan.column`). With
    ``threads``, columns of a large chunk are scanned on :func:`_threads`: each label's columns
    in order on one thread (a scanner is never shared between threads), scanners created here
    first, in column order, so results come out in the same order."""
    pool = _threads() if threads and chunk.nrows >= THREAD_MIN_ROWS and len(chunk.columns) > 1 else None
    groups: dict[tuple[str, Any], list[Any]] = {}
    for col in chunk.columns:
        sc = bs.scanner(col.label) if pool is not None else bs.template(col.label)
        if (col.rows is None and sc.rx is not None and not sc.dense and isinstance(col.values, pa.Array)
                and pa.types.is_string(col.values.type) and len(col.values) >= TEXT_MIN and not bs.cfg.column_allowed(col.label)
                and (given is None or id(col) not in given)):
            groups.setdefault((sc.pattern, sc.block_pattern, col.values.type), []).append(col)
    pre: dict[int, pa.Array] = dict(given or {})
    for (pattern, block_pattern, _), members in groups.items():
        if len(members) > 1:  # a column of its own is prefiltered where it is scanned
            for col, idx in zip(members, prefilter_many([c.values for c in members], pattern, block_pattern, threads, dense=True)):
                pre[id(col)] = idx

    def scan(cols: list[Any]) -> None:
        for col in cols:
            bs.column(col.label, col.values, chunk.row_base, rows=col.rows, lines=chunk.lines, paths=col.paths,
                      pre=pre.get(id(col)), cross=col.cross, edges=col.edges,
                      flags=flags.get(id(col)) if flags else None, whole_given=wholes.get(id(col)) if wholes else None)

    if pool is None:
        scan(chunk.columns)
        return
    by_label: dict[str | None, list[Any]] = {}
    for col in chunk.columns:
        by_label.setdefault(col.label, []).append(col)
    # longest columns first, so the last task to start is a short one
    tasks = sorted(by_label.values(), key=lambda cols: -sum(_size(c.values) for c in cols))
    for f in [pool.submit(scan, cols) for cols in tasks]:
        f.result()


def _size(values: Any) -> int:
    return int(getattr(values, "nbytes", 0))  # only an ordering hint


_WORKER: dict[str, Any] = {}


def worker_init(cfg: ScanConfig) -> None:
    """Each worker process of :class:`.pool.Pool`, once: its scanning state (:data:`_WORKER`)."""
    # one thread per worker: the workers are the parallelism; pyarrow's own pools would only
    # oversubscribe the cores
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    _WORKER["bs"] = BatchScan(cfg)
    _WORKER["cfg"] = cfg


def read_scan_many(paths: Sequence[Any], limits: Any, fmt: str, cfg: ScanConfig,
                   parts: Mapping[str, "Parts"] | None = None,
                   datasets: "Datasets | None" = None) -> list[tuple[Any, Any, Any]]:
    """Read and scan a batch of small files (:func:`scan_many`): per file ``(info, columns,
    None)``, or ``(None, None, failure)`` (:func:`readers.failure_of`) for a file that could not
    be read or scanned. If the batch scan fails, the files are scanned one by one, so one bad
    file does not hide the others.

    ``parts`` (directory → its small files, :func:`datasets.members`) lets the files of
    one table share their columns' decisions (:mod:`.datasets`), kept in ``datasets`` between
    batches.

    The files read wait in memory to be scanned together only up to :data:`LOADED_COLUMNS`
    columns or :data:`LOADED_CELLS` cells, then those are scanned: a batch is bounded by the
    bytes of its files, and a small compressed JSON document expands to tens of thousands of
    columns (298 botocore API definitions, 16 MiB a batch: 3.4 GB RSS in one process, ~1 GB
    per worker). Results do not depend on where a batch is cut."""
    from . import readers
    from .datasets import Datasets

    out: list[tuple[Any, Any, Any]] = [(None, None, None)] * len(paths)
    loaded: list[tuple[int, Any, list[Any]]] = []
    columns = cells = 0
    if parts and datasets is None:
        datasets = Datasets(cfg, lambda p: readers.read(p, limits, fmt, inline=True))
    for k, path in enumerate(paths):
        try:
            info, chunks = readers.read(path, limits, fmt, inline=True)
            got = list(chunks)
        except Exception as exc:  # noqa: BLE001 - every reader failure is reported, naming the file
            out[k] = (None, None, readers.failure_of(exc))
            continue
        loaded.append((k, info, got))
        columns += sum(len(ch.columns) for ch in got)
        cells += sum(len(c.values) for ch in got for c in ch.columns)
        if columns >= LOADED_COLUMNS or cells >= LOADED_CELLS:
            _scan_loaded(paths, loaded, cfg, parts, datasets, out)
            loaded, columns, cells = [], 0, 0
    if loaded:
        _scan_loaded(paths, loaded, cfg, parts, datasets, out)
    return out


#: columns and cells of read files that wait to be scanned together (:func:`read_scan_many`):
#: ~5 KB a column while it is scanned (its scanner, arrays, paths, semantic state)
LOADED_COLUMNS = 20_000
LOADED_CELLS = 2_000_000


def _scan_loaded(paths: Sequence[Any], loaded: list[tuple[int, Any, list[Any]]], cfg: ScanConfig,
                 parts: Mapping[str, "Parts"] | None, datasets: "Datasets | None",
                 out: list[tuple[Any, Any, Any]]) -> None:
    """Scan files read by :func:`read_scan_many`, together, into ``out`` (by their index)."""
    from . import readers
    from .datasets import key_of

    presets: list[Any] = [None] * len(loaded)
    if parts and datasets is not None:
        at_hand = {str(paths[k]): (info, chunks) for k, info, chunks in loaded}
        for j, (k, info, chunks) in enumerate(loaded):
            path = str(paths[k])
            try:
                presets[j] = datasets.preset(path, key_of(info, chunks), parts.get(str(Path(path).parent)), at_hand)
            except Exception:  # noqa: BLE001 - the file is classified alone, as before
                presets[j] = None
    try:
        results: list[Any] = scan_many([c for _, _, c in loaded], cfg, presets,
                                       datasets.dense if datasets is not None else None)
    except Exception:  # noqa: BLE001 - scanned again, file by file
        results = []
        for (_, _, chunks), preset in zip(loaded, presets):
            try:
                results.append(scan_chunks(iter(chunks), cfg, None, preset))
            except Exception as exc:  # noqa: BLE001
                results.append(readers.failure_of(exc))
    for (k, info, _), res in zip(loaded, results):
        out[k] = (None, None, res) if isinstance(res, readers.Failure) else (info, res, None)


def _worker_read_scan(paths: list[Any], limits: Any, fmt: str,
                      parts: Mapping[str, "Parts"] | None = None) -> list[tuple[Any, Any, Any]]:
    """A batch of small files, read and scanned in a worker: the parent only reports them (it
    read them itself before, and pickled their chunks over: a third of its time on 592 files).
    The worker keeps the tables' decisions between its batches (:mod:`.datasets`)."""
    datasets = _WORKER.get("datasets")
    if parts and datasets is None:
        from . import readers
        from .datasets import Datasets

        datasets = _WORKER["datasets"] = Datasets(_WORKER["cfg"], lambda p: readers.read(p, limits, fmt, inline=True))
    got = read_scan_many(paths, limits, fmt, _WORKER["cfg"], parts, datasets)
    # only columns holding an entity are reported (:func:`decide.report_file`): the others
    # (most columns of most parts) are not pickled over, nor unpickled by the parent
    return [(info, [c for c in columns if c.entities], None) if columns is not None else (info, columns, failure)
            for info, columns, failure in got]


def _scan_alone(bs: BatchScan, chunk: "Chunk", skips: dict[str | None, frozenset[str]] | None = None) -> list[ColumnStats]:
    """Scan one chunk with counts of its own (merged later, in chunk order); compiled scanners
    are reused, their counts start afresh."""
    if skips:
        bs.settle(skips, fresh=True)
    for sc in bs.scanners.values():
        sc.stats = ColumnStats(sc.label)
    bs.quiet.clear()
    bs.seen = dict.fromkeys(bs.scanners)
    scan_chunk(bs, chunk)
    return [s for s in bs.results() if s.rows]


def _worker_scan(chunk: "Chunk", skips: dict[str | None, frozenset[str]] | None = None) -> list[ColumnStats]:
    try:
        return _scan_alone(_WORKER["bs"], chunk, skips)
    finally:
        pa.default_memory_pool().release_unused()  # as in scan_chunks: one chunk's working set


def merge_into(acc: dict[str | None, ColumnStats], parts: Iterable[ColumnStats], limit: int) -> None:
    for st in parts:
        mine = acc.get(st.label)
        if mine is None:
            acc[st.label] = st
        else:
            mine.merge(st, limit)


#: set False to send every chunk to the workers (tests of the parallel path)
ADAPTIVE = True
#: chunks the last parallel file sent to worker processes and scanned in this one (for tests)
SPLIT = {"workers": 0, "parent": 0}
SPARSE = 0.02


def candidate_share(bs: BatchScan, chunk: "Chunk", sample: int = 2048) -> float:
    """Share of cells the prefilter keeps, on the first ``sample`` rows of each column (one
    regex call per distinct pattern: pyarrow compiles the pattern on every call)."""
    groups: dict[tuple[str, Any], list[pa.Array]] = {}
    for col in chunk.columns:
        sc = bs.template(col.label)
        if sc.rx is None or not isinstance(col.values, pa.Array):
            continue
        part = col.values.slice(0, sample)
        groups.setdefault((sc.pattern, part.type), []).append(part)
    kept = seen = 0
    for (pattern, _), parts in groups.items():
        cells = pa.concat_arrays(parts)
        seen += len(cells)
        kept += pc.sum(_match(cells, pattern)).as_py() or 0
    return kept / seen if seen else 0.0


def prefetch(chunks: Iterator["Chunk"]) -> Iterator["Chunk"]:
    """Read the next chunk in a background thread while this one is scanned. pyarrow's CSV
    and Parquet readers and its compute kernels release the GIL, so reading and scanning
    overlap on two cores. A reader error is raised here, in the caller's thread, unchanged
    (the gate still ends in error for that file)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for ch in chunks:
                while not stop.is_set():
                    try:
                        q.put((0, ch), timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((1, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            q.put((2, exc))

    t = threading.Thread(target=produce, name="pii-read-ahead", daemon=True)
    t.start()
    try:
        while True:
            kind, item = q.get()
            if kind == 0:
                yield item
            elif kind == 1:
                return
            else:
                raise item
    finally:
        stop.set()
        while t.is_alive():  # a producer blocked on the full queue sees the stop flag
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


#: libraries the first chunk's classification imports on first use (python-stdnum's base module
#: imports ssl: ~15 ms; phonenumbers ~10 ms)
WARM_MODULES = ("stdnum.util", "phonenumbers")
#: imported by the worker processes' fork server (see :meth:`.pool.Pool.executor`): the same, and the
#: default regions' phone metadata
WORKER_PRELOAD = (*WARM_MODULES, *(f"phonenumbers.data.region_{r}" for r in _phones.DEFAULT_REGIONS))


def _warm(cfg: ScanConfig) -> None:
    """Load what the first chunk will need: the libraries its classification imports and the
    scanner for a column without context. Nothing here changes a result: they are imported and
    compiled as they would be on first use.

    This runs *before* the read-ahead thread starts (:func:`prefetch` is a generator: its thread
    starts on the first ``next``), so it does not overlap the first chunk's parsing, as this
    docstring once said. Starting the reader first, so that it would, was measured and gave
    nothing (50 MB sparse Faker CSV 0.540 -> 0.530 s, the 5 MB dense file 0.650 -> 0.665 s;
    medians of 12 and 10 interleaved whole processes): the reader thread classifies the first
    chunk in Python (:meth:`SemanticPass.tap`), and the two threads then take turns with the GIL."""
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the extra is missing: the first use reports it, as before
    sc = _template(cfg, None, "re")
    if sc.rx is not None:
        _textscan.compiled(sc.block_pattern or sc.pattern)


def scan_chunks(chunks: Iterator["Chunk"], cfg: ScanConfig, pool: "Pool | None",
                preset: "Preset | None" = None) -> list[ColumnStats]:
    """Scan every chunk, in this process or on ``pool`` (bounded number of chunks in flight).

    PII-sparse data (the prefilter keeps under 2 % of the cells of the first rows) stays in
    this process: there, reading costs more than scanning, and shipping chunks to workers
    would only add copying."""
    bs = BatchScan(cfg)
    sem = SemanticPass(cfg)  # column semantics (headers + value shares): a tap on the same chunks
    if preset is not None:
        sem.preset(preset)
        bs.share = sem.share
    it = prefetch(sem.tap(iter(chunks)))
    _warm(cfg)
    first = next(it, None)
    if first is None:
        return []
    if pool is None or pool.workers < 2 or (ADAPTIVE and candidate_share(bs, first) < SPARSE):
        mem = pa.default_memory_pool()
        for chunk in itertools.chain([first], it):
            bs.settle(sem.skips(chunk))
            scan_chunk(bs, chunk, threads=True)
            # the allocator keeps freed pages for reuse; a chunk's temporaries are ~10 times its
            # size, so hand them back: RSS stays near one chunk's working set on huge files
            mem.release_unused()
        return sem.merge(bs.results())
    # the parent scans chunks itself until the workers are up, then feeds them, and scans the
    # last chunk itself (it would only wait for the workers otherwise); every chunk gets counts
    # of its own, merged in chunk order, so who scanned what does not change the report
    from collections import deque
    from concurrent.futures import Future

    pool.start()
    mem = pa.default_memory_pool()
    acc: dict[str | None, ColumnStats] = {}
    pending: deque = deque()
    SPLIT.update(workers=0, parent=0)

    def drain(limit: int) -> None:
        while len(pending) > limit or (pending and not isinstance(pending[0], Future)):
            part = pending.popleft()
            merge_into(acc, part.result() if isinstance(part, Future) else part, sem.examples)

    held = first
    for chunk in itertools.chain(it, [None]):
        ex = pool.ready() if ADAPTIVE else pool.wait()
        if chunk is None and ADAPTIVE:
            ex = None  # the last chunk
        SPLIT["parent" if ex is None else "workers"] += 1
        skips = sem.skips(held)
        pending.append(_scan_alone(bs, held, skips) if ex is None else ex.submit(_worker_scan, held, skips))
        drain(pool.workers + 1)  # one chunk queued per worker, one being read: bounded memory
        mem.release_unused()
        held = chunk
        if held is None:
            break
    drain(0)
    return sem.merge(list(acc.values()))


def scan_many(files: list[list["Chunk"]], cfg: ScanConfig,
              presets: Sequence["Preset | None"] | None = None,
              dense: dict[tuple[str | None, str], bool] | None = None) -> list[list[ColumnStats]]:
    """Scan the chunks of several small files, each file with counts of its own, sharing the
    prefilter: the columns of all files that use the same pattern are concatenated and matched
    in one kernel call (pyarrow compiles the pattern per call; per file and column that set-up
    cost more than the scan). Results equal scanning each file alone (with the same ``presets``:
    per file, its table's column decisions or None). ``dense`` remembers, between batches,
    which columns were dense (see :func:`_matched_many`)."""
    bss = [BatchScan(cfg) for _ in files]
    sems = [SemanticPass(cfg) for _ in files]
    if len(files) > 1:
        absent = _semantic.absent_literals(ch for chunks in files for ch in chunks)
        for sem in sems:
            sem.absent = absent
    for bs, sem, preset in zip(bss, sems, presets or ()):
        if preset is not None:
            sem.preset(preset)
            bs.share = sem.share
    for bs, sem, chunks in zip(bss, sems, files):
        # a small file is in memory whole: its columns are classified before the per-cell scan,
        # so the scanners leave out what the classification settles (see SemanticPass.skip)
        for _ in sem.tap(iter(chunks)):
            pass
        sem.finish()
        for ch in chunks:
            bs.settle(sem.skips(ch))
    groups: dict[tuple[str, str | None], list[tuple[Any, ColumnScanner]]] = {}
    for bs, chunks in zip(bss, files):
        for ch in chunks:
            for col in ch.columns:
                v = col.values
                if (col.cross is not None or col.edges is not None or not isinstance(v, pa.Array) or len(v) == 0
                        or not pa.types.is_string(v.type) or cfg.column_allowed(col.label)):
                    continue
                sc = bs.template(col.label)
                if sc.rx is not None:
                    groups.setdefault((sc.pattern, sc.block_pattern), []).append((col, sc))
    given: dict[int, pa.Array] = {}
    for (pattern, block_pattern), cols in groups.items():
        for (c, sc), hits in zip(cols, _matched_many([c.values for c, _ in cols], pattern, block_pattern,
                                                      [c.label for c, _ in cols], dense)):
            given[id(c)] = pa.array(hits, pa.int64()) if hits else _NO_HITS
    wholes = _wholes_many(bss, files, given)
    # the keyword flags of every column's candidates, also in one pass per pattern (cell by
    # cell they were ~8 % of a 592-file run); one-token cells hold no keyword
    keyed: dict[str, list[tuple[int, int, pa.Array, list[int] | None, int]]] = {}
    for cols in groups.values():
        for c, sc in cols:
            idx = given[id(c)]
            if len(idx) == 0 or (len(idx) >= SMALL and sc.whole):
                continue  # nothing to scan, or the column's own one-token pass leaves the rest
            got = wholes.get(id(c))
            if got is not None and len(got[0]) == 0:
                continue  # the one-token pass took every candidate: no keyword to look for
            cand = c.values if len(idx) == len(c.values) else pc.take(c.values, idx)
            remap: list[int] | None = None
            n = len(cand)
            if got is not None:
                left, whole = got
                n = len(left)
                remap = [j for j, w in enumerate(whole) if w is None]
                cand = pc.take(cand, pc.take(left, pa.array(remap, pa.int64())))
            for which, kp in enumerate((sc.kw_pattern, sc.kv_pattern)):
                if kp:
                    keyed.setdefault(kp, []).append((id(c), which, cand, remap, n))
    flags: dict[int, list[list[bool] | None]] = {}
    for kp, items in keyed.items():
        for (cid, which, cand, remap, n), hits in zip(items, _matched_many([c for _, _, c, _, _ in items], kp)):
            row = [False] * n
            for h in hits:
                row[h if remap is None else remap[h]] = True
            flags.setdefault(cid, [None, None])[which] = row
    out = []
    for bs, sem, chunks in zip(bss, sems, files):
        for ch in chunks:
            scan_chunk(bs, ch, given, flags=flags, wholes=wholes)
        out.append(sem.merge(bs.results()))
    return out


#: the prefilter's answer for a column none of whose cells matched (most columns of most
#: parts): one array for all of them
_NO_HITS = pa.array([], pa.int64())

#: a batch's small columns of one kind take the one-token pass together from this many
#: candidates on (below it, cell by cell costs less than the pass's ~20 kernel calls)
WHOLE_MANY_MIN = 128


def _wholes_many(bss: list[BatchScan], files: list[list["Chunk"]],
                 given: dict[int, pa.Array]) -> dict[int, tuple[pa.Array, list[str | None]]]:
    """The one-token pass (:func:`whole_cells`) over the small columns of a batch's files, one
    pass per kind of column (same label, same scanner settings): a file's column of 24 cells
    is below :data:`SMALL` and would be walked in Python cell by cell, while the same cells in
    one file are classified and booked in pyarrow. Each cell is booked on its own file's
    scanner (:class:`_Split`); per column, what is left for its Python pass, by ``id``."""
    kinds: dict[tuple[Any, ...], list[tuple[Any, ColumnScanner, pa.Array, int]]] = {}
    for bs, chunks in zip(bss, files):
        for ch in chunks:
            for col in ch.columns:
                idx = given.get(id(col))
                if idx is None or len(idx) == 0 or len(idx) >= SMALL:
                    continue
                sc = bs.scanner(col.label)
                if not sc.whole:
                    continue
                vector = col.rows is None and not sc.allow_any
                kinds.setdefault((col.label, sc.skip, vector, ch.lines), []).append((col, sc, idx, ch.row_base))
    out: dict[int, tuple[pa.Array, list[str | None]]] = {}
    for (_, _, vector, lines), cols in kinds.items():
        starts = [0]
        for _, _, idx, _ in cols:
            starts.append(starts[-1] + len(idx))
        if len(cols) < 2 or starts[-1] < WHOLE_MANY_MIN:
            continue
        scs = [sc for _, sc, _, _ in cols]
        # the cells' data rows, added up in Python: a kernel call per column of a few dozen
        # cells (its scalar converted each time) cost more than the column's cells
        rows = pa.array([base + i + 1 for _, _, idx, base in cols for i in idx.to_pylist()], pa.int64()) if vector else None
        cands = [col.values if len(idx) == len(col.values) else pc.take(col.values, idx) for col, _, idx, _ in cols]
        left, whole = whole_cells(scs[0], pa.concat_arrays(cands), rows, lines, _Split(scs, starts, lines))
        pos = left.to_pylist()
        at = 0
        for k, (col, _, _, _) in enumerate(cols):
            end = bisect.bisect_left(pos, starts[k + 1], at)
            out[id(col)] = (pa.array([p - starts[k] for p in pos[at:end]], pa.int64()) if end > at else _NO_HITS,
                            whole[at:end])
            at = end
    return out


def _matched_many(arrs: list[pa.Array], pattern: str, block_pattern: str | None = None,
                  kinds: Sequence[Any] | None = None,
                  dense: dict[tuple[Any, str], bool] | None = None) -> list[list[int]]:
    """Per array, the positions of its cells that match ``pattern``: the arrays are matched as
    one (:func:`prefilter`), so a batch of small columns costs one pass.

    With ``kinds`` (per array, the column it is a part of: its label), each kind's arrays are
    matched as one column, as that column would be in one file: a column most of whose cells
    are candidates is then dense (:func:`prefilter_many`) and handed back as its non-empty
    cells, while the other kinds keep their few candidates. Matched all as one text, three dense
    columns made the whole batch dense, and every cell of the batch's eleven columns went
    through the per-cell kernels: 0.18 s of a 592-file run that one file of the same rows does
    in 0.04 s. ``dense`` carries the verdict to the next batches, as :meth:`BatchScan.column`
    does from one chunk of a file to the next (a column more than 60 % of whose cells were
    candidates): their kinds then skip the kernels. Kinds too small to be dense (under
    :data:`kernels.SMALL` cells) are still matched together, as one text: a JSON document's
    43,000 paths of a value or two each, matched one by one, took 0.8 s more."""
    if not arrs:
        return []
    groups = _kind_groups(arrs, kinds)
    cat = [pa.concat_arrays([arrs[j] for j in js]) if len(js) > 1 else arrs[js[0]] for _, js in groups]
    found: list[pa.Array | None] = [None] * len(groups)  # None: a kind known dense, all its non-empty cells
    known = dense if dense is not None else {}
    own = [k for k, (kind, _) in enumerate(groups) if kind is not _TOGETHER and not known.get((kind, pattern))]
    if own:
        for k, got in zip(own, prefilter_many([cat[k] for k in own], pattern, block_pattern, dense=True)):
            found[k] = got
            if dense is not None:
                non_empty = len(cat[k]) - cat[k].null_count
                dense[(groups[k][0], pattern)] = len(got) > 0.6 * max(non_empty, 1) and len(got) >= 256
    together = [k for k, (kind, _) in enumerate(groups) if kind is _TOGETHER]
    if together:
        for k, got in zip(together, prefilter_many([cat[k] for k in together], pattern, block_pattern)):
            found[k] = got
    out: list[list[int]] = [[] for _ in arrs]
    for (_, js), got, one in zip(groups, found, cat):
        hits = (got if got is not None else _non_empty(one)).to_pylist()
        at = base = 0
        for j in js:
            end = bisect.bisect_left(hits, base + len(arrs[j]), at)
            out[j] = [h - base for h in hits[at:end]]
            at, base = end, base + len(arrs[j])
    return out


#: the group of arrays matched together as one text, whatever their kind (:func:`_kind_groups`)
_TOGETHER = object()


def _kind_groups(arrs: list[pa.Array], kinds: Sequence[Any] | None) -> list[tuple[Any, list[int]]]:
    """The arrays' positions grouped for :func:`_matched_many`: per kind, in order of first
    appearance, the kinds under :data:`kernels.SMALL` cells in all gathered into one group
    (:data:`_TOGETHER`); without ``kinds``, all of them together."""
    if kinds is None:
        return [(_TOGETHER, list(range(len(arrs))))]
    by: dict[Any, list[int]] = {}
    for j, kind in enumerate(kinds):
        by.setdefault(kind, []).append(j)
    out: list[tuple[Any, list[int]]] = []
    small: list[int] = []
    for kind, js in by.items():
        if sum(len(arrs[j]) for j in js) < K.SMALL:
            small.extend(js)
        else:
            out.append((kind, js))
    if small:
        out.append((_TOGETHER, small))
    return out
