"""The sparse local mirror of a remote artifact: real bytes where the gates read, holes elsewhere.

Every file is created at its full size (``truncate``), so sizes, offsets and bounds checks are
those of the real file; only the ranges the planner keeps are fetched and written. Paths from
the remote side are input: an absolute path, ``..``, or a name that is not a plain relative path
is refused (the artifact could otherwise write outside the mirror).
"""

from __future__ import annotations

import os
from pathlib import Path

from gates.core.hygiene import clean_name
from gates.core.remote import Resolved

from .errors import RemoteError
from .plan import Holes, holes
from .reader import RangeReader, Stats


def safe_relpath(name: str) -> str:
    """A remote path as a mirror-relative posix path, or a :class:`RemoteError`."""
    norm = name.replace("\\", "/")
    parts = [x for x in norm.split("/") if x not in ("", ".")]
    if not parts or norm.startswith("/") or ".." in parts or any("\0" in x for x in parts):
        raise RemoteError(f"remote path {clean_name(name)!r} is absolute or escapes the artifact: refused")
    return "/".join(parts)


class Mirror:
    """Builds ``res.root`` and fills in ``res`` (paths, digests, sizes, bytes fetched)."""

    def __init__(self, res: Resolved, stats: Stats) -> None:
        self.res = res
        self.stats = stats
        res.root.mkdir(parents=True, exist_ok=True)
        #: the artifact's size as its source counts it (an OCI artifact: its blobs), else the files'
        self.artifact_size: int | None = None

    def target(self, rel: str) -> Path:
        rel = safe_relpath(rel)
        dest = self.res.root / rel
        if dest.exists():
            raise RemoteError(f"{clean_name(rel)}: two files of the artifact have this path")
        dest.parent.mkdir(parents=True, exist_ok=True)
        return dest

    def add(self, rel: str, reader: RangeReader, display: str, *, digest: str | None = None, source: str | None = None) -> None:
        """Mirror the remote file ``reader`` at ``rel``: created now at its full size, fetched
        (only what the gates read) when a gate is about to read it (``Resolved.fill``)."""
        dest = self.target(rel)
        with open(dest, "wb") as out:
            out.truncate(reader.size)
        self.record(rel, reader.size, display, digest=digest, source=source)
        key = safe_relpath(rel)

        def fetch() -> int:
            gaps: Holes = holes(reader, key)
            with open(dest, "r+b") as out:
                pos = 0
                for a, b in gaps:
                    reader.copy_to(out, pos, a)
                    pos = b
                reader.copy_to(out, pos, reader.size)
            if gaps:
                self.res.partial.add(key)
            return self.stats.fetched

        self.res.pending[key] = fetch

    def add_bytes(self, rel: str, data: bytes, display: str, *, digest: str | None = None, source: str | None = None) -> None:
        dest = self.target(rel)
        dest.write_bytes(data)
        self.record(rel, len(data), display, digest=digest, source=source)

    def record(self, rel: str, size: int, display: str, *, digest: str | None = None, source: str | None = None,
               partial: bool = False) -> None:
        rel = safe_relpath(rel)
        self.res.paths[rel] = display
        self.res.total += size
        if digest:
            algo, _, hexd = digest.partition(":")
            if algo == "sha256" and hexd:
                self.res.digests[rel] = [("SHA-256", hexd)]
        if source:
            self.res.sources[rel] = source
        if partial:
            self.res.partial.add(rel)

    def finish(self) -> Resolved:
        self.res.fetched = self.stats.fetched  # so far: listings, manifests, tar headers
        if self.artifact_size is not None:
            self.res.total = self.artifact_size
        return self.res


def cache_dir() -> Path:
    """Blobs fetched whole are kept here by digest (``MLSEC_GATES_CACHE``, else ~/.cache)."""
    base = os.environ.get("MLSEC_GATES_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "mlsec-gates")
    return Path(base) / "blobs"
