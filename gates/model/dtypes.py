"""NumPy dtypes as ``.npy`` headers and joblib's ``NumpyArrayWrapper`` carry them.

What matters is exactly what NumPy decides: whether the dtype *has objects* (then ``np.load``
with ``allow_pickle=True`` and ``joblib.load`` unpickle the data that follows) and its item size
(how many bytes the loader skips before it reads the next opcode). Every spelling counts:
``'O'``, ``'O8'``, ``'|O'``, ``'object'``, comma strings (``'i4,O'``), structured lists with a
nested object field, sub-array tuples. So when NumPy is installed its own interpreter decides:
``numpy.lib.format.descr_to_dtype`` for ``.npy`` headers (the function ``np.load`` calls) and
``numpy.dtype`` for joblib's pickled dtypes. Neither runs code: they read literals already
parsed with ``ast.literal_eval``. Without NumPy a strict fallback sizes only the plain spellings
and treats anything that mentions ``O``/``object`` as an object dtype; what it cannot size is
reported by the caller as inconclusive.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from dataclasses import dataclass
from typing import Any

from .pickle_engine import Call, GlobalRef, Obj

NPY_VERSIONS = {(1, 0): "latin1", (2, 0): "latin1", (3, 0): "utf8"}
NPY_KEYS = {"descr", "fortran_order", "shape"}
MAX_DESCR_DEPTH = 32


class DescrError(Exception):
    """The header or dtype is not one NumPy accepts (``np.load`` would raise)."""


@dataclass(frozen=True)
class DType:
    """What a loader needs from a dtype: its item size (None: cannot be sized) and object-ness."""

    itemsize: int | None
    hasobject: bool


@functools.lru_cache(maxsize=1)
def _numpy() -> Any:
    """NumPy, imported on first use only (it costs ~20 MB; most scans never see an array)."""
    try:
        import numpy
        import numpy.lib.format  # noqa: F401 - descr_to_dtype
    except Exception:  # noqa: BLE001 - absent or broken: the fallback decides
        return None
    return numpy


# ---- .npy headers ---------------------------------------------------------------------------------
def parse_npy_header(version: tuple[int, int], raw: bytes) -> tuple[tuple[int, ...], bool, DType]:
    """``(shape, fortran_order, dtype)`` from a header's bytes, with the checks of NumPy's
    ``_read_array_header`` (literal dict with exactly the three keys, integer shape, boolean
    order, a descr NumPy accepts). Raises :class:`DescrError` where ``np.load`` raises."""
    enc = NPY_VERSIONS.get(version)
    if enc is None:
        raise DescrError(f"unsupported .npy format version {version[0]}.{version[1]}")
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        raise DescrError("header is not valid text") from None
    try:
        d = ast.literal_eval(text)  # literals only: no names, calls or attributes
    except SyntaxError:
        if version > (2, 0):
            raise DescrError("header is not a Python literal") from None
        d = _literal(_drop_long_suffix(text))  # what NumPy's _filter_header accepts (Python 2 ``1L``)
    except (ValueError, TypeError, MemoryError, RecursionError):
        raise DescrError("header is not a Python literal") from None
    if not isinstance(d, dict) or set(d) != NPY_KEYS:
        raise DescrError("header is not a dict with exactly descr, fortran_order and shape")
    shape = d["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(x, int) for x in shape):
        raise DescrError("shape is not a tuple of integers")
    if not isinstance(d["fortran_order"], bool):
        raise DescrError("fortran_order is not a bool")
    return shape, d["fortran_order"], descr_dtype(d["descr"])


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        raise DescrError("header is not a Python literal") from None


def _drop_long_suffix(text: str) -> str:
    return re.sub(r"(?<=\d)[lL]\b", "", text)


def descr_dtype(descr: Any) -> DType:
    """The dtype ``np.load`` builds from a header's ``descr``."""
    np = _numpy()
    if np is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dt = np.lib.format.descr_to_dtype(descr)
        except Exception:  # noqa: BLE001 - NumPy refuses it: np.load raises as well
            raise DescrError("descr is not a dtype NumPy accepts") from None
        return DType(int(dt.itemsize), bool(dt.hasobject))
    return fallback_dtype(descr)


# ---- fallback without NumPy ------------------------------------------------------------------------
#: sizes that do not depend on the platform (``l``, ``g``, ``p`` do: not sized here)
_FIXED = {"?": 1, "b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "q": 8, "Q": 8, "e": 2, "f": 4, "d": 8, "F": 8, "D": 16}
_SIZED = set("iufcbSaVMm")
_SIMPLE = re.compile(r"[<>|=]?([?bBhHiIqQefdFDiufcSaVUMm])(\d*)(?:\[[A-Za-z0-9]+\])?")
_SUBARRAY = re.compile(r"\(\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*\)\s*(.+)")


def fallback_dtype(descr: Any, depth: int = 0) -> DType:
    """A strict reading of the spellings NumPy writes; None as item size for anything else."""
    if depth > MAX_DESCR_DEPTH:
        return DType(None, True)
    if isinstance(descr, str):
        if "O" in descr or "object" in descr.lower():
            return DType(None, True)
        parts = [p.strip() for p in descr.split(",")] if "," in descr and "(" not in descr else [descr.strip()]
        total = 0
        for part in parts:
            size = _simple_size(part)
            if size is None:
                return DType(None, False)
            total += size
        return DType(total, False)
    if isinstance(descr, tuple) and len(descr) == 2:
        sub = fallback_dtype(descr[0], depth + 1)
        count = _count(descr[1])
        return DType(None if sub.itemsize is None or count is None else sub.itemsize * count, sub.hasobject)
    if isinstance(descr, list):
        total: int | None = 0
        obj = False
        for fld in descr:
            if not isinstance(fld, tuple) or len(fld) not in (2, 3):
                return DType(None, True)
            sub = fallback_dtype(fld[1], depth + 1)
            obj = obj or sub.hasobject
            count = _count(fld[2]) if len(fld) == 3 else 1
            total = None if total is None or sub.itemsize is None or count is None else total + sub.itemsize * count
        return DType(total, obj)
    return DType(None, True)  # anything else: assume the worst


def _simple_size(code: str) -> int | None:
    m = _SUBARRAY.fullmatch(code)
    if m:
        count = 1
        for n in m.group(1).split(","):
            count *= int(n)
        inner = _simple_size(m.group(2).strip())
        return None if inner is None else inner * count
    m = _SIMPLE.fullmatch(code)
    if not m:
        return None
    kind, num = m.group(1), m.group(2)
    if num:
        n = int(num)
        if kind == "U":
            return 4 * n
        return n if kind in _SIZED or kind in _FIXED else None
    return _FIXED.get(kind)


def _count(shape: Any) -> int | None:
    dims = shape if isinstance(shape, tuple) else (shape,)
    count = 1
    for d in dims:
        if not isinstance(d, int) or d < 0:
            return None
        count *= d
    return count


# ---- joblib ----------------------------------------------------------------------------------------
def joblib_dtype(dtype: Any, depth: int = 0) -> DType | None:
    """The dtype a pickled ``numpy.dtype(code, align, copy)`` + ``BUILD state`` becomes, as
    ``dtype.hasobject`` and ``dtype.itemsize`` read it after unpickling; None when the pickled
    value is not such a call (the caller cannot find the next opcode: inconclusive)."""
    if depth > MAX_DESCR_DEPTH:
        return None
    if not (isinstance(dtype, Call) and isinstance(dtype.func, GlobalRef) and dtype.func.name == "dtype"
            and isinstance(dtype.args, tuple) and dtype.args and isinstance(dtype.args[0], str)):
        return None
    code = dtype.args[0]
    align = len(dtype.args) > 1 and dtype.args[1] is True
    st = dtype.state if isinstance(dtype.state, tuple) else ()
    elsize = st[5] if len(st) > 5 and isinstance(st[5], int) else -1
    flags = st[7] if len(st) > 7 and isinstance(st[7], int) else 0
    fields = st[4] if len(st) > 4 else None
    base = _code_dtype(code, align)
    hasobject = base.hasobject or bool(flags & 1)  # older NumPy honoured the pickled flags: either counts
    itemsize = base.itemsize
    if fields is not None:
        # a structured dtype: object-ness comes from its fields, each a pickled dtype itself
        if not (isinstance(fields, Obj) and fields.kind == "dict" and fields.items is not None):
            return None
        values = fields.items[1::2]
        for v in values:
            sub = v.items[0] if isinstance(v, Obj) and v.items else v[0] if isinstance(v, tuple) and v else None
            sd = joblib_dtype(sub, depth + 1)
            if sd is None:
                return None
            hasobject = hasobject or sd.hasobject
    if itemsize == 0 or fields is not None:  # flexible (V, S, U): the pickled size is the size
        itemsize = elsize if elsize > 0 else itemsize
    return DType(itemsize, hasobject)


def _code_dtype(code: str, align: bool) -> DType:
    np = _numpy()
    if np is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dt = np.dtype(code, align=align)
        except Exception:  # noqa: BLE001 - NumPy refuses it: the load fails too, but we cannot size it
            return DType(None, "O" in code or "object" in code.lower())
        return DType(int(dt.itemsize), bool(dt.hasobject))
    return fallback_dtype(code)


def joblib_array_info(state: Any) -> tuple[int | None, bool, bool] | None:
    """(array bytes or None when the dtype cannot be sized, has objects, has alignment padding)
    from a NumpyArrayWrapper's state; None when the state is not one joblib writes."""
    if not isinstance(state, Obj) or state.kind != "dict" or state.items is None:
        return None
    it = state.items
    d = {it[i]: it[i + 1] for i in range(0, len(it) - 1, 2) if isinstance(it[i], str)}
    shape = d.get("shape")
    if not isinstance(shape, tuple) or not all(isinstance(x, int) and x >= 0 for x in shape):
        return None
    dt = joblib_dtype(d.get("dtype"))
    if dt is None:
        return None
    count = 1
    for x in shape:
        count *= x
    aligned = d.get("numpy_array_alignment_bytes") is not None
    return (None if dt.itemsize is None else count * dt.itemsize), dt.hasobject, aligned
