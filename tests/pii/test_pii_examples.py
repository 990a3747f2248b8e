"""The examples a finding shows: one bookkeeping (``EntityStats.book``) for the per-cell scanner,
its bulk booking and the column semantics' counts."""

from __future__ import annotations

import random

from gates.pii.redact import value_hash
from gates.pii.scanner import EntityStats

SALT = "test-salt"
ENTITY = "EMAIL_ADDRESS"


def _book(st: EntityStats, value: str, row: int, limit: int = 3, h: str | None = None) -> None:
    st.book(limit, SALT, ENTITY, value, row, None, None, h)


def test_examples_are_the_first_distinct_values_with_their_occurrences():
    st = EntityStats()
    for row, v in enumerate(["a@x.io", "b@x.io", "a@x.io", "c@x.io", "d@x.io", "a@x.io"], start=1):
        _book(st, v, row)
    got = {e.hash: (e.row, e.occurrences) for e in st.examples.values()}
    assert got == {value_hash(SALT, ENTITY, "a@x.io"): (1, 2),  # the third "a" came once the examples were full
                   value_hash(SALT, ENTITY, "b@x.io"): (2, 1),
                   value_hash(SALT, ENTITY, "c@x.io"): (4, 1)}
    assert sorted(e.evidence for e in st.examples.values()) == ["a***@x***.io", "b***@x***.io", "c***@x***.io"]


def test_once_full_only_a_value_whose_hash_the_caller_has_adds_an_occurrence():
    st = EntityStats()
    for row, v in enumerate(["a@x.io", "b@x.io", "c@x.io"], start=1):
        _book(st, v, row)
    ha = value_hash(SALT, ENTITY, "a@x.io")
    _book(st, "a@x.io", 9)  # no hash: not looked up (hashing every value would cost more than the scan)
    assert st.examples[ha].occurrences == 1
    _book(st, "a@x.io", 9, h=ha)  # an allowlist check hashed it already
    assert st.examples[ha].occurrences == 2 and st.examples[ha].row == 1


def test_examples_stay_the_first_rows_whatever_order_values_are_booked_in():
    """Cells booked in bulk come before cells walked one by one, and a JSON column's rows are not
    in order: in any order, the examples are the values first seen on the lowest rows, each with
    its lowest row."""
    rng = random.Random(5)
    for trial in range(200):
        values = [f"u{rng.randrange(12)}@x.io" for _ in range(rng.randrange(1, 40))]
        cells = list(enumerate(values, start=1))  # (row, value), one value per row
        first: dict[str, int] = {}
        for row, v in cells:
            first.setdefault(v, row)
        limit = rng.randrange(1, 6)
        rng.shuffle(cells)
        st = EntityStats()
        for row, v in cells:
            _book(st, v, row, limit)
        want = {value_hash(SALT, ENTITY, v): row for v, row in sorted(first.items(), key=lambda kv: kv[1])[:limit]}
        assert {e.hash: e.row for e in st.examples.values()} == want, trial


def test_a_finding_points_at_the_first_row_of_its_value_when_cells_are_booked_out_of_order(pii, tmp_path):
    """A column of one e-mail address, whole on rows 2.. (booked in bulk by the vectorised pass,
    first) and inside a sentence on row 1 (walked cell by cell, after): the finding's row is 1.
    It was 2: with room left among the examples, the later-booked earlier row only added an
    occurrence."""
    p = tmp_path / "c.csv"
    p.write_text("id,contact\n1,please write to zed.quill@mailbox.org about it\n"
                 + "".join(f"{i},zed.quill@mailbox.org\n" for i in range(2, 6000)))
    code, rep, _ = pii(p, extra=("--workers", "1"))
    (f,) = [f for f in rep["findings"] if f.get("entity") == "EMAIL_ADDRESS"]
    assert code == 1 and f["row"] == 1
    assert [(e["row"], e["occurrences"]) for e in f["examples"]] == [(1, 5999)]


def test_url_credentials_examples_count_occurrences_like_every_other_entity(pii, tmp_path):
    """The column semantics' URL-credential examples go through the same bookkeeping: a URL seen
    twice is one example with two occurrences (it was 1), shown masked."""
    p = tmp_path / "u.csv"
    p.write_text("id,link\n1,see https://bob:hunter2secret@db.example.net/x\n2,https://amy:pa55wordzz@db.example.net/y\n"
                 "3,https://bob:hunter2secret@db.example.net/x\n4,none\n")
    code, rep, _ = pii(p, extra=("--workers", "1"))
    (f,) = [f for f in rep["findings"] if f.get("entity") == "URL_CREDENTIALS"]
    assert code == 1 and f["row"] == 1
    assert [(e["row"], e["occurrences"]) for e in f["examples"]] == [(1, 2), (2, 1)]
    assert all("hunter2" not in e["evidence"] and "pa55" not in e["evidence"] for e in f["examples"])


def test_a_known_test_value_finding_points_at_its_first_row_when_cells_are_booked_out_of_order(pii, tmp_path):
    """The same for PII003: a column of the test card, whole on rows 2.. (booked in bulk, first)
    and inside a sentence on row 1 (walked after). It pointed at row 2."""
    p = tmp_path / "t.csv"
    p.write_text("id,card\n1,test with 4111 1111 1111 1111 ok\n" + "".join(f"{i},4111111111111111\n" for i in range(2, 6000)))
    code, rep, _ = pii(p, extra=("--workers", "1"))
    (f,) = rep["findings"]
    assert (f["rule"], f["entity"], f["row"]) == ("PII003", "CREDIT_CARD", 1) and code == 0


def test_the_test_example_is_the_lowest_row_booked():
    st = EntityStats()
    for row in (7, 3, 9, 5):
        st.test_value(SALT, "CREDIT_CARD", "4111111111111111", row, None, None)
    assert st.test_example is not None and st.test_example.row == 3 and "4111111111111111" not in st.test_example.evidence
