"""``--format``/``--output`` pairs, checked before anything is scanned.

A thirty-second scan that ends in "each --output needs a --format" or a permission error on the
report directory wastes the whole job: the pairs, the stdout rule and each output's directory
are checked first, and the scan starts only when every report can be written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import UsageError
from .hygiene import clean_name

STDOUT = "-"


@dataclass(frozen=True)
class Target:
    """One report to write: its format and its file (``None``: stdout)."""

    fmt: str
    path: Path | None


def report_targets(formats: Sequence[str] | None, outputs: Sequence[str] | None) -> list[Target]:
    """Pair ``--format`` with ``--output`` in order and check every pair; raises
    :class:`UsageError` naming the flag that is wrong."""
    formats, outputs = list(formats or []), list(outputs or [])
    if len(outputs) > len(formats):
        raise UsageError("each --output needs a --format before it")
    targets = [Target(fmt, _path(outputs[i]) if i < len(outputs) else None) for i, fmt in enumerate(formats)]
    if sum(t.path is None for t in targets) > 1:
        raise UsageError("only one --format can go to stdout; give the others an --output FILE")
    seen: dict[Path, str] = {}
    for t in targets:
        if t.path is None:
            continue
        key = t.path.absolute()
        if key in seen:
            raise UsageError(f"--output {clean_name(t.path)} is given for both --format {seen[key]} and --format {t.fmt}")
        seen[key] = t.fmt
        _check_writable(t.path)
    return targets


def _path(value: str) -> Path | None:
    return None if value in ("", STDOUT) else Path(value)


def _check_writable(path: Path) -> None:
    """The file can be created or replaced: it is not a directory, and its nearest existing
    ancestor is a directory we may write to (missing directories are created when writing)."""
    shown = clean_name(path)
    if path.is_dir():
        raise UsageError(f"--output {shown}: is a directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"--output {shown}: the file is not writable")
    parent = path.absolute().parent
    while not parent.exists():
        if parent.is_symlink():  # a dangling link where a directory should be
            raise UsageError(f"--output {shown}: {clean_name(parent)} is a dangling symlink")
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"--output {shown}: {clean_name(parent)} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--output {shown}: the directory {clean_name(parent)} is not writable")
