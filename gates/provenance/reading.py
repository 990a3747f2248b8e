"""Bounded reads shared by the readers: a size cap, no FIFOs or devices, UTF-8 or a clear error,
and the line a JSON key is declared on."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

from .facts import ReadError

MAX_TEXT = 4 << 20  # model cards, configs, Kitfiles, licence texts


def read_bytes(path: Path, limit: int = MAX_TEXT) -> bytes:
    """At most ``limit`` bytes of a regular file; a larger file is an error (fail closed)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ReadError(path, "not a regular file")
        if st.st_size > limit:
            raise ReadError(path, f"larger than {limit >> 20} MiB; not read")
        with open(path, "rb") as fh:
            return fh.read(limit + 1)[:limit]
    except OSError as exc:
        raise ReadError(path, f"cannot read: {exc.strerror or type(exc).__name__}") from None


def read_text(path: Path, limit: int = MAX_TEXT) -> str:
    raw = read_bytes(path, limit)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError(path, "not UTF-8 text") from None


def read_json(path: Path) -> tuple[Any, str]:
    """Parsed JSON and its text (for line lookups)."""
    text = read_text(path)
    try:
        return json.loads(text), text
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        raise ReadError(path, f"invalid JSON{f' at line {line}' if line else ''}") from None


def json_line(text: str, key: str) -> int | None:
    """The 1-based line where ``"key":`` first appears (JSON keeps no positions after parsing)."""
    m = re.search(r'"' + re.escape(key) + r'"\s*:', text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def head(path: Path, n: int) -> bytes:
    """The first ``n`` bytes of a regular file (b"" for anything else); never blocks on a FIFO."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b""
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""
