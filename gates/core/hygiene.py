"""One output-hygiene step for every string that came from an input.

File and column names, policy values, tool error text and strings read out of scanned files are
data, not trusted text: before any of them reaches a console, a report, an annotation, a comment
or ``--explain``, it goes through :func:`clean`. That escapes control characters (ANSI escape
sequences, carriage returns, bidi overrides: a file name must not repaint a terminal or reorder a
line) and redacts credential and PII shapes (URL user-info and query strings, well-known token
prefixes, JWTs, PEM blocks, e-mail addresses, long digit runs such as card or id numbers).

Keep it cheap and pure: it runs on every rendered string.
"""

from __future__ import annotations

import re
import unicodedata

from .lazyre import lazy

REDACTED = "…"

# scheme://[userinfo@]rest[?query]: credentials and query strings (where tokens live) are dropped
# (one slash too: a URL that went through path normalisation, ``https:/user:pw@host``)
_URL = lazy(globals(), r"""([A-Za-z][A-Za-z0-9+.-]+:/{1,2})([^\s/?#'"@]*@)?([^\s?#'"]*)(\?[^\s#'"]*)?""")

# credential shapes that are unambiguous on their own (prefix + body)
_TOKENS = lazy(globals(),
    r"""(?x)
    (?<![A-Za-z0-9])(?:                                   # not \b: `w_ghp_…` in a file name is a token too
        (?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}            # AWS access key id
      | gh[pousr]_[A-Za-z0-9]{30,}                          # GitHub tokens
      | github_pat_[A-Za-z0-9_]{30,}
      | glpat-[A-Za-z0-9_-]{20,}                            # GitLab
      | xox[abprs]-[A-Za-z0-9-]{10,}                        # Slack
      | (?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}         # Stripe
      | sk-(?:proj-)?[A-Za-z0-9_-]{20,}                     # OpenAI-style
      | hf_[A-Za-z0-9]{30,}                                 # Hugging Face
      | eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}   # JWT
    )"""
)
_PEM = lazy(globals(), r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
# key=value / key: value where the key names a secret
_SECRET_KV = lazy(globals(),
    r"""(?ix)\b((?:pass(?:word|wd)?|secret|token|api[_-]?key|access[_-]?key|auth|credential|private[_-]?key)
    [A-Za-z0-9_-]{0,20}\s*[:=]\s*)(["']?)([^\s"',;]{4,})"""
)
_EMAIL = lazy(globals(), r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}\b")
# 9+ digits, possibly grouped by spaces/dashes: cards, national ids, account numbers, phones
# (not after a dash: advisory ids such as PYSEC-2022-42969 and CVE-2021-44228 are not PII)
_DIGITS = lazy(globals(), r"(?<![\w.-])\+?\d(?:[ -]?\d){8,}(?![\w.])")


def _escape_char(c: str) -> str:
    o = ord(c)
    if o <= 0xFF:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}" if o <= 0xFFFF else f"\\U{o:08x}"


def _unsafe(c: str) -> bool:
    """Control (Cc), format (Cf: bidi overrides, zero-width), separators other than space."""
    if c == " ":
        return False
    cat = unicodedata.category(c)
    return cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Zs" and c != " ")


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control/format character written as a visible escape (``\\x1b``).
    ``keep_newlines`` keeps ``\\n`` for multi-line tool output that is shown as lines."""
    if text.isprintable() and (keep_newlines or "\n" not in text):
        return text
    return "".join(
        c if not _unsafe(c) or (keep_newlines and c == "\n") else _escape_char(c) for c in text
    )


def redact_urls(text: str) -> str:
    """``text`` with every URL's ``user:password@`` and query replaced by ``…``."""
    return _URL.sub(lambda m: m[1] + (REDACTED + "@" if m[2] else "") + m[3] + ("?" + REDACTED if m[4] else ""), text)


def redact_secrets(text: str) -> str:
    """Credential shapes (tokens, JWTs, PEM private keys, ``password=…``) replaced by ``…``."""
    text = _PEM.sub("-----BEGIN PRIVATE KEY-----" + REDACTED, text)
    text = _TOKENS.sub(REDACTED, text)
    return _SECRET_KV.sub(lambda m: m[1] + m[2] + REDACTED, text)


def redact_pii(text: str) -> str:
    """E-mail addresses and long digit runs (card, account, id and phone numbers) replaced."""
    text = _EMAIL.sub(REDACTED + "@" + REDACTED, text)
    return _DIGITS.sub(REDACTED, text)


def clean(text: object, *, keep_newlines: bool = False, pii: bool = True) -> str:
    """The one step every input-derived string passes before output: secrets and (unless
    ``pii=False``, for strings already known to be identifiers such as paths) PII shapes
    redacted, then control characters escaped. Idempotent."""
    s = text if isinstance(text, str) else str(text)
    s = redact_secrets(redact_urls(s))
    if pii:
        s = redact_pii(s)
    return escape_controls(s, keep_newlines=keep_newlines)


def clean_name(text: object) -> str:
    """For names (files, columns, metrics, keys): credentials redacted and controls escaped, but
    digits and ``@`` kept, since a path like ``data/2024-01-01/users@v2.csv`` must stay usable."""
    return clean(text, pii=False)
