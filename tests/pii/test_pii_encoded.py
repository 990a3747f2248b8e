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


@pytest.mark.parametrize("pii_policy", [
    "allow: {values: ['ops-team@corp-mail.net']}",
    "allow: {patterns: ['^ops-team@']}",
    "entities: {EMAIL_ADDRESS: {action: ignore}}",
])
def test_allowed_or_ignored_encoded_address_is_not_reported(pii, tmp_path, pii_policy):
    p = tmp_path / "access.log"
    p.write_text("GET /x?email=ops-team%40corp-mail.net HTTP/1.1\n", encoding="utf-8")
    code, rep, r = pii(p, policy=f"version: 1\ngates:\n  pii:\n    {pii_policy}\n")
    assert code == 0, r.err
    assert not [f for f in rep["findings"] if f["entity"] == "EMAIL_ADDRESS"]
