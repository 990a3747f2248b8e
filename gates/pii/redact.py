"""Masked evidence and salted hashes: the only forms in which a detected value leaves the scanner.

A report must let a reviewer recognise *which* value was found without disclosing it. The mask
keeps just enough shape (card brand digits and last four, the first letter of an email's parts,
a token's vendor prefix); the salted hash (HMAC-SHA256 keyed by the salt) lets a policy allowlist
one exact value and keeps fingerprints stable across runs without storing the value. Set a
private salt (``MLSEC_GATES_PII_SALT`` or ``gates.pii.salt``) so low-entropy values such as SSNs
cannot be recovered from their hashes by brute force.
"""

from __future__ import annotations

import os

DEFAULT_SALT = "mlsec-gates/pii/v1"
SALT_ENV = "MLSEC_GATES_PII_SALT"


def resolve_salt(option: str | None) -> str:
    return os.environ.get(SALT_ENV) or option or DEFAULT_SALT


def value_hash(salt: str, entity: str, normalised: str) -> str:
    """16 hex digits of HMAC-SHA256(salt, entity:value): what allowlists and fingerprints use.
    (``hmac.digest``, OpenSSL's one-shot HMAC: the same digest as an ``hmac.new`` object, at
    two thirds of its cost; a run of many small files hashes ~40,000 examples.)"""
    import hmac  # imported on first use (a clean dataset never hashes), then a dictionary look-up

    return hmac.digest(salt.encode(), f"{entity}:{normalised}".encode(), "sha256")[:8].hex()


def _stars(n: int) -> str:
    return "*" * max(n, 0)


def mask_keep(s: str, head: int, tail: int) -> str:
    """Keep ``head`` leading and ``tail`` trailing characters, and never more than a third of
    the value in total."""
    n = len(s)
    while head + tail > n // 3 and (head or tail):
        if head >= tail and head:
            head -= 1
        else:
            tail -= 1
    return s[:head] + _stars(n - head - tail) + (s[n - tail :] if tail else "")


def mask(entity: str, value: str) -> str:
    """Masked evidence for a normalised value of ``entity``."""
    if entity == "CREDIT_CARD":
        return value[:4] + _stars(len(value) - 8) + value[-4:] if len(value) >= 12 else _stars(len(value))
    if entity == "EMAIL_ADDRESS":
        local, _, domain = value.partition("@")
        host, dot, tld = domain.rpartition(".")
        return f"{local[:1]}***@{host[:1]}***{dot}{tld}"
    if entity in ("US_SSN", "US_ITIN"):
        return "***-**-" + value[-4:]
    if entity == "IBAN_CODE":
        return value[:4] + _stars(len(value) - 8) + value[-4:]
    if entity in ("ABA_ROUTING_NUMBER", "US_BANK_NUMBER", "UK_NHS"):
        return _stars(len(value) - 2) + value[-2:]
    if entity == "PHONE_NUMBER":
        return (value[:2] if value.startswith("+") else "") + _stars(len(value) - 4) + value[-2:]
    if entity == "IP_ADDRESS":
        if ":" in value:
            return value.split(":", 1)[0] + ":****:****"
        return value.split(".", 1)[0] + ".*.*.*"
    if entity == "MAC_ADDRESS":
        return value[:8] + ":**:**:**"
    if entity == "CRYPTO":
        return value[:4] + _stars(len(value) - 8) + value[-2:] if len(value) > 10 else _stars(len(value))
    if entity == "PRIVATE_KEY":
        return value  # the BEGIN line names the key type and holds no key material
    if entity in ("AWS_ACCESS_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY", "OPENAI_API_KEY",
                  "HUGGINGFACE_TOKEN", "GOOGLE_API_KEY"):
        return _prefix_mask(value)
    if entity == "JWT":
        return "eyJ***." + "***." + "***"
    return mask_keep(value, 1, 1) if len(value) >= 9 else _stars(len(value))


_PREFIXES = ("github_pat_", "hooks.slack.com/services/", "sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk-proj-",
             "sk-svcacct-", "sk-admin-", "glpat-", "gldt-", "glrt-", "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-",
             "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "hf_", "sk-", "AKIA", "ASIA", "ABIA", "ACCA", "AIza")


def _prefix_mask(value: str) -> str:
    for p in _PREFIXES:
        if value.startswith(p):
            return p + _stars(min(len(value) - len(p), 24))
    return _stars(min(len(value), 24))
