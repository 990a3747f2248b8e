"""NumPy dtype descriptions as .npy headers and joblib's ``NumpyArrayWrapper`` state carry them.

Pure functions over parsed literals: how many bytes an item takes and whether a dtype holds
Python objects (whose data is a pickle).
"""

from __future__ import annotations

import re
from typing import Any

from .pickle_engine import Call, GlobalRef, Obj


def descr_itemsize(descr: Any) -> int | None:
    """Item size of a .npy ``descr`` (``'<f8'``, ``'|S5'``, ``'<U3'``, a structured list)."""
    if isinstance(descr, str):
        mt = re.fullmatch(r"[<>|=]?([a-zA-Z])(\d*)(?:\[[a-z]+\])?", descr)
        if not mt:
            return None
        kind, num = mt.group(1), mt.group(2)
        if kind == "U":
            return 4 * int(num or 0)
        if kind == "O":
            return 8
        if kind in "?b" and not num:
            return 1
        return int(num) if num else None
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) < 2:
                return None
            sub = descr_itemsize(field[1])
            if sub is None:
                return None
            count = 1
            if len(field) > 2:
                shape = field[2] if isinstance(field[2], tuple) else (field[2],)
                for s in shape:
                    count *= int(s)
            total += sub * count
        return total
    return None


def has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return "O" in descr.lstrip("<>|=")[:1]
    if isinstance(descr, list):
        return any(isinstance(fl, tuple) and len(fl) >= 2 and has_object(fl[1]) for fl in descr)
    return True  # anything else: assume the worst


def joblib_array_info(state: Any) -> tuple[int, bool, bool] | None:
    """(array bytes, is object dtype, has alignment padding) from a NumpyArrayWrapper's state."""
    if not isinstance(state, Obj) or state.kind != "dict" or state.items is None:
        return None
    it = state.items
    d = {it[i]: it[i + 1] for i in range(0, len(it) - 1, 2) if isinstance(it[i], str)}
    shape, dtype = d.get("shape"), d.get("dtype")
    if not isinstance(shape, tuple) or not all(isinstance(x, int) and x >= 0 for x in shape):
        return None
    if not (isinstance(dtype, Call) and isinstance(dtype.func, GlobalRef) and dtype.func.name == "dtype" and isinstance(dtype.args, tuple) and dtype.args and isinstance(dtype.args[0], str)):
        return None
    code = dtype.args[0]
    st = dtype.state if isinstance(dtype.state, tuple) else ()
    flags = st[7] if len(st) > 7 and isinstance(st[7], int) else 0
    is_object = code.startswith("O") or bool(flags & 1)
    elsize = st[5] if len(st) > 5 and isinstance(st[5], int) and st[5] > 0 else descr_itemsize(code)
    if elsize is None:
        return None
    count = 1
    for x in shape:
        count *= x
    aligned = d.get("numpy_array_alignment_bytes") is not None
    return count * elsize, is_object, aligned
