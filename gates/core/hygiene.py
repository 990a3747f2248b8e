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
from typing import Any

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
    redacted, then control characters escaped. Idempotent.

    Reports clean tens of strings per finding, so a string that :func:`inert` proves unchanged
    is returned at once (:class:`Memo` also cleans each distinct string of a run once)."""
    s = text if isinstance(text, str) else str(text)
    if inert(s, pii):
        return s
    s = redact_secrets(redact_urls(s))
    if pii:
        s = redact_pii(s)
    return escape_controls(s, keep_newlines=keep_newlines)


# the literals the patterns above cannot match without (see :func:`inert`); the token
# prefixes: every AWS key id starts with ``A``, ``gh`` is the start of ``ghp_``…, ``k_`` of
# the Stripe keys' ``sk_``/``rk_``/``pk_``
_TOKEN_MARKS = ("A", "gh", "github_pat_", "glpat-", "xox", "k_", "sk-", "hf_", "eyJ")
_SECRET_WORDS = ("pass", "secret", "token", "api", "access", "auth", "credential", "private")
_AWS_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA")
_DIGITS_ONLY = str.maketrans("", "", "0123456789")


def inert(s: str, pii: bool = True) -> bool:
    """True only if :func:`clean` would return ``s`` unchanged, shown by cheap substring tests:
    ``s`` is printable ASCII (nothing to escape; on ASCII text the patterns' ``(?i)`` and ``\\d``
    match ASCII letters and digits only), and it lacks a literal each redaction pattern cannot
    match without: ``:/`` for a URL, ``-----BEGIN`` for a PEM block, a token prefix, ``:`` or
    ``=`` and a secret word for ``key=value``, and with ``pii`` an ``@`` for an e-mail address
    and nine digits for a digit run. False means only "run the patterns". Keep it in step with
    the patterns: ``tests/core/test_hygiene_fast.py`` compares ``clean`` with the full step on
    hostile and random strings."""
    if not (s.isascii() and s.isprintable()):
        return False
    if s.isalnum():
        # letters and digits only: no URL, PEM, ``key=value`` or e-mail; a token's or a digit
        # run's look-behind (no letter or digit before it) holds only at the start, so only an
        # AWS key id at the start, and only a string of nine digits or more, can match
        return not s.startswith(_AWS_PREFIXES) and not (pii and len(s) >= 9 and s.isdigit())
    if ":/" in s or "-----BEGIN" in s:
        return False
    for mark in _TOKEN_MARKS:
        if mark in s:
            return False
    if "=" in s or ":" in s:
        low = s.lower()
        for word in _SECRET_WORDS:
            if word in low:
                return False
    if pii and ("@" in s or len(s) - len(s.translate(_DIGITS_ONLY)) >= 9):
        return False
    return True


def clean_name(text: object) -> str:
    """For names (files, columns, metrics, keys): credentials redacted and controls escaped, but
    digits and ``@`` kept, since a path like ``data/2024-01-01/users@v2.csv`` must stay usable."""
    return clean(text, pii=False)


#: values :meth:`Memo.value` passes as they are: they cannot carry text
_ATOMS = frozenset({int, float, bool, type(None)})


#: longer strings are cleaned each time (they are rare, and a memo must not hold big inputs)
MEMO_MAX_LEN = 256


class Memo:
    """:func:`clean_name` and :func:`clean` for one run, each distinct string cleaned once.

    A run reports the same column names, messages and masked values finding after finding, and
    cleaning every string of every finding again was most of the cost of a report with many
    findings. Only plain ``str`` is memoised (the cleaned value of a string is a function of the
    string alone) and only up to :data:`MEMO_MAX_LEN` characters; the memo is bounded, and starts
    over when full."""

    __slots__ = ("names", "texts")

    LIMIT = 1 << 16

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.texts: dict[str, str] = {}

    def name(self, text: object) -> str:
        """:func:`clean_name`, memoised."""
        if type(text) is not str:
            return clean_name(text)
        return self._get(self.names, text, False)

    def text(self, text: object) -> str:
        """:func:`clean` (PII shapes too), memoised."""
        if type(text) is not str:
            return clean(text)
        return self._get(self.texts, text, True)

    def _get(self, memo: dict[str, str], text: str, pii: bool) -> str:
        got = memo.get(text)
        if got is None:
            got = text if inert(text, pii) else clean(text, pii=pii)
            if len(text) <= MEMO_MAX_LEN:
                if len(memo) >= self.LIMIT:
                    memo.clear()
                memo[text] = got
        return got

    def value(self, value: Any) -> Any:
        """Strings in a structure cleaned as names; lists, tuples and dict values item by item;
        numbers, flags and None as they are (dict keys too: they are the gate's field names).
        Always a copy: a gate changing its own structure later does not change a finding."""
        kind = type(value)
        if kind is str:
            return self._get(self.names, value, False)
        if kind in _ATOMS:
            return value
        if kind is dict:
            return self._dict(value)
        if kind is list:
            return [self._dict(v) if type(v) is dict else self.value(v) for v in value]
        if isinstance(value, str):
            return clean_name(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def _dict(self, value: dict[Any, Any]) -> dict[Any, Any]:
        names = self.names
        out = {}
        for k, v in value.items():
            kind = type(v)
            if kind is str:
                got = names.get(v)
                out[k] = got if got is not None else self._get(names, v, False)
            else:
                out[k] = v if kind in _ATOMS else self.value(v)
        return out
