"""The engine's shortcuts change how much work is done, never what is found: each test runs the
shortcut against the plain computation on data this project did not write (the ten-locale Faker
corpus of ``bench/pii_corpus.py``) or on generated look-alikes, and shows the shortcut was taken."""

from __future__ import annotations

import importlib.util
import ipaddress
import random
from pathlib import Path

import pyarrow as pa
import pytest

from gates.pii import columns as C
from gates.pii import config, engine, kernels, phones, readers, semantic
from gates.pii.engine import BatchScan

faker = pytest.importorskip("faker", reason="Faker (test extra) builds the labelled corpus")
pytest.importorskip("stdnum", reason="python-stdnum (pii extra) validates national ids")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pii_corpus.py"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    spec = importlib.util.spec_from_file_location("pii_corpus", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    base = tmp_path_factory.mktemp("corpus")
    mod.build(base, rows=300, seed=23, real=False)
    files = sorted(p for p in base.rglob("*") if p.is_file())
    assert len(files) >= 10
    return files


def _summary(stats: list) -> dict:
    out = {}
    for col in stats:
        for entity, es in col.entities.items():
            out[(col.label, entity)] = (es.count, es.rows, es.candidates, es.sampled, es.allowed, es.test_values,
                                        sorted((e.row, e.hash, e.occurrences) for e in es.examples.values()))
    return out


def _scan(path: Path, cfg) -> list:
    info, chunks = readers.read(path, cfg_limits(), "auto", inline=True)
    return engine.scan_chunks(chunks, cfg, None)


def cfg_limits():
    return config.build({})[1]


def test_scanners_skip_what_the_column_semantics_settle_with_the_same_results(corpus, monkeypatch):
    """A column the semantics pass decided (a phone or national-id column) is scanned without
    the per-cell entities the merge would drop or replace: same results, less work."""
    cfg, _ = config.build({})
    fast = {p: _summary(_scan(p, cfg)) for p in corpus}
    skipped: list[tuple[str | None, frozenset[str]]] = []
    real_skip = semantic.SemanticPass.skip

    def spy(self, label):
        s = real_skip(self, label)
        if s:
            skipped.append((label, s))
        return frozenset()

    monkeypatch.setattr(semantic.SemanticPass, "skip", spy)
    slow = {p: _summary(_scan(p, cfg)) for p in corpus}
    assert fast == slow
    assert any("PHONE_NUMBER" in s for _, s in skipped), "no phone column was decided: the shortcut was not exercised"


def test_a_settled_phone_column_has_no_number_class_left():
    cfg, _ = config.build({})
    skip = frozenset(semantic.WEAKER)
    bs = BatchScan(cfg)
    bs.settle({"phone": skip})
    sc = bs.scanner("phone")
    assert "(?P<num>" not in sc.pattern and sc.kw_pattern is None
    assert "(?P<num>" in BatchScan(cfg).scanner("phone").pattern
    # a scanner already counting keeps its set (its counts would be lost otherwise)
    bs2 = BatchScan(cfg)
    first = bs2.scanner("phone")
    bs2.settle({"phone": skip})
    assert bs2.scanner("phone") is first
    bs2.settle({"phone": skip}, fresh=True)
    assert bs2.scanner("phone") is not first and bs2.scanner("phone").skip == skip


def test_classification_shortcuts_decide_as_the_full_computation(corpus, monkeypatch):
    """Early exits in the value tests (a share that cannot reach its threshold, a support share
    already decided) and the per-header cache give the verdicts of the plain computation."""
    samples = []
    for p in corpus:
        info, chunks = readers.read(p, cfg_limits(), "auto", inline=True)
        for ch in chunks:
            for c in ch.columns:
                vals = [v for v in semantic.strings(c.values).to_pylist() if v and v.strip()][:C.SAMPLE]
                if c.label is not None and vals:
                    samples.append((c.label, vals))
                    samples.append((c.label, vals[:12]))  # a small file's column
                    samples.append(("value", vals))  # no header: values alone
    assert len(samples) > 100

    def verdicts():
        out = []
        for label, vals in samples:
            v = C.classify(label, vals)
            d = v.decision
            out.append((label, d and (d.detector.rule, d.basis, round(d.share, 9)), sorted(v.vetoes)))
        return out

    fast = verdicts()

    def full_share(values, fn, need, denom):
        return sum(1 for v in values if fn(v) is not None) / denom if denom else 0.0

    def full_support(support, sample, distinct=1):
        if support is None:
            return True
        passed = {k.casefold() for k in map(support[1], sample) if k is not None}
        return full_share(sample, support[1], 0, len(sample)) >= support[0] and len(passed) >= distinct

    monkeypatch.setattr(C, "_share_reaching", full_share)
    monkeypatch.setattr(C, "_supported", full_support)
    C._facts.cache_clear()
    assert verdicts() == fast
    assert sum(1 for _, d, _ in fast if d) >= 30  # the corpus has decided columns: the comparison means something


def test_ipv6_cells_take_the_vector_path_with_the_same_counts():
    """Whole-cell IPv6 values beyond the sampling threshold are counted in pyarrow, not parsed:
    the stats equal the per-cell path's."""
    rng = random.Random(4)
    cells = []
    for i in range(5000):
        if i % 3 == 0:
            cells.append(str(ipaddress.IPv6Address(rng.getrandbits(128))))
        elif i % 3 == 1:
            cells.append(str(ipaddress.IPv6Address(rng.getrandbits(128))).replace(":", "::", 1))  # mostly invalid
        else:
            cells.append(f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}")
    cfg, _ = config.build({})
    fast = BatchScan(cfg)
    fast.column("ip", pa.array(cells))
    slow = BatchScan(cfg)
    for i in range(0, len(cells), 50):  # under the vector threshold: the Python path, cell by cell
        slow.column("ip", pa.array(cells[i:i + 50]), row_base=i)
    a, b = fast.scanners["ip"].stats.entities["IP_ADDRESS"], slow.scanners["ip"].stats.entities["IP_ADDRESS"]
    assert (a.count, a.rows, a.candidates, a.sampled) == (b.count, b.rows, b.candidates, b.sampled)
    assert a.sampled < a.candidates  # sampled: most cells were only counted


def test_keyword_candidates_need_a_number_after_the_word():
    """A context word alone ("account", "mobile" in prose) is no candidate; with a number after
    it (even across a line break, even in full-width digits) it is."""
    cfg, _ = config.build({})
    sc = BatchScan(cfg).scanner("review")
    prose = ["Great phone, my account manager was social and helpful.", "mobile friendly", "call me maybe"]
    with_numbers = ["call me on 555 123 4567 tonight", "account:\n12345678901", "phone ５５５１２３４５６７"]
    arr = pa.array(prose * 400 + with_numbers)
    idx = engine.prefilter(arr, sc.pattern, sc.block_pattern).to_pylist()
    assert idx == [len(prose) * 400 + i for i in range(len(with_numbers))]


def test_a_column_dense_on_its_first_cells_is_scanned_whole_with_the_same_results(monkeypatch):
    """A large column whose first cells nearly all match is taken as dense at once (every
    non-empty cell scanned, no per-cell kernels): counts, rows, candidates and examples equal
    the exact prefilter's, also when the column stops being dense after the probed cells."""
    fake = faker.Faker(["en_US", "de_DE", "ja_JP"])
    fake.seed_instance(21)
    head = [fake.email() if i % 3 else fake.credit_card_number() for i in range(engine.DENSE_PROBE + 500)]
    prose = [fake.sentence() if i % 40 else f"{fake.sentence()} call {fake.phone_number()} or mail {fake.email()}"
             for i in range(4 * engine.DENSE_PROBE)]
    cells = head + prose + ["", None] * 50
    cfg, _ = config.build({})
    chunk = readers.Chunk([readers.Column("contact", pa.array(cells)), readers.Column("other", pa.array(list(reversed(cells))))],
                          0, len(cells))

    def run() -> tuple[dict, bool]:
        bs = BatchScan(cfg)
        engine.scan_chunk(bs, chunk)
        return _summary(bs.results()), bs.scanners["contact"].dense

    probed, dense = run()
    monkeypatch.setattr(engine, "DENSE_PROBE_SHARE", 2.0)  # never dense by the probe
    exact, was_dense = run()
    assert probed == exact and any(v[0] for v in exact.values())
    assert dense and not was_dense


def test_region_hints_are_read_on_demand_across_windows():
    values = [random.Random(i).choice(["DE", "fr_FR", "+44", "Germany", None, "x", "GB29NWBK60161331926819"]) for i in range(10_000)]
    hints = semantic._Hints(pa.array(values))
    for i in (0, 1, 4095, 4096, 9999, 17, 8192, 5000):
        assert hints[i] == phones.region_of(values[i])
    assert len(hints) == len(values)
    walked = semantic._Hints(pa.array(values))  # in row order, through windows that grow
    assert [walked[i] for i in range(len(values))] == [phones.region_of(v) for v in values]


def test_region_hints_of_a_few_rows_read_a_few_rows(monkeypatch):
    """A part of a table checks two phone numbers: their hints must not cost its other rows'."""
    seen = []
    real = phones.region_of
    monkeypatch.setattr(phones, "region_of", lambda v: seen.append(v) or real(v))
    hints = semantic._Hints(pa.array(["DE"] * 5000))
    assert hints[0] == hints[1] == real("DE")
    assert 2 <= len(seen) <= semantic._Hints.FIRST


@pytest.mark.parametrize("pattern", [
    r"\b\d{3}-\d{2}-\d{4}\b", r"[^\s\"',;]{8,}", r"(?P<a>\b\d[\d ().-]{6,22}\d\b)|(?P<b>\S{8,})", r"(?i:ab)c\.d",
])
def test_re2_start_finder_walks_like_python_re(pattern):
    """Where Python's Unicode \\d, \\s and \\b differ from RE2's ASCII ones (Arabic-Indic and
    full-width digits, no-break and ideographic spaces, accented letters next to digits), the
    RE2-led walk still yields exactly Python's matches."""
    from gates.pii import superset

    rx = __import__("re").compile(pattern)
    starts = superset.compiled(pattern)
    assert starts is not None
    rng = random.Random(3)
    bits = ["٤١١", "１２３", "123", "45", "6789", "-", " ", "\u00a0", "\u3000", "é", "x", "AB", "abc", ".", ";", "\u2028", "\n", "c.d"]
    for _ in range(3000):
        cell = "".join(rng.choice(bits) for _ in range(rng.randint(10, 60)))
        assert [(m.lastgroup, m.span()) for m in superset.finditer(rx, starts, cell)] == \
            [(m.lastgroup, m.span()) for m in rx.finditer(cell)], cell


def test_re2_start_finder_walks_multibyte_text_like_python_re():
    """RE2 walks the cell's UTF-8 bytes (encoded once) and its byte offsets become character
    offsets as the walk goes: on text of 1- to 4-byte characters (accents, CJK, emoji, combining
    marks, Arabic-Indic digits) and with the scanner's own alternation, the matches are Python's,
    match for match; a cell with a lone surrogate (no UTF-8) is walked by ``re`` alone."""
    from gates.pii import superset

    cfg, _ = config.build({})
    sc = engine._template(cfg, "notes", "re")
    rx, starts = sc._rx_for(-1)
    assert starts is not None
    bits = ["Call 415-555-0100", " ", "ü", "日本語", "😀", "e\u0301", "٤١١٢٣٤٥٦٧", "a.b@example.org", "DE89 3704 0044 0532 0130 00",
            "4111 1111 1111 1111", "10.0.0.1", "\u00a0", "\u3000", "123-45-6789", "x", "\U0001d7d9\U0001d7da"]
    rng = random.Random(11)
    checked = 0
    for _ in range(1500):
        cell = "".join(rng.choice(bits) for _ in range(rng.randint(6, 40)))
        if len(cell) < superset.MIN_LEN:
            continue
        checked += 1
        assert [(m.lastgroup, m.span()) for m in superset.finditer(rx, starts, cell)] == \
            [(m.lastgroup, m.span()) for m in rx.finditer(cell)], cell
    assert checked > 1000
    lone = "Call 415-555-0100 \ud800 then 123-45-6789 and a.b@example.org" * 2
    assert [m.span() for m in superset.finditer(rx, starts, lone)] == [m.span() for m in rx.finditer(lone)] != []


@pytest.mark.parametrize("pattern", [r"(?=a)b", r"(a)\1", r"\w+", r"^ab", r"ab$", r"a*", r"(?x) a", r"\Aab"])
def test_re2_start_finder_refuses_what_it_cannot_vouch_for(pattern):
    from gates.pii import superset

    assert superset.translate(pattern) is None


def test_columns_scanned_on_threads_give_the_sequential_results_in_the_same_order(corpus):
    """Large chunks are scanned a column per thread; a label that two columns share stays on one
    thread (its scanner is never shared), and results keep the column order."""
    from gates.pii.readers import Chunk, Column

    cfg, _ = config.build({})
    cols = []
    for p in corpus[:6]:
        info, chunks = readers.read(p, cfg_limits(), "auto", inline=True)
        for ch in chunks:
            cols += [c for c in ch.columns if c.rows is None and c.label is not None]
    n = 6000
    rng = random.Random(8)
    arrays = []
    for c in cols[:24]:
        vals = [v for v in semantic.strings(c.values).to_pylist() if v]
        arrays.append((c.label, pa.array([rng.choice(vals) for _ in range(n)]) if vals else pa.array([""] * n)))
    arrays.append((arrays[0][0], arrays[1][1]))  # a second column under the first one's label
    chunk = Chunk([Column(label, arr) for label, arr in arrays], 0, n)
    assert engine._threads() is not None

    def run(threads: bool):
        bs = BatchScan(cfg)
        engine.scan_chunk(bs, chunk, threads=threads)
        res = bs.results()
        return [c.label for c in res], _summary(res)

    assert run(True) == run(False)


@pytest.mark.parametrize("label", ["ssn", "account_number", "nhs_number", "phone", "card", "notes"])
def test_whole_cell_numbers_dropped_in_pyarrow_are_the_ones_python_would_not_count(label):
    """Whole-cell numbers that no branch of the per-cell number check could use in this column
    (11-digit ids under an SSN header, failed cards) are dropped before Python: every entity's
    stats equal the per-cell path's."""
    from pii_helpers import fake_card

    rng = random.Random(len(label))
    cells = []
    for i in range(3000):
        n = rng.randint(8, 19)
        d = "".join(rng.choice("0123456789") for _ in range(n))
        kind = i % 5
        if kind == 0:
            d = fake_card(rng.choice(["4", "51", "37"]), 16, i)
        elif kind == 1:
            d = f"{rng.randint(1, 899):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        elif kind == 2:
            d = " ".join(d[j:j + 3] for j in range(0, len(d), 3))
        cells.append(d)
    cfg, _ = config.build({})
    fast = BatchScan(cfg)
    fast.column(label, pa.array(cells))
    slow = BatchScan(cfg)
    for i in range(0, len(cells), 50):
        slow.column(label, pa.array(cells[i:i + 50]), row_base=i)
    # counts, not examples: which ten examples are kept depends on booking order, and the vector
    # path books its accepted cells before the Python path sees the rest
    counts = {k: v[:6] for k, v in _summary(fast.results()).items()}
    assert counts == {k: v[:6] for k, v in _summary(slow.results()).items()}
    assert counts


def test_plain_csv_dialect_is_what_the_sniffer_would_say():
    """CSV samples without quotes and with one consistent delimiter skip csv.Sniffer: on
    thousands of generated samples (plain and not) and the CSVs scikit-learn ships, the dialect
    equals the Sniffer's."""
    import csv

    from gates.pii.readers import _plain_delimiter, csv_dialect

    def sniffer(sample: str, fmt: str):
        lines = sample.splitlines(keepends=True)
        body = "".join(lines[:-1]) if len(lines) > 1 else sample
        try:
            d = csv.Sniffer().sniff(body[:32768], delimiters=",\t;|")
        except csv.Error:
            return ("\t" if fmt == "tsv" else ","), '"', True, None
        delim = "\t" if fmt == "tsv" and d.delimiter != "\t" and "\t" in lines[0] else d.delimiter
        return delim, d.quotechar or '"', bool(d.doublequote), d.escapechar

    rng = random.Random(12)
    samples = []
    for _ in range(4000):
        d = rng.choice(",\t;|: ")
        cols = rng.randint(1, 6)
        noise = rng.choice([0.0, 0.0, 0.05])
        lines = [d.join("".join(rng.choice("ab1 ,;|\t:\"'") if rng.random() < noise else rng.choice("abc123.")
                                for _ in range(rng.randint(1, 6))) for _ in range(cols)) for _ in range(rng.randint(1, 30))]
        samples.append("\n".join(lines) + rng.choice(["", "\n", "\nabc", "\r\n"]))
    try:
        import sklearn.datasets

        root = Path(sklearn.datasets.__file__).parent / "data"
        samples += [p.read_bytes()[:65536].decode("utf-8", "replace") for p in root.glob("*.csv")]
    except ImportError:
        pass
    plain = 0
    for s in samples:
        body = "".join(s.splitlines(keepends=True)[:-1]) if len(s.splitlines()) > 1 else s
        plain += _plain_delimiter(body[:32768]) is not None
        for fmt in ("csv", "tsv"):
            assert csv_dialect(s, fmt) == sniffer(s, fmt), (s[:200], fmt)
    assert plain > 500  # the fast path was taken often enough to mean something


def test_the_url_buffer_test_never_hides_a_cell_that_holds_the_literal():
    """The characters'-buffer check may say "maybe" for a slice (its buffer holds its parent's
    cells) but never "no" for an array with a URL in a cell."""
    rng = random.Random(2)
    for _ in range(300):
        cells = [rng.choice(["abc", "x:/y", "://", "http://h/p", "", None, "é://"]) for _ in range(rng.randint(0, 12))]
        arr = pa.array(cells, pa.string())
        a, b = sorted(rng.randint(0, len(cells)) for _ in range(2))
        for part in (arr, arr.slice(a, b - a)):
            if any(c and "://" in c for c in part.to_pylist()):
                assert kernels.may_hold(part, b"://")
    assert not kernels.may_hold(pa.array(["abc", "x:/y", None]), b"://")


def test_warming_up_changes_no_result_and_survives_a_missing_library(corpus, monkeypatch):
    """scan_chunks loads libraries and compiles the plain scanner before the first chunk: the
    results are those of a scan without it, and a library that is not installed is left for its
    first use to report."""
    cfg, limits = config.build({})
    path = max(corpus, key=lambda p: p.stat().st_size if p.suffix == ".csv" else 0)

    def scan() -> dict:
        info, chunks = readers.read(path, limits, "auto", inline=True)
        return _summary(engine.scan_chunks(chunks, cfg, None))

    monkeypatch.setattr(engine, "WARM_MODULES", ("stdnum.util", "no_such_module_mlsec"))
    warm = scan()
    monkeypatch.setattr(engine, "_warm", lambda cfg: None)
    assert warm == scan() and warm


def test_plain_header_names_are_never_sensitive_without_the_name_scanner():
    """A short name of letters, spaces and underscores skips the name scanner: on generated
    names (token prefixes, keywords, non-ASCII letters) the scanner finds nothing in any of
    them, and a name it would flag is never plain."""
    import string

    from gates.pii import scanner

    rng = random.Random(2)
    prefixes = ["ghp_", "github_pat_", "glpat_", "xoxb_", "sk_live_", "hf_", "AIza", "AKIA", "eyJ", "password", "token", "phone", ""]
    alphabet = string.ascii_letters + "_ ÄéßЖ中"
    names = {(rng.choice(prefixes) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 15))))[:15] for _ in range(20_000)}
    plain = [n for n in names if n and scanner._plain_name(n)]
    assert len(plain) > 10_000
    slow = scanner.sensitive.__wrapped__
    monkey = scanner._plain_name
    try:
        scanner._plain_name = lambda name: False  # the full scanner on every name
        assert not [n for n in plain if slow(n)]
        flagged = ["xoxb-abcdefghij", "ann@corp.test", "078-05-1120", "AKIAIOSFODNN7EXAMPLE", "api_key=Zx81kLmQ0pR7tY"]
        assert all(slow(n) for n in flagged) and not any(monkey(n) for n in flagged)
    finally:
        scanner._plain_name = monkey


def test_fold_lowers_ascii_and_decomposes_the_rest_like_the_full_fold():
    """Word-list folding skips NFKD for ASCII text (NFKD leaves it unchanged): equal to the full
    fold on ASCII, accented, ligature, full-width, CJK and Cyrillic words; the name lists are
    folded without filling the scan's cache."""
    import unicodedata

    from gates.pii import names
    from gates.pii.fold import fold

    def full(s: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", s.lower()) if not unicodedata.combining(c))

    rng = random.Random(4)
    alphabet = "abcXYZ019 -'.,_Ññéèüßæœﬁ𝔘ＡＢ日本語Ельцин\u0301\u00a0İ"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(5000)]
    words += ["".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(0, 20))) for _ in range(5000)]
    assert [fold(w) for w in words] == [full(w) for w in words]
    names.lists.cache_clear()
    names._fold.cache_clear()
    given, sur = names.lists()
    assert "josé" in given or "jose" in given
    assert names._fold.cache_info().currsize == 0


def test_scanners_of_names_with_the_same_context_share_what_they_build():
    """A JSON document's paths are column names by the thousand (43k in botocore's EC2 API
    definition); a scanner is built once per context and copied for each name. Each copy equals
    a scanner built for its own name, and scans under its own name."""
    from gates.pii.scanner import ColumnScanner

    cfg, _ = config.build({})
    labels = ["shapes.A.members.Marker.locationName", "shapes.B.members.Key.locationName", "email", "user.email",
              "contact_phone", "password", "auth.token", "name", "owner.name", "comment", None, "id", "iban"]
    built = {}
    bs0 = BatchScan(cfg)
    for label in labels:
        sc = bs0.scanner(label)
        own = ColumnScanner(cfg, label, "re")
        assert sc.label == label and sc.stats.label == label
        for attr in ("pattern", "block_pattern", "kw_pattern", "kv_pattern", "whole", "active", "sampled", "strict", "ctx"):
            assert getattr(sc, attr) == getattr(own, attr), (label, attr)
        built[label] = sc
    # the two locationName paths have one context: one set of compiled patterns
    assert built["shapes.A.members.Marker.locationName"].rx is built["shapes.B.members.Key.locationName"].rx
    assert built["email"].rx is built["user.email"].rx
    bs = BatchScan(cfg)
    bs.column("shapes.A.members.Marker.locationName", pa.array(["write to ada.lovelace@corp-mail.net"]))
    bs.column("shapes.B.members.Key.locationName", pa.array(["nothing here"]))
    got = {s.label: sorted(s.entities) for s in bs.results()}
    assert got == {"shapes.A.members.Marker.locationName": ["EMAIL_ADDRESS"], "shapes.B.members.Key.locationName": []}


def test_semantic_pass_neighbours_follow_the_columns_first_places():
    """Each label's place is kept as it is added (``order.index`` per decision was quadratic in
    the columns of a JSON document); neighbours are the columns either side."""
    cfg, _ = config.build({})
    sem = semantic.SemanticPass(cfg)
    rows = [{"first_name": "Ada", "last_name": "Lovelace", "city": "London"},
            {"first_name": "Bob", "last_name": "Jones", "city": "Leeds"}]
    from gates.pii.readers import Chunk, Column

    cols = [Column(k, pa.array([r[k] for r in rows])) for k in rows[0]]
    for _ in sem.tap(iter([Chunk(cols, nrows=2)])):
        pass
    assert sem.order == ["first_name", "last_name", "city"]
    assert sem.at == {"first_name": 0, "last_name": 1, "city": 2}


def test_a_column_label_is_split_into_words_once():
    """Every part of a table asks for its columns' headers again (region hints, neighbours):
    a label's words are made once, and are those of the label."""
    from gates.pii import columns

    first = columns.Header.of("customer.homeCountry")
    assert columns.Header.of("customer.homeCountry") is first
    assert {"home", "country", "home_country"} <= first.words and first.says(columns.V_REGION)
    assert columns.Header.of(None) == columns.Header("", frozenset())


@pytest.mark.parametrize("opts,part", [({}, False), ({"sampling": {"min_rows": 5, "rate": 0.3}}, False), ({}, True)])
def test_whole_cell_ip_addresses_count_what_the_per_cell_walk_counts(opts, part):
    """A cell the one-token pass found to be one IPv4 or IPv6 address is checked directly (no
    regex walk, no look around a match that covers the cell): every count, and the examples,
    equal the walk's over the same cells, sampled or not, and as a part of a table."""
    rng = random.Random(7)
    cells = []
    for i in range(2000):
        k = i % 6
        if k == 0:
            cells.append(".".join(str(rng.randint(0, 255)) for _ in range(4)))
        elif k == 1:
            cells.append(".".join(str(rng.randint(0, 999)) for _ in range(4)))  # mostly invalid
        elif k == 2:
            cells.append(":".join(f"{rng.randint(0, 65535):x}" for _ in range(8)))
        elif k == 3:
            cells.append(f"2001:db8::{rng.randint(1, 65535):x}")
        elif k == 4:
            cells.append(f"1.2.3.{rng.randint(0, 255)}.{rng.randint(0, 9)}")  # an OID: not one address
        else:
            cells.append("")
    cfg, _ = config.build(opts)

    def scanner():
        bs = BatchScan(cfg)
        if part:
            bs.share = 0.01
        return bs

    fast = scanner()
    fast.column("ip", pa.array(cells))  # one column of 2,000 cells: the one-token pass
    slow = scanner()
    for i in range(0, len(cells), 50):  # columns of 50: cell by cell, through the regex walk
        slow.column("ip", pa.array(cells[i:i + 50]), row_base=i)
    got, want = _summary(fast.results()), _summary(slow.results())
    assert got[("ip", "IP_ADDRESS")][:6] == want[("ip", "IP_ADDRESS")][:6]
    assert got[("ip", "IP_ADDRESS")][0] > 0
