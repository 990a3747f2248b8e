"""Model formats that carry data only: identified, checked for well-formedness, and passed.

* XGBoost JSON / UBJSON (``Booster.save_model``) and LightGBM text models (``model_to_string``):
  parsed by the libraries' own readers into trees and numbers; nothing in them names code.
* Flax checkpoints (``flax.serialization.to_bytes``): msgpack whose extension types hold NumPy
  arrays as (shape, dtype name, raw bytes); ``msgpack_restore`` builds them with
  ``np.frombuffer``, which refuses object dtypes, so no Python object is revived.

Identifying them matters: a reviewer sees "xgboost"/"flax-msgpack" in the report instead of
"json"/"unknown", and a file that claims one of these shapes but does not parse fails closed.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from gates.core.hygiene import clean

from .scan import Scan
from .stream import OverLimit, Source, Truncated

FLAX_EXT_CODES = {1: "ndarray", 2: "native complex", 3: "numpy scalar"}
MSGPACK_CHUNK = 1 << 20


def looks_like_xgboost(head: bytes) -> bool:
    """XGBoost's JSON (``{"learner":``) or UBJSON (``{L<int64 7>learner``) model."""
    stripped = head.lstrip()
    return stripped.startswith(b'{"learner"') or (head[:1] == b"{" and head[1:2] in b"LliU" and b"learner" in head[:24])


def looks_like_lightgbm(head: bytes) -> bool:
    return head.startswith(b"tree\nversion=") or head.startswith(b"tree\r\nversion=")


def looks_like_msgpack_map(head: bytes) -> bool:
    """A msgpack map with a string first key (how Flax writes a parameter tree). ``0x81``-``0x8f``
    cannot start a pickle (NEWOBJ etc. on an empty stack); ``0xde``/``0xdf`` are not opcodes."""
    if len(head) < 2:
        return False
    first, second = head[0], head[1]
    is_map = 0x81 <= first <= 0x8F or first in (0xDE, 0xDF)
    key_at = 1 if first <= 0x8F else (3 if first == 0xDE else 5)
    key = head[key_at] if len(head) > key_at else second
    return is_map and (0xA0 <= key <= 0xBF or key in (0xD9, 0xDA, 0xDB))


def scan_xgboost(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """XGBoost JSON must parse as JSON with ``learner`` and ``version`` (MODEL013 otherwise);
    UBJSON is identified by its header (there is no code to find in it)."""
    head = src.peek(64)
    if head[:1] == b"{" and head[1:2] in b"LliU":
        return  # UBJSON
    if size is None or size > scan.cfg.limits.max_header_bytes:
        return  # too large to parse as one document here: it is data either way
    try:
        doc = json.loads(src.read(size).decode("utf-8"))
    except (Truncated, UnicodeDecodeError, ValueError, RecursionError) as exc:
        scan.hit("MODEL013", f"XGBoost JSON model is not valid JSON ({type(exc).__name__})", member, 0, blocking=True, key="xgb-json")
        return
    if not (isinstance(doc, dict) and isinstance(doc.get("learner"), dict) and "version" in doc):
        scan.hit("MODEL013", "JSON starts like an XGBoost model but has no learner/version", member, 0, blocking=True, key="xgb-shape")


def scan_lightgbm(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """A LightGBM text model: identified by its ``tree``/``version=`` header; it holds numbers."""
    return None


def scan_flax_msgpack(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """Walk a msgpack document with bounded sizes; extension types must be Flax's (1-3) and their
    dtype names plain (no object dtype). Malformed or foreign content is inconclusive."""
    try:
        import msgpack  # type: ignore[import-untyped]
    except ImportError:
        scan.inconclusive("msgpack model could not be checked: install msgpack (the `model` extra)", member, 0, key="msgpack-missing")
        return
    problems: list[str] = []

    def ext_hook(code: int, data: bytes) -> Any:
        if code not in FLAX_EXT_CODES:
            problems.append(f"unknown msgpack extension type {code}")
            return None
        if code in (1, 3):
            try:
                parts = msgpack.unpackb(data, raw=False, max_bin_len=len(data), max_str_len=1024)
            except Exception as exc:  # noqa: BLE001 - malformed extension payload
                problems.append(f"malformed {FLAX_EXT_CODES[code]} ({type(exc).__name__})")
                return None
            dtype = parts[1] if isinstance(parts, (list, tuple)) and len(parts) >= 2 else None
            if not isinstance(dtype, str) or "O" in dtype or "object" in dtype.lower():
                problems.append(f"{FLAX_EXT_CODES[code]} with dtype {clean(str(dtype)[:40])!s}")
        return None

    limit = scan.cfg.limits.max_decompressed_bytes
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, ext_hook=ext_hook, max_buffer_size=min(limit, 1 << 31))
    read = 0
    objects = 0
    try:
        while True:
            chunk = src.peek(MSGPACK_CHUNK)
            if not chunk:
                break
            src.skip(len(chunk))
            read += len(chunk)
            unpacker.feed(chunk)
            for _ in unpacker:
                objects += 1
    except (Truncated, OverLimit):
        raise
    except Exception as exc:  # noqa: BLE001 - msgpack raises several unrelated types on bad input
        scan.inconclusive(f"msgpack model cannot be parsed ({type(exc).__name__})", member, None, key="msgpack-parse")
        return
    if objects != 1 or unpacker.tell() != read:
        scan.inconclusive("msgpack model is not exactly one complete document", member, None, key="msgpack-shape")
    for p in dict.fromkeys(problems):
        scan.inconclusive(f"msgpack model holds a {p}, which Flax does not write", member, None, key=f"msgpack:{p[:60]}")
