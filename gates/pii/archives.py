"""The members of ZIP and TAR archives, each as a file of its own for the readers.

Why: pandas reads a zipped CSV as the CSV (``read_csv("people.csv.zip")``), Hugging Face
``datasets`` loads the data files inside ``.zip`` and ``.tar.gz`` archives, and WebDataset shards
are tars of JSON and text beside images. The gate only named a ZIP (PII006, not blocking) and took
a TAR for binary (PII005), so a dataset of personal data passed once it was archived.

What: an archive is known by its content (``PK`` at offset 0; ``ustar`` at offset 257, also
inside a gzip/bz2/xz/zstd stream: :func:`readers.read` raises :class:`readers.NotScanned` with
one of :data:`KINDS`). Each regular member is copied, within the caps, to a private temporary
file that :func:`members` yields (the caller removes it when done: small members are read in
batches; the directory goes when the iteration ends); the readers then judge it by its content
first, as any file. A member's name is only shown (cleaned by the report) and
lends its known suffixes to the copy: it is never a path on disk, so ``../`` or absolute names
cannot escape. Links, devices and directories are skipped; a member that is itself an archive is
what the readers make of it (PII006: one level is read). Office and OpenDocument files are ZIPs
too; they keep their PII006 (:func:`is_archive`).

Bounds (the file's own, :class:`readers.Limits`): the archive's size (``max_file_mb``), the
members' bytes together (``max_decompressed_mb``) and against the archive's size
(``max_decompression_ratio`` once ``ratio_floor`` bytes came out: overlapping ZIP entries cannot
multiply a small file), :data:`MAX_MEMBERS` entries, and no TAR header larger than
:data:`MAX_HEADER` (a PAX header is read whole into memory by ``tarfile``).
"""

from __future__ import annotations

import os
import posixpath
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Callable, Iterator

from gates.core.errors import InputError

from . import content
from . import readers as R

#: what :func:`readers.read` calls the archives it hands over
ZIP, TAR = "ZIP archive", "TAR archive"
KINDS = (ZIP, TAR)
#: ZIP files that are documents, not archives of data files: they stay PII006
DOCUMENT_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".docx", ".pptx", ".ods", ".odt", ".odp"})
#: binary members counted, not named one by one (a WebDataset shard holds thousands)
IMAGES = frozenset({"PNG image"})
MAX_MEMBERS = 10_000
MAX_HEADER = 1 << 20
#: bytes of a member read to tell text from binary before it is copied
HEAD = 65_536
_SUFFIXES = frozenset(R.FORMAT_SUFFIXES) | frozenset(R.COMPRESSION_SUFFIXES) | frozenset(R.UNREAD_SUFFIXES)


@dataclass(frozen=True)
class Member:
    """One member: ``path`` is its private copy (None when it was not copied: ``skipped`` says
    why: ``unmatched`` by the gate's paths, ``binary``, ``encrypted``, or the kind of data
    container it is, as the readers name it)."""

    name: str
    path: Path | None = None
    skipped: str | None = None


def is_archive(kind: str, path: Path) -> bool:
    """Whether a file the readers reported as ``kind`` is an archive whose members are read."""
    return kind in KINDS and path.suffix.lower() not in DOCUMENT_SUFFIXES


def workdir() -> tempfile.TemporaryDirectory:
    """A private directory (mode 0700) for the members' copies; the caller keeps it until it has
    read the last copy :func:`members` yielded."""
    return tempfile.TemporaryDirectory(prefix="mlsec-gates-pii-archive-")


def members(path: Path, kind: str, limits: R.Limits, tmp: str | Path,
            wanted: Callable[[str], bool] | None = None, by_content: bool = False) -> Iterator[Member]:
    """The members of the archive at ``path``, in archive order (see the module's docstring),
    copied into ``tmp`` (:func:`workdir`). ``wanted`` (a member's name, without a leading ``/``
    or ``./``) says which are read, as the gate's paths say which files of a directory are: the
    others are yielded as ``unmatched``, unread, unless ``by_content`` and their first bytes are
    a dataset (:mod:`.content`, as for the files of a directory). Raises :class:`InputError`
    naming the archive for a corrupt archive or a broken bound."""
    budget = _Budget(path, limits)
    walk = _zip if kind == ZIP else _tar
    dirs: dict[str, Path] = {}  # a member's directory in the archive -> its copies' directory
    for n, (name, open_member, encrypted) in enumerate(walk(path, limits)):
        if n >= MAX_MEMBERS:
            raise InputError(str(path), f"more than {MAX_MEMBERS:,} members: not read")
        probe = False  # read only if its content is a dataset
        if wanted is not None and not wanted(relative(name)):
            if not (by_content and content.looked_at(Path(relative(name) or name))):
                yield Member(name, skipped="unmatched")
                continue
            probe = True
        if encrypted:
            yield Member(name, skipped="encrypted")
            continue
        # a fixed name (d<k>/m<index>) with the member's known suffixes, which name-based detection
        # uses; the members of one directory of the archive share one directory of copies, so
        # the parts of a table are one table, as in a directory (:mod:`.datasets`)
        parent = posixpath.dirname(relative(name))
        where = dirs.get(parent)
        if where is None:
            where = dirs[parent] = Path(tmp) / f"d{len(dirs)}"
            where.mkdir()
        copy = where / (f"m{n}" + "".join(s for s in Path(name.lower()).suffixes[-2:] if s in _SUFFIXES))
        try:
            with open_member() as src:
                head = src.read(HEAD)
                budget.take(len(head))
                if probe and not _data(head):
                    yield Member(name, skipped="unmatched")
                    continue
                if R.is_binary(head) and not _read_binary(head):
                    # a container the readers would name (a nested archive, SQLite...) is
                    # named; images and other binary content are counted
                    named = next((k for m, k in R.DATA_MAGIC if head.startswith(m)), None)
                    yield Member(name, skipped=named if named is not None and named not in IMAGES else "binary")
                    continue
                with open(copy, "wb") as out:
                    out.write(head)
                    budget.copy(src, out)
        except InputError:
            raise
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError, RuntimeError,
                NotImplementedError) as exc:
            raise InputError(str(path), f"cannot read archive member ({type(exc).__name__})") from None
        yield Member(name, copy)


def relative(name: str) -> str:
    """A member's name as a path inside the archive, for the gate's globs."""
    while name.startswith(("/", "./")):
        name = name[2:] if name.startswith("./") else name[1:]
    return name


def _data(head: bytes) -> bool:
    """A member the paths do not name is read when its first bytes are columnar data the readers
    read, a table or JSON (:func:`content.text_format`; compressed members go by name only)."""
    if any(head.startswith(m) for m, k in R.DATA_MAGIC if k in R.READ_BINARY):
        return True
    return content.text_format(head[:content.HEAD], len(head) <= content.HEAD) is not None


def _read_binary(head: bytes) -> bool:
    """Binary content the readers read: columnar magic, a compressed stream."""
    return any(head.startswith(m) for m, k in R.DATA_MAGIC if k in R.READ_BINARY) \
        or any(head.startswith(m) for m, _ in R.MAGIC) or head.startswith(R.ARROW_STREAM)


class _Budget:
    """The members' bytes so far, against the caps of the whole archive."""

    def __init__(self, path: Path, limits: R.Limits) -> None:
        self.path, self.limits, self.out = path, limits, 0
        self.size = max(os.stat(path).st_size, 1)

    def take(self, n: int) -> None:
        self.out += n
        lim = self.limits
        if self.out > lim.max_decompressed_bytes:
            raise InputError(str(self.path), f"archive members exceed the cap of {lim.max_decompressed_bytes >> 20} MiB "
                             "(gates.pii.max_decompressed_mb)")
        if self.out > lim.ratio_floor and self.out > lim.max_ratio * self.size:
            raise InputError(str(self.path), f"archive members above {lim.max_ratio:g} times the archive's size after "
                             f"{self.out >> 20} MiB: a decompression bomb? (gates.pii.max_decompression_ratio)")

    def copy(self, src: IO[bytes], out: BinaryIO) -> None:
        while True:
            block = src.read(1 << 20)
            if not block:
                return
            self.take(len(block))
            out.write(block)


def _zip(path: Path, limits: R.Limits) -> Iterator[tuple[str, Any, bool]]:
    with R.open_binary(path, None, limits) as fh:  # a regular file within max_file_mb, never blocking
        try:
            end = zipfile._EndRecData(fh)  # type: ignore[attr-defined]  # the entry count, before the directory is parsed
            if end and end[zipfile._ECD_ENTRIES_TOTAL] > MAX_MEMBERS:  # type: ignore[attr-defined]
                raise InputError(str(path), f"more than {MAX_MEMBERS:,} members: not read")
            zf = zipfile.ZipFile(fh)
        except InputError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
            raise InputError(str(path), f"cannot read as ZIP ({type(exc).__name__})") from None
        with zf:
            for info in zf.infolist():
                kind = stat.S_IFMT(info.external_attr >> 16)
                if info.is_dir() or kind not in (0, stat.S_IFREG):
                    continue  # directories, and links or devices a Unix zip recorded (0: no type recorded)
                yield info.filename, (lambda info=info: zf.open(info)), bool(info.flag_bits & 0x1)


class _Guarded:
    """The TAR's bytes, refusing any single read above :data:`MAX_HEADER`: ``tarfile`` reads a
    PAX or GNU long-name header whole, and member data is read here in 1 MiB blocks."""

    def __init__(self, fh: BinaryIO, path: Path) -> None:
        self.fh, self.path = fh, path

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > MAX_HEADER:
            raise InputError(str(self.path), "a TAR header larger than 1 MiB: not read")
        return self.fh.read(n)

    def seek(self, *a: Any) -> int:
        return self.fh.seek(*a)

    def tell(self) -> int:
        return self.fh.tell()


def _tar(path: Path, limits: R.Limits) -> Iterator[tuple[str, Any, bool]]:
    comp = R.detect(path)[1]
    # a compressed TAR is decompressed (within the caps) to an anonymous file first: tarfile
    # seeks, and reading it from a seekable file lets every read be checked (see _Guarded)
    fh = R.open_binary(path, None, limits) if comp is None else R.spool(path, comp, limits)
    with fh:
        try:
            tf = tarfile.open(fileobj=_Guarded(fh, path), mode="r:")  # type: ignore[call-overload]
        except InputError:
            raise
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise InputError(str(path), f"cannot read as TAR ({type(exc).__name__})") from None
        with tf:
            while True:
                try:
                    info = tf.next()
                except InputError:
                    raise
                except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                    raise InputError(str(path), f"cannot read as TAR ({type(exc).__name__})") from None
                if info is None:
                    return
                if info.isreg():
                    yield info.name, (lambda info=info: _member(tf, info)), False


def _member(tf: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    f = tf.extractfile(info)
    if f is None:
        raise tarfile.TarError("not a regular member")
    return f
