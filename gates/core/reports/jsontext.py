"""JSON text for the report writers: indented like ``json.dumps(obj, indent=2)`` down to the
lists, and each item of a list on one line.

``json.dumps(..., indent=2)`` runs Python's pure-Python encoder (the C encoder does not indent):
for a report with thousands of findings that was seconds of a run, and most of the bytes were
indentation. Here the outline (top-level keys, a gate's counts, a policy chain) is laid out one
key per line, and each list item (a finding, a scanned file, a SARIF result) is encoded by the C
encoder as one line: the same JSON value, still readable and diffable line by line, and
deterministic (keys in insertion order, as before).
"""

from __future__ import annotations

import json
from typing import Any, Callable

_SCALAR_KEYS = (bool, int, float, type(None))


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """``obj`` as JSON text (no trailing newline). ``default`` as for :func:`json.dumps`."""
    encode = json.JSONEncoder(separators=(", ", ": "), default=default).encode
    out: list[str] = []
    _write(obj, "", out, encode)
    return "".join(out)


def _write(obj: Any, indent: str, out: list[str], encode: Callable[[Any], str]) -> None:
    inner = indent + "  "
    if isinstance(obj, dict) and obj:
        out.append("{\n")
        for i, (k, v) in enumerate(obj.items()):
            out.append(f",\n{inner}" if i else inner)
            out.append(encode(_key(k)) + ": ")
            _write(v, inner, out, encode)
        out.append(f"\n{indent}}}")
    elif isinstance(obj, (list, tuple)) and obj:
        out.append("[\n" + ",\n".join(inner + encode(item) for item in obj) + f"\n{indent}]")
    else:
        out.append(encode(obj))


def _key(k: Any) -> str:
    """A key as JSON writes it: strings as they are, ``true``/``false``/``null`` and numbers as
    their JSON text; anything else is an error, as for :func:`json.dumps`."""
    if isinstance(k, str):
        return k
    if isinstance(k, _SCALAR_KEYS):
        return json.dumps(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")
