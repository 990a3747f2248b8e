"""E-mail addresses and international phone numbers written percent-encoded, as URLs and form
posts write them.

Why: a web server's access log or an analytics export holds query strings such as
``/signup?email=ada.lovelace%40corp-mail.net``: the address's ``@`` is ``%40``, so no e-mail
pattern matched and the log passed. A cell holding ``%40`` (a literal search over the column's
buffer first: most columns hold none) has each percent-encoded address decoded and validated
as any address is. Addresses written plainly are the per-cell scanner's: a span with ``%40`` in
it never holds an ``@``, so nothing is counted twice.

A phone number's ``+`` is ``%2B`` there (``/verify?tel=%2B447911123456``): the digits after it
read as a national number of no region, or as nothing. A query value that is ``%2B`` and a
number (spaces, dots, dashes and brackets encoded or not) is decoded and validated as an
international number; only a whole value counts (``=`` or a separator before it, ``&``, ``#``
or the cell's end after it), so a ``%2B`` inside a base64 signature followed by digits is not
one. Where the ``+`` is written plainly, the per-cell scanner decides, as before.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from . import phones
from .validators import email

#: what any percent-encoded value holds: a column without it is not searched further
PERCENT = b"%"
MARK = b"%40"
#: the percent-encoded ``+`` a phone number starts with (either case of its hex digit)
PHONE_MARKS = (b"%2B", b"%2b")
_PHONE = re.compile(r"(?i)(?:^|(?<=[=\s\"'(,;:])|(?<=%3D))%2B(\d(?:[\d.-]|%20|%2D|%2E|%28|%29|\+){6,28}\d)(?=$|[&#\s\"',;)]|%26|%23)")
_ENCODED = re.compile(r"(?i)[A-Za-z0-9._+-](?:[A-Za-z0-9._+-]|%[0-9a-f]{2}){0,63}%40(?:[A-Za-z0-9-]|%2e|\.){1,253}")


def emails(cell: str) -> list[str]:
    """The valid e-mail addresses percent-encoded in ``cell``, decoded and normalised."""
    out = []
    for m in _ENCODED.finditer(cell):
        v = email(unquote(m.group()).rstrip("."))
        if v is not None:
            out.append(v)
    return out


def phone_numbers(cell: str, regions: tuple[str, ...]) -> list[str]:
    """The valid international phone numbers percent-encoded as whole values in ``cell``, in
    E.164 form."""
    out = []
    for m in _PHONE.finditer(cell):
        got = phones.parse("+" + unquote(m.group(1)).replace("+", " "), regions)
        if got is not None:
            out.append(got[0])
    return out
