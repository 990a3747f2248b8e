"""Vectorised validators: the checksums of :mod:`validators`, as pyarrow compute kernels.

On a structured column (one value per cell: a card-number column, an email column) most of the
time went into calling a Python validator per cell. These functions take a whole array of
candidate cells and return which ones are valid, in C++ kernels. They only ever *accept*: a cell
they reject goes back through the Python path, so the result is the same as the per-cell
validators (``tests/pii/test_pii_vector.py`` checks that on random data).
"""

from __future__ import annotations

import functools

import pyarrow as pa

from . import compute as pc
from .validators import CARD_BRANDS, IBAN_LENGTHS

@functools.lru_cache(maxsize=256)
def lit(value: object, type: pa.DataType | None = None) -> pa.Scalar:
    """A pyarrow scalar, built once. Passing plain Python numbers to compute functions converts
    them on every call, and without python-dateutil installed each conversion retries a failed
    import of ``dateutil.relativedelta`` (~30 µs): a few hundred per chunk added up."""
    return pa.scalar(value, type)


FILLERS = pa.array([d * n for d in "0123456789" for n in range(12, 20)])


def range_regex(lo: str, hi: str) -> str:
    """A small regex for the equal-length digit strings from ``lo`` to ``hi`` inclusive."""
    if lo == hi:
        return lo
    if len(lo) == 1:
        return f"[{lo}-{hi}]"
    if lo[0] == hi[0]:
        return lo[0] + range_regex(lo[1:], hi[1:])
    rest = len(lo) - 1
    parts = [lo[0] + "(?:" + range_regex(lo[1:], "9" * rest) + ")"]
    if int(hi[0]) - int(lo[0]) > 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}]" + r"\d" * rest)
    parts.append(hi[0] + "(?:" + range_regex("0" * rest, hi[1:]) + ")")
    return "(?:" + "|".join(parts) + ")"


@functools.lru_cache(maxsize=1)
def _card_regex() -> str:
    """``^(?:range(?:tail)|...)$`` over the issuer table: prefix ranges times allowed lengths."""
    alts = []
    for _brand, ranges, lengths in CARD_BRANDS:
        for lo, hi in ranges:
            tails = "|".join(f"\\d{{{n - len(lo)}}}" for n in sorted(lengths))
            alts.append(f"{range_regex(lo, hi)}(?:{tails})")
    return "^(?:" + "|".join(alts) + ")$"


def byte_columns(strings: pa.Array, width: int) -> list[pa.Array]:
    """Equal-width ASCII strings → ``width`` uint8 arrays, array ``i`` holding byte ``i`` of
    every string (a zero-copy view through a fixed-size list)."""
    fsb = pc.cast(strings, pa.binary(width))
    u8 = pa.Array.from_buffers(pa.uint8(), len(fsb) * width, [None, fsb.buffers()[1]], offset=fsb.offset * width)
    fsl = pa.FixedSizeListArray.from_arrays(u8, width)
    return [pc.list_element(fsl, i) for i in range(width)]


def _mod(x: pa.Array, m: int) -> pa.Array:
    return pc.subtract(x, pc.multiply(pc.divide(x, lit(m)), lit(m)))


#: byte value → Luhn contribution of a digit in a plain / a doubled position (bytes '0'-'9')
_PLAIN = pa.array([b - 48 if 48 <= b <= 57 else 0 for b in range(256)], pa.int16())
_DOUBLED = pa.array([(2 * (b - 48) - 9 if b >= 53 else 2 * (b - 48)) if 48 <= b <= 57 else 0 for b in range(256)], pa.int16())


def luhn_valid(digits: pa.Array) -> pa.Array:
    """Luhn over digit-only strings of length ≤ 19 (left-padded with zeros, which keep the sum):
    one table lookup per digit position."""
    width = max(1, pc.max(pc.utf8_length(digits)).as_py() or 1)
    total = None
    for i, col in enumerate(byte_columns(pc.utf8_lpad(digits, width, "0"), width)):
        # every second digit from the right is doubled (and 9 taken off above 9)
        d = pc.take(_DOUBLED if (width - 1 - i) % 2 == 1 else _PLAIN, col)
        total = d if total is None else pc.add(total, d)
    return pc.equal(_mod(total, 10), lit(0))


def cards(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(valid mask, digits) for whole-cell card candidates."""
    digits = pc.replace_substring(pc.replace_substring(cells, " ", ""), "-", "")
    ok = pc.match_substring_regex(digits, _card_regex())
    ok = pc.and_(ok, pc.invert(pc.is_in(digits, value_set=FILLERS)))
    safe = pc.if_else(ok, digits, lit("0"))
    return pc.and_(ok, luhn_valid(safe)), digits


SSN_RULES = r"^(?:00[1-9]|0[1-9]\d|[1-578]\d\d|6(?:[0-57-9]\d|6[0-57-9]))(?:0[1-9]|[1-9]\d)(?:000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})$"
SSN_FILLERS = pa.array([d * 9 for d in "0123456789"] + ["123456789", "987654321"])
SSN_FORMATTED = r"^\d{3}-\d{2}-\d{4}$|^\d{3} \d{2} \d{4}$"


def ssns(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(valid mask, digits) for whole-cell formatted SSN candidates (area 9xx is left to ITIN)."""
    digits = pc.replace_substring(pc.replace_substring(cells, " ", ""), "-", "")
    ok = pc.and_(pc.match_substring_regex(cells, SSN_FORMATTED), pc.match_substring_regex(digits, SSN_RULES))
    return pc.and_(ok, pc.invert(pc.is_in(digits, value_set=SSN_FILLERS))), digits


EMAIL_FULL = r"^[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"


def emails(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
    ok = pc.match_substring_regex(cells, EMAIL_FULL)
    ok = pc.and_(ok, pc.invert(pc.match_substring(cells, "..")))
    ok = pc.and_(ok, pc.invert(pc.match_substring_regex(cells, r"^\.|\.@")))
    ok = pc.and_(ok, pc.less_equal(pc.utf8_length(cells), lit(254)))
    return ok, pc.utf8_lower(cells)


@functools.lru_cache(maxsize=1)
def _iban_regex() -> str:
    return "^(?:" + "|".join(f"{cc}\\d{{2}}[A-Z0-9]{{{n - 4}}}" for cc, n in sorted(IBAN_LENGTHS.items())) + ")$"


def ibans(cells: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(valid mask, compact IBAN): per-country length and mod-97, nine digits at a time."""
    compact = pc.replace_substring(cells, " ", "")
    ok = pc.match_substring_regex(compact, _iban_regex())
    safe = pc.if_else(ok, compact, lit("GB00"))
    width = max(4, pc.max(pc.utf8_length(safe)).as_py() or 4)
    moved = pc.utf8_lpad(pc.binary_join_element_wise(pc.utf8_slice_codeunits(safe, 4), pc.utf8_slice_codeunits(safe, 0, 4), ""), width, "0")
    rem = None
    for col in byte_columns(moved, width):  # letters count as two digits (A=10 ... Z=35)
        b = pc.cast(col, pa.int32())
        letter = pc.cast(pc.greater_equal(b, lit(65)), pa.int32())
        v = pc.subtract(pc.subtract(b, lit(48)), pc.multiply(letter, lit(7)))
        rem = v if rem is None else _mod(pc.add(pc.multiply(rem, pc.add(pc.multiply(letter, lit(90)), lit(10))), v), 97)
    return pc.and_(ok, pc.equal(_mod(rem, 97), lit(1))), compact
