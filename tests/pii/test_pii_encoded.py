"""Percent-encoded e-mail addresses (``%40`` for ``@``), as access logs and form posts hold them."""

from __future__ import annotations

import json

import pytest

from gates.pii import encoded


def test_emails_decodes_and_validates():
    assert encoded.emails("/signup?email=ada.lovelace%40corp-mail.net&ref=x") == ["ada.lovelace@corp-mail.net"]
    assert encoded.emails("u=bob%2Bnews%40corp-mail%2Enet") == ["bob+news@corp-mail.net"]
    # no domain, no dot in the domain, a percent sign alone: not addresses
    assert encoded.emails("q=50%40 off") == []
    assert encoded.emails("a%40b") == []
    assert encoded.emails("100% sure") == []


def test_access_log_with_encoded_address_fails(pii, tmp_path):
    """Before, the log passed with exit 0: no pattern matched an address whose '@' is '%40'."""
    log = tmp_path / "access.log"
    log.write_text(
        '10.0.0.1 - - [06/Dec/2026:10:00:00 +0000] "GET /signup?email=ada.lovelace%40corp-mail.net HTTP/1.1" 200 12\n'
        '10.0.0.2 - - [06/Dec/2026:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 99\n',
        encoding="utf-8",
    )
    code, rep, r = pii(log)
    mails = [f for f in rep["findings"] if f["entity"] == "EMAIL_ADDRESS"]
    assert code == 1, r.err
    assert len(mails) == 1 and mails[0]["column_count"] == 1
    assert [e["row"] for e in mails[0]["examples"]] == [1]
    text = json.dumps(rep) + r.out + r.err
    assert "ada.lovelace" not in text and "corp-mail.net" not in text


def test_encoded_and_plain_addresses_count_once_per_cell(pii, tmp_path):
    p = tmp_path / "clicks.csv"
    p.write_text(
        "id,url\n"
        "1,https://shop.example.org/track?to=carol.smith%40corp-mail.net\n"
        "2,mailto:dave.jones@corp-mail.net\n"
        "3,https://shop.example.org/track?to=nobody%40example.invalid\n"
        "4,https://shop.example.org/home\n",
        encoding="utf-8",
    )
    code, rep, _ = pii(p)
    mails = [f for f in rep["findings"] if f["entity"] == "EMAIL_ADDRESS"]
    assert code == 1
    assert [(f["column"], f["column_count"], f["column_rows"]) for f in mails] == [("url", 2, 4)]
    assert sorted(e["row"] for e in mails[0]["examples"]) == [1, 2]


MAIL_LINE = "GET /x?email=ops-team%40corp-mail.net HTTP/1.1\n"
PHONE_LINE = "GET /verify?to=%2B447911123456 HTTP/1.1\n"


@pytest.mark.parametrize("line, entity, pii_policy", [
    (MAIL_LINE, "EMAIL_ADDRESS", "allow: {values: ['ops-team@corp-mail.net']}"),
    (MAIL_LINE, "EMAIL_ADDRESS", "allow: {patterns: ['^ops-team@']}"),
    (MAIL_LINE, "EMAIL_ADDRESS", "entities: {EMAIL_ADDRESS: {action: ignore}}"),
    (PHONE_LINE, "PHONE_NUMBER", "allow: {values: ['+447911123456']}"),
    (PHONE_LINE, "PHONE_NUMBER", "entities: {PHONE_NUMBER: {action: block, min_count: 1}}\n    allow: {patterns: ['^[+]4479']}"),
    (PHONE_LINE, "PHONE_NUMBER", "entities: {PHONE_NUMBER: {action: ignore}}"),
])
def test_allowed_or_ignored_encoded_value_is_not_reported(pii, tmp_path, line, entity, pii_policy):
    p = tmp_path / "access.log"
    p.write_text(line, encoding="utf-8")
    code, rep, r = pii(p, policy=f"version: 1\ngates:\n  pii:\n    {pii_policy}\n")
    assert code == 0, r.err
    assert not [f for f in rep["findings"] if f["entity"] == entity]


REGIONS = ("GB", "US", "DE")


def test_phone_numbers_decodes_whole_query_values_only():
    assert encoded.phone_numbers("/api/verify?tel=%2B447911123456&lang=en", REGIONS) == ["+447911123456"]
    assert encoded.phone_numbers("x?msisdn=%2B44%207911%20123456", REGIONS) == ["+447911123456"]  # spaces encoded
    assert encoded.phone_numbers("a=%2b4930123456789", REGIONS) == ["+4930123456789"]  # lower-case hex
    assert encoded.phone_numbers("r=%3D%2B447911123456", REGIONS) == ["+447911123456"]  # after an encoded '='
    assert encoded.phone_numbers("/p?x=%2B447911123456#top", REGIONS) == ["+447911123456"]
    # inside a base64 signature, too short, not a valid number, or the '+' written plainly
    assert encoded.phone_numbers("sig=ab%2B44791112345678xyz", REGIONS) == []
    assert encoded.phone_numbers("sig=Zm9v%2B447911123456", REGIONS) == []
    assert encoded.phone_numbers("q=%2B1", REGIONS) == []
    assert encoded.phone_numbers("n=%2B12345678&x=1", REGIONS) == []
    assert encoded.phone_numbers("tel=+447911123456", REGIONS) == []


def test_access_log_with_an_encoded_phone_number_reports_it(pii, tmp_path):
    """Before, nothing was reported: the number's '+' was '%2B', and its digits read as no
    region's number. Now it is found as the same number written with a '+' is."""
    log = tmp_path / "access.log"
    log.write_text(
        '10.0.0.1 - - [06/Dec/2026:10:00:00 +0000] "GET /verify?to=%2B447911123456&ok=1 HTTP/1.1" 200 12\n'
        '10.0.0.2 - - [06/Dec/2026:10:00:01 +0000] "GET /img?sig=Zm9v%2B447911123456 HTTP/1.1" 200 99\n'
        '10.0.0.3 - - [06/Dec/2026:10:00:02 +0000] "GET /verify?to=%2B44%207700%20900461 HTTP/1.1" 200 12\n'
        '10.0.0.4 - - [06/Dec/2026:10:00:03 +0000] "GET /verify?to=%2B49%20151%2012345678 HTTP/1.1" 200 12\n',
        encoding="utf-8",
    )
    code, rep, r = pii(log)
    phones = [f for f in rep["findings"] if f["entity"] == "PHONE_NUMBER"]
    assert code == 0, r.err  # phone numbers warn by default
    assert len(phones) == 1 and phones[0]["rule"] == "PII001"
    # line 2 is a signature, line 3 a number Ofcom keeps for drama (not valid)
    assert phones[0]["column_count"] == 2 and sorted(e["row"] for e in phones[0]["examples"]) == [1, 4]
    text = json.dumps(rep) + r.out + r.err
    assert "7911123456" not in text and "12345678" not in text


def test_an_encoded_phone_number_blocks_where_the_policy_says(pii, tmp_path):
    p = tmp_path / "clicks.csv"
    p.write_text("id,url\n1,https://shop.example.org/call?to=%2B4915112345678\n2,https://shop.example.org/\n", encoding="utf-8")
    code, rep, r = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      PHONE_NUMBER: {action: block}\n")
    phones = [f for f in rep["findings"] if f["entity"] == "PHONE_NUMBER"]
    assert code == 1, r.err
    assert [(f["column"], f["column_count"], f["blocking"]) for f in phones] == [("url", 1, True)]
