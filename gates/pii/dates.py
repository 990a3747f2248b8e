"""DATE_OF_BIRTH: dates in the formats datasets use, counted only where the column says birth.

A date on its own is not personal data (orders, events, releases have dates); a date of birth
is. So the value test here is only "is this a plausible calendar date of a living person" (year
1900 to this year, day and month in range, in ISO, day-first, month-first, dotted, written-month
or Japanese order), and the column's header (or its neighbour's) must say birth.
"""

from __future__ import annotations

import datetime as _dt

from gates.core.lazyre import lazy

from .fold import fold as _fold

_MONTHS = {
    # English, French, Spanish, Italian, German, Dutch, Portuguese month names and abbreviations
    **{m: i for i, m in enumerate(
        "january february march april may june july august september october november december".split(), 1)},
    **{m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)},
    "sept": 9,
    **{m: i for i, m in enumerate(
        "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre".split(), 1)},
    **{m: i for i, m in enumerate(
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(), 1)},
    **{m: i for i, m in enumerate(
        "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre".split(), 1)},
    **{m: i for i, m in enumerate(
        "januar februar marz april mai juni juli august september oktober november dezember".split(), 1)},
    **{m: i for i, m in enumerate(
        "januari februari maart april mei juni juli augustus september oktober november december".split(), 1)},
    **{m: i for i, m in enumerate(
        "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro".split(), 1)},
}
_NUM = lazy(globals(), r"(\d{1,4})[-/.\s](\d{1,2})[-/.\s](\d{1,4})")
_ISO = lazy(globals(), r"(\d{4})-?(\d{2})-?(\d{2})(?:[T\s]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_JP = lazy(globals(), r"(\d{4})年\s?(\d{1,2})月\s?(\d{1,2})日")
_WRITTEN = lazy(globals(), r"(?:(\d{1,2})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?([^\W\d_]{3,10})\.?,?\s+(?:de\s+)?(\d{4}))"
                           r"|(?:([^\W\d_]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4}))")


def _ok(y: int, m: int, d: int) -> bool:
    if not 1900 <= y <= _dt.date.today().year:
        return False
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return True


def date_value(text: str) -> str | None:
    """The ISO date when ``text`` is a date a living person could be born on, else None."""
    s = text.strip()
    if not 6 <= len(s) <= 40:
        return None
    m = _ISO.fullmatch(s) or _JP.fullmatch(s)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return f"{y:04d}-{mo:02d}-{d:02d}" if _ok(y, mo, d) else None
    m = _NUM.fullmatch(s)
    if m:
        a, b, c = (int(g) for g in m.groups())
        if len(m.group(1)) == 4:
            cands = [(a, b, c)]
        elif len(m.group(3)) == 4:
            cands = [(c, b, a), (c, a, b)]  # day first (most of the world), then month first (US)
        elif len(m.group(3)) == 2:
            yy = c + (1900 if c > _dt.date.today().year % 100 else 2000)
            cands = [(yy, b, a), (yy, a, b)]
        else:
            return None
        for y, mo, d in cands:
            if _ok(y, mo, d):
                return f"{y:04d}-{mo:02d}-{d:02d}"
        return None
    m = _WRITTEN.fullmatch(s)
    if m:
        if m.group(1):
            d, name, y = int(m.group(1)), m.group(2), int(m.group(3))
        else:
            name, d, y = m.group(4), int(m.group(5)), int(m.group(6))
        mo = _MONTHS.get(_fold(name).rstrip("."))
        if mo and _ok(y, mo, d):
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None
