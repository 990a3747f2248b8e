"""``mlsec-gates deps db update``: download OSV's PyPI export for offline (``source: local``) runs.

The download is streamed with a timeout and a size cap into a temporary file beside the
destination, checked to be a readable zip holding OSV records, then renamed into place, so a
failed or partial download never replaces a good database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zipfile
from pathlib import Path

DEFAULT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
DEFAULT_MAX_MB = 512


class UpdateError(Exception):
    pass


def update(dest: Path, url: str = DEFAULT_URL, timeout: float = 60.0, max_bytes: int = DEFAULT_MAX_MB << 20) -> tuple[Path, int, int]:
    """Download ``url`` to ``dest/all.zip`` (or ``dest`` itself when it ends in ``.zip``).
    Returns the path, its size and the number of records in it."""
    import requests

    from .inputs import redact_url
    from .osv import OsvDatabase

    target = dest if dest.suffix == ".zip" else dest / "all.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".all.zip.", suffix=".part.zip", dir=target.parent)
    tmp = Path(tmp_name)
    size = 0
    try:
        try:
            with os.fdopen(fd, "wb") as fh, requests.get(url, stream=True, timeout=timeout) as r:
                if r.status_code != 200:
                    raise UpdateError(f"{redact_url(url)}: HTTP {r.status_code}")
                declared = r.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise UpdateError(f"{redact_url(url)}: {declared} bytes is above the {max_bytes}-byte limit")
                for chunk in r.iter_content(1 << 16):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UpdateError(f"{redact_url(url)}: download exceeds the {max_bytes}-byte limit")
                    fh.write(chunk)
        except requests.RequestException as exc:
            raise UpdateError(f"{redact_url(url)}: download failed ({type(exc).__name__})") from None
        if not zipfile.is_zipfile(tmp):
            raise UpdateError(f"{redact_url(url)}: the download is not a zip archive")
        try:
            records = OsvDatabase.load(tmp).records
        except Exception as exc:  # noqa: BLE001 - any unreadable archive must not replace the old one
            raise UpdateError(f"{redact_url(url)}: the archive holds no readable OSV records ({getattr(exc, 'reason', type(exc).__name__)})") from None
        os.replace(tmp, target)
        return target, size, records
    finally:
        if tmp.exists():
            tmp.unlink()



def cmd_db(args: argparse.Namespace) -> int:
    """``mlsec-gates deps db update --dest DIR``: prints what it wrote; 0 on success, 2 on a usage
    error or a failed download (the old database, if any, is left in place)."""
    if list(args.paths) != ["db", "update"] or not args.dest:
        print("usage: mlsec-gates deps db update --dest DIR [--url URL] [--max-mb N]", file=sys.stderr)
        return 2
    try:
        path, size, records = update(Path(args.dest), args.url, args.download_timeout, args.max_mb << 20)
    except UpdateError as exc:
        print(f"mlsec-gates: deps db update failed: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({size} bytes, {records} OSV records)")
    return 0
