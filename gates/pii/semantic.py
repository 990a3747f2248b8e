"""The column-semantics pass: sample each column, classify it, count its values, merge the result.

It runs beside the per-cell scanner, on the same chunks (a tap on the reader's stream, so the
per-cell scan is not changed and worker processes need not know about it). Per column it keeps
the first :data:`columns.SAMPLE` non-empty values; once they are in, :func:`columns.classify`
decides at most one entity, and from then on every value of that column is checked with the
entity's value test (up to :data:`MAX_CHECK` per column; later values are counted as candidates,
and the report gives the estimate with its interval like any sampled entity). Columns that are
not classified cost nothing after their sample.

Every cell is also looked at for URLs carrying credentials (a prefilter in pyarrow first).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

import pyarrow as pa

from . import columns as C
from . import compute as pc
from . import documents, encoded, kernels, phones
from .entities import TEST_EMAIL_DOMAINS
from .redact import value_hash
from .scanner import ColumnStats, EntityStats, ScanConfig, compile_pattern

if TYPE_CHECKING:
    from .readers import Chunk, Column

#: values checked per classified column; the rest are estimated from them (the column's verdict
#: is already made from the first SAMPLE values: the count only sizes it, and the finding says
#: "~n, 95% CI ... from 2,000 of N candidates"; from 2,000 values that interval is within ~2.2
#: points, ~1 point when nearly every value holds the entity; from 1,000 phone numbers within
#: ~3.1). Phone numbers cost ~0.15 ms each, names ~30 µs, the others ~5-15 µs: on 50 MB of dense
#: Faker data checking 5,000 a column was a fifth of the gate's CPU, 20,000 most of it.
MAX_CHECK = 2_000
MAX_CHECK_PHONE = 1_000
#: values a part of a table checks at least per decided column, when it checks only its share
#: of the table's budget (:mod:`.datasets`). Two, so that the parts of a table check about one
#: file's budget in all: 592 parts of a 14,000-row table checked 2,368 phone numbers at four
#: (the one file 1,000; at ~50 µs a number, a tenth of the parts' semantics pass), 1,184 at two.
#: A part's count is then an estimate from its two values, with its interval, as the report says
PART_CHECK = 2
#: entities a semantic decision overrides on the same column: a checksummed national id or a
#: phone number read as a card, an SSN or an account number is the weaker reading
WEAKER = ("CREDIT_CARD", "US_SSN", "US_ITIN", "US_BANK_NUMBER", "UK_NHS", "ABA_ROUTING_NUMBER", "PHONE_NUMBER")
URL_CREDENTIALS = "URL_CREDENTIALS"
#: what every URL the credentials pass looks at holds
URL_MARK = b"://"
_URL_PREFILTER = (r"(?i)://[^/\s@:]+:[^/\s@]+@|[?&](?:token|access_token|id_token|refresh_token|auth|auth_token|apikey|"
                  r"api_key|key|secret|client_secret|password|passwd|pwd|pass|sig|signature|x-amz-signature|"
                  r"x-amz-credential|x-amz-security-token|sas|session|sessionid|session_id|code|private_token)=")


def strings(arr: Any) -> pa.Array | None:
    """A string view of a column for the value tests (:func:`kernels.as_strings` with dates as
    ISO text), one array per chunk."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return kernels.as_strings(arr, dates=True)


@dataclass
class _Col:
    label: str | None
    sample: list[tuple[str, int, str | None, str | None]] = field(default_factory=list)  # value, row, path, hint
    verdict: C.Verdict | None = None
    stats: EntityStats = field(default_factory=EntityStats)
    checked: int = 0
    regions: Counter = field(default_factory=Counter)


#: a table's column decisions: per column label, the verdict and the phone regions its sample
#: was found in (in learned order)
Decisions = dict[str, tuple[C.Verdict, tuple[str, ...]]]


def absent_literals(chunks: Iterable["Chunk"]) -> dict[str | None, frozenset[bytes]]:
    """Per column label, which of the literals the URL and encoded-address passes start from
    (``://``, ``%``) none of its cells holds, over the chunks of a whole batch of small
    files: one search per label and literal, where each file's columns were searched on their
    own (two calls per column of each of 592 files, ~6 % of their semantics pass)."""
    by: dict[str | None, list[pa.Array]] = {}
    for ch in chunks:
        for c in ch.columns:
            arr = strings(c.values)
            if arr is not None and len(arr):
                by.setdefault(c.label, []).append(arr)
    out: dict[str | None, frozenset[bytes]] = {}
    for label, arrs in by.items():
        one = arrs[0] if len(arrs) == 1 else pa.concat_arrays(arrs)
        out[label] = frozenset(m for m in (URL_MARK, encoded.PERCENT) if not kernels.may_hold(one, m))
    return out


def part_examples(examples: int, share: float) -> int:
    """Examples a part of a table keeps per column and entity: its share of the policy's
    ``examples`` (at least one, so each part's finding still shows a redacted value and its
    row). One file of 14,000 rows lists ten examples per column; the same rows in 592 parts
    listed ten per part, 40,000 values to hash, redact, clean and write (a sixth of the run)."""
    if share >= 1.0 or examples <= 1:
        return examples
    return max(1, math.ceil(examples * share))


@dataclass(frozen=True)
class Preset:
    """What the files of one table share (:mod:`.datasets`): the column decisions, made once,
    and this file's share of one file's check budget (its bytes' share of its table's)."""

    decisions: Decisions
    share: float = 1.0


class SemanticPass:
    """Per-file state of the column-semantics pass (one per :func:`engine.scan_chunks` call).

    With ``sample_only`` it only samples and decides (the pass that makes a table's decisions
    for several files: :mod:`.datasets`); it counts nothing."""

    def __init__(self, cfg: ScanConfig, sample_only: bool = False) -> None:
        self.cfg = cfg
        self.cols: dict[str | None, _Col] = {}
        self.order: list[str | None] = []
        #: each label's first place in :attr:`order` (a JSON document has tens of thousands of
        #: paths: ``order.index`` per decision was quadratic, 40 % of a 6 MB API definition's scan)
        self.at: dict[str | None, int] = {}
        self.urls: dict[str | None, EntityStats] = {}
        #: per label and entity, percent-encoded e-mail addresses and phone numbers (:meth:`_encoded`)
        self.encoded: dict[tuple[str | None, str], EntityStats] = {}
        self._allow_rx: tuple[Any, ...] | None = None  # the policy's allow patterns, compiled on first use
        self.regions = tuple(getattr(cfg, "phone_regions", ()) or phones.DEFAULT_REGIONS)
        self.lines = False
        self.sample_only = sample_only
        self.share = 1.0  # of one file's check budget (less for a part of a table)
        self.examples = cfg.examples  # examples kept per entity (a part of a table: its share)
        #: per label, the literals no cell of it holds in a whole batch of files
        #: (:func:`absent_literals`): its URL or encoded-address pass is not run
        self.absent: Mapping[str | None, frozenset[bytes]] = {}

    # ---- decisions shared by the files of one table ---------------------------------------------
    def preset(self, preset: Preset) -> None:
        """Take the columns' decisions instead of making them from this file's own values:
        values are then counted as after a decision of its own, up to this part's share of the
        check budget where the verdict is settled (:meth:`_cap`)."""
        self.share = min(1.0, max(0.0, preset.share))
        self.examples = part_examples(self.cfg.examples, self.share)
        for label, (verdict, regions) in preset.decisions.items():
            self.cols[label] = _Col(label, verdict=verdict, regions=Counter({r: 0 for r in regions}))
            self._place(label)

    def _place(self, label: str | None) -> None:
        self.at.setdefault(label, len(self.order))
        self.order.append(label)

    def sampled(self) -> bool:
        """Every column seen so far has its full sample (and so its decision)."""
        return bool(self.cols) and all(st.verdict is not None for st in self.cols.values()
                                       if st.label is not None and not self.cfg.column_allowed(st.label))

    def decisions(self) -> Decisions:
        """The decisions, for :meth:`preset` on the other files of the table."""
        self.finish()
        return {st.label: (st.verdict, tuple(st.regions)) for st in self.cols.values()
                if st.label is not None and st.verdict is not None}

    # ---- streaming ----------------------------------------------------------------------------
    def tap(self, chunks: Iterator["Chunk"]) -> Iterator["Chunk"]:
        """Yield ``chunks`` unchanged, feeding each to this pass first."""
        for ch in chunks:
            try:
                self.feed(ch)
            except (pa.ArrowException, ValueError, TypeError):
                pass  # semantics are an addition: a column they cannot read is still scanned per cell
            yield ch

    def feed(self, chunk: "Chunk") -> None:
        self.lines = chunk.lines
        for c in chunk.columns:
            if c.label not in self.cols:
                self.cols[c.label] = _Col(c.label)
                self._place(c.label)
        hints = self._hints(chunk)
        for c in chunk.columns:
            if self.cfg.column_allowed(c.label):
                continue
            if self.sample_only and (c.label is None or self.cols[c.label].verdict is not None):
                continue
            arr = strings(c.values)
            if arr is None or len(arr) == 0:
                continue
            if not self.sample_only:
                absent = self.absent.get(c.label, frozenset())
                if URL_MARK not in absent:
                    self._url_secrets(c, arr, chunk)
                if encoded.PERCENT not in absent and kernels.may_hold(arr, encoded.PERCENT):
                    self._encoded(c, arr, chunk, "EMAIL_ADDRESS", (encoded.MARK,), self._emails_in)
                    self._encoded(c, arr, chunk, "PHONE_NUMBER", encoded.PHONE_MARKS, self._phones_in)
            if c.label is None:
                continue
            st = self.cols[c.label]
            start = 0
            if st.verdict is None:
                start = self._fill(st, c, arr, chunk, hints)
                if len(st.sample) >= C.SAMPLE:
                    self._decide(st)
            if not self.sample_only and st.verdict is not None and st.verdict.decision is not None and start < len(arr):
                self._count_arr(st, c, arr, chunk, hints, start)

    def finish(self) -> None:
        for st in self.cols.values():
            if st.verdict is None and st.label is not None:
                self._decide(st)

    # ---- per column ---------------------------------------------------------------------------
    def _hints(self, chunk: "Chunk") -> "_Hints | None":
        """Per-row region hints from a neighbouring country/locale/IBAN column (aligned rows only)."""
        for c in chunk.columns:
            if c.rows is None and c.label is not None and C.Header.of(c.label).says(C.V_REGION):
                arr = strings(c.values)
                if arr is not None:
                    return _Hints(arr)
        return None

    def _row(self, c: "Column", chunk: "Chunk", i: int) -> int:
        return c.rows[i] if c.rows is not None else chunk.row_base + i + 1

    def _fill(self, st: _Col, c: "Column", arr: pa.Array, chunk: "Chunk", hints: "_Hints | None") -> int:
        """Add the column's first non-empty values to its sample; return where the sample stopped."""
        at, n = 0, len(arr)
        while len(st.sample) < C.SAMPLE and at < n:
            step = min(n - at, 4 * (C.SAMPLE - len(st.sample)) + 16)
            for j, v in enumerate(arr.slice(at, step).to_pylist()):
                i = at + j
                if v is not None and v.strip():
                    hint = hints[i] if hints is not None and c.rows is None and i < len(hints) else None
                    st.sample.append((v, self._row(c, chunk, i), c.paths[i] if c.paths is not None else None, hint))
                    if len(st.sample) >= C.SAMPLE:
                        return i + 1
            at += step
        return n

    def _learn_regions(self, st: _Col) -> None:
        """Seed a phone column's regions from its sample (every policy region tried there)."""
        for v, _, _, hint in st.sample[:50]:
            got = phones.parse(v, tuple(r for r, _ in st.regions.most_common(4)) + self.regions, hint)
            if got is not None:
                st.regions[got[1]] += 1

    def _decide(self, st: _Col) -> None:
        i = self.at[st.label]
        neighbours = [lab for lab in self.order[max(0, i - 1):i + 2] if lab != st.label]
        values = [v for v, _, _, _ in st.sample]
        st.verdict = C.classify(st.label, values, neighbours, self.regions)
        if st.verdict.decision is not None:
            if st.verdict.decision.detector.entity == "PHONE_NUMBER":
                self._learn_regions(st)
                st.regions = Counter({r: 0 for r in st.regions})  # learned order only: counts restart
            if not self.sample_only:
                for v, row, path, hint in st.sample:
                    self._count(st, v, row, path, hint)
        st.sample = []

    def _cap(self, st: _Col) -> tuple[int, int, int]:
        """The column's check cap, how many values this file checks before it may stop, and how
        many of them must have held the entity to stop there. One file checks up to the cap. A part of a table checks
        its share of one file's cap (at least :data:`PART_CHECK`) where more values could not
        change its verdict once enough have counted: the rule only warns (one value makes the
        finding) or blocks on any share (``min_count`` values make it block). Otherwise, or
        until then, it checks on to the cap."""
        d = st.verdict.decision
        cap = MAX_CHECK_PHONE if d.detector.entity == "PHONE_NUMBER" else MAX_CHECK
        if self.share >= 1.0:
            return cap, cap, 0
        rule = self.cfg.policy_rule(d.detector.entity, d.detector.rule)
        if rule is None or rule.action == "ignore" or (rule.action == "block" and rule.max_fraction > 0):
            return cap, cap, 0
        need = rule.min_count if rule.action == "block" else 1
        return cap, max(PART_CHECK, math.ceil(cap * self.share)), need

    def _count_arr(self, st: _Col, c: "Column", arr: pa.Array, chunk: "Chunk", hints: "_Hints | None",
                   start: int) -> None:
        n = len(arr)
        cap, share, need = self._cap(st)
        room = max(0, cap - st.checked)
        stop = min(n, start + room)
        if st.verdict.decision.detector.entity != "PHONE_NUMBER":
            hints = None  # only a phone number's test takes the row's region
        if stop > start:
            values = arr.slice(start, stop - start).to_pylist()
            for j, v in enumerate(values):
                if v is not None and v.strip():
                    if st.checked >= share and st.stats.count >= need:
                        # this part's share is checked and its verdict settled: the rest of
                        # its values are candidates, for the estimate
                        st.stats.candidates += sum(1 for w in values[j:] if w is not None and w.strip())
                        break
                    i = start + j
                    hint = hints[i] if hints is not None and c.rows is None and i < len(hints) else None
                    self._count(st, v, self._row(c, chunk, i), c.paths[i] if c.paths is not None else None, hint)
        if stop < n:  # beyond the cap: non-empty cells are candidates not checked
            rest = arr.slice(stop)
            st.stats.candidates += len(rest) - rest.null_count

    def _count(self, st: _Col, value: str, row: int, path: str | None, hint: str | None) -> None:
        d = st.verdict.decision
        es = st.stats
        es.candidates += 1
        es.sampled += 1
        st.checked += 1
        if d.detector.entity == "PHONE_NUMBER":
            # the regions this column's numbers were found in (a number of another region without
            # its +country prefix and without a row hint is rare, and trying every plan on each
            # invalid number would cost ~3 ms a cell)
            learned = tuple(r for r, _ in st.regions.most_common(5))
            got = phones.parse(value, learned or self.regions, hint)
            if got is None:
                return
            norm = got[0]
            st.regions[got[1]] += 1
        else:
            norm = d.validate(value)
            if norm is None:
                return
        entity = d.detector.entity
        cfg = self.cfg
        # the salted hash costs more than most value tests: here only for an allowlist of hashes
        # (EntityStats.book makes it when it needs it, as for the per-cell scanner)
        h = value_hash(cfg.salt, entity, norm) if cfg.allow_hashes else None
        if norm in cfg.allow_values or value in cfg.allow_values or (h is not None and h in cfg.allow_hashes):
            es.allowed += 1
            return
        es.count += 1
        if es._last_row != row:
            es.rows += 1
            es._last_row = row
        es.book(self.examples, cfg.salt, entity, norm, row, row if self.lines else None, path, h)

    def _url_secrets(self, c: "Column", arr: pa.Array, chunk: "Chunk") -> None:
        if not kernels.may_hold(arr, URL_MARK) or not pc.any(pc.match_substring(arr, "://")).as_py():
            return  # literal tests first: no regex to compile for columns without URLs
        idx = pc.indices_nonzero(kernels.match(arr, _URL_PREFILTER)).to_pylist()  # (no compile per small column)
        if not idx:
            return
        cells = pc.take(arr, pa.array(idx, pa.int64())).to_pylist()
        for i, cell in zip(idx, cells):
            for u in documents.urls_in(cell or ""):
                if documents.url_secret(u) is None:
                    continue
                es = self.urls.setdefault(c.label, EntityStats())
                es.candidates += 1
                es.sampled += 1
                row = self._row(c, chunk, i)
                es.count += 1
                if es._last_row != row:
                    es.rows += 1
                    es._last_row = row
                es.book(self.examples, self.cfg.salt, URL_CREDENTIALS, u, row, row if chunk.lines else None,
                        c.paths[i] if c.paths is not None else None, masker=_evidence_of_url)

    def _encoded(self, c: "Column", arr: pa.Array, chunk: "Chunk", entity: str, marks: tuple[bytes, ...],
                 found: Callable[[str], list[str]]) -> None:
        """Percent-encoded values of ``entity`` (:mod:`.encoded`): in the cells holding one of
        ``marks`` (a literal search over the column's buffer first), each value ``found``, counted
        with the column's others (:meth:`merge`), allowlists and ``action: ignore`` applying as
        to any value."""
        if not any(kernels.may_hold(arr, m) for m in marks):
            return
        cfg = self.cfg
        rule = cfg.rules.get(entity)
        if rule is None or rule.action == "ignore":
            return
        hit = None
        for m in marks:
            got = pc.match_substring(arr, m.decode())
            hit = got if hit is None else pc.or_(hit, got)
        idx = pc.indices_nonzero(hit).to_pylist()
        if not idx:
            return
        cells = pc.take(arr, pa.array(idx, pa.int64())).to_pylist()
        if self._allow_rx is None:
            self._allow_rx = tuple(compile_pattern(p, "re2") for p in cfg.allow_patterns)
        for i, cell in zip(idx, cells):
            for v in found(cell or ""):
                es = self.encoded.setdefault((c.label, entity), EntityStats())
                es.candidates += 1
                es.sampled += 1
                h = value_hash(cfg.salt, entity, v) if cfg.allow_hashes else None
                if (v in cfg.allow_values or any(r.search(v) for r in self._allow_rx)
                        or (h is not None and h in cfg.allow_hashes)):
                    es.allowed += 1
                    continue
                row = self._row(c, chunk, i)
                es.count += 1
                if es._last_row != row:
                    es.rows += 1
                    es._last_row = row
                es.book(self.examples, cfg.salt, entity, v, row, row if chunk.lines else None,
                        c.paths[i] if c.paths is not None else None, h)

    @staticmethod
    def _emails_in(cell: str) -> list[str]:
        return [v for v in encoded.emails(cell) if not v.endswith(TEST_EMAIL_DOMAINS)]

    def _phones_in(self, cell: str) -> list[str]:
        return encoded.phone_numbers(cell, self.regions)

    # ---- what the per-cell scanner may leave out ----------------------------------------------
    def skip(self, label: str | None) -> frozenset[str]:
        """Entities whose per-cell results :meth:`merge` would drop or replace for ``label``, as
        far as that is settled now: the vetoed ones, and once a decision has counted a value,
        its entity (our count replaces the scanner's) and the weaker readings it drops. On a
        phone or national-id column that is the whole number class, most of such a column's
        per-cell cost. Empty until the column is decided. Safe to call from another thread
        than the one feeding this pass: it reads one column's state and only ever sees less."""
        st = self.cols.get(label)
        v = st.verdict if st is not None else None
        if v is None:
            return frozenset()
        out = set(v.vetoes)
        d = v.decision
        if d is not None and (st.stats.count or st.stats.allowed):
            entity = d.detector.entity
            out.add(entity)
            if entity not in ("PERSON", "LOCATION", "URL"):
                out.update(WEAKER)
        return frozenset(out)

    def skips(self, chunk: "Chunk") -> dict[str | None, frozenset[str]]:
        """:meth:`skip` for every column of ``chunk`` that has something to skip."""
        out = {}
        for c in chunk.columns:
            s = self.skip(c.label)
            if s:
                out[c.label] = s
        return out

    # ---- into the scanner's results -----------------------------------------------------------
    def merge(self, results: list[ColumnStats]) -> list[ColumnStats]:
        """The per-cell results with this pass's decisions, vetoes and URL findings applied."""
        self.finish()
        by = {c.label: c for c in results}
        for label, st in self.cols.items():
            v = st.verdict
            if v is None:
                continue
            col = by.get(label)
            d = v.decision
            if col is None and (d is None or st.stats.count == 0):
                continue
            if col is None:
                col = by[label] = ColumnStats(label, rows=st.checked if self.share >= 1.0 else st.stats.candidates)
                results.append(col)
            for entity, why in v.vetoes.items():
                if col.entities.pop(entity, None) is not None:
                    _extra(col).setdefault("_vetoes", {})[entity] = why
            if d is None or (st.stats.count == 0 and st.stats.allowed == 0):
                continue
            entity = d.detector.entity
            if entity not in ("PERSON", "LOCATION", "URL"):
                for weak in WEAKER:
                    if weak != entity:
                        col.entities.pop(weak, None)
            col.entities[entity] = st.stats
            _extra(col)[entity] = {"decided_by": d.basis, "rule": d.detector.rule, **dict(d.detector.extra)}
        for (label, entity), es in self.encoded.items():
            col = by.get(label)
            if col is None:
                col = by[label] = ColumnStats(label)
                results.append(col)
            mine = col.entities.get(entity)
            if mine is None:
                col.entities[entity] = es
            else:
                mine.merge(es, self.examples)
        for label, es in self.urls.items():
            col = by.get(label)
            if col is None:
                col = by[label] = ColumnStats(label)
                results.append(col)
            col.entities[URL_CREDENTIALS] = es
            _extra(col)[URL_CREDENTIALS] = {"decided_by": "values", "rule": URL_CREDENTIALS}
        return results


class _Hints:
    """Region hints of a chunk's rows, read on demand: only the rows this pass samples or checks
    (a few thousand per column) need one, not every row of the chunk (reading them all cost
    more than the whole per-cell scan of a dense column). The window starts small and grows:
    a part of a table checks two phone numbers, and its rows' regions were most of its cost."""

    WINDOW = 4096
    FIRST = 16

    def __init__(self, arr: pa.Array) -> None:
        self.arr = arr
        self.at = -1
        self.window: list[str | None] = []
        self.size = self.FIRST

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i: int) -> str | None:
        if not self.at <= i < self.at + len(self.window):
            self.at = i
            self.window = [phones.region_of(v) for v in self.arr.slice(i, self.size).to_pylist()]
            self.size = min(self.WINDOW, self.size * 4)
        return self.window[i - self.at]


def _extra(col: ColumnStats) -> dict[str, Any]:
    return col.extra


def _evidence_of_url(entity: str, u: str) -> str:
    """:meth:`EntityStats.book`'s masker for URLs with credentials."""
    return _mask_url(u)


def _mask_url(u: str) -> str:
    """Scheme and host only: the path, user, password and query may all be the secret."""
    from urllib.parse import urlsplit

    try:
        p = urlsplit(u)
        return f"{p.scheme}://{p.hostname or '*'}/***"
    except ValueError:
        return "***"
