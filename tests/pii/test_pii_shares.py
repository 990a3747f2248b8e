"""A finding's share is of rows (records, lines), however many cells a row holds: the elements of
a list column and the pieces of a cut line are one row each, not one each."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

POLICY = "version: 1\ngates:\n  pii:\n    entities:\n      EMAIL_ADDRESS: {action: block, max_fraction: 0.5}\n"
FILLERS = ["n/a"] * 9


def _emails(rep: dict) -> dict:
    (f,) = [f for f in rep["findings"] if f.get("entity") == "EMAIL_ADDRESS"]
    return f


def test_a_list_column_of_json_records_is_shared_over_records_not_elements(pii, tmp_path):
    """Every record holds an address among nine fillers: 100 % of the records. Counted per element
    it was 10 %, under the policy's max_fraction of 50 %, and the file passed."""
    p = tmp_path / "people.jsonl"
    p.write_text("".join(json.dumps({"id": i, "contacts": [f"p{i}@mail.example.net", *FILLERS]}) + "\n" for i in range(400)))
    code, rep, _ = pii(p, policy=POLICY)
    f = _emails(rep)
    assert (f["column"], f["column_rows"], f["column_count"], f["column_fraction"]) == ("contacts[]", 400, 400, 1.0)
    assert f["blocking"] and code == 1


def test_a_parquet_list_column_is_shared_over_rows_not_elements(pii, tmp_path):
    p = tmp_path / "people.parquet"
    pq.write_table(pa.table({"id": list(range(400)),
                             "contacts": [[f"p{i}@mail.example.net", *FILLERS] for i in range(400)]}), p)
    code, rep, _ = pii(p, policy=POLICY)
    f = _emails(rep)
    assert (f["column_rows"], f["column_count"], f["column_fraction"]) == (400, 400, 1.0)
    assert f["blocking"] and code == 1


def test_a_cut_line_is_one_row(pii, tmp_path):
    """A 3 MB line is scanned in pieces; the file has three lines, two with an address."""
    p = tmp_path / "notes.txt"
    p.write_text("contact me at zed.quill@mailbox.org\n" + "alpha beta " * 300_000 + "zed.quill@mailbox.org\nshort line\n")
    code, rep, _ = pii(p, policy=POLICY)
    f = _emails(rep)
    assert (f["column_rows"], f["column_count"]) == (3, 2) and f["blocking"] and code == 1
