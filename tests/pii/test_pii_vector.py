"""The vectorised validators accept exactly what the per-cell validators accept, and the gate
reports the same counts whether a column goes through the vector path or the Python path."""

from __future__ import annotations

import random
import string

import pyarrow as pa

from gates.pii import validators as V
from gates.pii import superset
from gates.pii import vector as X
from gates.pii.engine import BatchScan
from gates.pii import config

from pii_helpers import fake_card, fake_iban


def test_cards_agree():
    rng = random.Random(5)
    cells = []
    for i in range(4000):
        pre = rng.choice(["4", "51", "2221", "2720", "37", "6011", "3530", "6759", "62", "9", "1", "55", "30"])
        n = rng.randint(12, 19)
        c = fake_card(pre, n, i) if len(pre) < n else pre
        if rng.random() < 0.3:
            c = c[:-1] + str((int(c[-1]) + 1) % 10)
        if rng.random() < 0.2:
            c = " ".join(c[j:j + 4] for j in range(0, len(c), 4))
        cells.append(c)
    cells += ["0000000000000000", "4111111111111111"]
    ok, _ = X.cards(pa.array(cells))
    assert ok.to_pylist() == [V.card(c) is not None for c in cells]


def test_ssns_emails_ibans_agree():
    rng = random.Random(6)
    ssn = [f"{rng.randint(0, 999):03d}-{rng.randint(0, 99):02d}-{rng.randint(0, 9999):04d}" for _ in range(4000)] + ["111-11-1111"]
    ok, _ = X.ssns(pa.array(ssn))
    assert ok.to_pylist() == [V.ssn(s) is not None and not s.startswith("9") for s in ssn]
    em = ["a.b@c.de", ".a@b.com", "a.@b.com", "a..b@c.com", "x@-a.com", "x@a-.com", "A@B.COM"]
    em += [f"{''.join(rng.choice('ab.-_') for _ in range(5))}@{''.join(rng.choice('ab-.') for _ in range(4))}.com" for _ in range(2000)]
    ok, _ = X.emails(pa.array(em))
    assert ok.to_pylist() == [V.email(e) is not None for e in em]
    ib = []
    for _ in range(2000):
        cc = rng.choice(sorted(V.IBAN_LENGTHS))
        bban = "".join(rng.choice(string.digits + ("ABCXYZ" if rng.random() < 0.3 else "")) for _ in range(V.IBAN_LENGTHS[cc] - 4))
        x = fake_iban(cc, bban)
        if rng.random() < 0.3:
            x = x[:5] + rng.choice(string.digits) + x[6:]
        ib.append(x)
    ok, _ = X.ibans(pa.array(ib))
    assert ok.to_pylist() == [V.iban(x) is not None for x in ib]


def test_vector_and_python_paths_give_same_stats():
    cards = [fake_card("4", 16, i) if i % 3 else "4111111111111111" for i in range(300)]
    cards[7] = cards[7][:-1] + str((int(cards[7][-1]) + 1) % 10)
    cfg, _ = config.build({})
    fast = BatchScan(cfg)
    fast.column("card", pa.array(cards))  # ≥ 64 candidates: vector path
    slow = BatchScan(cfg)
    for i in range(0, len(cards), 50):  # < 64 per call: Python path
        slow.column("card", pa.array(cards[i:i + 50]), row_base=i)
    a, b = fast.scanners["card"].stats.entities["CREDIT_CARD"], slow.scanners["card"].stats.entities["CREDIT_CARD"]
    assert (a.count, a.rows, a.candidates, a.test_values) == (b.count, b.rows, b.candidates, b.test_values)
    assert [(e.row, e.hash) for e in a.examples.values()] == [(e.row, e.hash) for e in b.examples.values()]


def test_class_literals_are_in_every_match_of_their_class():
    """``CLASS_LITERALS`` lets a class be skipped where its literal is absent: on look-alikes
    built from each class's own pieces, no match lacks the literal, and matches exist."""
    import re

    from gates.pii.entities import CLASSES
    from gates.pii.scanner import CLASS_LITERALS

    pieces = ["a", "Z", "0", "9", "ff", "::", ":", ".", "@", "-", "_", "x", "0x", "eyJ", "-----BEGIN ", "PRIVATE KEY-----", " ",
              "1.2", "fe80", "abc", "12345", "ab" * 20, "example.com"]
    rng = random.Random(5)
    seen = {cls: 0 for cls in CLASS_LITERALS}
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        for cls, lit in CLASS_LITERALS.items():
            m = re.search(CLASSES[cls], text)
            if m is not None:
                seen[cls] += 1
                assert lit in m.group(), (cls, text)
    assert all(seen[c] for c in ("email", "ip4", "ip6", "eth")), seen


def test_one_token_pass_skips_a_class_whose_literal_no_cell_holds(monkeypatch):
    """The one-token pass does not run a class's kernel over cells of which none holds the
    class's literal (cards have no ``@``): the same cells are left, classified and booked as
    when every class is tried."""
    from gates.pii import engine

    cfg, _ = config.build({})
    rng = random.Random(9)
    cells = [rng.choice([fake_card("4", 16, i), "078-05-1120", "10.0.0.%d" % (i % 250), "fe80::%x" % i, "DE89370400440532013000",
                         "n/a", "4111 1111 1111 1111"]) for i in range(2000)]
    arr = pa.array(cells)
    rows = pa.array(range(1, len(cells) + 1), pa.int64())
    calls: list[str] = []
    real = engine._match

    def spy(a, pat):
        calls.append(pat)
        return real(a, pat)

    monkeypatch.setattr(engine, "_match", spy)

    def run():
        sc = BatchScan(cfg).scanner("notes")
        left, whole = engine.whole_cells(sc, arr, rows, False)
        st = sorted((e, v.count, v.rows, v.candidates, sorted((x.row, x.hash) for x in v.examples.values()))
                    for e, v in sc.stats.entities.items())
        return left.to_pylist(), whole, st

    calls.clear()
    fast = run()
    fast_calls = list(calls)
    monkeypatch.setattr(engine, "CLASS_LITERALS", {})
    calls.clear()
    full = run()
    assert fast == full and fast[2]
    assert len(fast_calls) < len(calls)
    assert not any("@" in p for p in fast_calls) and any("@" in p for p in calls)


def test_loose_block_patterns_match_wherever_the_exact_ones_do():
    """The prefilter picks blocks with LOOSE stand-ins: a cell the exact pattern matches must
    never sit in a block the loose pattern rejects."""
    import re

    from gates.pii.entities import CLASSES, LOOSE

    rng = random.Random(9)
    pieces = ["-----BEGIN ", "RSA ", "PRIVATE KEY-----", "eyJ", ".", "AKIA", "ASIA", "ghp_", "github_pat_", "glpat-", "gldt-",
              "xoxb-", "hooks.slack.com/services/T", "/B", "sk_live_", "rk_test_", "sk-", "sk-proj-", "hf_", "AIza", "@", "-", "_",
              " ", "a", "Z", "0", "9", "x" * 20, "A1b2" * 10, "mail.example.com", "eyJhbGciOi"]
    cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(20000)]
    cells += ["-----BEGIN EC PRIVATE KEY-----", "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a" * 36, "xoxp-1234567890-abc",
              "sk-proj-" + "A" * 30, "hf_" + "b" * 34, "AIza" + "c" * 35, "mary.smith@mail.example.com",
              "eyJ" + "a" * 10 + "." + "b" * 10 + "." + "c" * 10]
    for cls, loose in LOOSE.items():
        exact, lo = re.compile(rf"\b(?:{CLASSES[cls]})\b" if cls != "pem" else CLASSES[cls]), re.compile(loose)
        hits = [c for c in cells if exact.search(c)]
        assert hits, cls
        assert all(lo.search(c) for c in hits), (cls, [c for c in hits if not lo.search(c)][:3])


def test_per_cell_alternations_find_what_the_full_one_finds():
    """Free-text cells are walked with an alternation of only the classes whose necessary
    literal they contain: the matches (class and span) must equal the full alternation's."""
    cfg, _ = config.build({})
    sc = BatchScan(cfg).scanner("notes")
    rng = random.Random(11)
    pieces = ["call me at ", "+1 415 555 0199", "(212) 555-0100", "4111 1111 1111 1111", "078-05-1120", "a.b@c.example.com",
              "DE89370400440532013000", "10.0.0.1", "fe80::1", "00:1a:2b:3c:4d:5e", "0x" + "ab" * 20, "AKIAIOSFODNN7EXAMPLE",
              "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "eyJhbGciOi.eyJzdWIiOi.abcdefghij",
              "-----BEGIN RSA PRIVATE KEY-----", " ", ", ", "-", ".", ":", "ghp_" + "x" * 36, "sk-" + "y" * 24, "hf_" + "z" * 30,
              "1.2.3.4.5", "v2.10.3", "order 5942859575", "٤١١١"]
    cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    assert sum(len(c) >= superset.MIN_LEN for c in cells) > 1000  # long cells take the RE2-led walk
    for cell in cells:
        key = sum(bit for bit, test in sc._gates if test(cell))
        rx, starts = sc._rx_for(key)
        got = [(m.lastgroup, m.span()) for m in superset.finditer(rx, starts, cell)] if rx is not None else []
        assert got == [(m.lastgroup, m.span()) for m in sc.rx.finditer(cell)], cell


def test_long_cells_walked_with_the_whole_alternation_count_what_the_gated_walk_counts(monkeypatch):
    """A cell of :data:`superset.MIN_LEN` characters or more skips the literal gates and is
    walked with the whole alternation, RE2 finding where matches can start: its matches equal
    the full pattern's, and a scanner's counts and examples equal those of the gated walk."""
    cfg, _ = config.build({})
    rng = random.Random(12)
    pieces = ["call me at ", "+1 415 555 0199", "4111 1111 1111 1111", "078-05-1120", "a.b@c.example.com", "DE89370400440532013000",
              "10.0.0.1", "fe80::1", "00:1a:2b:3c:4d:5e", "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOi.eyJzdWIiOi.abcdefghij", " ", ", ",
              "-", ".", ":", "ghp_" + "x" * 36, "1.2.3.4.5", "order 5942859575", "٤١١١", "Grüße ", "電話 ", "card no. 5555 5555 5555 4444"]
    cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12))) for _ in range(3000)]
    long = [c for c in cells if len(c) >= superset.MIN_LEN]
    assert len(long) > 1000
    sc = BatchScan(cfg).scanner("notes")
    rx, starts = sc._rx_for(-1)
    assert starts is not None
    for cell in long:
        assert [(m.lastgroup, m.span()) for m in superset.finditer(rx, starts, cell)] == \
            [(m.lastgroup, m.span()) for m in sc.rx.finditer(cell)], cell

    def stats(min_len: int) -> tuple:
        monkeypatch.setattr(superset, "MIN_LEN", min_len)
        s = BatchScan(cfg).scanner("notes")
        s._rx_cache = {}  # its own compiled walks, to see which it used
        s.scan(cells, list(range(1, len(cells) + 1)))
        out = sorted((e, st.count, st.rows, st.candidates, sorted((x.row, x.evidence, x.occurrences) for x in st.examples.values()))
                     for e, st in s.stats.entities.items())
        return out, set(s._rx_cache)

    walked, keys = stats(48)
    gated, gated_keys = stats(1 << 30)  # every cell through the gates, walked by re alone
    assert walked == gated and any(count for _, count, *_ in walked)
    assert -1 in keys and -1 not in gated_keys


def test_read_ahead_hands_over_chunks_in_order_and_raises_reader_errors():
    import pytest

    from gates.core.errors import InputError
    from gates.pii.engine import prefetch

    def chunks():
        yield 1
        yield 2
        raise InputError("f.csv", "cannot parse")

    got = []
    with pytest.raises(InputError):
        for c in prefetch(chunks()):
            got.append(c)
    assert got == [1, 2]
    closed = []

    def endless():
        try:
            i = 0
            while True:
                i += 1
                yield i
        finally:
            closed.append(True)

    it = prefetch(endless())
    assert [next(it), next(it)] == [1, 2]
    it.close()  # the consumer stops early: the reader thread ends and the source is closed
    assert closed == [True]


def test_phone_shortcut_agrees_with_phonenumbers_parse():
    """The North American shapes skip phonenumbers.parse: same answers as the parsed path."""
    rng = random.Random(12)
    shapes = ["+1 {a} {b} {c}", "({a}) {b}-{c}", "{a}-{b}-{c}"]
    cells = []
    for _ in range(3000):
        a = rng.choice([rng.randint(200, 999), rng.choice([211, 311, 555, 800, 888, 900, 242, 416, 604, 876])])
        b = rng.choice([rng.randint(0, 999), 555, 911, 100, 0])
        cells.append(rng.choice(shapes).format(a=a, b=f"{b:03d}", c=f"{rng.randint(0, 9999):04d}"))
    for cell in cells:
        for region in ("US", "CA", "GB"):
            assert V.phone(cell, region) == V._phone_parsed(cell, region), (cell, region)
