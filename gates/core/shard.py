"""Splitting one scan over N CI jobs (``mlsec-gates run --shard K/N``).

Why by file and why here: the gates that read files one at a time (``Gate.per_file``) get, in
each shard, the files this module assigns to it; every other gate (dependency audits, evaluation
thresholds, provenance grouping, signature manifests: checks that look at the repository as a
whole) runs in shard 1 only. The assignment must be the same in N separate processes that never
talk to each other, so it depends only on the discovered list: files sorted by size (largest
first, then by path) and each given to the least-loaded shard (ties to the lowest index). Every
file lands in exactly one shard, and the shards carry about the same number of bytes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .errors import UsageError

_SPEC = re.compile(r"^\s*(\d{1,4})\s*/\s*(\d{1,4})\s*$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def first(self) -> bool:
        """The shard that runs the repository-wide gates."""
        return self.index == 1


def parse_shard(spec: str) -> Shard:
    """``"K/N"`` with 1 ≤ K ≤ N, else a usage error (a CI matrix typo must not scan nothing)."""
    m = _SPEC.match(spec or "")
    if not m:
        raise UsageError(f"--shard {spec!r}: expected K/N, e.g. 2/4")
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or not 1 <= k <= n:
        raise UsageError(f"--shard {spec!r}: K must be between 1 and N")
    return Shard(k, n)


def _size(p: Path) -> int:
    try:
        return os.lstat(p).st_size
    except OSError:
        return 0  # the gate reports the unreadable file, in the shard that owns it


def assign(paths: Sequence[Path], count: int) -> dict[Path, int]:
    """Each path's shard (1-based): largest first to the least-loaded shard, deterministic."""
    loads = [0] * count
    out: dict[Path, int] = {}
    for p in sorted(dict.fromkeys(paths), key=lambda q: (-_size(q), str(q))):
        i = min(range(count), key=lambda j: (loads[j], j))
        # +1 so a run of empty files is still spread over the shards
        loads[i] += _size(p) + 1
        out[p] = i + 1
    return out


def select(paths: Sequence[Path], shard: Shard, also: Sequence[Path] = ()) -> tuple[list[Path], list[Path]]:
    """The paths (and the ``also`` paths, e.g. escaped symlinks, reported where they land) that
    belong to ``shard``, in their original order."""
    owner = assign([*paths, *also], shard.count)
    return [p for p in paths if owner[p] == shard.index], [p for p in also if owner[p] == shard.index]
