"""Column semantics: names, addresses, birth dates, national ids, passports, licences, URLs and
phones found per column from headers and value shares, on a corpus this project did not write
(Faker, pinned in the test extra), and look-alikes left alone."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from pii_helpers import fake_card, found

faker = pytest.importorskip("faker", reason="Faker (test extra) builds the labelled corpus")
pytest.importorskip("stdnum", reason="python-stdnum (pii extra) validates national ids")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pii_corpus.py"


def corpus_module():
    spec = importlib.util.spec_from_file_location("pii_corpus", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def faker_run(tmp_path_factory):
    """The ten-locale Faker corpus (60 rows a file, fixed seed) and the gate's report on it."""
    from gates.core.cli import main

    base = tmp_path_factory.mktemp("corpus")
    labels = corpus_module().build(base / "data", rows=60, seed=11, real=False)
    out = base / "report.json"
    main(["pii", str(base / "data"), "--root", str(base / "data"), "--format", "json", "--output", str(out), "-q"])
    return labels, json.loads(out.read_text()), base / "data"


def test_column_recall_per_entity_on_the_faker_corpus(faker_run):
    labels, rep, _ = faker_run
    got = defaultdict(set)
    for f in rep["findings"]:
        got[(Path(f["path"]).name, f["column"])].add(f["entity"])
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, entity in labels.items():
        if entity is not None:
            per[entity][1] += 1
            per[entity][0] += entity in got.get(key, set())
    recall = {e: hit / n for e, (hit, n) in per.items()}
    assert len(recall) >= 25  # every entity class of the corpus is there
    low = {e: r for e, r in recall.items() if r < 0.95}
    assert not low, f"column recall below 0.95: {low}"


def test_no_blocking_finding_on_non_pii_columns(faker_run):
    labels, rep, _ = faker_run
    non_pii = {k for k, e in labels.items() if e is None}
    hits = [(Path(f["path"]).name, f["column"], f["entity"]) for f in rep["findings"]
            if (Path(f["path"]).name, f["column"]) in non_pii]
    assert not hits, hits  # not even a warning: ids, barcodes, batch numbers, versions, product and airport names


def test_findings_say_what_decided_them(faker_run):
    _, rep, _ = faker_run
    by = {(Path(f["path"]).name, f["column"], f["entity"]): f for f in rep["findings"]}
    assert by[("faker_de_DE.csv", "vorname", "PERSON")]["decided_by"] == "header"
    assert by[("faker_fr_FR.csv", "numero_securite_sociale", "FR_NIR")]["decided_by"] == "both"
    assert by[("faker_en_GB.csv", "field_07", "PHONE_NUMBER")]["decided_by"] == "values"
    assert by[("faker_nl_NL.csv", "postcode", "LOCATION")]["location_kind"] == "postcode"
    assert all(f["decided_by"] in ("header", "values", "both") for f in rep["findings"])


def test_default_actions(faker_run):
    _, rep, _ = faker_run
    by = {(Path(f["path"]).name, f["column"]): f for f in rep["findings"]}
    blocks = {"name": "PERSON", "street_address": "LOCATION", "date_of_birth": "DATE_OF_BIRTH",
              "passport_number": "PASSPORT", "drivers_license": "DRIVER_LICENSE"}
    for col, entity in blocks.items():
        f = by[("faker_en_US.csv", col)]
        assert (f["entity"], f["blocking"]) == (entity, True), col
    for col in ("zip", "city", "website"):
        assert by[("faker_en_US.csv", col)]["blocking"] is False, col
    assert by[("faker_it_IT.csv", "codice_fiscale")]["blocking"] is True
    assert by[("faker_it_IT.csv", "codice_fiscale")]["rule"] == "PII001"


def _valid_numbers(locale: str, values: list[str]) -> list[str]:
    import phonenumbers

    region = locale.split("_")[1]
    out = []
    for v in values:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(v, region)):
                out.append(v)
        except phonenumbers.NumberParseException:
            continue
    return out


@pytest.mark.parametrize("column", ["phone-header", "field_07"])
def test_phones_worldwide_value_recall(tmp_path, pii, column):
    """>= 90 % of the numbers libphonenumber accepts for the locale's region are found, under a
    phone header and under a neutral one."""
    from faker import Faker

    rows = []
    for i, loc in enumerate(("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN", "ja_JP")):
        f = Faker(loc)
        f.seed_instance(100 + i)
        nums = _valid_numbers(loc, [f.phone_number() for _ in range(80)])[:40]
        rows.append((loc, nums))
    header = "telephone" if column == "phone-header" else "field_07"
    for loc, nums in rows:
        p = tmp_path / f"{loc}.csv"
        p.write_text(f"id,{header}\n" + "".join(f"{i},{n}\n" for i, n in enumerate(nums, 1)), encoding="utf-8")
        _, rep, _ = pii(p)
        fs = found(rep, "PHONE_NUMBER")
        count = fs[0]["column_count"] if fs else 0
        assert count >= 0.9 * len(nums), (loc, count, len(nums))


def test_extensions_and_region_from_a_neighbouring_column(tmp_path, pii):
    p = tmp_path / "x.csv"
    p.write_text("country,phone\nUS,+1-202-555-0143x123\nUS,(415) 555-2671 ext. 7\nDE,030 901820\nFR,01 42 68 53 00\n"
                 "GB,020 7946 0958\nNL,020 555 1234\n", encoding="utf-8")
    _, rep, _ = pii(p)
    (f,) = found(rep, "PHONE_NUMBER")
    assert f["column_count"] == 6


def test_names_of_things_are_not_people_and_airports_are_not_cities(tmp_path, pii):
    p = tmp_path / "things.csv"
    airports = ["Chicago O'Hare International Airport", "Heathrow Airport", "Frankfurt Airport", "Munich Airport",
                "Denver International Airport", "Amsterdam Airport Schiphol"]
    products = ["Ergonomic Steel Chair", "Rustic Wooden Table", "Smart Rubber Keyboard", "Sleek Cotton Gloves"]
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "city", "product_name"])
        for i in range(40):
            w.writerow([airports[i % 6] if i % 2 else products[i % 4], airports[i % 6], products[i % 4]])
    code, rep, _ = pii(p)
    assert not found(rep, "PERSON") and not found(rep, "LOCATION") and code == 0


def test_a_plain_date_is_not_a_birth_date(tmp_path, pii):
    p = tmp_path / "d.csv"
    rng = random.Random(1)
    dates = [f"{rng.randint(1950, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(30)]
    p.write_text("order_date,geburtsdatum\n" + "".join(f"{d},{d}\n" for d in dates), encoding="utf-8")
    _, rep, _ = pii(p)
    assert [(f["column"], f["blocking"]) for f in found(rep, "DATE_OF_BIRTH")] == [("geburtsdatum", True)]


def test_birth_dates_in_many_formats(tmp_path, pii):
    values = ["1985-12-30", "30/12/1985", "12/30/1985", "30.12.1985", "30 December 1985", "December 30, 1985",
              "1985年12月30日", "30-12-1985", "1985-12-30T00:00:00", "3 mars 1985"]
    p = tmp_path / "b.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["dob"], *([v] for v in values)])
    _, rep, _ = pii(p)
    (f,) = found(rep, "DATE_OF_BIRTH")
    assert f["column_count"] == len(values)


def test_national_ids_without_headers_by_their_checksums(tmp_path, pii):
    """Strong check digits decide from values alone (a neutral header): FR NIR, IT codice fiscale,
    BR CPF; and a NIR column is not reported as cards although NIRs often pass Luhn."""
    from faker import Faker

    cols = {"FR_NIR": Faker("fr_FR").ssn, "IT_FISCAL_CODE": Faker("it_IT").ssn, "BR_CPF": Faker("pt_BR").cpf}
    p = tmp_path / "n.csv"
    names = list(cols)
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"c{i}" for i in range(len(names))])
        for _ in range(40):
            w.writerow([cols[n]() for n in names])
    _, rep, _ = pii(p)
    got = {f["column"]: (f["entity"], f["decided_by"]) for f in rep["findings"]}
    assert got == {f"c{i}": (n, "values") for i, n in enumerate(names)}


def test_random_ids_are_not_cards_and_barcodes_veto_cards(tmp_path, pii):
    rng = random.Random(4)
    p = tmp_path / "ids.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["transaction_id", "ean", "batch", "fw_version"])
        for _ in range(300):
            body = "40" + "".join(rng.choice("0123456789") for _ in range(10))
            check = (10 - sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body)) % 10) % 10
            w.writerow([str(rng.randrange(4 * 10**15, 5 * 10**15)), body + str(check),
                        f"{rng.randint(100, 899)} {rng.randint(10, 99)} {rng.randint(1000, 9999)}",
                        ".".join(str(rng.randint(1, 254)) for _ in range(4))])
    code, rep, _ = pii(p)
    assert rep["findings"] == [] and code == 0
    # real cards in the same shape of column still block
    p.write_text("card_number\n" + "".join(f"{fake_card('4', 16, s)}\n" for s in range(40)))
    code, rep, _ = pii(p)
    assert found(rep, "CREDIT_CARD")[0]["blocking"] and code == 1


def test_urls(tmp_path, pii):
    p = tmp_path / "u.csv"
    rows = [("https://example.org/~ana", "see https://api.example.com/v1/data?api_key=Zx9kQ2vL7pW4mT8r ok"),
            ("https://ana.example.net/about", "https://bob:S3cr3tPw0rd@db.example.com/prod"),
            ("https://example.com/u/3", "https://docs.example.com/guide?page=2")]
    p.write_text("homepage,notes\n" + "".join(f"{a},{b}\n" for a, b in rows), encoding="utf-8")
    code, rep, _ = pii(p)
    (plain,) = found(rep, "URL")
    assert plain["column"] == "homepage" and plain["blocking"] is False and plain["column_count"] == 3
    (secret,) = found(rep, "URL_CREDENTIALS")
    assert secret["column"] == "notes" and secret["rule"] == "PII002" and secret["blocking"] and secret["column_count"] == 2
    assert "S3cr3t" not in json.dumps(rep) and "Zx9kQ2" not in json.dumps(rep)
    assert code == 1


def test_nested_json_paths_use_their_last_keys(tmp_path, pii):
    from faker import Faker

    f = Faker("de_DE")
    f.seed_instance(3)
    p = tmp_path / "users.jsonl"
    p.write_text("".join(json.dumps({"profile": {"full_name": f.name(), "home": {"city": f.city(), "street": f.street_address()}}})
                         + "\n" for _ in range(30)), encoding="utf-8")
    _, rep, _ = pii(p)
    got = {f["column"]: f["entity"] for f in rep["findings"]}
    assert got == {"profile.full_name": "PERSON", "profile.home.city": "LOCATION", "profile.home.street": "LOCATION"}


def test_policy_actions_and_phone_regions(tmp_path, pii):
    from faker import Faker

    f = Faker("en_US")
    f.seed_instance(5)
    p = tmp_path / "p.csv"
    p.write_text("full_name,zip\n" + "".join(f"{f.name()},{f.zipcode()}\n" for _ in range(30)), encoding="utf-8")
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      PERSON: {action: warn}\n"
                                 "      POSTCODE: {action: block}\n")
    by = {f["entity"]: f for f in rep["findings"]}
    assert by["PERSON"]["blocking"] is False and by["LOCATION"]["blocking"] is True and code == 1
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      LOCATION: {action: ignore}\n"
                                 "      PERSON: {action: ignore}\n")
    assert rep["findings"] == [] and code == 0
    # the regions tried for national numbers come from the policy
    q = tmp_path / "q.csv"
    q.write_text("telephone\n" + "".join(f"030 9018{i:02d}\n" for i in range(20, 60)), encoding="utf-8")
    _, rep, _ = pii(q, policy="version: 1\ngates:\n  pii:\n    phone_regions: [DE]\n")
    assert found(rep, "PHONE_NUMBER")[0]["column_count"] == 40
    _, rep, _ = pii(q, policy="version: 1\ngates:\n  pii:\n    phone_regions: [US]\n")
    assert not found(rep, "PHONE_NUMBER")


def test_free_text_sentences_and_their_look_alikes(tmp_path, pii):
    from faker import Faker

    f = Faker("en_US")
    f.seed_instance(8)
    lines = [f"The server at {f.ipv6()} refused the connection.", "client fe80::1ff:fe23:4567:890a answered",
             f"Wire it to routing number {f.aba()} please.", "My social security number is 536-22-8726.",
             "ssn 536228725 on file", "Her ITIN is 912-71-1234 for the return.",
             "Upgrade to version 10.2.3.4 before Monday.", "Order 4111111111111111 shipped.",
             "Batch 123 45 6789 was recalled.", "mail info@tin.it about 536228726"]
    p = tmp_path / "notes.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, rep, _ = pii(p)
    rows = {(f["entity"], e["row"]) for f in rep["findings"] for e in f.get("examples", [])}
    assert {("IP_ADDRESS", 1), ("IP_ADDRESS", 2), ("ABA_ROUTING_NUMBER", 3), ("US_SSN", 4), ("US_SSN", 5),
            ("US_ITIN", 6)} <= rows
    # versions, order and batch numbers, and a number after "tin" inside a domain: nothing but the e-mail itself
    assert {(e, r) for e, r in rows if r in (7, 8, 9, 10)} == {("EMAIL_ADDRESS", 10)}


def test_parquet_integer_ids_and_phones(tmp_path, pii):
    """Ids stored as integers (leading zeros lost) and phone numbers as int64 are still found."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from faker import Faker

    f = Faker("pt_BR")
    f.seed_instance(4)
    cpfs = [int(f.cpf().replace(".", "").replace("-", "")) for _ in range(40)]
    phones = [2025550100 + i * 7 for i in range(40)]
    p = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"cpf": pa.array(cpfs, pa.int64()), "phone": pa.array(phones, pa.int64()),
                             "row_id": pa.array(range(40), pa.int64())}), p)
    _, rep, _ = pii(p)
    got = {f["column"]: (f["entity"], f["column_count"]) for f in rep["findings"]}
    assert got["cpf"] == ("BR_CPF", 40)
    assert got["phone"][0] == "PHONE_NUMBER" and got["phone"][1] >= 36
    assert "row_id" not in got


def test_a_long_classified_column_is_counted_from_its_first_values_and_says_so(tmp_path, pii):
    """Past the cap the semantic pass counts values as candidates without checking them: the
    finding is an estimate, says so, and its interval holds the true count."""
    from gates.pii.semantic import MAX_CHECK

    first = ["Anna", "Jonas", "Maria", "Peter", "Sofia", "Lukas", "Emma", "David"]
    last = ["Meyer", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch"]
    n = MAX_CHECK + 1_500
    p = tmp_path / "people.csv"
    p.write_text("id,name\n" + "".join(f"{i},{first[i % 8]} {last[(i // 8) % 8]}\n" for i in range(1, n + 1)),
                 encoding="utf-8")
    _, rep, _ = pii(p)
    (f,) = found(rep, "PERSON")
    assert f["sampled"] is True
    assert f"from {MAX_CHECK:,} of {n:,} candidates" in f["message"]
    lo, hi = f["fraction_ci"]
    assert lo <= 1.0 <= hi + 1e-9 and lo > 0.99
    assert abs(f["column_count"] - n) <= 0.01 * n


def test_support_test_stops_once_settled_with_the_full_counts_answer():
    """columns._supported answers as counting the whole sample would (at least ``need`` of it
    passes), and stops testing values once the answer can no longer change either way."""
    import random

    from gates.pii import columns as C

    rng = random.Random(3)
    for _ in range(400):
        n = rng.randint(0, 40)
        sample = ["y" if rng.random() < rng.random() else "n" for _ in range(n)]
        need = rng.choice([0.25, 0.3, 0.5, 0.6, 0.8, 1.0])
        seen: list[str] = []

        def fn(v: str) -> str | None:
            seen.append(v)
            return v if v == "y" else None

        want = bool(n) and sample.count("y") / n >= need
        assert C._supported((need, fn), sample) is want
        if n and sample.count("y") / n >= need:
            assert len(seen) <= [i + 1 for i in range(n) if sample[: i + 1].count("y") / n >= need][0]


def test_detectors_ranked_below_a_decision_are_not_tried(monkeypatch):
    """Once a named detector decides a column, a detector of lower rank could not win whatever its
    share: a ``name`` column of full names is PERSON from the shape test, and the single-name test
    (rank 3 under the same header) never runs; with a header it names, it still decides."""
    from gates.pii import columns as C
    from gates.pii import names

    calls: list[str] = []
    real = names.single_name

    def spy(text: str) -> str | None:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(names, "single_name", spy)
    monkeypatch.setattr(C, "DETECTORS", tuple(
        C.Detector(**{**d.__dict__, "validate": spy}) if d.validate is real else d for d in C.DETECTORS))
    C._facts.cache_clear()
    full = ["Maria Garcia", "John Smith", "Anna Müller", "Pierre Dubois", "Giulia Rossi", "Jan de Vries",
            "Emma Brown", "Lucas Martin", "Sofia Romano", "Ana Souza", "Liam Wilson", "Mia Schmidt"]
    v = C.classify("name", full)
    assert v.decision is not None and v.decision.detector.rank == 4 and v.decision.validate is not spy
    assert calls == []
    single = ["Maria", "John", "Anna", "Pierre", "Giulia", "Jan", "Emma", "Lucas", "Sofia", "Ana", "Liam", "Mia"]
    v = C.classify("name", single)
    assert v.decision is not None and v.decision.detector.rank == 3 and calls
    C._facts.cache_clear()
