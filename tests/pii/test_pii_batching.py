"""Set-up paid once, not per file (issue 18): small files are scanned in batches that share the
prefilter kernels, compiled scanners are reused across files, small arrays are matched by a
process-wide RE2. None of it may change a finding."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.compute as pc

from gates.pii import config, kernels
from gates.pii.engine import BatchScan, scan_chunk, scan_chunks, scan_many
from gates.pii.readers import Limits, read
from pii_helpers import fake_card, fake_iban

EMAIL = "ana.silva@post.example.org"


def write_parts(d, n: int) -> list:
    d.mkdir()
    rng = random.Random(5)
    paths = []
    for i in range(n):
        lines = ["id,contact,note,account"]
        for r in range(1, 40):
            contact = f"user{i}.{r}@corp.example.net" if rng.random() < 0.3 else "none"
            note = f"paid with {fake_card('4', 16, i * 100 + r)}" if rng.random() < 0.1 else "ok"
            acct = fake_iban("DE", f"{rng.randrange(10**18):018d}") if rng.random() < 0.1 else ""
            lines.append(f"{r},{contact},{note},{acct}")
        p = d / f"part-{i:03d}.csv"
        p.write_text("\n".join(lines) + "\n")
        paths.append(p)
    return paths


def key(rep: dict) -> list:
    return sorted((f["path"], f["rule"], f.get("entity"), f.get("column"), f.get("row"), f["fingerprint"], f["blocking"])
                  for f in rep["findings"])


def test_batched_small_files_report_what_one_by_one_does(pii, tmp_path):
    paths = write_parts(tmp_path / "parts", 30)
    (tmp_path / "parts" / "broken.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")  # in the middle of a batch
    code, together, _ = pii(tmp_path / "parts")
    assert code == 2
    assert [e["path"].rsplit("/", 1)[-1] for e in together["gates"]["pii"]["errors"]] == ["broken.csv.gz"]
    alone = []
    for p in paths:
        _, rep, _ = pii(p)
        alone.extend(key(rep))
    assert key(together) == sorted(alone) and len(alone) > 30
    assert len(together["gates"]["pii"]["files"]) == 30


def test_scan_many_equals_scan_alone(tmp_path):
    paths = write_parts(tmp_path / "p", 6)
    cfg, limits = config.build({})
    files = [list(read(p, Limits())[1]) for p in paths]
    many = scan_many(files, cfg)
    for p, got in zip(paths, many):
        bs = BatchScan(cfg)
        for ch in read(p, Limits())[1]:
            scan_chunk(bs, ch)
        want = {st.label: {e: (s.count, s.rows, sorted(s.examples)) for e, s in st.entities.items()} for st in bs.results()}
        mine = {st.label: {e: (s.count, s.rows, sorted(s.examples)) for e, s in st.entities.items()
                           if e in {"EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE"}} for st in got}
        want = {k: {e: v for e, v in d.items() if e in {"EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE"}} for k, d in want.items()}
        assert mine == want


def test_keyword_flags_matched_across_files_equal_each_file_alone(tmp_path):
    """scan_many matches the keyword-led and key=value patterns over every file's candidates at
    once; each file's findings equal scanning it alone (which matches them cell by cell)."""
    rng = random.Random(9)
    notes = ["ssn 536-22-{:04d} on file", "password: Tr0ub4dor&{:04d}x", "api_key={:04d}f3a9c1e7b2d4a6f8e0c2b4d6", "tel {:04d} 555 0100",
             "card number 4111 1111 1111 {:04d} exp", "fine", "call me maybe", "{:04d}", "passport no. X{:04d}123"]
    d = tmp_path / "kw"
    d.mkdir()
    paths = []
    for i in range(12):
        lines = ["id,note,comment"]
        for r in range(1, 30):
            a, b = (rng.choice(notes).format(rng.randrange(10_000)) for _ in range(2))
            lines.append(f'{r},"{a}","{b}"')
        p = d / f"k{i:02d}.csv"
        p.write_text("\n".join(lines) + "\n")
        paths.append(p)
    cfg, _ = config.build({})
    files = [list(read(p, Limits(), inline=True)[1]) for p in paths]

    def view(stats):
        return {st.label: {e: (s.count, s.rows, sorted(s.examples)) for e, s in st.entities.items()} for st in stats}

    many = [view(got) for got in scan_many(files, cfg)]
    alone = [view(scan_chunks(iter(read(p, Limits(), inline=True)[1]), cfg, None)) for p in paths]
    assert many == alone
    assert sum(len(e) for f in many for e in f.values()) >= 12  # keyword-led findings are there to compare


def one_token_parts(d, n: int, seed: int = 11) -> list:
    """Small files whose columns are mostly one token a cell (e-mails, cards, IBANs, SSNs, IPs,
    phone numbers), with known test values, near misses and longer text among them."""
    rng = random.Random(seed)
    d.mkdir()
    paths = []
    for i in range(n):
        lines = ["id,email,card,iban,ssn,ip,phone,mixed"]
        for r in range(1, 25):
            email = rng.choice([f"p{i}.{r}@mail.example.net", "test@example.com", "not-an-email@", f"Ann <a{r}@x.example.org>"])
            card = rng.choice([fake_card("4", 16, i * 50 + r), "4111111111111111", fake_card("5", 16, r)[:-1] + "0", ""])
            iban = rng.choice([fake_iban("DE", f"{rng.randrange(10**18):018d}"), "DE00123456789012345678", "n/a"])
            ssn = rng.choice([f"{rng.randrange(100, 665)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}", "078-05-1120", "000-12-3456"])
            ip = rng.choice([f"10.{i}.{r}.{rng.randrange(256)}", "999.1.1.1", f"2001:db8::{r:x}"])
            phone = rng.choice([f"+1 202-555-{rng.randrange(10000):04d}", f"(415) 555-{rng.randrange(10000):04d}", "12"])
            mixed = rng.choice([email, card, f"iban {iban}", ip, "fine"])
            lines.append(f'{r},"{email}",{card},{iban},{ssn},{ip},"{phone}","{mixed}"')
        p = d / f"t{i:02d}.csv"
        p.write_text("\n".join(lines) + "\n")
        paths.append(p)
    return paths


def test_one_token_cells_classified_across_files_equal_each_file_alone(tmp_path):
    """scan_many classifies and books the one-token cells of a batch's small columns together
    (:func:`engine._wholes_many`): per file the same counts, rows, candidates, test values and
    examples (the first rows') as scanning the file alone, cell by cell."""
    from gates.pii import engine

    paths = one_token_parts(tmp_path / "t", 24)

    def view(stats):
        return {st.label: {e: (s.count, s.rows, s.candidates, s.sampled, s.test_values,
                               sorted((x.row, x.hash) for x in s.examples.values()))
                           for e, s in st.entities.items()} for st in stats}

    # an allowlist: classified, not booked; rows past 5 sampled: IPs and phone numbers off the
    # row sample are counted in bulk, each on its own file
    for opts in ({}, {"allow": {"values": ["ana@mail.example.net"]}}, {"sampling": {"min_rows": 5, "rate": 0.3}}):
        cfg, _ = config.build(opts)
        files = [list(read(p, Limits(), inline=True)[1]) for p in paths]
        many = [view(got) for got in scan_many(files, cfg)]
        alone = [view(scan_chunks(iter(read(p, Limits(), inline=True)[1]), cfg, None)) for p in paths]
        assert many == alone
        assert all(len(f) >= 5 for f in many)
    booked: list = []
    real = engine._Split.bulk
    engine._Split.bulk = lambda self, *a: (booked.append(a[0]), real(self, *a))[1]  # type: ignore[method-assign]
    try:
        scan_many([list(read(p, Limits(), inline=True)[1]) for p in paths], config.build({})[0])
    finally:
        engine._Split.bulk = real  # type: ignore[method-assign]
    assert {"EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE"} <= set(booked)  # the batched path ran


def test_compiled_scanners_do_not_share_counts():
    cfg, _ = config.build({})
    a, b = BatchScan(cfg), BatchScan(cfg)
    col = pa.array([EMAIL] * 3 + ["x"] * 2)
    a.column("mail", col)
    b.column("mail", pa.array(["nothing here"]))
    sa, sb = a.scanner("mail"), b.scanner("mail")
    assert sa is not sb and sa.rx is sb.rx  # compiled once, counted apart
    assert sa.stats.entities["EMAIL_ADDRESS"].count == 3 and "EMAIL_ADDRESS" not in sb.stats.entities
    assert sa.stats.rows == 5 and sb.stats.rows == 1


def test_small_array_matching_equals_the_kernel():
    rng = random.Random(3)
    alphabet = "ab@.-_ 0123456789xyzXYZ:/\n\u00e9\u4e2d"
    cells = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40))) for _ in range(kernels.SMALL - 1)]
    cells[5] = None
    arr = pa.array(cells, pa.string())
    for pattern in (r"\d{3}-\d{2}", r"(?i)x+y", r"^[a-z]+@[a-z]+\.", r"\b\d+\b", "\u4e2d", r"(?m)^\s*$"):
        want = pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_pylist()
        assert kernels.match(arr, pattern).to_pylist() == want, pattern


def test_batches_on_the_worker_pool_report_the_same(pii, tmp_path, monkeypatch):
    """Enough small files for their batches to go to worker processes, which read them too: the
    same findings and errors, in the same order, as reading and scanning them in this process,
    files the workers could not read among them (reported by the parent, naming the file)."""
    parts = tmp_path / "parts"
    write_parts(parts, 70)
    (parts / "part-020b.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")  # a corrupt stream
    (parts / "part-040b.csv").write_bytes(b"\x00\x01\x02binary" * 50)  # binary under a data name: an error
    (parts / "part-060b.avro").write_bytes(b"Obj\x01" + b"\x00" * 64)  # a format the gate does not read
    code1, one, _ = pii(parts, extra=("--workers", "1"))
    import gates.pii.gate as gate_module

    def parent_reads(*args, **kwargs):  # the workers must read and scan: the parent only reports
        raise AssertionError("read in the parent")

    monkeypatch.setattr(gate_module, "read_scan_many", parent_reads)
    code2, two, _ = pii(parts, extra=("--workers", "2"))
    assert code1 == code2 == 2
    assert key(one) == key(two) and len(one["gates"]["pii"]["files"]) >= 70
    assert [f["path"] for f in one["findings"]] == [f["path"] for f in two["findings"]]
    errors = [(e["path"].rsplit("/", 1)[-1], e["message"]) for e in two["gates"]["pii"]["errors"]]
    assert errors == [(e["path"].rsplit("/", 1)[-1], e["message"]) for e in one["gates"]["pii"]["errors"]]
    assert [name for name, _ in errors] == ["part-020b.csv.gz", "part-040b.csv"]
    rules = {f["path"].rsplit("/", 1)[-1]: f["rule"] for f in two["findings"] if f["rule"] in ("PII005", "PII006")}
    assert rules == {"part-060b.avro": "PII006"}


class _Tty:
    """A stderr stand-in that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.data: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self.data.append(s)
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_only_on_a_terminal_and_only_for_big_runs(monkeypatch):
    from gates.pii.gate import Progress

    monkeypatch.delenv("CI", raising=False)
    tty = _Tty()
    monkeypatch.setattr("sys.stderr", tty)
    assert Progress(3, 1 << 20).bar is None  # a small run: nothing
    p = Progress(500, 1 << 30)
    assert p.bar is not None
    p.done(250, 1 << 29)
    p.close()
    monkeypatch.setenv("CI", "true")
    assert Progress(500, 1 << 30).bar is None  # CI logs stay clean
    monkeypatch.delenv("CI")
    monkeypatch.setattr("sys.stderr", type("NotTty", (), {"isatty": lambda self: False, "write": lambda self, s: 0})())
    assert Progress(500, 1 << 30).bar is None


def test_the_worker_fork_server_preloads_modules_that_exist():
    """The fork server skips a preload it cannot import, silently: a misspelt name would only
    make the workers slower, so every name is checked here."""
    import importlib.util

    from gates.pii import engine, phones

    assert len(engine.WORKER_PRELOAD) == 2 + len(phones.DEFAULT_REGIONS)
    assert [m for m in engine.WORKER_PRELOAD if importlib.util.find_spec(m) is None] == []


def test_examples_are_the_first_rows_whatever_order_cells_come_in():
    """A column whose cells reach the scanner out of row order (a JSON path's values, or cells
    walked in Python after others were booked in bulk) keeps the first rows' values as examples,
    as a pass in row order does: the finding's row is the entity's first occurrence."""
    from gates.pii.engine import _template

    cfg, _ = config.build({"examples": 3})
    sc = _template(cfg, "contact", "re", frozenset()).fresh("contact")
    rows = [40, 41, 42, 43, 7, 3, 9, 41, 5]
    cells = [f"u{r}@mail.example.net" for r in rows[:-2]] + ["u41@mail.example.net", "u5@mail.example.net"]
    sc.scan(cells, rows)
    st = sc.stats.entities["EMAIL_ADDRESS"]
    assert sorted(e.row for e in st.examples.values()) == [3, 5, 7]
    assert st.count == len(cells)
    in_order = _template(cfg, "contact", "re", frozenset()).fresh("contact")
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    in_order.scan([cells[i] for i in order], [rows[i] for i in order])
    want = in_order.stats.entities["EMAIL_ADDRESS"].examples
    assert {h: e.row for h, e in st.examples.items()} == {h: e.row for h, e in want.items()}


def test_a_json_arrays_findings_point_at_its_first_records(pii, tmp_path):
    """The JSON walker hands an array's values last record first; a finding's examples and row
    are still its first records' (per-cell e-mails and a column decided as URLs alike)."""
    import json

    doc = {"people": [{"email": f"p{i}@mail.example.net", "homepage": f"https://site{i}.example.org/about"}
                      for i in range(1, 16)]}
    p = tmp_path / "people.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    _, rep, _ = pii(p)
    got = {f["entity"]: f for f in rep["findings"] if f["rule"] == "PII001"}
    assert {"EMAIL_ADDRESS", "URL"} <= set(got), sorted(got)
    for entity in ("EMAIL_ADDRESS", "URL"):
        f = got[entity]
        assert sorted(e["row"] for e in f["examples"]) == list(range(1, 11)), (entity, f["examples"])
        assert f["row"] == 1 and f["json_path"].endswith("[0].email" if entity == "EMAIL_ADDRESS" else "[0].homepage")


def test_the_json_walk_hands_values_over_in_document_order(tmp_path):
    """A column's first values are its sample and its first rows are where its findings point:
    the walk gives them in document order (it gave an array's last record first)."""
    import json

    doc = {"a": [{"k": f"v{i}", "in": [f"x{i}", f"y{i}"]} for i in range(1, 5)], "b": {"p": 1, "q": 2}}
    p = tmp_path / "doc.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    cols = {c.label: c for ch in read(p, Limits(), inline=True)[1] for c in ch.columns}
    assert cols["a[].k"].values.to_pylist() == ["v1", "v2", "v3", "v4"]
    assert list(cols["a[].in[]"].paths) == [f"$.a[{i}].in[{j}]" for i in range(4) for j in range(2)]
    assert list(cols["a[].in[]"].rows) == [1, 1, 2, 2, 3, 3, 4, 4]
    assert [lab for lab in cols] == ["a[].k", "a[].in[]", "b.p", "b.q"]


def test_a_batch_matches_each_column_as_one_file_would(monkeypatch):
    """The small columns of a batch are matched per column (their label), as one file's column
    is: a column of e-mails is dense on its own and is handed back whole after a probe of its
    first quarter, while a column of notes keeps its few candidates. The verdict carries to the
    next batch, whose e-mails then reach no per-cell kernel at all. The hits are those of
    matching every cell."""
    from gates.pii import engine

    cfg, _ = config.build({})
    sc = BatchScan(cfg).scanner("note")
    rng = random.Random(4)
    arrs, kinds = [], []
    for i in range(40):
        arrs.append(pa.array([f"u{i}.{r}@mail.example.net" for r in range(30)]))
        kinds.append("contact")
        arrs.append(pa.array([rng.choice(["fine thanks", "all good", "see you", "mail a.b@x.example.org"]) for _ in range(30)]))
        kinds.append("note")
    seen: list[list] = []
    real = engine._match
    monkeypatch.setattr(engine, "_match", lambda a, p: (seen.append(a.to_pylist()), real(a, p))[1])
    every = engine._matched_many(arrs, sc.pattern, sc.block_pattern)
    assert every[0] == list(range(30)) and 0 < sum(map(len, every[1::2])) < 40 * 30

    def contacts() -> int:
        n = sum(1 for cells in seen for v in cells if v is not None and v.startswith("u"))
        seen.clear()
        return n

    assert contacts() >= 1200  # matched as one text, the batch was dense: every e-mail cell by cell
    memory: dict = {}
    assert engine._matched_many(arrs, sc.pattern, sc.block_pattern, kinds, memory) == every
    assert contacts() <= 300  # the probe of the column's first quarter
    assert memory == {("contact", sc.pattern): True, ("note", sc.pattern): False}
    assert engine._matched_many(arrs, sc.pattern, sc.block_pattern, kinds, memory) == every
    assert contacts() == 0


def test_one_thread_tells_whether_forking_is_safe():
    """Workers are forked only from a process that runs no other thread (pyarrow's jemalloc
    background thread aside, which its allocator restarts in the child): a running thread
    makes the pool use the fork server."""
    import subprocess
    import sys
    import threading

    from gates.pii import pool as pool_module

    code = "import gates.pii.pool as p, pyarrow.compute; print(p.one_thread())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert fresh.stdout.strip() == "True", fresh.stderr
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert pool_module.one_thread() is False
    finally:
        stop.set()
        t.join()


FORKED_RUN = """
import json, sys
import gates.pii.pool as pool
from gates.core import cli
forked = []
real = pool.Pool._warm
def warm(self, fork=False, wait=True):
    forked.append(fork)
    real(self, fork, wait)
pool.Pool._warm = warm
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(forked))
"""


def test_small_files_on_forked_workers_report_what_one_process_does(pii, tmp_path):
    """A run of many small files from a single-threaded process forks its workers (no fork
    server to wait for): the same findings, in the same order, as scanning them here."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    parts = tmp_path / "parts"
    write_parts(parts, 70)
    _, one, _ = pii(parts, extra=("--workers", "1"))
    out = tmp_path / "forked.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    r = subprocess.run([sys.executable, "-c", FORKED_RUN, "pii", str(parts), "--root", str(tmp_path), "--format", "json",
                        "--output", str(out), "-q", "--workers", "2"], capture_output=True, text=True, timeout=300, env=env)
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [True], r.stderr
    two = json.loads(out.read_text())
    assert key(one) == key(two) and len(two["gates"]["pii"]["files"]) == 70
    assert [f["path"] for f in one["findings"]] == [f["path"] for f in two["findings"]]


def test_url_and_encoded_address_passes_search_a_batch_once_per_column(tmp_path, monkeypatch):
    """A batch's columns are searched once for the literals the URL-credentials and encoded
    e-mail and phone passes start from; a file whose column holds one is still found on its own, and the
    files whose columns hold none get nothing."""
    from gates.pii import engine, semantic

    d = tmp_path / "u"
    d.mkdir()
    paths = []
    for i in range(40):
        link = "https://bob:s3cr3tpass@db.example.net/x" if i == 7 else "https://docs.example.net/guide"
        ref = {23: "/signup?email=ada%40corp-mail.net", 31: "/verify?to=%2B447911123456"}.get(i, "/home")
        rows = ["id,link,ref,note"] + [f"{r},{link if r == 3 else ''},{ref if r == 5 else '/'},ok" for r in range(1, 12)]
        p = d / f"p{i:02d}.csv"
        p.write_text("\n".join(rows) + "\n")
        paths.append(p)
    cfg, _ = config.build({})

    def view(stats):
        return {st.label: {e: (s.count, s.rows, sorted(s.examples)) for e, s in st.entities.items()} for st in stats}

    searched: list[tuple[bytes, int]] = []
    real = semantic.kernels.may_hold
    monkeypatch.setattr(semantic.kernels, "may_hold", lambda a, lit, *r: (searched.append((lit, len(a))), real(a, lit, *r))[1])
    many = [view(got) for got in scan_many([list(read(p, Limits(), inline=True)[1]) for p in paths], cfg)]
    # file by file only the one column that holds the literal somewhere in the batch (of four),
    # and for an encoded value's own mark only the files whose column holds a '%'
    assert searched.count((b"://", 11)) == searched.count((b"%", 11)) == 40
    assert searched.count((b"%40", 11)) == 2
    alone = [view(engine.scan_chunks(iter(read(p, Limits(), inline=True)[1]), cfg, None)) for p in paths]
    assert many == alone
    assert [i for i, f in enumerate(many) if "URL_CREDENTIALS" in f.get("link", {})] == [7]
    assert [i for i, f in enumerate(many) if "EMAIL_ADDRESS" in f.get("ref", {})] == [23]
    assert [i for i, f in enumerate(many) if "PHONE_NUMBER" in f.get("ref", {})] == [31]


def test_forking_beside_the_allocators_thread_does_not_warn(monkeypatch):
    """Python 3.12+ warns on a fork from a process with more than one kernel thread; pyarrow's
    jemalloc thread is one, and checked safe to fork beside (one_thread), so the pool's fork
    is not reported to the user. (This interpreter does not warn: the executor stands in for
    one that does.) Any other warning still shows."""
    import warnings
    from concurrent.futures import Future

    from gates.pii import pool as pool_module

    class Warns:
        def submit(self, fn):
            warnings.warn("This process (pid=1) is multi-threaded, use of fork() may lead to deadlocks in the child.",
                          DeprecationWarning, stacklevel=1)
            warnings.warn("something else", DeprecationWarning, stacklevel=1)
            f: Future = Future()
            f.set_result(None)
            return f

    pool = pool_module.Pool(config.build({})[0], 2)
    monkeypatch.setattr(pool, "executor", lambda fork=False: Warns())
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        pool._warm(fork=True)
    assert [str(w.message) for w in got] == ["something else", "something else"]
    assert not pool._failed


def test_columns_too_small_to_be_dense_are_matched_together(monkeypatch):
    """A JSON document's thousands of paths hold a value or two each: matched kind by kind,
    each was a text pass of its own (an API definition of 43,000 paths took 0.8 s more). The
    kinds under kernels.SMALL cells are matched as one text, a larger kind on its own; the
    hits are the same."""
    from gates.pii import engine

    cfg, _ = config.build({})
    sc = BatchScan(cfg).scanner("doc")
    arrs = [pa.array([f"see u{i}@mail.example.net" if i % 7 == 0 else f"value {i}"]) for i in range(2000)]
    kinds = [f"shapes.S{i}.documentation" for i in range(2000)]
    arrs.append(pa.array([f"u{r}@mail.example.net" for r in range(600)]))
    kinds.append("contacts[]")
    calls: list[int] = []
    real = engine.prefilter_many
    monkeypatch.setattr(engine, "prefilter_many", lambda a, *r, **k: (calls.append(len(a)), real(a, *r, **k))[1])
    got = engine._matched_many(arrs, sc.pattern, sc.block_pattern, kinds, {})
    assert calls == [1, 1]  # the e-mail column on its own, the 2,000 small ones as one
    calls.clear()
    assert got == engine._matched_many(arrs, sc.pattern, sc.block_pattern)
    assert [bool(h) for h in got[:2000]] == [i % 7 == 0 for i in range(2000)] and got[2000] == list(range(600))


def test_a_batch_of_files_that_expand_is_scanned_in_parts_with_the_same_results(tmp_path, monkeypatch):
    """A batch is bounded by its files' bytes; compressed JSON documents expand to thousands of
    columns each, and a whole batch of them held in memory at once took 3.4 GB. Files read wait
    to be scanned only up to a bound of columns (and cells); where the batch is cut does not
    change a result."""
    import gzip

    from gates.pii import datasets, engine

    d = tmp_path / "api"
    d.mkdir()
    paths = []
    for i in range(12):
        doc = {"shapes": {f"S{i}x{j}": {"documentation": f"contact u{i}.{j}@mail.example.net" if j % 5 == 0 else "ok",
                                        "max": j} for j in range(40)}}
        p = d / f"svc{i:02d}.json.gz"
        p.write_bytes(gzip.compress(json.dumps(doc).encode()))
        paths.append(p)
    cfg, limits = config.build({})
    parts = datasets.members(paths, lambda p: p.stat().st_size)

    def run() -> tuple[list, list[int]]:
        scanned: list[int] = []
        real = engine.scan_many
        monkeypatch.setattr(engine, "scan_many", lambda files, *a, **k: (scanned.append(len(files)), real(files, *a, **k))[1])
        got = engine.read_scan_many(paths, limits, "auto", cfg, parts, datasets.Datasets(cfg, None))
        monkeypatch.setattr(engine, "scan_many", real)
        view = [sorted((st.label, e, s.count, s.rows) for st in cols for e, s in st.entities.items()) for _, cols, _ in got]
        return view, scanned

    whole, one = run()
    monkeypatch.setattr(engine, "LOADED_COLUMNS", 150)  # two or three files' columns
    cut, many = run()
    assert one == [12] and len(many) >= 4 and sum(many) == 12
    assert cut == whole and sum(len(v) for v in whole) >= 12


def test_a_column_without_candidates_is_counted_without_a_scanner():
    """A JSON document's paths are columns by the ten thousand, most without a candidate: their
    rows are counted without building a scanner for each (~2.5 KB apiece; botocore's EC2 API
    definition: 350 -> 257 MB, 4.0 -> 3.0 s). A column that gets a candidate later has one,
    with the rows counted before; results keep the order the columns were first seen in."""
    cfg, _ = config.build({})
    bs = BatchScan(cfg)
    none = pa.array([], pa.int64())
    for i in range(1000):
        bs.column(f"shapes.S{i}.max", pa.array([str(i)]), pre=none)
    bs.column("contact", pa.array(["n/a", "n/a"]), pre=none)
    assert not bs.scanners and len(bs.quiet) == 1001
    bs.column("contact", pa.array([EMAIL, "n/a"]), row_base=2, pre=pa.array([0], pa.int64()))
    assert list(bs.scanners) == ["contact"] and "contact" not in bs.quiet
    res = bs.results()
    assert [r.label for r in res] == [f"shapes.S{i}.max" for i in range(1000)] + ["contact"]
    assert res[-1].rows == 4 and res[-1].entities["EMAIL_ADDRESS"].count == 1 and all(r.rows == 1 for r in res[:-1])
