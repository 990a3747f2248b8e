"""Checksums and structural rules that turn a regex candidate into a validated value.

Each validator takes the matched text and returns the normalised value (what is hashed and
masked) or ``None`` when the candidate is a look-alike. They are pure functions of one string:
cheap, deterministic and safe to call from worker processes. Nothing here raises on bad input,
and nothing here logs the value.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections import Counter

from gates.core.lazyre import lazy

# ---------------------------------------------------------------------------------------------
# payment cards

_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_ok(digits: str) -> bool:
    """Luhn mod-10 over a string of ASCII digits (translate + sum: no Python loop per digit)."""
    odd = digits[-1::-2]
    even = digits[-2::-2].translate(_DOUBLED)
    return (sum(map(int, odd)) + sum(map(int, even))) % 10 == 0


# (brand, prefix ranges (inclusive, compared on the first len(lo) digits), allowed lengths)
# Sources: ISO/IEC 7812 issuer tables as published by the networks (2024).
CARD_BRANDS: tuple[tuple[str, tuple[tuple[str, str], ...], frozenset[int]], ...] = (
    ("visa", (("4", "4"),), frozenset({13, 16, 19})),
    ("mastercard", (("51", "55"), ("2221", "2720")), frozenset({16})),
    ("amex", (("34", "34"), ("37", "37")), frozenset({15})),
    ("discover", (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")), frozenset({16, 17, 18, 19})),
    ("unionpay", (("62", "62"), ("81", "81")), frozenset({16, 17, 18, 19})),
    ("jcb", (("3528", "3589"),), frozenset({16, 17, 18, 19})),
    ("jcb", (("2131", "2131"), ("1800", "1800")), frozenset({15})),  # JCB's legacy 15-digit ranges
    ("diners", (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")), frozenset({14, 16, 17, 18, 19})),
    ("maestro", (("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"), ("6304", "6304"),
                 ("6759", "6759"), ("6761", "6763"), ("56", "58"), ("639", "639"), ("67", "67")), frozenset(range(12, 20))),
    ("mir", (("2200", "2204"),), frozenset({16, 17, 18, 19})),
    ("rupay", (("60", "60"), ("652", "652"), ("508", "508"), ("353", "353"), ("356", "356")), frozenset({16})),
    ("verve", (("506099", "506198"), ("650002", "650027")), frozenset({16, 18, 19})),
    ("uatp", (("1", "1"),), frozenset({15})),
)


def _brand_table() -> dict[tuple[str, int], str]:
    """(prefix, length) → brand, with ranges expanded; longer prefixes are checked first."""
    out: dict[tuple[str, int], str] = {}
    for brand, ranges, lengths in CARD_BRANDS:
        for lo, hi in ranges:
            for p in range(int(lo), int(hi) + 1):
                for n in lengths:
                    out.setdefault((str(p).zfill(len(lo)), n), brand)
    return out


@functools.cache
def _brand_index() -> tuple[dict[tuple[str, int], str], tuple[int, ...]]:
    """The expanded table (a few thousand entries: built on first use, not at import) and its
    prefix lengths, longest first."""
    table = _brand_table()
    return table, tuple(sorted({len(p) for p, _ in table}, reverse=True))


def card_brand(digits: str) -> str | None:
    """The issuing network for a digit string, from its prefix and length, else None."""
    n = len(digits)
    table, prefix_lengths = _brand_index()
    get = table.get
    for k in prefix_lengths:
        b = get((digits[:k], n))
        if b is not None:
            return b
    return None


def card(text: str) -> str | None:
    return card_digits(text.replace(" ", "").replace("-", ""))


def card_digits(digits: str) -> str | None:
    if not 12 <= len(digits) <= 19 or not digits.isdigit():
        return None
    if len(set(digits)) < 2:  # 0000..., 1111... are fillers, not cards
        return None
    if card_brand(digits) is None or not luhn_ok(digits):
        return None
    return digits


# ---------------------------------------------------------------------------------------------
# IBAN (ISO 13616): per-country lengths from the SWIFT IBAN registry (release 98, 2024)

IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


_IBAN_DIGITS = {ord(c): str(int(c, 36)) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def iban(text: str) -> str | None:
    s = text.replace(" ", "").upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s[2:4].isdigit() or not s.isalnum():
        return None
    moved = (s[4:] + s[:4]).translate(_IBAN_DIGITS)
    return s if int(moved) % 97 == 1 else None


# ---------------------------------------------------------------------------------------------
# US identifiers

def ssn(text: str) -> str | None:
    """US SSN structural rules (SSA): area not 000, 666 or 900-999; group not 00; serial not
    0000; plus a few repeated-digit fillers."""
    d = text.replace(" ", "").replace("-", "")
    if len(d) != 9 or not d.isdigit():
        return None
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return None
    if len(set(d)) == 1 or d in ("123456789", "987654321"):
        return None
    return d


def itin(text: str) -> str | None:
    """US ITIN: 9XX-[50-65|70-88|90-92|94-99]-XXXX (IRS)."""
    d = re.sub(r"[ -]", "", text)
    if len(d) != 9 or not d.isdigit() or d[0] != "9":
        return None
    g = int(d[3:5])
    if 50 <= g <= 65 or 70 <= g <= 88 or 90 <= g <= 92 or 94 <= g <= 99:
        return d
    return None


def aba_routing(text: str) -> str | None:
    """ABA routing number: 3-7-1 weighted checksum, first two digits in a Federal Reserve range."""
    d = re.sub(r"[ -]", "", text)
    if len(d) != 9 or not d.isdigit():
        return None
    prefix = int(d[:2])
    if not (0 <= prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return None
    if d == "000000000":
        return None
    w = (3, 7, 1) * 3
    return d if sum(int(c) * k for c, k in zip(d, w)) % 10 == 0 else None


def us_bank_number(text: str) -> str | None:
    d = re.sub(r"[ -]", "", text)
    if 8 <= len(d) <= 17 and d.isdigit() and len(set(d)) > 2:
        return d
    return None


def uk_nhs(text: str) -> str | None:
    d = re.sub(r"[ -]", "", text)
    if len(d) != 10 or not d.isdigit():
        return None
    total = sum(int(c) * w for c, w in zip(d[:9], range(10, 1, -1)))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return d if check != 10 and check == int(d[9]) else None


# ---------------------------------------------------------------------------------------------
# network identifiers

def ip_address(text: str) -> str | None:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.is_unspecified or (ip.version == 4 and str(ip).startswith("255.")):
        return None
    return ip.compressed


def mac_address(text: str) -> str | None:
    hexes = re.sub(r"[^0-9A-Fa-f]", "", text)
    if len(hexes) != 12:
        return None
    h = hexes.lower()
    if h in ("000000000000", "ffffffffffff"):
        return None
    return ":".join(h[i : i + 2] for i in range(0, 12, 2))


_EMAIL = lazy(globals(), r"^[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$")


def email(text: str) -> str | None:
    if len(text) > 254 or ".." in text or not _EMAIL.match(text):
        return None
    local = text.split("@", 1)[0]
    if local.startswith(".") or local.endswith("."):
        return None
    return text.lower()


#: the common North American shapes: +1 AAA EEE NNNN, and for region US (AAA) EEE-NNNN and
#: AAA-EEE-NNNN. For these, phonenumbers.parse always gives country code 1 and the ten digits
#: as the national number (an area code 2-9 leaves no international or national prefix to
#: strip), so parsing is skipped; validity is still phonenumbers' own.
_NANP_INTL = lazy(globals(), r"\+1 ([2-9][0-9]{2}) ([0-9]{3}) ([0-9]{4})")
_NANP_US = lazy(globals(), r"\(([2-9][0-9]{2})\) ([0-9]{3})-([0-9]{4})|([2-9][0-9]{2})-([0-9]{3})-([0-9]{4})")


def phone(text: str, region: str = "US") -> str | None:
    """A phone number that ``phonenumbers`` accepts as valid (E.164 normalised)."""
    import phonenumbers

    m = _NANP_INTL.fullmatch(text) or (_NANP_US.fullmatch(text) if region == "US" else None)
    if m is not None:
        digits = "".join(g for g in m.groups() if g)
        num = phonenumbers.PhoneNumber(country_code=1, national_number=int(digits))
        return "+1" + digits if phonenumbers.is_valid_number(num) else None
    return _phone_parsed(text, region)


def _phone_parsed(text: str, region: str) -> str | None:
    import phonenumbers

    digits = sum(c.isdigit() for c in text)
    if not 7 <= digits <= 15:
        return None
    try:
        num = phonenumbers.parse(text, None if text.lstrip().startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


# ---------------------------------------------------------------------------------------------
# crypto wallets

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def _b58decode(s: str) -> bytes | None:
    n = 0
    for c in s:
        i = _B58_INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    full = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\x00" * pad + full


def btc_base58(text: str) -> str | None:
    raw = _b58decode(text)
    if raw is None or len(raw) != 25 or raw[0] not in (0x00, 0x05):
        return None
    body, check = raw[:-4], raw[-4:]
    import hashlib  # only Base58Check candidates need it: not imported by every scan

    if hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4] != check:
        return None
    return text


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _BECH32_GEN[i] if (top >> i) & 1 else 0
    return chk


def btc_bech32(text: str) -> str | None:
    s = text.lower()
    if s != text and text.upper() != text:
        return None
    hrp, sep, data = s.rpartition("1")
    if hrp not in ("bc", "tb") or not sep or len(data) < 6:
        return None
    try:
        vals = [_BECH32.index(c) for c in data]
    except ValueError:
        return None
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _bech32_polymod(expanded + vals)
    return s if pm in (1, 0x2BC830A3) else None  # bech32 / bech32m


def eth_address(text: str) -> str | None:
    """An Ethereum address. Mixed case must satisfy EIP-55; single-case has no checksum."""
    body = text[2:]
    if len(body) != 40 or not all(c in "0123456789abcdefABCDEF" for c in body):
        return None
    if body.lower() == body or body.upper() == body:
        if len(set(body.lower())) < 6:
            return None
        return "0x" + body.lower()
    digest = keccak256(body.lower().encode()).hex()
    for c, h in zip(body, digest):
        if c.isalpha() and (c.isupper() != (int(h, 16) >= 8)):
            return None
    return "0x" + body.lower()


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as used by Ethereum (original padding, not NIST SHA3). Small and slow: it only
    runs on mixed-case 0x addresses."""
    rc = [
        0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
        0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
        0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
        0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
        0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
    ]
    rot = [[0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14]]
    mask = (1 << 64) - 1
    rate = 136
    msg = bytearray(data) + b"\x01"
    while len(msg) % rate:
        msg.append(0)
    msg[-1] |= 0x80
    st = [[0] * 5 for _ in range(5)]
    for off in range(0, len(msg), rate):
        for i in range(rate // 8):
            st[i % 5][i // 5] ^= int.from_bytes(msg[off + 8 * i : off + 8 * i + 8], "little")
        for r in range(24):
            c = [st[x][0] ^ st[x][1] ^ st[x][2] ^ st[x][3] ^ st[x][4] for x in range(5)]
            d = [c[(x - 1) % 5] ^ (((c[(x + 1) % 5] << 1) | (c[(x + 1) % 5] >> 63)) & mask) for x in range(5)]
            st = [[st[x][y] ^ d[x] for y in range(5)] for x in range(5)]
            b = [[0] * 5 for _ in range(5)]
            for x in range(5):
                for y in range(5):
                    n = rot[x][y]
                    v = st[x][y]
                    b[y][(2 * x + 3 * y) % 5] = ((v << n) | (v >> (64 - n))) & mask if n else v
            st = [[b[x][y] ^ ((~b[(x + 1) % 5][y]) & b[(x + 2) % 5][y]) for y in range(5)] for x in range(5)]
            st[0][0] ^= rc[r]
    out = b"".join(st[i % 5][i // 5].to_bytes(8, "little") for i in range(rate // 8))
    return out[:32]


# ---------------------------------------------------------------------------------------------
# secrets

def shannon_entropy(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


#: a word of prose with its punctuation (``credentials.``, ``results.</p>``), or a template
#: placeholder (``{Region}``): no secret, whatever a keyword next to it says
_PROSE_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]{1,2}(?:[.,;:)]|</?[a-z]+>)*|(?:[.,;:)]|</?[a-z]+>)+)")
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.#-]*\}")
#: digit-free names made of words (``ClientToken``, ``X-Amzn-Client-Token``, ``auth_header``)
_WORDS = re.compile(r"(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])|[A-Z](?=[-_.]))(?:[-_.#/:]?(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}(?![a-z])))*")


def generic_secret(text: str, min_entropy: float = 3.0) -> str | None:
    """A value next to a secret keyword that looks random: long enough, mixed characters,
    high Shannon entropy. Filters placeholders such as ``changeme``, ``${VAR}`` or ``{Region}``
    and words of prose (``credentials.``, an HTML documentation string's ``results.</p>``)."""
    v = text.strip().strip("\"'")
    if len(v) < 8 or len(v) > 512 or v.startswith(("${", "{{", "<", "%(")) or " " in v:
        return None
    if _PROSE_WORD.fullmatch(v) or _PLACEHOLDER.fullmatch(v):
        return None
    low = v.lower()
    if low in ("password", "changeme", "secret", "redacted", "xxxxxxxx", "none", "null", "true", "false"):
        return None
    classes = sum((any(c.islower() for c in v), any(c.isupper() for c in v), any(c.isdigit() for c in v),
                   any(not c.isalnum() for c in v)))
    if classes < 2 or shannon_entropy(v) < min_entropy:
        return None
    return v


def word_name(text: str) -> bool:
    """A digit-free name made of words (``ClientToken``, ``X-Amzn-Client-Token``): in a sentence
    under a secret keyword, a term, not a secret (a passphrase is its column's whole value)."""
    return _WORDS.fullmatch(text) is not None


def jwt(text: str) -> str | None:
    import base64
    import json

    parts = text.split(".")
    if len(parts) != 3:
        return None
    try:
        head = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return text if isinstance(head, dict) and "alg" in head else None


def token(text: str) -> str | None:
    """Prefixed vendor tokens: the prefix and shape are the check; reject obvious fillers."""
    tail = text[-16:]
    if len(set(tail)) < 4:
        return None
    return text


def aws_access_key(text: str) -> str | None:
    return text if len(set(text[4:])) >= 5 else None


def pem_private_key(text: str) -> str | None:
    return text


def luhn_any(text: str) -> str | None:
    """The digits of ``text`` when they pass Luhn (for custom entities: ids with a check digit)."""
    digits = re.sub(r"\D", "", text)
    return digits if digits and luhn_ok(digits) else None


VALIDATORS = {
    "luhn": luhn_any,
    "iban": iban,
    "email": email,
    "ip": ip_address,
    "ssn": ssn,
    "aba": aba_routing,
    "entropy": generic_secret,
    "card": card,
}
"""Validators a custom pattern entity may name in the policy (``validator: luhn``)."""
