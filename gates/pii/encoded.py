"""E-mail addresses written percent-encoded, as URLs and form posts write them.

Why: a web server's access log or an analytics export holds query strings such as
``/signup?email=ada.lovelace%40corp-mail.net``: the address's ``@`` is ``%40``, so no e-mail
pattern matched and the log passed. A cell holding ``%40`` (a literal search over the column's
buffer first: most columns hold none) has each percent-encoded address decoded and validated
as any address is. Addresses written plainly are the per-cell scanner's: a span with ``%40`` in
it never holds an ``@``, so nothing is counted twice.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from .validators import email

MARK = b"%40"
_ENCODED = re.compile(r"(?i)[A-Za-z0-9._+-](?:[A-Za-z0-9._+-]|%[0-9a-f]{2}){0,63}%40(?:[A-Za-z0-9-]|%2e|\.){1,253}")


def emails(cell: str) -> list[str]:
    """The valid e-mail addresses percent-encoded in ``cell``, decoded and normalised."""
    out = []
    for m in _ENCODED.finditer(cell):
        v = email(unquote(m.group()).rstrip("."))
        if v is not None:
            out.append(v)
    return out
