"""The two-stage engine: a prefilter over whole columns, then validators on candidates only.

Stage 1 runs one RE2 alternation per column inside pyarrow (``match_substring_regex``: C++, no
Python per cell) and keeps only the cells that could hold something. Stage 2 walks those cells
with the same alternation (named groups) in Python and hands each match to the validator of its
class. The alternation is built per column: weak entities (phone numbers, bare 9-digit SSNs, bank
accounts) only join it when the column name gives context, so an ``order_id`` column never pays
for — or trips over — a phone-number pattern.

Everything here is picklable and free of I/O so worker processes can run it on chunks; results
are :class:`ColumnStats` that merge by addition.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from . import superset as _superset
from . import validators as V
from .entities import (
    BOUNDED, CLASSES, ENTITIES, LOOSE, NUM_BROAD, SECRET_ASSIGNMENT, TEST_EMAIL_DOMAINS, TEST_VALUES, WEAK_NUMERIC,
    column_context, keyword_regex, name_tokens,
)
from .redact import mask, value_hash

_KNUTH = 2654435761


@dataclass(frozen=True)
class EntityRule:
    """The effective policy for one entity."""

    action: str = "warn"  # block | warn | ignore
    min_count: int = 1
    max_fraction: float = 0.0
    severity: str | None = None

    @property
    def zero_tolerance(self) -> bool:
        """Blocks on a single occurrence: must be scanned in full, never sampled."""
        return self.action == "block" and self.max_fraction <= 0 and self.min_count <= 1


@dataclass(frozen=True)
class CustomEntity:
    name: str
    pattern: str
    validator: str | None = None
    kind: str = "pii"
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScanConfig:
    rules: dict[str, EntityRule]
    salt: str
    custom: tuple[CustomEntity, ...] = ()
    allow_values: frozenset[str] = frozenset()
    allow_patterns: tuple[str, ...] = ()
    allow_hashes: frozenset[str] = frozenset()
    allow_columns: tuple[str, ...] = ()
    sample_min_rows: int = 1_000
    sample_rate: float = 0.02
    sampling: bool = True
    examples: int = 10
    phone_region: str = "US"
    #: regions tried for national-format phone numbers (the column-semantics pass); empty: a broad default
    phone_regions: tuple[str, ...] = ()
    #: keep every hit's (row, entity) on the scanner: for benchmarks and tests, never for reports
    record: bool = False

    def sampled(self, entity: str) -> bool:
        r = self.rules.get(entity)
        return self.sampling and r is not None and r.action != "ignore" and not r.zero_tolerance

    def policy_rule(self, entity: str, rule_name: str | None = None) -> "EntityRule | None":
        """The policy rule for ``entity``: its own, or for a part of a location (postcode,
        city) that part's rule (``rule_name``), unless the entity itself is ignored."""
        if rule_name and rule_name != entity:
            own = self.rules.get(entity)
            if own is not None and own.action == "ignore":
                return None
            return self.rules.get(rule_name)
        return self.rules.get(entity)

    def column_allowed(self, label: str | None) -> bool:
        return label is not None and any(fnmatch.fnmatchcase(label, g) for g in self.allow_columns)


# ---- results -----------------------------------------------------------------------------------

@dataclass
class Example:
    row: int
    evidence: str
    hash: str
    occurrences: int = 1
    line: int | None = None
    json_path: str | None = None


@functools.lru_cache(maxsize=4096)
def _leaf_says_secret(label: str | None) -> bool:
    """Whether the last key of a column's name (a JSON path's own key, not its parents') names
    a secret: a ``password`` column's values are passwords, a ``ClientToken.shape`` is not."""
    if not label:
        return False
    leaf = label.rsplit(".", 1)[-1].replace("[]", "")
    return "GENERIC_SECRET" in column_context(leaf)[0]


#: :meth:`ColumnScanner.fresh` without a label: the copy keeps the template's
_KEEP: Any = object()


@dataclass
class EntityStats:
    count: int = 0          # validated occurrences (in the sample, for sampled entities)
    rows: int = 0           # distinct rows with at least one validated occurrence
    candidates: int = 0     # occurrences that reached this entity's validator
    sampled: int = 0        # candidates actually validated (== candidates when not sampled)
    test_values: int = 0
    allowed: int = 0
    examples: dict[str, Example] = field(default_factory=dict)
    test_example: Example | None = None
    _last_row: int = -1
    _ex_max: int = -1  # the highest row among the examples (see :meth:`earlier`)

    def book(self, limit: int, salt: str, entity: str, value: str, row: int, line: int | None,
             path: str | None, h: str | None = None, masker: Callable[[str, str], str] = mask) -> None:
        """Keep ``value`` (validated, counted already) among the examples: the one bookkeeping of
        the per-cell scanner (:meth:`ColumnScanner._hit`), its bulk booking and the column
        semantics' counts. ``h`` is the value's salted hash when the caller has it already (an
        allowlist check made it); otherwise it is computed only when needed, since it costs more
        than most value tests.

        While there is room (``limit`` examples), a known value adds an occurrence and a new one
        is added. Once full, only a value whose hash the caller had adds an occurrence, and a
        value on a row before the last example's replaces that example (:meth:`earlier`), so
        the examples stay the first rows' whatever order cells were booked in. Occurrences are
        therefore counted while examples are collected, not over the whole column. ``masker``
        makes an example's evidence from (entity, value)."""
        ex = self.examples
        if len(ex) < limit:
            h = h or value_hash(salt, entity, value)
            got = ex.get(h)
            if got is not None:
                got.occurrences += 1
                if row < got.row:  # booked out of row order: the value's first row is shown
                    self._move(got, row, line, path)
            else:
                self.add_example(Example(row, masker(entity, value), h, 1, line, path))
        elif h is not None and h in ex:
            ex[h].occurrences += 1
        elif row < self._ex_max:
            self.earlier(Example(row, masker(entity, value), h or value_hash(salt, entity, value), 1, line, path))

    def test_value(self, salt: str, entity: str, value: str, row: int, line: int | None, path: str | None,
                   h: str | None = None) -> None:
        """Keep a known test value (counted already) as the test example if it is on the lowest
        row so far: cells are not always booked in row order (see :meth:`book`)."""
        t = self.test_example
        if t is None or row < t.row:
            self.test_example = Example(row, mask(entity, value), h or value_hash(salt, entity, value), 1, line, path)

    def add_example(self, ex: Example) -> None:
        """A new distinct value, while there is room for it."""
        self.examples[ex.hash] = ex
        if ex.row > self._ex_max:
            self._ex_max = ex.row

    def earlier(self, ex: Example) -> None:
        """A value on a row before the last example's, with the examples full (cells booked in
        bulk came before the ones walked after them, or a JSON column's rows are not in order):
        the examples stay the first rows', as a pass in row order keeps them, so the finding's
        row is the entity's first occurrence."""
        got = self.examples.get(ex.hash)
        if got is not None:
            got.occurrences += 1
            if ex.row < got.row:
                self._move(got, ex.row, ex.line, ex.json_path)
            return
        del self.examples[max(self.examples, key=lambda k: self.examples[k].row)]
        self.examples[ex.hash] = ex
        self._ex_max = max(x.row for x in self.examples.values())

    def _move(self, got: Example, row: int, line: int | None, path: str | None) -> None:
        """An example's value seen on an earlier row: the example takes that row."""
        last = got.row == self._ex_max
        got.row, got.line, got.json_path = row, line, path
        if last:
            self._ex_max = max(x.row for x in self.examples.values())

    def merge(self, other: "EntityStats", limit: int) -> None:
        self.count += other.count
        self.rows += other.rows
        self.candidates += other.candidates
        self.sampled += other.sampled
        self.test_values += other.test_values
        self.allowed += other.allowed
        for h, ex in other.examples.items():
            mine = self.examples.get(h)
            if mine is not None:
                mine.occurrences += ex.occurrences
                if ex.row < mine.row:
                    mine.row, mine.line, mine.json_path = ex.row, ex.line, ex.json_path
            else:
                self.examples[h] = ex
        if len(self.examples) > limit:
            keep = sorted(self.examples.values(), key=lambda e: e.row)[:limit]
            self.examples = {e.hash: e for e in keep}
        self._ex_max = max((e.row for e in self.examples.values()), default=-1)
        if other.test_example and (self.test_example is None or other.test_example.row < self.test_example.row):
            self.test_example = other.test_example


@dataclass
class ColumnStats:
    label: str | None
    rows: int = 0
    entities: dict[str, EntityStats] = field(default_factory=dict)
    #: per entity, extra finding fields set by the column-semantics pass (``decided_by``...)
    extra: dict[str, Any] = field(default_factory=dict)

    def merge(self, other: "ColumnStats", limit: int) -> None:
        self.rows += other.rows
        self.extra.update(other.extra)
        for name, st in other.entities.items():
            mine = self.entities.get(name)
            if mine is None:
                self.entities[name] = st
            else:
                mine.merge(st, limit)


# ---- the per-column scanner --------------------------------------------------------------------

_TOKEN_ENTITY = (
    ("AKIA", "AWS_ACCESS_KEY"), ("ASIA", "AWS_ACCESS_KEY"), ("ABIA", "AWS_ACCESS_KEY"), ("ACCA", "AWS_ACCESS_KEY"),
    ("gh", "GITHUB_TOKEN"), ("github_pat_", "GITHUB_TOKEN"), ("gl", "GITLAB_TOKEN"), ("xox", "SLACK_TOKEN"),
    ("hooks.slack.com", "SLACK_TOKEN"), ("sk_", "STRIPE_KEY"), ("rk_", "STRIPE_KEY"), ("sk-", "OPENAI_API_KEY"),
    ("hf_", "HUGGINGFACE_TOKEN"), ("AIza", "GOOGLE_API_KEY"),
)
_CLASS_ENTITIES = {
    "pem": ("PRIVATE_KEY",), "jwt": ("JWT",),
    "tok": ("AWS_ACCESS_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY", "OPENAI_API_KEY", "HUGGINGFACE_TOKEN", "GOOGLE_API_KEY"),
    "email": ("EMAIL_ADDRESS",), "iban": ("IBAN_CODE",), "ip4": ("IP_ADDRESS",), "ip6": ("IP_ADDRESS",),
    "mac": ("MAC_ADDRESS",), "btc": ("CRYPTO",), "eth": ("CRYPTO",), "num": ("CREDIT_CARD", "US_SSN", "US_ITIN"),
}
WHOLE_CELL = ("email", "num", "iban", "ip4", "ip6", "tok")


class _Whole:
    """A stand-in for a regex match covering a whole cell (same methods the handlers use)."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def group(self) -> str:
        return self.s

    def span(self) -> tuple[int, int]:
        return 0, len(self.s)

    def start(self) -> int:
        return 0

    def end(self) -> int:
        return len(self.s)


_HEX = frozenset("0123456789abcdefABCDEF")
_SSN_FMT = re.compile(r"\d{3}([- ])\d{2}\1\d{4}")
_finditer = _superset.finditer
_NUM_BROAD_RX = re.compile(r"(?:\+\(?|\(|\b)\d[\d ().-]{6,22}\d\b")
#: what any match of ``_NUM_BROAD_RX`` contains, after anything (RE2 syntax: the prefilter's tail
#: for keywords; ``[\s\S]`` crosses line breaks inside a cell)
KW_NUMBER_AFTER = r"[\s\S]*?\p{Nd}[\p{Nd} ().-]{7}"
_NONDIGIT = re.compile(r"\D")
#: words that name a number as something else (an order, a batch, a barcode) right before it
_ID_BEFORE = re.compile(r"(?i)\b(?:order|invoice|ref|reference|tracking|transaction|txn|batch|lot|serial|sku|isbn|ean|"
                        r"gtin|upc|barcode|part|ticket|case|build)s?\W{0,3}(?:no\.?|nr\.?|number|num|#|id)?\W{0,3}$")
#: one-token classes whose cell is checked as one address (:meth:`ColumnScanner.scan`)
_WHOLE_IP = frozenset({"ip4", "ip6"})
_VERSION_BEFORE = re.compile(r"(?i)(?:\b(?:version|ver|release|build|firmware|fw|sw|rev)\s*[:=]?\s*v?|\bv)$")
_CUSTOM_VALIDATORS: dict[str, Callable[[str], str | None]] = dict(V.VALIDATORS)


def _part_class(part: str) -> str:
    """The named group a part of the main alternation opens with: ``(?P<email>...`` → email."""
    return part[4:part.index(">")] if part.startswith("(?P<") else ""


_TOK_START = re.compile(LOOSE["tok"])
_IBAN_START = re.compile(r"[A-Z]{2}\d{2}")
_BTC_START = re.compile(r"[13][1-9A-HJ-NP-Za-km-z]{25}|bc1|BC1")
#: a literal every match of the class contains (the class cannot match where it is absent)
CLASS_LITERALS = {"pem": "-----BEGIN ", "jwt": "eyJ", "email": "@", "ip4": ".", "ip6": ":", "eth": "0x"}
#: (class, test): the test is true for every cell in which the class's pattern (CLASSES) can
#: match at all, with Python ``re`` semantics (a literal every alternative contains, or the
#: pattern's own leading shape)
_CLASS_GATES: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("pem", lambda c: CLASS_LITERALS["pem"] in c),
    ("jwt", lambda c: CLASS_LITERALS["jwt"] in c),
    ("tok", lambda c: _TOK_START.search(c) is not None),
    ("email", lambda c: CLASS_LITERALS["email"] in c),
    ("iban", lambda c: _IBAN_START.search(c) is not None),
    ("ip4", lambda c: CLASS_LITERALS["ip4"] in c),
    ("ip6", lambda c: CLASS_LITERALS["ip6"] in c),
    ("mac", lambda c: ":" in c or "-" in c or "." in c),
    ("btc", lambda c: _BTC_START.search(c) is not None),
    ("eth", lambda c: CLASS_LITERALS["eth"] in c),
)


def compile_pattern(pattern: str, engine: str = "re") -> Any:
    if engine == "re2":
        import re2

        opts = re2.Options()
        opts.max_mem = 64 << 20
        return re2.compile(pattern, options=opts)
    return re.compile(pattern)


class ColumnScanner:
    """Scans the cells of one column (or JSON path, or the lines of a text file)."""

    def __init__(self, cfg: ScanConfig, label: str | None, engine: str = "re", skip: frozenset[str] = frozenset()) -> None:
        self.cfg = cfg
        self.label = label
        #: entities not looked for in this column: what the column-semantics pass has settled
        #: there (its own count replaces ours, or its decision drops ours; see SemanticPass.skip)
        self.skip = skip
        self.stats = ColumnStats(label)
        #: examples kept per entity: the policy's, or a part of a table's share of them (:mod:`.datasets`)
        self.examples = cfg.examples
        #: sampled entities are validated on every row up to this one, then on the row sample
        #: only (a part of a table: its share, once its verdict is settled, see :meth:`as_part`)
        self.sample_from = cfg.sample_min_rows
        #: per sampled entity, the validated count that settles a part's verdict (None: one file)
        self.settled: dict[str, int] | None = None
        pos, neg = column_context(label)
        self.ctx = pos
        rules = cfg.rules
        active = {n for n, r in rules.items() if r.action != "ignore" and n not in neg}
        for c in cfg.custom:
            if rules.get(c.name, EntityRule()).action != "ignore":
                active.add(c.name)
        # what is built here is only read while scanning, so it is immutable and :meth:`fresh`
        # shares it instead of copying it for every file
        self.active = frozenset(active - skip)
        self.sampled = frozenset(n for n in self.active if cfg.sampled(n))
        self.card_on = "CREDIT_CARD" in self.active
        parts: list[str] = []
        loose: list[str] = []  # the same, with LOOSE stand-ins: the prefilter's text pass (textscan)
        # broad numbers where a weak numeric entity has context, and in card columns (12-digit Maestro)
        self_strict = not (set(WEAK_NUMERIC) & pos & self.active or "CREDIT_CARD" in pos)
        for cls, pat in CLASSES.items():
            if not set(_CLASS_ENTITIES[cls]) & self.active:
                continue
            if cls == "num" and not self_strict:
                pat = NUM_BROAD
                parts.append(r"(?P<num>(?:\+\(?|\(|\b)\d[\d ().-]{6,22}\d\b)")
                loose.append(parts[-1])
                continue
            parts.append(f"(?P<{cls}>\\b(?:{pat})\\b)" if cls in BOUNDED else f"(?P<{cls}>{pat})")
            loose.append(f"(?:{LOOSE[cls]})" if cls in LOOSE else parts[-1])
        #: keyword-led classes run as separate passes on the cells pyarrow flags for them: their
        #: case-insensitive alternations are cheap in RE2 but slow in ``re`` over free text
        self.kv_pattern = self.kw_pattern = None
        if "GENERIC_SECRET" in self.active:
            if "GENERIC_SECRET" in pos:
                parts.append(r"(?P<any>\S{8,})")
                loose.append(parts[-1])
            else:
                self.kv_pattern = SECRET_ASSIGNMENT
        for i, c in enumerate(cfg.custom):
            if c.name in self.active:
                parts.append(f"(?P<c{i}>{c.pattern})")
                loose.append(parts[-1])
        weak_free = [ENTITIES[n] for n in WEAK_NUMERIC if n in self.active and n not in pos]
        if self.card_on and "CREDIT_CARD" not in pos:
            # a card word ("card", "visa", "credit"...) lets the number after it be a 12-digit
            # Maestro card, which the main pattern leaves out (twelve digits are also the last
            # group of many UUIDs): _keyword passes it to _num, which checks brand and Luhn
            weak_free.append(ENTITIES["CREDIT_CARD"])
        kw_word = keyword_regex(weak_free) if weak_free else None
        self.kw_rx = re.compile(kw_word) if kw_word else None
        #: cells worth the keyword pass: a context word with a number after it somewhere (the
        #: pass reads only the first number within 48 characters of the word, and that number
        #: holds ``\d[\d ().-]{7}``). A keyword alone is no candidate: in free text ("mobile",
        #: "account", "social") it would send most cells to Python for nothing.
        self.kw_pattern = kw_word + KW_NUMBER_AFTER if kw_word else None
        self.kv_rx = re.compile(self.kv_pattern) if self.kv_pattern else None
        #: the prefilter (pyarrow, RE2) must let through anything any pass could use
        self.pattern = "|".join(parts + [p for p in (self.kv_pattern, self.kw_pattern) if p])
        #: matches wherever ``pattern`` does (and sometimes elsewhere): finds the candidate cells (textscan)
        self.block_pattern = "|".join(loose + [p for p in (self.kv_pattern, self.kw_pattern) if p])
        main = "|".join(parts)
        #: (class, anchored pattern) for cells that are one token: validated without a regex walk
        self.whole = tuple((cls, f"^(?:{CLASSES[cls] if cls != 'num' or self_strict else NUM_BROAD})$")
                           for cls in WHOLE_CELL if set(_CLASS_ENTITIES[cls]) & self.active)
        self.rx = compile_pattern(main or "(?!)", engine) if self.pattern else None
        self._engine = engine
        #: per-cell alternations without the classes a cell cannot hold (see _rx_for)
        self._main_parts = tuple((_part_class(p), p) for p in parts)
        self._gates = tuple((1 << i, test) for i, (cls, test) in enumerate(_CLASS_GATES) if any(c == cls for c, _ in self._main_parts))
        self._rx_cache: dict[int, Any] = {}
        self.allow_rx = tuple(compile_pattern(p, "re2") for p in cfg.allow_patterns)
        self.allow_any = bool(cfg.allow_values or cfg.allow_patterns or cfg.allow_hashes)
        self.strict = not (set(WEAK_NUMERIC) & pos)
        self.handlers: dict[str, Callable[[Any, str], None]] | None = None  # bound on the first scan
        self.hits: list[tuple[int, str]] = []
        #: most cells were candidates in the last chunk: skip the prefilter next time
        self.dense = False
        self._row = 0
        self._line: int | None = None
        self._path: str | None = None

    def fresh(self, label: Any = _KEEP) -> "ColumnScanner":
        """A scanner in the state this one had when built, sharing its compiled patterns; for
        ``label`` when given (a name of the same context: see ``engine._template``).

        Building a scanner compiles several alternations; the gate builds each (policy, column
        name) once per process and hands every file a fresh copy (many small files used to pay
        that set-up per file and column). Containers are copied so no state leaks between
        files, except the cache of compiled alternations, which is shared on purpose (what
        ``__init__`` builds is immutable and shared: a copy per file and column was ~20 µs, 2 %
        of 592 small files); the template itself must never scan."""
        mutable = self.__dict__.get("_mutable")
        if mutable is None:  # which attributes are containers: found once per template
            mutable = self._mutable = tuple(k for k, v in vars(self).items()
                                            if k not in ("_rx_cache", "handlers") and isinstance(v, (list, dict, set)))
        c = object.__new__(type(self))
        c.__dict__.update(self.__dict__)
        for k in mutable:
            setattr(c, k, copy.copy(getattr(self, k)))
        if label is not _KEEP:
            c.label = label
        c.stats = ColumnStats(c.label)
        c.handlers = None  # bound on the first scan: most columns of a JSON document never get one
        return c

    # ---- driving ------------------------------------------------------------------------------
    def scan(self, cells: Sequence[str | None], rows: Sequence[int], lines: bool = False, paths: Sequence[str] | None = None,
             whole: Sequence[str | None] | None = None, kw: Sequence[bool] | None = None, kv: Sequence[bool] | None = None,
             cross: Sequence[int] | None = None, edges: Sequence[int] | None = None) -> None:
        """Scan candidate ``cells`` whose data rows are ``rows`` (same length). ``whole[i]``, when
        given, names the class that matches cell ``i`` entirely (found by a vectorised pass): its
        handler is called directly, skipping the regex walk over the cell. ``cross[i]``, when
        given, makes cell ``i`` a seam across a cut line: only matches touching or straddling that
        position count. ``edges[i]`` marks a piece of a cut line (1: cut before it, 2: cut after
        it): matches touching a cut edge are left to the seam, so each value counts once."""
        if self.rx is None:
            return
        handlers = self.handlers
        if handlers is None:
            handlers = self.handlers = self._handlers()
        gates, rx_for = self._gates, self._rx_for
        # a long cell is walked with the whole alternation when RE2 finds where its matches can
        # start (superset.py): the literal gates cost more there than the classes they leave out
        # save. Leaving a class in never changes the matches (a gate is false only where its
        # class cannot match), so the walk finds the same. 50 MB of free text, whole processes:
        # 1.24 -> 1.08 s
        long_walk: Any = False  # looked up at the first long cell
        for i, cell in enumerate(cells):
            if not cell:
                continue
            self._row = rows[i]
            if lines:
                self._line = self._row
            if paths is not None:
                self._path = paths[i]
            cls = whole[i] if whole is not None else None
            if cls is not None:
                if cls in _WHOLE_IP:
                    # the cell is one address: _h_ip4's look around the match finds nothing
                    # (most addresses of a part of a table are only counted, by _sample)
                    self._validated("IP_ADDRESS", cell, V.ip_address)
                else:
                    handlers[cls](_Whole(cell), cell)
                continue
            spans: list[tuple[int, int]] = []
            walk = None
            if len(cell) >= _superset.MIN_LEN:
                if long_walk is False:
                    full = rx_for(-1)
                    long_walk = full if full[1] is not None else None
                walk = long_walk
            if walk is not None:
                rx, starts = walk
            else:
                key = 0
                for bit, test in gates:
                    if test(cell):
                        key |= bit
                rx, starts = rx_for(key)
            cut = cross[i] if cross is not None else -1
            edge = edges[i] if edges is not None else 0
            for m in _finditer(rx, starts, cell) if rx is not None else ():
                if (cut >= 0 or edge) and not _counts(m.start(), m.end(), cut, edge, len(cell)):
                    continue
                g = m.lastgroup
                handlers[g](m, cell)
                if g == "num":
                    spans.append(m.span())
            if kw is not None and kw[i]:
                for m in self.kw_rx.finditer(cell):
                    self._keyword(m.group(), cell, m.end(), spans, m.start(), cut, edge)
            if kv is not None and kv[i]:
                for m in self.kv_rx.finditer(cell):
                    if (cut < 0 and not edge) or _counts(m.start(), m.end(), cut, edge, len(cell)):
                        self._h_kv(m, cell)

    def _rx_for(self, key: int) -> tuple[Any, Any]:
        """(compiled alternation, its RE2 start finder or None): the main alternation without the gated classes whose bit is not in ``key``. A class
        whose necessary literal is absent from a cell cannot match anywhere in it, so finditer
        over the smaller alternation yields the same matches (leftmost, first alternative
        first), and Python's ``re`` tries far fewer alternatives at each position."""
        try:
            return self._rx_cache[key]
        except KeyError:
            pass
        gated = {cls: bit for bit, (cls, _) in enumerate(_CLASS_GATES)}
        keep = [p for cls, p in self._main_parts if cls not in gated or key >> gated[cls] & 1]
        rx = compile_pattern("|".join(keep), self._engine) if keep else None
        # where a match can start, found by RE2 (see superset.py); Python's re engine only
        starts = _superset.compiled("|".join(keep)) if keep and self._engine == "re" else None
        self._rx_cache[key] = (rx, starts)
        return rx, starts

    # ---- classification: one handler per pattern class ----------------------------------------
    def _handlers(self) -> dict[str, Callable[[Any, str], None]]:
        h: dict[str, Callable[[Any, str], None]] = {
            "num": self._h_num, "email": self._h_email, "tok": self._h_tok, "iban": self._h_iban,
            "ip4": self._h_ip4, "ip6": self._h_ip6, "mac": self._h_mac, "btc": self._h_btc, "eth": self._h_eth,
            "pem": self._h_pem, "jwt": self._h_jwt, "any": self._h_any,
        }
        for i, c in enumerate(self.cfg.custom):
            fn = _CUSTOM_VALIDATORS.get(c.validator) if c.validator else None
            h[f"c{i}"] = self._custom_handler(c.name, fn or (lambda s: s))
        return h

    def _custom_handler(self, name: str, fn: Callable[[str], str | None]) -> Callable[[Any, str], None]:
        return lambda m, cell: self._validated(name, m.group(), fn)

    def _h_num(self, m: Any, cell: str) -> None:
        a, b = m.span()
        if a > 1 and ((cell[a - 1] in ".," and cell[a - 2].isdigit()) or (cell[a - 1] == "-" and cell[a - 2] in _HEX)):
            return  # the digits of a decimal number (0.4111...) or the tail of a UUID, not an identifier
        if b + 1 < len(cell) and ((cell[b] in ".," and cell[b + 1].isdigit()) or (cell[b] == "-" and cell[b + 1] in _HEX)):
            return
        if a and _ID_BEFORE.search(cell, max(0, a - 32), a):
            return  # "order 4012…", "batch 123 45 6789": the text says what the number is (pii-detect)
        self._num(m.group(), self.ctx, self.strict)

    def _h_email(self, m: Any, cell: str) -> None:
        v = V.email(m.group())
        if v is not None:
            self._hit("EMAIL_ADDRESS", v, m.group(), test=v.endswith(TEST_EMAIL_DOMAINS))

    def _h_tok(self, m: Any, cell: str) -> None:
        text = m.group()
        for prefix, ent in _TOKEN_ENTITY:
            if text.startswith(prefix):
                break
        else:
            return
        v = V.aws_access_key(text) if ent == "AWS_ACCESS_KEY" else V.token(text)
        if v is not None:
            self._hit(ent, v, text)

    def _h_iban(self, m: Any, cell: str) -> None:
        compact = m.group().replace(" ", "")
        want = V.IBAN_LENGTHS.get(compact[:2])
        if want is not None and len(compact) >= want:
            self._validated("IBAN_CODE", compact[:want], V.iban)

    def _h_ip4(self, m: Any, cell: str) -> None:
        end = m.end()
        if end + 1 < len(cell) and cell[end] == "." and cell[end + 1].isdigit():
            return  # 1.2.3.4.5: a version or an OID, not an address
        if _VERSION_BEFORE.search(cell, max(0, m.start() - 24), m.start()):
            return  # "version 10.2.3.4", "fw v1.0.2.3": a four-part version, not an address (pii-detect)
        self._validated("IP_ADDRESS", m.group(), V.ip_address)

    def _h_ip6(self, m: Any, cell: str) -> None:
        self._validated("IP_ADDRESS", m.group(), V.ip_address)

    def _h_mac(self, m: Any, cell: str) -> None:
        self._validated("MAC_ADDRESS", m.group(), V.mac_address)

    def _h_btc(self, m: Any, cell: str) -> None:
        text = m.group()
        self._validated("CRYPTO", text, V.btc_bech32 if text[:3].lower() == "bc1" else V.btc_base58)

    def _h_eth(self, m: Any, cell: str) -> None:
        self._validated("CRYPTO", m.group(), V.eth_address)

    def _h_pem(self, m: Any, cell: str) -> None:
        self._hit("PRIVATE_KEY", m.group(), m.group())

    def _h_jwt(self, m: Any, cell: str) -> None:
        self._validated("JWT", m.group(), V.jwt)

    def _h_kv(self, m: Any, cell: str) -> None:
        value = re.split(r"[:=]", m.group(), maxsplit=1)[1].strip().strip("\"'")
        if self.rx.search(value):
            return  # token=ghp_...: the main pass reports it under its own (better) entity
        self._validated("GENERIC_SECRET", value, V.generic_secret)

    def _h_any(self, m: Any, cell: str) -> None:
        token = m.group()
        if V.word_name(token) and (" " in cell or not _leaf_says_secret(self.label)):
            # a term in a sentence of a secret-named column (its documentation, say), or a name
            # under a JSON key that is no secret's (``ClientToken.shape: ClientToken``)
            return
        self._validated("GENERIC_SECRET", token, V.generic_secret)

    def _keyword(self, kw: str, cell: str, end: int, seen: list[tuple[int, int]] = (), start: int = 0, cut: int = -1,
                 edge: int = 0) -> None:
        """A context word in free text: classify the first number right after it (unless the
        main pass already classified that number on its own). On a seam or a piece of a cut
        line, keyword and number count together as one match (see :func:`_counts`)."""
        m = _NUM_BROAD_RX.search(cell, end, min(len(cell), end + 48))
        if m is None:
            return
        a, b = m.span()
        if (cut >= 0 or edge) and not _counts(start, b, cut, edge, len(cell)):
            return
        if any(x < b and a < y for x, y in seen):
            return
        toks = name_tokens(kw)
        ctx = frozenset(n for n in WEAK_NUMERIC if toks & set(ENTITIES[n].context))
        if "US_ITIN" in ctx:
            ctx |= {"US_SSN"}
        self._num(m.group(), ctx | self.ctx, strict=False)

    def _num(self, text: str, ctx: frozenset[str], strict: bool) -> None:
        digits = text.replace(" ", "").replace("-", "")
        n = len(digits)
        plain = digits.isdigit()
        if n >= 12 and plain and self.card_on:
            v = V.card_digits(digits)
            if v is not None:
                self._hit("CREDIT_CARD", v, text)
                return
        if n == 9 and plain:
            grouped = n != len(text)
            formatted = grouped and _SSN_FMT.fullmatch(text) is not None
            # written with separators, an SSN or ITIN is grouped 3-2-4: nine digits grouped
            # otherwise are something else, whatever word is near ("security group ... Range:
            # 1024-65535" in AWS's API documentation is a port range, not an SSN)
            shaped = formatted or not grouped
            if digits[0] == "9":
                if (formatted or ("US_ITIN" in ctx and shaped)) and self._sample("US_ITIN"):
                    if self._validated("US_ITIN", digits, V.itin):
                        return
            elif (formatted or ("US_SSN" in ctx and shaped)) and self._sample("US_SSN"):
                if self._validated("US_SSN", digits, V.ssn):
                    return
            if "ABA_ROUTING_NUMBER" in ctx and self._sample("ABA_ROUTING_NUMBER"):
                if self._validated("ABA_ROUTING_NUMBER", digits, V.aba_routing):
                    return
        if strict:
            return
        if plain and n == 10 and "UK_NHS" in ctx and self._sample("UK_NHS"):
            if self._validated("UK_NHS", digits, V.uk_nhs):
                return
        if plain and 8 <= n <= 17 and "US_BANK_NUMBER" in ctx and self._sample("US_BANK_NUMBER"):
            if self._validated("US_BANK_NUMBER", digits, V.us_bank_number):
                return
        if "PHONE_NUMBER" in ctx and self._sample("PHONE_NUMBER"):
            self._validated("PHONE_NUMBER", text, self._phone)

    def _phone(self, text: str) -> str | None:
        return V.phone(text, self.cfg.phone_region)

    def bulk(self, entity: str, rows: Any, norm: Any, test: list[bool] | None, lines: bool = False) -> None:
        """Book cells a vectorised validator accepted (one value per cell; ``rows``, a pyarrow
        array, ascending): the same counts, test values and examples :meth:`_hit` would produce
        one by one, without turning every cell into a Python object."""
        st = self._stat(entity)
        n = len(rows)
        st.candidates += n
        st.sampled += n
        ntest = sum(test) if test is not None else 0
        st.test_values += ntest
        st.count += n - ntest
        st.rows += n - ntest
        cfg = self.cfg
        if ntest:  # rows ascend: the first test value is the lowest
            j = test.index(True)
            r = rows[j].as_py()
            st.test_value(cfg.salt, entity, norm[j].as_py(), r, r if lines else None, None)
        if n - ntest:
            st._last_row = rows[n - 1].as_py()
        if cfg.record:
            self.hits.extend((r, entity) for j, r in enumerate(rows.to_pylist()) if not (test and test[j]))
        # while there is room for examples only: booking every cell would hash every value
        j = 0
        while len(st.examples) < self.examples and j < n:
            if not (test and test[j]):
                r = rows[j].as_py()
                st.book(self.examples, cfg.salt, entity, norm[j].as_py(), r, r if lines else None, None)
            j += 1

    # ---- bookkeeping --------------------------------------------------------------------------
    def _stat(self, entity: str) -> EntityStats:
        st = self.stats.entities.get(entity)
        if st is None:
            st = self.stats.entities[entity] = EntityStats()
        return st

    def as_part(self, rows: int, examples: int) -> None:
        """Scan as a part of a table (:mod:`.datasets`): a part validates the sampled entities'
        candidates on its first ``rows`` rows (its share of the table's ``sample_min_rows``),
        then only on the row sample, as one file does past ``sample_min_rows``, but only once
        its verdict is settled: the rule only warns and one value was found, or it blocks
        without ``max_fraction`` and ``min_count`` values were. Until then, and for a
        ``max_fraction`` rule, every candidate is validated, so which parts have a finding, and
        which block, is what validating every value gives; their counts are then estimates.
        592 parts of 24 rows validated all of their 14,000 IP addresses (a file of the same
        rows: 1,260). It keeps ``examples`` examples per entity (its share of the policy's)."""
        self.examples = examples
        settled: dict[str, int] = {}
        for name in self.sampled:
            r = self.cfg.rules[name]
            if r.action == "block" and r.max_fraction > 0:
                continue
            settled[name] = r.min_count if r.action == "block" else 1
        self.sample_from = min(self.sample_from, rows)
        self.settled = settled

    def _sample(self, entity: str) -> bool:
        """Count a candidate; True when it should be validated (always, unless sampled)."""
        if entity not in self.active:
            return False
        st = self._stat(entity)
        st.candidates += 1
        if entity in self.sampled and self._row > self.sample_from:
            if (self._row * _KNUTH) % 1_000_003 >= self.cfg.sample_rate * 1_000_003 and not self._unsettled(entity, st):
                return False
        st.sampled += 1
        return True

    def _unsettled(self, entity: str, st: EntityStats) -> bool:
        """A part whose verdict on ``entity`` could still change with more values (one file's
        rows past ``sample_min_rows`` are sampled whatever their count)."""
        if self.settled is None:
            return False
        need = self.settled.get(entity)
        return need is None or st.count < need

    def _validated(self, entity: str, text: str, fn: Callable[[str], str | None]) -> bool:
        if entity not in WEAK_NUMERIC and not self._sample(entity):  # weak numeric types were counted already
            return False
        v = fn(text)
        if v is None:
            return False
        self._hit(entity, v, text, counted=True)
        return True

    def _hit(self, entity: str, value: str, raw: str, test: bool = False, counted: bool = False) -> None:
        if entity not in self.active:
            return
        st = self.stats.entities.get(entity) or self._stat(entity)
        if not counted:
            st.candidates += 1
            st.sampled += 1
        cfg = self.cfg
        h = None
        if self.allow_any:
            if value in cfg.allow_values or raw in cfg.allow_values or any(r.search(raw) for r in self.allow_rx):
                st.allowed += 1
                return
            if cfg.allow_hashes:
                h = value_hash(cfg.salt, entity, value)
                if h in cfg.allow_hashes:
                    st.allowed += 1
                    return
        if test or value in TEST_VALUES.get(entity, ()):
            st.test_values += 1
            st.test_value(cfg.salt, entity, value, self._row, self._line, self._path, h)
            return
        st.count += 1
        if cfg.record:
            self.hits.append((self._row, entity))
        if st._last_row != self._row:
            st.rows += 1
            st._last_row = self._row
        st.book(self.examples, cfg.salt, entity, value, self._row, self._line, self._path, h)


def _counts(start: int, end: int, cut: int, edge: int, n: int) -> bool:
    """Whether a match at [start, end) counts in a seam (``cut`` >= 0: it must touch or cross the
    cut) or in a piece of a cut line (it must not touch a cut edge: the seam sees it whole)."""
    if cut >= 0:
        return start <= cut <= end
    return not ((edge & 1 and start == 0) or (edge & 2 and end == n))


def scanners_for(cfg: ScanConfig, labels: Iterable[str | None], engine: str = "re") -> dict[str | None, ColumnScanner]:
    return {lab: ColumnScanner(cfg, lab, engine) for lab in labels}


@functools.lru_cache(maxsize=1)
def _name_scanner() -> ColumnScanner:
    from .entities import ENTITIES as _E

    cfg = ScanConfig(rules={n: EntityRule(action="warn") for n in _E}, salt="-", sampling=False, examples=1)
    return ColumnScanner(cfg, None)


#: names made of letters, spaces and underscores, shorter than this, hold nothing the scanner
#: looks for: every entity needs a digit, an ``@``, ``:``, ``=``, ``-``, ``.`` or ``/``, or is at
#: least 16 characters long (token prefixes such as ``ghp_``/``hf_`` need 20 more). Most headers
#: are such names; for them the name scanner (~14 ms to compile, before the first row is read)
#: is never built. Tested against the scanner on generated names.
PLAIN_NAME_MAX = 16


def _plain_name(name: str) -> bool:
    return len(name) < PLAIN_NAME_MAX and all(c.isalpha() or c in "_ " for c in name)


@functools.lru_cache(maxsize=65536)
def sensitive(name: str) -> bool:
    """Does a column name or JSON key itself hold something we look for? Then it must not be
    printed as a label (a header row that is really data, an email used as a JSON key)."""
    if _plain_name(name):
        return False
    sc = _name_scanner()
    sc.stats = ColumnStats(None)
    kw = [sc.kw_rx is not None and bool(sc.kw_rx.search(name))]
    kv = [sc.kv_rx is not None and bool(sc.kv_rx.search(name))]
    sc.scan([name], [1], kw=kw, kv=kv)
    return any(st.count or st.test_values for st in sc.stats.entities.values())
