"""Look-alike data must not block: ids, uuids, versions, coordinates, timestamps, hashes."""

from __future__ import annotations

import csv
import hashlib
import random
import uuid

from pii_helpers import fake_card, found


def neutral_csv(path, target_bytes: int, seed: int = 5) -> int:
    rng = random.Random(seed)
    header = ["id", "order_id", "uuid", "version", "build", "lat", "lon", "created_at", "epoch_ms", "sha1", "amount", "zip", "sku", "ratio"]
    rows = 0
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        while fh.tell() < target_bytes:
            rows += 1
            w.writerow([
                rows, rng.randint(1_000_000_000, 9_999_999_999), uuid.UUID(int=rng.getrandbits(128), version=4),
                f"{rng.randint(0, 20)}.{rng.randint(0, 40)}.{rng.randint(0, 200)}",
                f"{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 9999)}",
                f"{rng.uniform(-90, 90):.6f}", f"{rng.uniform(-180, 180):.6f}",
                f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                rng.randint(1_600_000_000_000, 1_800_000_000_000), hashlib.sha1(str(rows).encode()).hexdigest(),
                f"{rng.uniform(0, 10000):.2f}", f"{rng.randint(10000, 99999)}", f"SKU-{rng.randint(100000, 999999)}",
                f"{rng.random():.17f}",
            ])
    return rows


def test_five_megabytes_of_look_alikes_do_not_block(pii, tmp_path):
    p = tmp_path / "neutral.csv"
    rows = neutral_csv(p, 5 * 1024 * 1024)
    code, rep, _ = pii(p)
    assert rep["gates"]["pii"]["files"][0]["items"] == rows
    blocking = [(f["entity"], f["column"]) for f in rep["findings"] if f["blocking"]]
    assert blocking == []
    assert code == 0
    # nothing at all is reported for the id-like columns (no phone numbers, no bank accounts, no SSNs)
    assert not [f for f in rep["findings"] if f["column"] in ("id", "order_id", "uuid", "version", "build", "epoch_ms", "sha1", "sku", "ratio")]
    # a "zip" header over five-digit values is a postcode column: a LOCATION warning, never a block
    assert [(f["entity"], f["location_kind"], f["blocking"]) for f in rep["findings"] if f["column"] == "zip"] == [
        ("LOCATION", "postcode", False)]


def test_order_ids_are_not_phone_numbers_even_with_many_rows(pii, tmp_path):
    p = tmp_path / "orders.csv"
    rng = random.Random(3)
    p.write_text("order_id,customer_id\n" + "".join(f"{rng.randint(2_000_000_000, 9_999_999_999)},{rng.randint(10**8, 10**9 - 1)}\n" for _ in range(3000)))
    code, rep, _ = pii(p)
    assert code == 0 and rep["findings"] == []


def test_ssn_shaped_but_invalid(pii, tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("ssn\n000-12-3456\n666-12-3456\n912-34-5678\n123-00-4567\n123-45-0000\n")
    code, rep, _ = pii(p)
    assert found(rep, "US_SSN") == [] and code == 0


def test_uuid_digit_groups_are_not_cards(pii, tmp_path):
    # a UUID whose last group is all digits, Luhn-valid, with a Maestro prefix (56-58, 12 digits)
    tail = fake_card("57", 12, 4)
    p = tmp_path / "u.csv"
    p.write_text(f"uuid,note\nd8642da8-c7d0-4c0d-b72b-{tail},x\n1b2c3d4e-aaaa-4bbb-8ccc-{fake_card('56', 12, 5)},ref {tail}-a\n")
    code, rep, _ = pii(p)
    assert found(rep, "CREDIT_CARD") == [] and code == 0
    p.write_text(f"card_number,note\n{tail},paid with {tail} today\n")  # in a card column they are a card
    code, rep, _ = pii(p)
    assert [f["column"] for f in found(rep, "CREDIT_CARD")] == ["card_number"]
