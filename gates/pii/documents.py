"""PASSPORT, DRIVER_LICENSE and URL values.

Passport and driving-licence numbers have no public check digit outside the machine-readable
zone, and their shapes (six to twenty letters and digits) are shared with order numbers and
SKUs; so these are only counted in a column whose header names the document, and the value test
is the per-country shape union below. URLs are personal where they point at a person (a
profile, a homepage) and secret where they carry credentials: ``user:password@`` or a
token-like query value (``?token=…``, ``&sig=…``, ``api_key=…``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

from gates.core.lazyre import lazy

#: passport numbers: ICAO 9303 allows up to 9 characters in the MRZ; national forms: US 9 digits
#: or a letter + 8 digits, UK 9 digits, DE C + 8 alphanumerics, FR 2 digits + 2 letters + 5
#: digits, ES 3 letters + 6 digits, IT 2 letters + 7 digits, NL 2 letters + 6 alphanumerics + a
#: digit, IN a letter + 7 digits, BR 2 letters + 6 digits, JP 2 letters + 7 digits
_PASSPORT = lazy(globals(), r"[A-Z0-9]{6,10}")
_DRIVER = lazy(globals(), r"[A-Z0-9][A-Z0-9 -]{3,22}[A-Z0-9]")


def passport(text: str) -> str | None:
    s = text.strip().upper().replace(" ", "")
    if not _PASSPORT.fullmatch(s) or sum(c.isdigit() for c in s) < 5 or len(set(s)) < 4:
        return None
    return s


def driver_license(text: str) -> str | None:
    s = text.strip().upper()
    if not _DRIVER.fullmatch(s) or sum(c.isdigit() for c in s) < 4 or len(set(s)) < 4:
        return None
    return s


_URL = lazy(globals(), r"(?:https?|ftp)://[^\s<>\"']{3,2000}", re.IGNORECASE)
_WWW = lazy(globals(), r"www\.[^\s<>\"']{3,2000}", re.IGNORECASE)
#: query parameter names whose values are credentials
SECRET_PARAMS = frozenset("""token access_token accesstoken id_token refresh_token auth auth_token authtoken apikey api_key
key secret client_secret password passwd pwd pass sig signature x-amz-signature x-amz-credential x-amz-security-token
sas session sessionid session_id code private_token""".split())


def url(text: str) -> str | None:
    """A single URL (the whole cell)."""
    s = text.strip()
    return s if (_URL.fullmatch(s) or _WWW.fullmatch(s)) else None


def _entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values()) if n else 0.0


def url_secret(text: str) -> str | None:
    """The URL when it carries a password (``scheme://user:pass@host``) or a token-like value in
    a credential-named query parameter (at least 8 characters, mixed, not a placeholder)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.password and parts.password not in ("password", "pass", "xxx", "****", "<password>"):
        return text
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if name.lower() in SECRET_PARAMS and len(value) >= 8 and _entropy(value) >= 2.5 and not value.isalpha():
            return text
    return None


def urls_in(text: str) -> list[str]:
    """Every URL in a cell of free text."""
    return _URL.findall(text) if "://" in text else []
