"""The small parts of one table (same directory, same column labels) share their columns'
decisions, made from the first parts' values as one file's are made from its first rows: a
table split into parts too small to classify is found as the one file is, and the decisions do
not depend on the worker count, the batching or the shard a part lands in."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from gates.pii import datasets
from pii_helpers import found

faker = pytest.importorskip("faker", reason="Faker (test extra) writes the people")

ENTITIES = {("c1", "PERSON"), ("c2", "LOCATION"), ("c3", "PHONE_NUMBER")}


def people(n: int, seed: int = 3) -> list[list[str]]:
    fk = faker.Faker("en_US")
    fk.seed_instance(seed)
    return [[fk.name(), f"{fk.street_address()}, {fk.city()}", fk.phone_number()] for _ in range(n)]


def write(path: Path, rows: list[list[str]], header: tuple[str, ...] = ("c1", "c2", "c3")) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def split(d: Path, rows: list[list[str]], per: int, header: tuple[str, ...] = ("c1", "c2", "c3")) -> list[Path]:
    return [write(d / f"part-{i // per:03d}.csv", rows[i:i + per], header) for i in range(0, len(rows), per)]


def by_file(rep: dict) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for f in found(rep):
        if f["rule"] == "PII001":
            out.setdefault(f["path"].rsplit("/", 1)[-1], set()).add((f["column"], f["entity"]))
    return out


def key(rep: dict) -> list:
    return sorted((f["path"].rsplit("/", 1)[-1], f["rule"], f.get("entity"), f.get("column"), f.get("column_count"),
                   f["fingerprint"], f["blocking"]) for f in rep["findings"])


def test_a_table_split_into_parts_too_small_to_classify_is_found_as_the_one_file_is(pii, tmp_path):
    rows = people(80)
    one = write(tmp_path / "one" / "all.csv", rows)
    code, rep, _ = pii(one)
    assert code == 1 and by_file(rep) == {"all.csv": ENTITIES}
    parts = split(tmp_path / "parts", rows, 8)  # 8 rows a part: below MIN_VALUES, alone each passed
    code, rep, _ = pii(tmp_path / "parts")
    assert code == 1
    assert by_file(rep) == {p.name: ENTITIES for p in parts}
    for f in found(rep, "PERSON"):  # each part is still counted and reported on its own
        assert f["column_count"] == 8 and f["path"].endswith(f["examples"][0].get("path") or f["path"].rsplit("/", 1)[-1])


def test_a_lone_small_file_and_other_schemas_decide_alone(pii, tmp_path):
    rows = people(40, seed=4)
    d = tmp_path / "mixed"
    split(d, rows[:24], 8)  # one table in three parts
    write(d / "other.csv", rows[24:32], ("a", "b", "c"))  # another schema, 8 rows: too few alone
    write(tmp_path / "lone" / "x.csv", rows[32:40])  # alone in its directory, 8 rows
    code, rep, _ = pii(d, tmp_path / "lone")
    got = by_file(rep)
    assert got == {f"part-00{i}.csv": ENTITIES for i in range(3)}, got
    assert code == 1


def test_the_sampled_parts_are_the_directorys_first_and_decide_for_the_rest(pii, tmp_path, monkeypatch):
    """A part beyond the sampled ones takes their decisions (as rows beyond a file's sample do):
    its five rows, too few alone, are counted; a part with a schema of its own decides alone."""
    monkeypatch.setattr(datasets, "POOL_FILES", 2)
    d = tmp_path / "t"
    rows = people(34, seed=5)
    write(d / "part-000.csv", rows[:12])
    write(d / "part-001.csv", rows[12:24])
    write(d / "part-002.csv", rows[24:29])  # not sampled: five rows
    write(d / "part-003.csv", rows[29:34], ("c1", "c2", "x"))  # its own schema: five rows, alone
    code, rep, _ = pii(d, extra=("--workers", "1"))
    got = by_file(rep)
    assert got == {"part-000.csv": ENTITIES, "part-001.csv": ENTITIES, "part-002.csv": ENTITIES}, got
    (person,) = [f for f in found(rep, "PERSON") if f["path"].endswith("part-002.csv")]
    assert person["column_count"] == 5
    assert code == 1


def test_shared_decisions_do_not_depend_on_workers(pii, tmp_path):
    rows = people(140, seed=6)
    d = tmp_path / "t"
    split(d, rows, 2)  # 70 parts: their batches go to the worker pool
    code1, one, _ = pii(d, extra=("--workers", "1"))
    code2, two, _ = pii(d, extra=("--workers", "2"))
    assert code1 == code2 == 1
    assert key(one) == key(two)
    got = Counter(e for fs in by_file(one).values() for _, e in fs)
    # two rows a part: a part whose two numbers are both invalid (Faker writes some unassigned
    # area codes) has no phone finding
    assert got["PERSON"] == got["LOCATION"] == 70 and got["PHONE_NUMBER"] >= 60


def test_every_shard_samples_the_same_parts(cli, tmp_path):
    """Three rows a part, 12 parts, 4 shards: a shard's own parts hold 9 values, too few to
    classify, so a shard that sampled only its own parts would miss the table."""
    rows = people(36, seed=7)
    root = tmp_path / "repo"
    split(root / "data", rows, 3)

    def run(*extra: str) -> dict:
        out = tmp_path / f"r{len(list(tmp_path.glob('r*.json')))}.json"
        r = cli("run", str(root), "--gate", "pii", "--format", "json", "--output", str(out), "-q", *extra)
        assert r.code == 1, r.err
        return json.loads(out.read_text())

    full = run()
    merged: list = []
    for k in range(1, 5):
        doc = run("--shard", f"{k}/4")
        assert 0 < len(doc["gates"]["pii"]["files"]) < 12
        merged.extend(key(doc))
    assert sorted(merged) == key(full)
    assert Counter(e for fs in by_file(full).values() for _, e in fs)["PERSON"] == 12


def test_an_unreadable_part_is_reported_and_left_out_of_the_sample(pii, tmp_path):
    d = tmp_path / "t"
    (d).mkdir()
    (d / "part-000.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")  # first in discovery order
    split(d, people(24, seed=8), 8)
    code, rep, _ = pii(d)
    assert code == 2
    assert [e["path"].rsplit("/", 1)[-1] for e in rep["gates"]["pii"]["errors"]] == ["part-000.csv.gz"]
    assert by_file(rep) == {f"part-00{i}.csv": ENTITIES for i in range(3)}


def test_members_are_the_first_small_files_of_each_directory_in_discovery_order(monkeypatch):
    monkeypatch.setattr(datasets, "POOL_FILES", 3)
    found_ = [Path(p) for p in ("a/1", "b/1", "a/2", "a/big", "a/3", "a/4", "c/1")]
    got = datasets.members(found_, lambda p: None if p.name == "big" else 10)
    # b and c hold one small file each: they decide alone; a's fourth part shares the budget
    assert got == {"a": datasets.Parts(("a/1", "a/2", "a/3"), 40)}


def verdicts(rep: dict) -> list:
    """What checking fewer values must not change: which findings, their severity and blocking."""
    return sorted((f["path"].rsplit("/", 1)[-1], f["rule"], f.get("entity"), f.get("column"), f["fingerprint"],
                   f["severity"], f["blocking"]) for f in rep["findings"])


@pytest.fixture
def small_budget(monkeypatch):
    """One file's check budget of 8 values a column: 8 parts share it, 2 values each."""
    from gates.pii import semantic
    monkeypatch.setattr(semantic, "MAX_CHECK", 8)
    monkeypatch.setattr(semantic, "MAX_CHECK_PHONE", 8)
    monkeypatch.setattr(semantic, "PART_CHECK", 2)
    return semantic


def test_parts_share_one_files_check_budget_and_keep_every_verdict(pii, tmp_path, small_budget, monkeypatch):
    d = tmp_path / "t"
    split(d, people(48, seed=9), 6)  # 8 parts of 6 rows
    code, shared, _ = pii(d, extra=("--workers", "1"))
    monkeypatch.setattr(small_budget, "PART_CHECK", 10**6)  # every value checked
    code_all, every, _ = pii(d, extra=("--workers", "1"))
    assert code == code_all == 1
    assert verdicts(shared) == verdicts(every)
    people_shared, people_every = found(shared, "PERSON"), found(every, "PERSON")
    assert len(people_shared) == 8
    assert all(not f["sampled"] and f["column_count"] == 6 for f in people_every)
    for f in people_shared:  # two of six values checked: the count is an estimate, said so
        assert f["sampled"] and "from 2 of 6 candidates" in f["message"], f["message"]
        assert len(f["examples"]) <= 2


def test_the_parts_of_a_table_check_about_one_files_budget_in_all(pii, tmp_path, monkeypatch):
    """Many parts, each of whose share of one file's budget rounds to a value or two: together
    they check at most twice that budget (at four a part, 592 parts of a 14,000-row table
    checked 2,368 phone numbers where the one file checks 1,000)."""
    from gates.pii import semantic
    monkeypatch.setattr(semantic, "MAX_CHECK", 40)
    monkeypatch.setattr(semantic, "MAX_CHECK_PHONE", 40)
    d = tmp_path / "t"
    split(d, people(240, seed=4), 6)  # 40 parts of 6 rows: a share of one value each
    code, rep, _ = pii(d, extra=("--workers", "1"))
    assert code == 1
    for entity in ("PERSON", "PHONE_NUMBER"):
        got = found(rep, entity)
        assert len(got) == 40 and all(f["sampled"] for f in got)
        checked = sum(int(re.search(r"from (\d+) of", f["message"]).group(1)) for f in got)
        assert checked <= 2 * 40, (entity, checked)


DATES = ["1961-03-04", "1975-11-23", "1982-07-09", "1990-01-30", "1958-12-01", "1969-05-17"]


def dated(d: Path, name: str, births: list[str]) -> None:
    write(d / name, [[f"id{i}", b] for i, b in enumerate(births)], ("id", "birth_date"))


def test_a_part_checks_past_its_share_until_its_verdict_is_settled(pii, tmp_path, small_budget):
    """Its first values are not dates: with two checked it would have no finding; it checks on
    until ``min_count`` dates made it block (or its values ran out: reported, not blocking)."""
    d = tmp_path / "t"
    for i in range(6):
        dated(d, f"part-00{i}.csv", DATES)
    dated(d, "part-006.csv", ["unknown"] * 4 + DATES[:3])  # three dates after four non-dates
    dated(d, "part-007.csv", ["unknown"] * 4 + DATES[:2])  # two
    policy = "version: 1\ngates:\n  pii:\n    entities:\n      DATE_OF_BIRTH: {action: block, min_count: 3}\n"
    code, rep, _ = pii(d, policy=policy, extra=("--workers", "1"))
    assert code == 1
    got = {f["path"].rsplit("/", 1)[-1]: f for f in found(rep, "DATE_OF_BIRTH")}
    assert sorted(got) == [f"part-00{i}.csv" for i in range(8)]
    assert got["part-006.csv"]["blocking"] and got["part-006.csv"]["column_count"] == 3
    assert not got["part-007.csv"]["blocking"] and got["part-007.csv"]["column_count"] == 2
    assert got["part-000.csv"]["blocking"] and got["part-000.csv"]["sampled"]  # settled after its share


def test_a_share_rule_has_every_value_of_a_part_checked(pii, tmp_path, small_budget):
    """Under ``max_fraction`` the verdict turns on the share, so no part stops at its budget."""
    d = tmp_path / "t"
    for i in range(8):
        dated(d, f"part-00{i}.csv", DATES[:5] + ["unknown"] * (i % 3))
    policy = "version: 1\ngates:\n  pii:\n    entities:\n      DATE_OF_BIRTH: {action: block, max_fraction: 0.7}\n"
    code, rep, _ = pii(d, policy=policy, extra=("--workers", "1"))
    got = {f["path"].rsplit("/", 1)[-1]: f for f in found(rep, "DATE_OF_BIRTH")}
    assert len(got) == 8 and not any(f["sampled"] for f in got.values())
    assert {n: (f["column_count"], f["blocking"]) for n, f in got.items()} == {
        f"part-00{i}.csv": (5, 5 / (5 + i % 3) > 0.7) for i in range(8)}
    assert code == 1


def test_a_file_whose_schema_no_other_part_has_checks_as_one_file(pii, tmp_path, monkeypatch):
    """Among the parts of a table, a file of its own schema is no part: it checks its values as
    a lone file does (here, read first, it fills a sample alone), while the table's parts check
    their share of one file's budget."""
    from gates.pii import semantic
    monkeypatch.setattr(semantic, "MAX_CHECK", 32)
    monkeypatch.setattr(semantic, "PART_CHECK", 2)
    d = tmp_path / "t"
    rows = people(298, seed=10)
    split(d, rows[:48], 6)  # 8 parts of 6 rows: 4 or 5 values each of the table's 32 (by bytes)
    write(d / "other.csv", rows[48:], ("name", "where", "tel"))  # 250 rows, a schema of its own
    code, rep, _ = pii(d, extra=("--workers", "1"))
    assert code == 1
    got = {f["path"].rsplit("/", 1)[-1]: f for f in found(rep, "PERSON")}
    assert len(got) == 9
    assert "from 32 of 250 candidates" in got["other.csv"]["message"], got["other.csv"]["message"]
    for i in range(8):
        f = got[f"part-00{i}.csv"]
        assert f["sampled"] and re.search(r"from [45] of 6 candidates", f["message"]), f["message"]


def test_the_parts_of_a_table_in_an_archive_are_one_table_as_in_a_directory(pii, tmp_path, monkeypatch):
    """A TAR or ZIP of the parts (8 rows each, too few to classify alone) is found as the
    directory is: members of one directory of the archive share their decisions, members of
    another directory do not. Before, the same parts passed once archived. Small batches: a
    table's later batches take the decisions its first parts made."""
    import io
    import tarfile
    import zipfile

    from gates.pii import gate

    monkeypatch.setattr(gate, "BATCH_FILES", 4)
    rows = people(80)
    split(tmp_path / "dir" / "data", rows, 8)
    files = sorted((tmp_path / "dir" / "data").iterdir())
    members = {f"data/{p.name}": p.read_bytes() for p in files}
    members["other/lone.csv"] = (tmp_path / "dir" / "data" / "part-000.csv").read_bytes()  # a table of one part
    with tarfile.open(tmp_path / "parts.tar.gz", "w:gz") as t:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    with zipfile.ZipFile(tmp_path / "parts.zip", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    code, rep, _ = pii(tmp_path / "dir")
    assert code == 1 and by_file(rep) == {p.name: ENTITIES for p in files}
    for archive in ("parts.tar.gz", "parts.zip"):
        code, rep, _ = pii(tmp_path / archive)
        got: dict[str, set] = {}
        for f in found(rep):
            got.setdefault(f["member"], set()).add((f["column"], f["entity"]))
        assert code == 1
        assert got == {f"data/{p.name}": ENTITIES for p in files}, (archive, got)  # other/lone.csv: alone, 8 rows


def test_a_part_lists_its_share_of_the_examples(pii, tmp_path, monkeypatch):
    """A table's parts share one file's ``examples`` as they share its check budget: eight
    parts list ceil(10 / 8) = 2 each (one file lists 10), with the same findings, rows, counts
    and verdicts as when each part listed ten."""
    from gates.pii import semantic
    rows = people(48, seed=12)
    d = tmp_path / "t"
    split(d, rows, 6)
    code, shared, _ = pii(d, extra=("--workers", "1"))
    monkeypatch.setattr(semantic, "part_examples", lambda examples, share: examples)
    code_all, every, _ = pii(d, extra=("--workers", "1"))
    assert code == code_all == 1
    assert key(shared) == key(every)
    firsts = {(f["path"], f["column"], f["entity"]): (f["row"], f["examples"][0]) for f in found(shared)}
    assert firsts == {(f["path"], f["column"], f["entity"]): (f["row"], f["examples"][0]) for f in found(every)}
    assert max(len(f["examples"]) for f in found(every)) > 2
    assert all(1 <= len(f["examples"]) <= 2 for f in found(shared))
    code, one, _ = pii(write(tmp_path / "one" / "all.csv", rows), extra=("--workers", "1"))
    assert max(len(f["examples"]) for f in found(one)) == 10
    monkeypatch.undo()
    assert (semantic.part_examples(10, 1 / 592), semantic.part_examples(10, 0.5), semantic.part_examples(10, 1.0),
            semantic.part_examples(1, 0.01)) == (1, 5, 10, 1)


def ips(d: Path, name: str, cells: list[str]) -> None:
    write(d / name, [[f"h{i}", c] for i, c in enumerate(cells)], ("host", "ip"))


GOOD_IPS = [f"10.{i}.{i * 7 % 250}.{i * 13 % 250 + 1}" for i in range(30)]
BAD_IPS = [f"999.{i}.1.1" for i in range(30)]  # the shape of an address, not one


def test_a_part_validates_addresses_past_its_share_only_until_its_verdict_is_settled(pii, tmp_path):
    """One file validates every IP address of its first ``sampling.min_rows`` rows and a sample
    after them; a part of a table its share of those rows (here 4), then the sample, but only
    once its verdict is settled. A part whose first addresses are not valid keeps validating
    until it finds one (its finding is not lost to sampling); a part without a valid one has
    none; the same parts with sampling off have the same findings and verdicts."""
    d = tmp_path / "t"
    for i in range(6):
        ips(d, f"part-00{i}.csv", GOOD_IPS)
    ips(d, "part-006.csv", BAD_IPS[:25] + GOOD_IPS[:1])  # one valid address, on row 26
    ips(d, "part-007.csv", BAD_IPS)
    sampling = "version: 1\ngates:\n  pii:\n    sampling: {{enabled: {on}, min_rows: 16}}\n{extra}"
    code, rep, _ = pii(d, policy=sampling.format(on="true", extra=""), extra=("--workers", "1"))
    got = {f["path"].rsplit("/", 1)[-1]: f for f in found(rep, "IP_ADDRESS")}
    assert sorted(got) == [f"part-00{i}.csv" for i in range(7)]
    assert got["part-006.csv"]["column_count"] == 1 and got["part-006.csv"]["row"] == 26
    for i in range(6):
        f = got[f"part-00{i}.csv"]
        assert f["sampled"] and f["column_rows"] == 30 and "of 30 candidates" in f["message"], f["message"]
    code_off, off, _ = pii(d, policy=sampling.format(on="false", extra=""), extra=("--workers", "1"))
    assert verdicts(rep) == verdicts(off)
    assert not any(f["sampled"] for f in found(off, "IP_ADDRESS"))
    # a share rule's verdict turns on every value: no part samples it
    share = "    entities:\n      IP_ADDRESS: {action: block, max_fraction: 0.5}\n"
    code, rep, _ = pii(d, policy=sampling.format(on="true", extra=share), extra=("--workers", "1"))
    got = {f["path"].rsplit("/", 1)[-1]: f for f in found(rep, "IP_ADDRESS")}
    assert not any(f["sampled"] for f in got.values())
    assert {n: (f["column_count"], f["blocking"]) for n, f in got.items()} == {
        **{f"part-00{i}.csv": (30, True) for i in range(6)}, "part-006.csv": (1, False)}
    assert code == 1


def test_a_tables_samples_are_let_go_once_its_decisions_are_made(tmp_path):
    """The sampling state of a decided table (every sampled value of its columns) is not kept
    for the rest of the run: only the decisions are. A worker reading a directory of JSON
    documents with a schema each kept them all."""
    from gates.pii import config
    from gates.pii.readers import Limits, read

    d = tmp_path / "t"
    paths = split(d, people(40, seed=6), 8)
    cfg, _ = config.build({})
    ds = datasets.Datasets(cfg, lambda p: read(p, Limits(), inline=True))
    parts = datasets.members(paths, lambda p: p.stat().st_size)[str(d)]
    info, chunks = read(paths[0], Limits(), inline=True)
    chunks = list(chunks)
    first = ds.preset(str(paths[0]), datasets.key_of(info, chunks), parts, {})
    again = ds.preset(str(paths[3]), datasets.key_of(info, chunks), parts, {})
    state = ds.dirs[str(d)]
    assert first is not None and again is not None and again.decisions == first.decisions
    assert not state.passes and list(state.decided) == [datasets.key_of(info, chunks)]
