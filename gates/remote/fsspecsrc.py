"""Any other ``scheme://`` that fsspec knows (``gs://``, ``az://``, ``https://``…), when the
matching library is installed: files listed with ``find`` and read with ranged ``cat_file``.
Credentials are the filesystem library's own (gcsfs, adlfs…); ``http://`` only to loopback."""

from __future__ import annotations

from pathlib import Path

from gates.core.hygiene import clean_name
from gates.core.remote import Resolved, scheme_of

from .errors import RemoteError
from .mirror import Mirror
from .reader import RangeReader, Stats
from .transport import check_url

MAX_FILES = 100_000


def resolve(ref: str, workdir: Path) -> Resolved:
    try:
        import fsspec
    except ModuleNotFoundError:
        raise RemoteError(f"{clean_name(ref)}: this scheme needs fsspec: pip install 'mlsec-gates[remote]'") from None
    scheme = scheme_of(ref) or ""
    if scheme not in fsspec.available_protocols():
        raise RemoteError(f"{clean_name(ref)}: no resolver for {clean_name(scheme)}:// (oci, hf, s3, or an fsspec protocol)")
    if scheme in ("http", "https"):
        check_url(ref)
    try:
        fs, root = fsspec.core.url_to_fs(ref)
    except (ImportError, ValueError) as exc:
        raise RemoteError(f"{clean_name(ref)}: {type(exc).__name__} (is the library for {clean_name(scheme)}:// installed?)") from None
    try:
        if fs.isfile(root):
            entries = {root: fs.info(root)}
        else:
            entries = fs.find(root, detail=True, maxdepth=None)
    except (OSError, ValueError) as exc:
        raise RemoteError(f"{clean_name(ref)}: {type(exc).__name__}") from None
    files = [(p, int(i.get("size") or 0)) for p, i in sorted(entries.items()) if i.get("type", "file") == "file"]
    if not files:
        raise RemoteError(f"{clean_name(ref)}: no file there")
    if len(files) > MAX_FILES:
        raise RemoteError(f"{clean_name(ref)}: more than {MAX_FILES} files")
    stats = Stats()
    res = Resolved(root=workdir / "artifact", reference=ref.rstrip("/"))
    mirror = Mirror(res, stats)
    single = len(files) == 1 and files[0][0] == root
    for path, size in files:
        rel = path.rsplit("/", 1)[-1] if single else path[len(root.rstrip("/")):].lstrip("/")
        display = fs.unstrip_protocol(path)

        def fetch(start: int, end: int, _p: str = path) -> bytes:
            return bytes(fs.cat_file(_p, start=start, end=end))

        try:
            mirror.add(rel, RangeReader(fetch, size, stats), display, source=display)
        except OSError as exc:
            raise RemoteError(f"{clean_name(display)}: {type(exc).__name__}") from None
    return mirror.finish()
