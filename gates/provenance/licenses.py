"""Licence ids: normalising, identifying licence texts, and judging SPDX expressions.

Ids are compared case-folded, with SPDX's ``-only`` spellings and common variants of Hugging Face
ids mapped to one form (``GPL-3.0-only`` = ``gpl-3.0``). Licence *texts* (LICENSE, COPYING) are
identified by phrases each licence's text carries, never by the file's name. Expressions
(``MIT OR Apache-2.0``) are parsed with the ``license-expression`` library and judged three-valued:
``A OR B`` passes when either passes, ``A AND B`` when both do; anything else is unknown.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable
from typing import Any

from gates.core.errors import InputError

#: declared values that say "there is a licence, but not which"
UNKNOWN_IDS = frozenset({"other", "unknown", "noassertion", "none", "proprietary", "custom", ""})

_ALIASES = {
    "apache 2.0": "apache-2.0", "apache2": "apache-2.0", "apache-2": "apache-2.0", "apache license 2.0": "apache-2.0",
    "apache license, version 2.0": "apache-2.0", "mit license": "mit", "bsd-3": "bsd-3-clause", "bsd-2": "bsd-2-clause",
    "cc0": "cc0-1.0", "llama-2": "llama2", "llama-3": "llama3", "llama3_1": "llama3.1", "llama3_2": "llama3.2",
    "llama3_3": "llama3.3", "gemma-terms-of-use": "gemma", "openrail-m": "openrail", "unlicense": "unlicense",
}


_OPERATOR = re.compile(r"(?:^|\s)(?:and|or|with)(?:\s|$)|[()]", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _lib() -> Any:
    """The ``license_expression`` module, imported when an expression first needs parsing (it
    comes with the ``provenance`` extra)."""
    try:
        import license_expression
    except ImportError:
        raise InputError("", "licence expressions need the license-expression package "
                             "(pip install 'mlsec-gates[provenance]')") from None
    return license_expression


def _parse(text: str) -> Any | None:
    lib = _lib()
    try:
        return lib.Licensing().parse(text)
    except (lib.ExpressionError, AttributeError, ValueError, TypeError):
        return None


def normalise(value: object) -> str:
    """One case-folded spelling per licence id (``GPL-3.0-only`` and ``gpl-3.0`` are equal)."""
    s = " ".join(str(value).split()).lower()
    s = _ALIASES.get(s, s)
    if s.endswith("-only") and re.match(r"^(?:a|l)?gpl-|^gfdl-", s):
        s = s[: -len("-only")]
    return s


class Verdict(enum.IntEnum):
    """Three-valued: a licence passes, fails, or cannot be judged."""

    BAD = 0
    UNKNOWN = 1
    OK = 2


def judge(expression: str, symbol_verdict: Callable[[str], Verdict]) -> Verdict:
    """The verdict for a licence declaration, which may be an SPDX expression.

    ``symbol_verdict`` judges one normalised id. An expression that does not parse is UNKNOWN."""
    text = " ".join(expression.split())
    if normalise(text) in UNKNOWN_IDS:
        return Verdict.UNKNOWN
    if not _OPERATOR.search(text):
        return symbol_verdict(normalise(text))  # one id (possibly with spaces): no parsing needed
    expr = _parse(text)
    return Verdict.UNKNOWN if expr is None else _walk(expr, symbol_verdict, 0)


def _walk(node: object, symbol_verdict: Callable[[str], Verdict], depth: int) -> Verdict:
    if depth > 32:
        return Verdict.UNKNOWN
    lib = _lib()
    if isinstance(node, lib.LicenseWithExceptionSymbol):
        # an exception only widens what the licence permits: judge the licence itself
        return _walk(node.license_symbol, symbol_verdict, depth + 1)
    if isinstance(node, lib.LicenseSymbol):
        key = normalise(node.key)
        return Verdict.UNKNOWN if key in UNKNOWN_IDS else symbol_verdict(key)
    parts = [_walk(a, symbol_verdict, depth + 1) for a in getattr(node, "args", ())]
    if not parts:
        return Verdict.UNKNOWN
    if isinstance(node, lib.OR):
        return max(parts)
    if isinstance(node, lib.AND):
        return min(parts)
    return Verdict.UNKNOWN


def symbols(expression: str) -> list[str]:
    """The normalised ids an expression names (for reports and the BOM)."""
    text = " ".join(expression.split())
    if not _OPERATOR.search(text):
        return [normalise(text)]
    expr = _parse(text)
    if expr is None:
        return [normalise(text)]
    out = []
    for s in _lib().Licensing().license_symbols(expr, decompose=True):
        out.append(normalise(getattr(s, "key", s)))
    return out


# ---- licence texts -------------------------------------------------------------------------
# (id, phrases that must all appear in the case-folded, whitespace-collapsed text); first match
# wins, so specific texts come before the generic ones they contain.
_TEXTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("llama4", ("llama 4 community license",)),
    ("llama3.3", ("llama 3.3 community license",)),
    ("llama3.2", ("llama 3.2 community license",)),
    ("llama3.1", ("llama 3.1 community license",)),
    ("llama3", ("meta llama 3 community license",)),
    ("llama2", ("llama 2 community license",)),
    ("gemma", ("gemma terms of use",)),
    ("creativeml-openrail-m", ("creativeml open rail-m",)),
    ("bigscience-bloom-rail-1.0", ("bigscience rail license v1.0",)),
    ("bigscience-openrail-m", ("bigscience open rail-m",)),
    ("bigcode-openrail-m", ("bigcode open rail-m",)),
    ("openrail++", ("open rail++-m",)),
    ("openrail", ("open rail",)),
    ("psf-2.0", ("python software foundation license version 2",)),
    ("agpl-3.0", ("gnu affero general public license", "version 3")),
    ("lgpl-3.0", ("gnu lesser general public license", "version 3")),
    ("lgpl-2.1", ("gnu lesser general public license", "version 2.1")),
    ("gpl-3.0", ("gnu general public license", "version 3, 29 june 2007")),
    ("gpl-2.0", ("gnu general public license", "version 2, june 1991")),
    ("mpl-2.0", ("mozilla public license", "2.0")),
    ("apache-2.0", ("apache license", "version 2.0")),
    ("cc0-1.0", ("cc0 1.0 universal",)),
    ("unlicense", ("this is free and unencumbered software released into the public domain",)),
    ("mit", ("permission is hereby granted, free of charge, to any person obtaining a copy",
             "the above copyright notice and this permission notice shall be included")),
    ("isc", ("permission to use, copy, modify, and/or distribute this software for any purpose with or without fee",)),
    ("bsd-3-clause", ("redistribution and use in source and binary forms", "neither the name of")),
    ("bsd-2-clause", ("redistribution and use in source and binary forms",
                      "redistributions in binary form must reproduce the above copyright notice")),
)
_CC = re.compile(
    r"creative commons (?:legal code\s*)?attribution((?:[- ](?:noncommercial|noderivatives|noderivs|sharealike))*)"
    r"\s*(\d\.\d)"
)
_CC_PARTS = {"noncommercial": "nc", "noderivatives": "nd", "noderivs": "nd", "sharealike": "sa"}


def identify_text(text: str) -> str | None:
    """The licence id a licence text is, or None when it matches none of the known texts. A file
    that bundles several licences is the one whose text starts first (the project's own)."""
    t = " ".join(text.lower().replace("“", '"').replace("”", '"').split())
    found: list[tuple[int, int, str]] = []
    m = _CC.search(t)
    if m:
        parts = [_CC_PARTS[p] for p in re.split(r"[- ]", m.group(1)) if p]
        found.append((m.start(), -1, "-".join(["cc-by", *parts, m.group(2)])))
    for order, (ident, phrases) in enumerate(_TEXTS):
        positions = [t.find(p) for p in phrases]
        if all(pos >= 0 for pos in positions):
            found.append((positions[0], order, ident))
    return min(found)[2] if found else None
