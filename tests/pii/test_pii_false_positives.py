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


def test_nine_digits_grouped_otherwise_than_an_ssn_are_not_one_near_a_context_word(pii, tmp_path):
    """AWS's API documentation: "the security group ... Range: 1024-65535" read as SSN
    102-46-5535 (the word "security" gives SSN context, and the separators were dropped). Near
    a context word, nine digits are an SSN plain or grouped 3-2-4, not 4-5 or 2-7 (an EIN)."""
    p = tmp_path / "docs.jsonl"
    p.write_text(
        '{"doc": "Opens the security group port range 1024-65535 to the VPC"}\n'
        '{"doc": "security contact: employer id 12-3456789 on file"}\n'
        '{"doc": "social security no. 536221234 on file"}\n'
        '{"doc": "security number 536 22 1235, verified"}\n',
        encoding="utf-8")
    code, rep, _ = pii(p)
    ssn = found(rep, "US_SSN")
    assert len(ssn) == 1 and ssn[0]["column_count"] == 2 and code == 1
    assert sorted(e["row"] for e in ssn[0]["examples"]) == [3, 4]


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


def test_one_word_under_a_name_key_is_not_a_person(pii, tmp_path):
    """An API definition (botocore ships thousands) names its members: ``"locationName": "Marker"``.
    One word that is also a listed surname made a blocking PERSON finding; a name column needs
    two different listed names before single words count as people."""
    import json

    api = {"shapes": {
        "ListRequest": {"members": {"Marker": {"shape": "string", "location": "querystring", "locationName": "Marker"},
                                    "Key": {"shape": "string", "locationName": "Key"}}},
        "Tag": {"members": {"Key": {"shape": "TagKey", "locationName": "Key"}, "Value": {"shape": "TagValue"}}},
        # under a given-name or surname path, a word no list knows as a name is no name
        "DistinguishedName": {"members": {"GivenName": {"shape": "String"}, "Surname": {"shape": "String"}}},
        "Item": {"members": {"firstSeen": {"shape": "Timestamp"}}},
    }}
    (tmp_path / "service-2.json").write_text(json.dumps(api))
    (tmp_path / "people.json").write_text(json.dumps({"users": [{"name": "Ada"}, {"name": "Bob"}, {"name": "Carla"}],
                                                      "owner": {"name": "Ada Lovelace", "first_name": "Ada"}}))
    code, rep, _ = pii(tmp_path)
    got = sorted((f["path"].rsplit("/", 1)[-1], f["column"]) for f in found(rep, "PERSON"))
    assert got == [("people.json", "owner.first_name"), ("people.json", "owner.name"), ("people.json", "users[].name")], got
    assert code == 1


def test_documentation_under_a_secret_named_key_is_not_a_secret(pii, tmp_path):
    """botocore's API definitions document their ``ClientToken`` members in HTML: every word of
    eight characters (``credentials.``, ``results.</p>``, ``ClientRequestToken``) was a
    GENERIC_SECRET, 25,705 warnings over its package. A password column keeps its passwords."""
    import json

    doc = ("<p>A unique, case-sensitive identifier that you provide to ensure the idempotency of the request. "
           "If you retry with the same ClientRequestToken, the results.</p> <p>See {Region} and the object's "
           "credentials.</p>")
    (tmp_path / "service-2.json").write_text(json.dumps({"shapes": {
        "ClientToken": {"type": "string", "documentation": doc},
        # a member named ClientToken refers to its shape by name: a name, not a secret
        "RunRequest": {"members": {"ClientToken": {"shape": "ClientRequestToken", "idempotencyToken": True}}},
    }}))
    (tmp_path / "creds.json").write_text(json.dumps({"db": {"password": "CorrectHorseBatteryStaple"}}))
    (tmp_path / "users.csv").write_text("user,password\nada,Dragonfly!\nbob,Summer2024!x\ncarla,CorrectHorseBatteryStaple\n")
    code, rep, _ = pii(tmp_path)
    got = sorted((f["path"].rsplit("/", 1)[-1], f["column"], f["column_count"]) for f in found(rep, "GENERIC_SECRET"))
    assert got == [("creds.json", "db.password", 1), ("users.csv", "password", 3)], got


def test_a_quantity_under_a_document_abbreviation_is_not_a_document_number(pii, tmp_path):
    """botocore's EC2 API definition: ``DlBucketSize.max: 2147483647`` ("Dl": downlink) blocked
    as a driving licence number. A header that names a quantity (max, size, rate, count...)
    holds amounts; a ``dl_number`` column of licence numbers is still found."""
    import json

    rng = random.Random(3)
    p = tmp_path / "t.csv"
    p.write_text("id,dl_number,DlBucketSize_max,passport_photo_size\n" + "".join(
        f"{i},{rng.choice('ABCDEFGH')}{rng.randrange(10**6, 10**7)},2147483647,{rng.randrange(100, 999)}\n" for i in range(40)))
    api = tmp_path / "api.json"
    api.write_text(json.dumps({"shapes": {"DlBucketSize": {"type": "integer", "max": 2147483647, "min": 1},
                                          "DlRate": {"type": "integer", "max": 2147483647}}}))
    code, rep, _ = pii(p)
    assert [(f["entity"], f["column"]) for f in rep["findings"]] == [("DRIVER_LICENSE", "dl_number")] and code == 1
    code, rep, _ = pii(api)
    assert rep["findings"] == [] and code == 0


def test_a_json_paths_metadata_key_gives_no_context_of_its_parents_field(pii, tmp_path):
    """An API definition or a JSON schema describes fields: ``ClientToken.pattern`` holds a
    regex, ``streetName.documentation`` a sentence, ``City.shape`` a type name. Their parents'
    words made secrets and blocking street addresses of them (298 botocore API definitions:
    1,958 secret findings, 5 blocking addresses). The same words over data still count."""
    import json

    api = tmp_path / "service-2.json"
    api.write_text(json.dumps({"shapes": {
        "ClientToken": {"type": "string", "pattern": "^[a-zA-Z0-9_+=,.@-]{1,64}$", "documentation": "<p>A unique token.</p>"},
        "Address": {"members": {"streetName": {"shape": "SensitiveNonEmptyString",
                                               "documentation": "<p>The address street, such as <code>8th Avenue</code>.</p>"},
                                "city": {"shape": "CityName"}}},
        "Credentials": {"members": {"password": {"shape": "SensitiveString", "type": "string",
                                                 "description": "The password, such as <code>Tr0ub4dor-and-3</code>."}}}}}))
    code, rep, _ = pii(api)
    assert rep["findings"] == [] and code == 0
    data = tmp_path / "users.json"
    data.write_text(json.dumps({"users": [{"address": {"street": "1600 Amphitheatre Parkway"},
                                           "db": {"password": "Kx9#mQ2$vL7pR4wZ"}, "type": "admin"}]}))
    code, rep, _ = pii(data)
    assert {f["entity"] for f in rep["findings"]} >= {"GENERIC_SECRET"} and code == 1
