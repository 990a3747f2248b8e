"""The pyarrow compute functions the pii gate calls, bound straight to ``pyarrow._compute``.

``import pyarrow.compute`` builds a Python wrapper, with a docstring parsed from numpydoc, for each
of the ~300 kernels pyarrow has: ~25 ms of every pii process (measured with ``python -X importtime``:
32 ms for ``pyarrow.compute`` against 4 ms for ``pyarrow._compute``), paid before the first byte
is read. The gate calls some thirty kernels; each is written out here with the options (and the
defaults) ``pyarrow.compute`` would pass, so results are the same (``tests/pii/test_pii_compute.py``
checks each one against ``pyarrow.compute``). A module that needs something else imports
``pyarrow.compute`` itself.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from pyarrow import _compute as _c

_call = _c.call_function
_TAKE = _c.TakeOptions(boundscheck=True)
_DROP = _c.FilterOptions("drop")
_AGG = _c.ScalarAggregateOptions(skip_nulls=True, min_count=1)
_JOIN = _c.JoinOptions(null_handling="emit_null", null_replacement="")
_FLAT = _c.ListFlattenOptions(recursive=False) if hasattr(_c, "ListFlattenOptions") else None


def _plain(name: str) -> Any:
    def kernel(*args: Any) -> Any:
        return _call(name, list(args))

    kernel.__name__ = kernel.__qualname__ = name
    return kernel


# kernels without options: the name pyarrow.compute gives them -> the kernel's own name
add, subtract, multiply, divide = _plain("add"), _plain("subtract"), _plain("multiply"), _plain("divide")
and_, or_, invert = _plain("and"), _plain("or"), _plain("invert")
equal, greater, greater_equal, less_equal = _plain("equal"), _plain("greater"), _plain("greater_equal"), _plain("less_equal")
if_else, indices_nonzero, binary_join = _plain("if_else"), _plain("indices_nonzero"), _plain("binary_join")
utf8_length, utf8_lower, is_valid = _plain("utf8_length"), _plain("utf8_lower"), _plain("is_valid")
list_element, list_parent_indices = _plain("list_element"), _plain("list_parent_indices")


def take(data: Any, indices: Any) -> Any:
    return _call("take", [data, indices], _TAKE)


def filter(values: Any, selection_filter: Any) -> Any:  # noqa: A001 - pyarrow.compute's name
    return _call("filter", [values, selection_filter], _DROP)


def sum(values: Any) -> Any:  # noqa: A001 - pyarrow.compute's name
    return _call("sum", [values], _AGG)


def max(values: Any) -> Any:  # noqa: A001 - pyarrow.compute's name
    return _call("max", [values], _AGG)


def any(values: Any) -> Any:  # noqa: A001 - pyarrow.compute's name
    return _call("any", [values], _AGG)


def cast(arr: Any, target_type: Any) -> Any:
    return _call("cast", [arr], _c.CastOptions.safe(target_type))


def is_in(values: Any, value_set: Any) -> Any:
    return _call("is_in", [values], _c.SetLookupOptions(value_set, skip_nulls=False))


def match_substring_regex(strings: Any, pattern: str) -> Any:
    return _call("match_substring_regex", [strings], _c.MatchSubstringOptions(pattern, ignore_case=False))


def match_substring(strings: Any, pattern: str) -> Any:
    return _call("match_substring", [strings], _c.MatchSubstringOptions(pattern, ignore_case=False))


def ends_with(strings: Any, pattern: str) -> Any:
    return _call("ends_with", [strings], _c.MatchSubstringOptions(pattern, ignore_case=False))


def replace_substring(strings: Any, pattern: str, replacement: str) -> Any:
    return _call("replace_substring", [strings], _c.ReplaceSubstringOptions(pattern, replacement, max_replacements=None))


def utf8_lpad(strings: Any, width: int, padding: str = " ") -> Any:
    return _call("utf8_lpad", [strings], _c.PadOptions(width, padding))


def utf8_slice_codeunits(strings: Any, start: int, stop: int | None = None) -> Any:
    return _call("utf8_slice_codeunits", [strings], _c.SliceOptions(start, stop, 1))


def binary_join_element_wise(*strings: Any) -> Any:
    return _call("binary_join_element_wise", list(strings), _JOIN)


def list_flatten(lists: Any) -> Any:
    return _call("list_flatten", [lists], _FLAT)


def fill_null(values: Any, fill_value: Any) -> Any:
    """As ``pyarrow.compute.fill_null``: the fill value takes the values' type."""
    if not isinstance(fill_value, (pa.Array, pa.ChunkedArray, pa.Scalar)):
        fill_value = pa.scalar(fill_value, type=values.type)
    elif values.type != fill_value.type:
        fill_value = pa.scalar(fill_value.as_py(), type=values.type)
    return _call("coalesce", [values, fill_value])
