"""Labelled cases per entity: positives must be found (right entity, row, column, masked
evidence), look-alikes must not be."""

from __future__ import annotations

import csv

import pytest

from gates.pii import validators as V
from gates.pii.redact import mask

from pii_helpers import fake_card, fake_iban, found, example_rows


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


CARDS = {
    "visa16": fake_card("4", 16, 1), "visa19": fake_card("4", 19, 2), "mc51": fake_card("51", 16, 3),
    "mc2series": fake_card("2221", 16, 4), "mc2720": fake_card("2720", 16, 5), "amex": fake_card("37", 15, 6),
    "discover": fake_card("6011", 16, 7), "jcb": fake_card("3530", 16, 8), "jcb19": fake_card("3589", 19, 9),
    "maestro": fake_card("6759", 16, 10), "maestro13": fake_card("5018", 13, 11), "unionpay": fake_card("62", 19, 12),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_card_brands_validate(name):
    assert V.card(CARDS[name]) == CARDS[name]


def test_card_look_alikes_rejected():
    good = CARDS["visa16"]
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert V.card(bad) is None                       # Luhn-invalid
    assert V.card(fake_card("9", 16)) is None         # no issuer starts with 9
    assert V.card(fake_card("4", 17)) is None         # Visa has no 17-digit numbers
    assert V.card("1764000000000") is None            # an epoch-millisecond timestamp


def test_other_validators():
    assert V.iban(fake_iban("DE", "370400440532013001"))
    assert V.iban("DE89370400440532013001") is None
    assert V.iban(fake_iban("DE", "3704004405320130")) is None  # wrong length for DE
    assert V.ssn("123-45-6780") and not V.ssn("000-12-3456") and not V.ssn("666-12-3456") and not V.ssn("912-12-3456")
    assert not V.ssn("123-00-4567") and not V.ssn("123-45-0000")
    assert V.itin("912-70-1234") and not V.itin("912-40-1234")
    assert V.aba_routing("011000015") and not V.aba_routing("011000016")
    assert V.ip_address("2001:db8::1") and V.ip_address("10.1.2.3") and not V.ip_address("300.1.2.3")
    assert V.mac_address("00:1A:2B:3C:4D:5E") and not V.mac_address("00:00:00:00:00:00")
    assert V.btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2") and not V.btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3")
    assert V.btc_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq") and not V.btc_bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr")
    assert V.eth_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") and not V.eth_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")
    assert V.keccak256(b"").hex().startswith("c5d2460186f7233c")
    assert V.phone("+44 20 7946 0958") and not V.phone("1234567")
    assert V.uk_nhs("943 476 5919") and not V.uk_nhs("943 476 5918")
    assert V.generic_secret("Zx9#kQ2!vL7pW4$m") and not V.generic_secret("changeme") and not V.generic_secret("aaaaaaaaaaaa")


def test_masks_show_shape_only():
    assert mask("CREDIT_CARD", "4111111111111111") == "4111********1111"
    assert mask("EMAIL_ADDRESS", "jane.doe@example.com") == "j***@e***.com"
    assert mask("US_SSN", "123456780") == "***-**-6780"
    assert mask("AWS_ACCESS_KEY", "AKIA" + "Q" * 16).startswith("AKIA*")


def test_labelled_csv(pii, tmp_path):
    ssn = "123-45-6780"
    rows = [
        [CARDS["visa19"], "jane.doe@mailbox.test", ssn, fake_iban("GB", "WEST12345698765433"[:18]), "1234567890", "10.20.30.40", "ok"],
        [CARDS["mc2series"], "not an email", "000-12-3456", "", "2345678901", "1.2.3", "call +1 415 555 2671 please"],
        [CARDS["visa16"][:-1] + str((int(CARDS["visa16"][-1]) + 1) % 10), "", "666-01-2345", "", "3456789012", "", "my ssn is 123456780, ssn: 123-45-6781"],
    ]
    p = write_csv(tmp_path / "people.csv", ["card", "email", "ssn", "iban", "order_id", "client_ip", "notes"], rows)
    code, rep, _ = pii(p)
    assert code == 1
    cards = found(rep, "CREDIT_CARD")
    assert example_rows(cards) == [(1, "card"), (2, "card")]  # row 3 is Luhn-invalid
    assert len(cards) == 1 and cards[0]["column_count"] == 2  # one finding per column and entity
    assert all(f["blocking"] for f in cards)
    assert cards[0]["evidence"] in ("4" + "*" * 0, cards[0]["evidence"]) and "*" in cards[0]["evidence"]
    emails = found(rep, "EMAIL_ADDRESS")
    assert [(f["row"], f["column"], f["evidence"]) for f in emails] == [(1, "email", "j***@m***.test")]
    ssns = found(rep, "US_SSN")
    assert {(f["row"], f["column"]) for f in ssns} == {(1, "ssn"), (3, "notes")}  # 000-/666- rejected; context "ssn"
    assert [f["column_count"] for f in ssns if f["column"] == "ssn"] == [1]
    assert [f["column_count"] for f in ssns if f["column"] == "notes"] == [2]  # each number once, not per keyword
    assert [len(f["examples"]) for f in ssns if f["column"] == "notes"] == [2]
    assert [f["row"] for f in found(rep, "IBAN_CODE")] == [1]
    assert not [f for f in rep["findings"] if f["column"] == "order_id"]  # 10-digit ids are not phones
    ips = found(rep, "IP_ADDRESS")
    assert [(f["row"], f["blocking"]) for f in ips] == [(1, False)]  # warn by default; "1.2.3" is a version
    phones = found(rep, "PHONE_NUMBER")
    assert [(f["row"], f["column"], f["blocking"]) for f in phones] == [(2, "notes", False)]


def test_weak_types_need_context(pii, tmp_path):
    p = write_csv(tmp_path / "w.csv", ["ref", "routing_number", "phone", "nhs_number", "amount", "bank_account"],
                  [["123456780", "011000015", "(212) 555-0123", "943 476 5919", "4155552671", "000123456789"],
                   ["234567891", "011000016", "n/a", "943 476 5918", "2125550123", "1111111111"]])
    code, rep, _ = pii(p)
    cols = {(f["entity"], f["column"], f["row"]) for f in rep["findings"]}
    assert ("ABA_ROUTING_NUMBER", "routing_number", 1) in cols
    assert ("PHONE_NUMBER", "phone", 1) in cols
    assert ("UK_NHS", "nhs_number", 1) in cols
    assert ("US_BANK_NUMBER", "bank_account", 1) in cols and ("US_BANK_NUMBER", "bank_account", 2) not in cols  # filler
    assert not [c for c in cols if c[1] in ("ref", "amount")]   # bare 9/10 digits without context
    assert not [c for c in cols if c[2] == 2 and c[1] != "phone"]  # checksum failures
    assert code == 0  # weak types warn by default


def test_secrets(pii, tmp_path):
    gh = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    slack = "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv"
    stripe = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    openai = "sk-proj-" + "Ab3De5Fg7Hj9Kl1Mn3Pq5Rs7Tu9Vw1Xy3Za5"
    hf = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"
    aws = "AKIA" + "2E0A8F3B244C9986"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6ImFkbWluIn0.dGhpc2lzbm90YXJlYWxzaWduYXR1cmVhdGFsbA"
    gitlab = "glpat-" + "xY7zA9bC1dE3fG5hI7jK"
    lines = [f"token={gh}", f"slack {slack}", f"stripe: {stripe}", f"openai {openai}", f"hf {hf}", f"aws {aws}",
             f"auth {jwt}", "-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA", f"gitlab {gitlab}",
             "password = Zx9#kQ2!vL7pW4$m", "password = changeme", "AKIAIOSFODNN7EXAMPLE"]
    p = tmp_path / "leak.txt"
    p.write_text("\n".join(lines) + "\n")
    code, rep, _ = pii(p)
    got = {(f["entity"], f["row"]) for f in rep["findings"] if f["rule"] == "PII002"}
    assert got >= {("GITHUB_TOKEN", 1), ("SLACK_TOKEN", 2), ("STRIPE_KEY", 3), ("OPENAI_API_KEY", 4), ("HUGGINGFACE_TOKEN", 5),
                   ("AWS_ACCESS_KEY", 6), ("JWT", 7), ("PRIVATE_KEY", 8), ("GITLAB_TOKEN", 10), ("GENERIC_SECRET", 11)}
    assert ("GENERIC_SECRET", 12) not in got and ("GENERIC_SECRET", 1) not in got  # token=ghp_… is a GitHub token
    test = found(rep, "AWS_ACCESS_KEY", rule="PII003")
    assert [(f["row"], f["blocking"], f["severity"]) for f in test] == [(13, False, "info")]
    for f in rep["findings"]:
        assert f["line"] == f["row"]  # text: row is the line
    assert code == 1


def test_known_test_values_do_not_block(pii, tmp_path):
    p = write_csv(tmp_path / "t.csv", ["card", "ssn"], [["4111 1111 1111 1111", "078-05-1120"], ["5555555555554444", "219-09-9999"]])
    code, rep, _ = pii(p)
    assert code == 0
    assert {f["entity"] for f in rep["findings"]} == {"CREDIT_CARD", "US_SSN"}
    assert all(f["rule"] == "PII003" and not f["blocking"] for f in rep["findings"])
    assert found(rep, "CREDIT_CARD")[0]["evidence"] == "4111********1111"


def test_crypto_mac_itin(pii, tmp_path):
    p = write_csv(tmp_path / "c.csv", ["wallet", "device", "tax"],
                  [["1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "00:1A:2B:3C:4D:5E", "912-70-1234"],
                   ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "10:00:00", "912-40-1234"]])
    code, rep, _ = pii(p)
    got = {(f["entity"], e["row"]) for f in rep["findings"] for e in f.get("examples", [])}
    assert {("CRYPTO", 1), ("CRYPTO", 2), ("MAC_ADDRESS", 1)} <= got
    assert ("US_ITIN", 2) not in got and ("MAC_ADDRESS", 2) not in got


def test_formatted_card_lengths(pii, tmp_path):
    v19 = CARDS["visa19"]
    grouped19 = "-".join(v19[i:i + 4] for i in range(0, 19, 4))          # 4-4-4-4-3
    amex = CARDS["amex"]
    amex465 = f"{amex[:4]} {amex[4:10]} {amex[10:]}"                       # 4-6-5
    p = tmp_path / "f.txt"
    p.write_text(f"paid {grouped19} ok\npaid {amex465} ok\n")
    _, rep, _ = pii(p)
    assert [r for r, _ in example_rows(found(rep, "CREDIT_CARD"))] == [1, 2]


def test_twelve_digit_maestro_in_free_text_needs_a_card_word(pii, tmp_path):
    """A 12-digit Maestro number is found in prose right after a card word ("card", "visa",
    "credit"...), never on its own (twelve digits are also order numbers and the last group of
    UUIDs), and never when its check digit fails."""
    maestro, other = fake_card("58", 12, 3), fake_card("67", 12, 4)
    bad = maestro[:-1] + str((int(maestro[-1]) + 1) % 10)
    lines = [
        f"I paid with my card {maestro} yesterday.",                    # 1: found
        f"Order {maestro} shipped on time.",                            # 2: no card word
        f"uuid 0f8fad5b-d9cb-469f-a165-{maestro} logged",               # 3: no card word
        f"Charge the credit card {bad} again.",                         # 4: Luhn fails
        f"visa: {other}",                                                # 5: found
    ]
    p = tmp_path / "notes.txt"
    p.write_text("\n".join(lines) + "\n")
    code, rep, _ = pii(p)
    cards = found(rep, "CREDIT_CARD")
    assert code == 1 and len(cards) == 1
    assert [row for row, _ in example_rows(cards)] == [1, 5] and cards[0]["column_count"] == 2
