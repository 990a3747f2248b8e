"""Phone numbers worldwide: international and national formats, with extensions.

A national-format number (``0388 368595``, ``(0113) 496 0388``, ``36-6258-5178``) only has a
meaning with a region. The region comes, in order, from the row (a neighbouring country,
locale, IBAN or phone-prefix column), from the regions that already matched in this column, and
from the policy's ``phone_regions`` list (a broad default). ``phonenumbers`` (libphonenumber's
metadata) decides validity, so a value is a phone number when some candidate region's numbering
plan accepts it.
"""

from __future__ import annotations

import functools
import re

from gates.core.lazyre import lazy

#: tried in this order for national numbers without a hint (policy: gates.pii.phone_regions)
DEFAULT_REGIONS = (
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN", "JP", "CA", "AU", "MX", "PT", "BE", "CH", "AT", "IE", "PL",
    "SE", "DK", "NO", "FI", "CZ", "GR", "HU", "RO", "TR", "RU", "UA", "IL", "ZA", "NG", "KE", "EG", "MA", "SA", "AE",
    "PK", "BD", "ID", "PH", "SG", "MY", "TH", "VN", "CN", "KR", "TW", "HK", "NZ", "AR", "CL", "CO", "PE",
)
_SHAPE = lazy(globals(), r"(?:\+|00)?[\d\s().\-/]{6,24}?(?:\s*(?:x|ext\.?|extension|#|доб\.?)\s*\d{1,7})?", re.IGNORECASE)
#: dotted quads and decimals are addresses and measurements, never written phone numbers
_NOT_PHONE = lazy(globals(), r"\d{1,3}(?:\.\d{1,3}){3}|(?!\d\d(?:\.\d\d){3,4}$)\d{1,2}(?:\.\d+){2,}|-?\d+\.\d+|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}.*|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}"
                             r"|\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}")  # IPs, versions, decimals, dates; SSNs, batch numbers
_FORMATTED = lazy(globals(), r"^\s*(?:\+|00|0|\()|[\s().\-/]|x\d", re.IGNORECASE)


def shaped(text: str) -> bool:
    """Could ``text`` be one phone number (digits and separators, an optional extension)?"""
    s = text.strip()
    if not 6 <= len(s) <= 40 or not _SHAPE.fullmatch(s) or _NOT_PHONE.fullmatch(s):
        return False
    return 7 <= sum(c.isdigit() for c in s) <= 22


def formatted(text: str) -> bool:
    """Written the way people write phone numbers (a plus, a trunk zero, separators), not a bare
    integer id: values alone only make a phone column when most are written like this."""
    return _FORMATTED.search(text.strip()) is not None


def parse(text: str, regions: tuple[str, ...] | list[str], hint: str | None = None) -> tuple[str, str] | None:
    """(E.164 number with any extension, region) when a region in ``hint`` + ``regions`` accepts
    ``text`` as a valid number, else None."""
    if not shaped(text):
        return None
    s = text.strip()
    intl = s.startswith("+") or s.startswith("00")
    tried = [None] if intl else ([hint] if hint else []) + [r for r in regions if r != hint]
    text = "+" + s[2:] if s.startswith("00") else s
    for region in tried:
        got = _attempt(text, region)
        if got is not None:
            return got
    return None


@functools.lru_cache(maxsize=16_384)
def _attempt(text: str, region: str | None) -> tuple[str, str] | None:
    """One region's reading of one number: a pure function of its arguments, so it is cached
    (a column's sample is parsed to decide it, again to learn its regions and again to count
    it; each parse costs ~0.1 ms). Bounded: at most 16k entries of at most 40 characters."""
    import phonenumbers

    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # is_valid_number(num) is exactly this pair: the region found once serves both
    found = phonenumbers.region_code_for_number(num)
    if not phonenumbers.is_valid_number_for_region(num, found):
        return None
    out = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if num.extension:
        out += f"x{num.extension}"
    return out, found or (region or "")


_COUNTRY_NAMES = {
    "united states": "US", "usa": "US", "united kingdom": "GB", "uk": "GB", "england": "GB", "germany": "DE",
    "deutschland": "DE", "france": "FR", "spain": "ES", "españa": "ES", "italy": "IT", "italia": "IT",
    "netherlands": "NL", "nederland": "NL", "brazil": "BR", "brasil": "BR", "india": "IN", "japan": "JP",
    "日本": "JP", "canada": "CA", "australia": "AU", "mexico": "MX", "méxico": "MX", "portugal": "PT",
    "belgium": "BE", "switzerland": "CH", "austria": "AT", "ireland": "IE", "poland": "PL", "sweden": "SE",
}


def region_of(value: str | None) -> str | None:
    """A region code from a neighbouring cell: ``DE``, ``de_DE``/``pt-BR`` locales, a country
    name, an IBAN (its first two letters) or a ``+49`` prefix."""
    if not value:
        return None
    s = value.strip()
    if len(s) == 2 and s.isalpha():
        return s.upper()
    if len(s) == 5 and s[2] in "_-" and s[:2].isalpha() and s[3:].isalpha():
        return s[3:].upper()
    if s.startswith("+") and s[1:].isdigit() and len(s) <= 4:
        import phonenumbers

        return phonenumbers.region_code_for_country_code(int(s[1:])) or None
    if len(s) >= 15 and s[:2].isalpha() and s[2:4].isdigit():
        return s[:2].upper()
    return _COUNTRY_NAMES.get(s.lower())
