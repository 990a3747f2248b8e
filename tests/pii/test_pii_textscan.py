"""The prefilter's one-text pass (gates/pii/textscan.py) must keep every cell the exact pattern
matches cell by cell: the answers are compared with pyarrow's per-cell kernel on the scanner's
real patterns, on awkward cells (line breaks inside cells, nulls, slices, matches at the edges,
non-ASCII text), on dense columns and across the two-thread split."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gates.pii import config, engine, textscan
from gates.pii.engine import BatchScan

PIECES = ["call me at ", "+1 415 555 0199", "078-05-1120", "a.b@c.example.com", "AKIAIOSFODNN7EXAMPLE", "Straße ",
          "東京都", "\n", " ", "x", "42", "ssn", "IBAN DE89 3704 0044 0532 0130 00", "-----BEGIN RSA PRIVATE KEY-----",
          "lorem ipsum ", "4111 1111 1111 1111", "192.168.0.1", "mobile", "\t", "é"]


def _cells(seed: int, n: int, hit_share: float) -> list[str | None]:
    rng = random.Random(seed)
    plain = ["lorem ipsum dolor", "Straße 12", "東京都 渋谷区", "", "x", "ok\nfine", "mobile friendly"]
    out: list[str | None] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.03:
            out.append(None)
        elif r < 0.03 + hit_share:
            out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))))
        else:
            out.append(rng.choice(plain))
    return out


def _exact(arr: pa.Array, pattern: str) -> list[int]:
    return pc.indices_nonzero(pc.match_substring_regex(arr, pattern)).to_pylist()


def _patterns() -> list[tuple[str, str | None]]:
    cfg, _ = config.build({})
    bs = BatchScan(cfg)
    out = []
    for label in ("review", "phone", "ssn", None):
        sc = bs.scanner(label)
        out.append((sc.pattern, sc.block_pattern))
    return out


@pytest.mark.parametrize("hit_share", [0.0, 0.002, 0.05, 0.9])
def test_prefilter_equals_the_per_cell_kernel_on_scanner_patterns(hit_share):
    arr = pa.array(_cells(7, 6000, hit_share), pa.string())
    for pattern, block in _patterns():
        expected = _exact(arr, pattern)
        assert engine.prefilter(arr, pattern, block).to_pylist() == expected
        # sliced arrays (offsets not starting at zero), on two threads
        part = arr.slice(1234, 3000)
        got = engine.prefilter_many([part, arr], pattern, block, threads=True)
        assert [g.to_pylist() for g in got] == [_exact(part, pattern), expected]


@pytest.mark.parametrize("pattern", [r"^\d{3}$", r"\b\d{3}-\d{2}-\d{4}\b", r"x$", r"^x", r"\bab", r"\s\d", r"é+", r"(?i)straße"])
def test_candidates_hold_every_cell_the_pattern_matches_alone(pattern):
    """Anchors and word boundaries at cell edges, matches in the first and the last cell,
    multi-line cells: every cell matching on its own is a candidate."""
    rng = random.Random(3)
    alphabet = ["1", "2", "3", "-", "x", "a", "b", " ", "\n", "é", "STRASSE", "straße", "45", "6789"]
    cells = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(3000)]
    cells[0], cells[-1] = "123", "x"
    arr = pa.array(cells, pa.string())
    expected = set(_exact(arr, pattern))
    for pool in (None, ThreadPoolExecutor(2)):
        (got,) = textscan.candidates([arr], pattern, pool)
        got_list = got.to_pylist()
        assert got_list == sorted(set(got_list))
        assert expected <= set(got_list), sorted(expected - set(got_list))[:5]


def test_a_sparse_column_costs_a_search_per_hit_not_per_cell(monkeypatch):
    arr = pa.array(["nothing here at all"] * 20_000 + ["ssn 078-05-1120"] + ["plain"] * 20_000, pa.string())
    calls = []
    real = textscan._search

    def counting(a, rx):
        got = real(a, rx)
        calls.append(len(got) if got is not None else None)
        return got

    monkeypatch.setattr(textscan, "_search", counting)
    (got,) = textscan.candidates([arr], r"\b\d{3}-\d{2}-\d{4}\b")
    assert got.to_pylist() == [20_000]
    assert calls == [1]


def test_a_dense_column_is_handed_back_whole():
    arr = pa.array([f"078-05-{1000 + i}" for i in range(5000)], pa.string())
    (got,) = textscan.candidates([arr], r"\b\d{3}-\d{2}-\d{4}\b")
    assert got.to_pylist() == list(range(5000))


def test_a_keyword_is_not_paired_with_a_number_cells_away_but_within_a_cell_it_is():
    """The keyword-then-number alternative must not run across cells (that made sparse free text
    quadratic) yet must still find a keyword and a number on two lines of one cell."""
    cfg, _ = config.build({})
    sc = BatchScan(cfg).scanner("review")
    cells = ["my account is great"] + ["lorem ipsum"] * 3000 + ["id 12345678901", "account:\n12345678901"]
    arr = pa.array(cells, pa.string())
    (got,) = textscan.candidates([arr], sc.block_pattern or sc.pattern)
    assert 0 not in got.to_pylist()
    assert len(cells) - 1 in got.to_pylist()
    assert engine.prefilter(arr, sc.pattern, sc.block_pattern).to_pylist() == _exact(arr, sc.pattern)


def test_a_column_with_nul_inside_cells_is_matched_cell_by_cell():
    cfg, _ = config.build({})
    sc = BatchScan(cfg).scanner("review")
    cells = ["lorem"] * 2000 + ["account\x00 no 12345678901", "ssn 078-05-1120"]
    arr = pa.array(cells, pa.string())
    (got,) = textscan.candidates([arr], sc.block_pattern or sc.pattern)
    assert got.to_pylist() == list(range(len(cells)))  # handed back whole
    assert engine.prefilter(arr, sc.pattern, sc.block_pattern).to_pylist() == _exact(arr, sc.pattern) == [2000, 2001]


def test_a_column_too_long_for_one_text_is_matched_cell_by_cell(monkeypatch):
    """The joined text is one pyarrow string (32-bit offsets): past its limit the column goes to
    the per-cell kernel instead of failing the file."""
    monkeypatch.setattr(textscan, "TEXT_MAX", 1000)
    arr = pa.array(["lorem ipsum"] * 300 + ["ssn 078-05-1120"], pa.string())
    assert textscan.candidates([arr], r"\b\d{3}-\d{2}-\d{4}\b") == [pa.array(range(301), pa.int64())]
    assert engine.prefilter(arr, r"\b\d{3}-\d{2}-\d{4}\b").to_pylist() == [300]


def test_a_dense_column_runs_the_full_pattern_only_on_the_block_patterns_hits(monkeypatch):
    """A dense column (handed back whole) is matched with the cheaper block pattern cell by cell
    first and with the full pattern only on its hits: same answer as the full pattern on every
    cell, with the full pattern run on fewer cells."""
    arr = pa.array(_cells(11, 4000, 0.4), pa.string())
    calls: list[tuple[str, int]] = []
    real = engine._match

    def spy(a, pattern):
        calls.append((pattern, len(a)))
        return real(a, pattern)

    monkeypatch.setattr(engine, "_match", spy)
    pattern, block = _patterns()[0]
    assert block and block != pattern
    assert engine.prefilter(arr, pattern, block).to_pylist() == _exact(arr, pattern)
    assert (block, len(arr)) in calls
    full = [n for p, n in calls if p == pattern]
    assert full and max(full) < len(arr)
