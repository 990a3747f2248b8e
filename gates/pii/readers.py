"""Dataset readers: every format becomes a stream of column chunks with row numbers.

A :class:`Chunk` holds labelled string columns (a CSV/Parquet column name, a JSON path, or
``None`` for the lines of a text file) and how their cells map to rows: the 1-based data row of a
CSV/TSV/Parquet file, the line of a JSONL or text file, the record of a JSON array. Reading is
bounded: a cap on the file size, on the decompressed size (a gzip bomb stops at the cap, it is not
inflated into memory), and on JSON nesting. Error messages name the file and the problem, never a
cell: the input may be the very PII we are looking for.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import json
import lzma
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

import pyarrow as pa

from gates.core.errors import InputError

from . import content as _content
from . import sniff

COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "xz", ".zst": "zstd", ".zstd": "zstd"}
MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))
FORMAT_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".psv": "csv", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".jsonlines": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".txt": "text",
    ".log": "text", ".text": "text", ".md": "text", ".sql": "text", ".yaml": "yaml", ".yml": "yaml", ".xml": "text",
    ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow", ".arrows": "arrow", ".orc": "orc",
}
#: data containers the gate recognises by name but does not read: reported (PII006), never skipped
UNREAD_SUFFIXES = {
    ".avro": "Avro", ".sqlite": "SQLite", ".sqlite3": "SQLite", ".db": "database", ".h5": "HDF5", ".hdf5": "HDF5",
    ".xlsx": "Excel workbook", ".xls": "Excel workbook", ".ods": "OpenDocument spreadsheet", ".dta": "Stata",
    ".sav": "SPSS", ".sas7bdat": "SAS", ".rds": "R data", ".rdata": "R data",
}
FORMATS = ("auto", "csv", "tsv", "json", "jsonl", "yaml", "parquet", "arrow", "orc", "text")
#: binary columnar formats pyarrow reads (compressed variants are decompressed to a spool file)
READ_BINARY = ("parquet", "arrow", "orc")
DATASET_GLOBS = tuple(
    f"**/*{ext}{comp}"
    for ext in (".csv", ".tsv", ".tab", ".json", ".jsonl", ".ndjson", ".parquet", ".pq", ".txt", ".log", ".yaml", ".yml",
                ".arrow", ".feather", ".arrows", ".orc")
    for comp in ("", ".gz", ".bz2", ".xz", ".zst")
    if not (ext in (".parquet", ".pq", ".arrow", ".feather", ".arrows", ".orc") and comp)
) + tuple(f"**/*{ext}" for ext in UNREAD_SUFFIXES) + tuple(
    # archives: their members are read (archives.py)
    f"**/*{ext}" for ext in (".zip", ".tar", ".tgz", ".tbz2", ".txz", ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst"))
TEXT_CHUNK_LINES = 65_536
#: JSON/YAML values collected before a chunk is scanned (bounds the walker's Python objects)
WALK_VALUES = 100_000
JSON_MAX_DEPTH = 100
MAX_LINE = 1 << 20
CSV_BLOCK_BYTES = 6 << 20  # one chunk of work (a 300 MB dense CSV: 310 MB peak RSS at 8 MiB, 266 at 6, same speed)
#: files up to this size are read in chunks twice as large: fewer chunks, fewer per-chunk costs
#: (50 MB of dense Faker data: 1.07 -> 1.01 s; peak RSS 255 -> 269 MB). Larger files keep
#: CSV_BLOCK_BYTES: 12 MiB chunks took a 300 MB dense CSV to 329 MB
CSV_MID_FILE = 64 << 20
#: pyarrow's CSV block (a row longer than this is scanned as text); blocks are joined into chunks
CSV_READ_BYTES = 1 << 20
#: in one process, bigger Parquet/JSONL batches: pyarrow compiles a regex per call, so fewer calls pay
#: off (not for CSV: its reader parses small blocks faster, in parallel)
INLINE_SCALE = 4


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may cost. Every one is a policy option (``gates.pii.*``)."""

    max_file_bytes: int = 4 << 30
    max_decompressed_bytes: int = 16 << 30
    max_json_bytes: int = 64 << 20
    encoding: str = "utf-8"
    #: decompressed bytes per compressed byte; checked once ``ratio_floor`` bytes came out (small
    #: files may compress extremely well and are harmless)
    max_ratio: float = 1000.0
    ratio_floor: int = 32 << 20
    #: a longer text line is scanned in pieces of this many characters, with seams across the cuts
    max_line: int = MAX_LINE
    #: characters either side of a cut that a seam keeps (longer than any value we look for)
    seam: int = 8192
    #: characters of text lines buffered into one chunk before it is scanned
    chunk_chars: int = 8 << 20
    #: bytes pyarrow's CSV reader parses at a time (a row longer than this is read as text);
    #: 0: the module's CSV_BLOCK_BYTES
    csv_block: int = 0


@dataclass
class Column:
    label: str | None
    values: pa.Array
    rows: Sequence[int] | None = None      # None: row_base + i + 1
    paths: Sequence[str] | None = None     # concrete JSON paths, per value
    #: seams of long lines: cell i only counts matches that touch or straddle position cross[i]
    cross: Sequence[int] | None = None
    #: pieces of long lines: 1 = cut before the cell, 2 = cut after it (matches at a cut edge
    #: are left to the seam)
    edges: Sequence[int] | None = None


@dataclass
class Chunk:
    columns: list[Column]
    row_base: int = 0
    nrows: int = 0
    lines: bool = False  # rows are line numbers


@dataclass
class FileInfo:
    """What the reader learnt about a file, for the report."""

    format: str
    compression: str | None = None
    #: the archive member this is (see archives.py); its findings carry it
    member: str | None = None
    rows: int = 0
    row_groups: list[int] = field(default_factory=list)  # Parquet: first data row (1-based) of each group
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # partial failures: the gate errors on these


class Binary(Exception):
    """The file holds binary data, not a dataset format we read."""


class NotScanned(Exception):
    """The file is a data format the gate recognises but does not read (reported, not skipped)."""

    def __init__(self, path: str, kind: str) -> None:
        super().__init__(path)
        self.kind = kind


@dataclass(frozen=True)
class Failure:
    """Why a file was not scanned, in a form that crosses process boundaries (the exceptions
    above take arguments of their own, so they do not pickle) and never quotes the input:
    ``kind`` is binary | format | input | os | other; ``detail`` the format's name, the reader's
    own reason, or the exception's type."""

    kind: str
    detail: str = ""


def failure_of(exc: BaseException) -> Failure:
    if isinstance(exc, Binary):
        return Failure("binary")
    if isinstance(exc, NotScanned):
        return Failure("format", exc.kind)
    if isinstance(exc, InputError):
        return Failure("input", exc.reason)
    if isinstance(exc, (OSError, EOFError)):
        return Failure("os", type(exc).__name__)
    return Failure("other", type(exc).__name__)


# ---- opening -----------------------------------------------------------------------------------

class _Counting(io.RawIOBase):
    """The compressed file, counting the bytes the decompressor took from it."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh, self.count = fh, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self.fh.readinto(b)
        self.count += n or 0
        return n or 0

    def close(self) -> None:
        self.fh.close()
        super().close()


class BoundedReader(io.RawIOBase):
    """Reads through ``inner`` and fails once more than ``limit`` bytes came out of it, or once
    the output outgrows the compressed input read so far by more than ``limits.max_ratio``
    (a decompression bomb is stopped after a few MiB, not inflated to the size cap)."""

    def __init__(self, inner: BinaryIO, limits: Limits, path: Path, source: _Counting | None = None) -> None:
        self.inner, self.limit, self.path, self.count = inner, limits.max_decompressed_bytes, path, 0
        self.source, self.ratio, self.floor = source, limits.max_ratio, limits.ratio_floor

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:
            data = self.inner.read(len(b))
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - zlib.error, LZMAError, ZstdError, EOFError...: never their text
            raise InputError(str(self.path), f"cannot decompress: {type(exc).__name__} (corrupt or truncated stream)") from None
        n = len(data)
        self.count += n
        if self.count > self.limit:
            raise InputError(str(self.path), f"decompressed size exceeds the cap of {self.limit >> 20} MiB (gates.pii.max_decompressed_mb)")
        if self.source is not None and self.count > self.floor and self.count > self.ratio * max(self.source.count, 1):
            raise InputError(str(self.path), f"decompression ratio above {self.ratio:g}:1 after {self.count >> 20} MiB: a decompression "
                             "bomb? (gates.pii.max_decompression_ratio)")
        b[:n] = data
        return n

    def close(self) -> None:
        self.inner.close()
        super().close()


def _open_regular(path: Path) -> BinaryIO:
    """Open a regular file without ever blocking: a FIFO or a device under a dataset name is
    refused before any read (O_NONBLOCK keeps even the open of a FIFO from waiting)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(str(path), "not a regular file (a FIFO, socket or device): not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


#: magic bytes at offset 0 → data formats we recognise (read or reported, never skipped silently)
DATA_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PAR1", "parquet"), (b"ARROW1", "arrow"), (b"ORC", "orc"), (b"Obj\x01", "Avro"),
    (b"SQLite format 3\x00", "SQLite"), (b"\x89HDF\r\n\x1a\n", "HDF5"), (b"\x93NUMPY", "NumPy"),
    (b"PK\x03\x04", "ZIP archive"), (b"PK\x05\x06", "ZIP archive"), (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"), (b"\x89PNG", "PNG image"), (b"%PDF-", "PDF"), (b"\xd0\xcf\x11\xe0", "OLE2 (XLS/DOC)"),
    (b"TFL3", "TFLite"), (b"FEA1", "arrow"), (b"\x80\x02", "pickle"), (b"\x80\x03", "pickle"), (b"\x80\x04", "pickle"), (b"\x80\x05", "pickle"),
)
#: Arrow IPC stream format (no file magic): a continuation marker, then a schema message
ARROW_STREAM = b"\xff\xff\xff\xff"


def detect(path: Path, forced: str = "auto") -> tuple[str, str | None]:
    """(format, compression) from the magic bytes first, then the file name."""
    with _open_regular(path) as fh:
        head = fh.read(16)
        if head.startswith(b"ORC"):  # also a text file could start so: the postscript ends in ORC + length
            fh.seek(max(0, os.fstat(fh.fileno()).st_size - 4))
            if fh.read(3) != b"ORC":
                head = b""
    compression = next((c for m, c in MAGIC if head.startswith(m)), None)
    name = path.name.lower()
    suffixes = Path(name).suffixes
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        compression = compression or COMPRESSION_SUFFIXES[suffixes[-1]]
        suffixes = suffixes[:-1]
    if forced != "auto":
        return forced, compression
    if compression is None:
        kind = next((k for m, k in DATA_MAGIC if head.startswith(m)), None)
        if kind is not None:
            return (kind, None) if kind in READ_BINARY else (f"unread:{kind}", None)
        if head.startswith(ARROW_STREAM) and (suffixes[-1:] in ([".arrows"], [".arrow"], [".feather"], [".ipc"])):
            return "arrow", None
    last = suffixes[-1] if suffixes else ""
    if last in UNREAD_SUFFIXES and not compression:
        return f"unread:{UNREAD_SUFFIXES[last]}", None
    if last not in FORMAT_SUFFIXES and compression is None:
        # no dataset name: the content says (a table, JSON Lines, JSON), else lines of text
        with _open_regular(path) as fh:
            more = fh.read(_content.HEAD + 1)
        return _content.text_format(more[:_content.HEAD], len(more) <= _content.HEAD) or "text", None
    return FORMAT_SUFFIXES.get(last, "text"), compression


def open_binary(path: Path, compression: str | None, limits: Limits) -> BinaryIO:
    raw = _open_regular(path)
    size = os.fstat(raw.fileno()).st_size
    if size > limits.max_file_bytes:
        raw.close()
        raise InputError(str(path), f"file is {size >> 20} MiB, above the cap of {limits.max_file_bytes >> 20} MiB (gates.pii.max_file_mb)")
    if compression is None:
        return raw
    src = _Counting(raw)
    try:
        if compression == "gzip":
            inner: BinaryIO = gzip.GzipFile(fileobj=src, mode="rb")
        elif compression == "bz2":
            inner = bz2.BZ2File(src, "rb")
        elif compression == "xz":
            inner = lzma.LZMAFile(src, "rb")
        else:
            import zstandard

            inner = zstandard.ZstdDecompressor().stream_reader(src, closefd=True, read_across_frames=True)
    except OSError as exc:
        src.close()
        raise InputError(str(path), f"cannot open {compression} stream ({type(exc).__name__})") from None
    return io.BufferedReader(_Closing(BoundedReader(inner, limits, path, src), src), buffer_size=1 << 20)


class _Closing(io.RawIOBase):
    """Closes the compressed file too (GzipFile/BZ2File/LZMAFile leave a passed file open)."""

    def __init__(self, inner: BoundedReader, src: _Counting) -> None:
        self.inner, self.src = inner, src

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        return self.inner.readinto(b)

    def close(self) -> None:
        try:
            self.inner.close()
        finally:
            self.src.close()
            super().close()


#: bytes :func:`read_head` reads: a file shorter than this is whole in its head
HEAD_BYTES = 65536


def read_head(path: Path, compression: str | None, limits: Limits, n: int = HEAD_BYTES) -> bytes:
    try:
        with open_binary(path, compression, limits) as fh:
            return fh.read(n)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputError(str(path), f"cannot decompress ({compression}): {type(exc).__name__}") from None
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            raise InputError(str(path), f"cannot decompress (zstd): {type(exc).__name__}") from None
        raise


#: UTF-32's byte order marks: checked before UTF-16's, whose little-endian mark begins UTF-32's
#: (read as UTF-16, a UTF-32 file is text with a NUL after every character: nothing matched, and
#: the file passed)
_BOM32 = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


def sniff_encoding(head: bytes, default: str) -> str:
    if head.startswith(_BOM32):
        return "utf-32"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if default.replace("_", "-").lower() in ("utf-8", "utf8") else default
    return default


_CONTROL = bytes([*range(9), *range(14, 32)])


def is_binary(head: bytes) -> bool:
    """NUL bytes or mostly control characters in the first block (UTF-16 excluded by its BOM)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, *_BOM32)):
        return False
    if b"\x00" in head:
        return True
    if not head:
        return False
    block = head[:8192]
    ctrl = len(block) - len(block.translate(None, _CONTROL))
    return ctrl / len(block) > 0.1


# ---- entry point ---------------------------------------------------------------------------------

def _csv_chunk_bytes(path: Path, comp: str | None) -> int:
    """Chunk size for a CSV: larger for a mid-sized plain file, the default for a large or a
    compressed one (whose size says nothing of what it holds)."""
    try:
        small = comp is None and path.stat().st_size <= CSV_MID_FILE
    except OSError:
        small = False
    return 2 * CSV_BLOCK_BYTES if small else CSV_BLOCK_BYTES


#: names that say "text" without saying which: what such a file holds decides how it is read
#: (Markdown, SQL and XML stay documents)
PLAIN_TEXT_SUFFIXES = frozenset({".txt", ".text", ".log"})


def plain_text_name(path: Path, comp: str | None) -> bool:
    """Whether ``path``'s name (past a compression suffix) gives no format but plain text."""
    suffixes = [s.lower() for s in path.suffixes]
    if comp is not None and suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    return last in PLAIN_TEXT_SUFFIXES or last not in FORMAT_SUFFIXES


def read(path: Path, limits: Limits, forced: str = "auto", batch_rows: int = 65_536, inline: bool = False) -> tuple[FileInfo, Iterator[Chunk]]:
    """Open ``path`` and return what it is plus an iterator over its chunks.

    The format comes from the content first (magic bytes, also inside a compressed stream), then
    from the name. Raises :class:`InputError` for unreadable input, :class:`Binary` for binary
    content in a file whose type was not given and :class:`NotScanned` for a data format the
    gate recognises but does not read.
    """
    fmt, comp = detect(path, forced)
    if fmt.startswith("unread:"):
        raise NotScanned(str(path), fmt.split(":", 1)[1])
    info = FileInfo(fmt, comp)
    scale = INLINE_SCALE if inline else 1
    batch_rows *= scale
    if fmt in READ_BINARY and comp is None:
        return info, _columnar(path, None, limits, info, fmt, batch_rows)
    head = read_head(path, comp, limits)
    if comp is not None and forced == "auto":
        inner = next((k for m, k in DATA_MAGIC if head.startswith(m)), None)
        if inner in READ_BINARY:
            info.format = inner
            return info, _columnar(path, comp, limits, info, inner, batch_rows)
        if inner is not None:
            raise NotScanned(str(path), f"{comp}-compressed {inner}")
    if fmt in READ_BINARY:
        return info, _columnar(path, comp, limits, info, fmt, batch_rows)
    if forced == "auto" and head[257:262] == b"ustar":  # a TAR (also compressed): its members are read (archives.py)
        raise NotScanned(str(path), "TAR archive")
    if is_binary(head):
        if forced == "auto" and fmt == "text" and path.suffix.lower() not in FORMAT_SUFFIXES:
            raise Binary(str(path))
        raise InputError(str(path), f"binary content where {fmt.upper()} text was expected")
    if forced == "auto" and fmt == "text" and plain_text_name(path, comp):
        # a table, JSON Lines or JSON under a plain-text name (``people.txt``, ``export.log``,
        # ``backup.gz``) is read as what it is: as lines of text its columns' headers were lost,
        # and a table of names, birth dates and addresses passed
        got = _content.text_format(head[:_content.HEAD], len(head) <= _content.HEAD)
        if got is not None:
            fmt = info.format = got
    enc = sniff_encoding(head, limits.encoding)
    if fmt in ("csv", "tsv"):
        return info, _csv(path, comp, limits, info, fmt, head, enc, limits.csv_block or _csv_chunk_bytes(path, comp))
    if fmt == "json":
        return info, _json(path, comp, limits, info, enc, batch_rows)
    if fmt == "yaml":
        return info, _yaml(path, comp, limits, info, enc)
    if fmt == "jsonl":
        return info, _jsonl(path, comp, limits, info, enc, batch_rows)
    return info, _text(path, comp, limits, info, enc)


# ---- CSV / TSV -----------------------------------------------------------------------------------

_SAFE_CSV_ERROR = re.compile(r"^(CSV parse error: Expected \d+ columns, got \d+|CSV conversion error[^:]*|Empty CSV file)")


def csv_dialect(sample: str, fmt: str) -> tuple[str, str | None, bool, str | None]:
    """(delimiter, quotechar, doublequote, escapechar) from csv.Sniffer (:mod:`.sniff`), with a
    format default."""
    default = "\t" if fmt == "tsv" else ","
    lines = sample.splitlines(keepends=True)
    body = "".join(lines[:-1]) if len(lines) > 1 else sample
    fast = _plain_delimiter(body[:32768])
    if fast is not None:
        delim = "\t" if fmt == "tsv" and fast != "\t" and "\t" in lines[0] else fast
        return delim, '"', False, None
    try:
        delim, quote, doublequote, escape = sniff.dialect(body[:32768], ",\t;|")
        if fmt == "tsv" and delim != "\t" and "\t" in lines[0]:
            delim = "\t"
        return delim, quote, doublequote, escape
    except csv.Error:
        return default, '"', True, None


def _plain_delimiter(sample: str) -> str | None:
    """The delimiter ``csv.Sniffer`` would find, when the answer is plain: no quote characters,
    and exactly one of the candidates occurs, the same number of times on every non-empty line
    (the Sniffer then picks it, with ``doublequote`` False, the dialect returned above). None
    otherwise: the Sniffer decides. Its character statistics cost ~1 ms a file, most of a
    small file's reading."""
    if '"' in sample or "'" in sample:
        return None
    rows = [line for line in sample.split("\n") if line]
    if not rows:
        return None
    found = None
    for d in ",\t;|":
        n = rows[0].count(d)
        if n == 0:
            if any(d in r for r in rows):
                return None  # present but not on the first line: not plain
            continue
        if found is not None or any(r.count(d) != n for r in rows):
            return None
        found = d
    return found


def _header(sample: str, delim: str, quote: str | None) -> list[str]:
    try:
        row = next(csv.reader(io.StringIO(sample), delimiter=delim, quotechar=quote or '"'))
    except (StopIteration, csv.Error):
        return []
    names, seen = [], {}
    for i, n in enumerate(row):
        n = n.strip() or f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
        names.append(n)
    return names


def _malformed(bad: list[tuple[int | None, str]], base: int, info: FileInfo) -> Column:
    """Rows with the wrong number of fields: scanned whole, so nothing hides in them."""
    col = Column("(malformed rows)", pa.array([t for _, t in bad], pa.string()), rows=[n if n is not None else base + 1 for n, _ in bad])
    info.notes.append(f"{len(bad)} row(s) with the wrong number of fields were scanned as whole lines")
    bad.clear()
    return col


def _csv(path: Path, comp: str | None, limits: Limits, info: FileInfo, fmt: str, head: bytes, enc: str, block: int) -> Iterator[Chunk]:
    import pyarrow.csv as pcsv

    sample = head.decode(enc if enc.startswith(("utf-16", "utf-32")) else "utf-8", errors="replace").lstrip("\ufeff")
    delim, quote, dq, esc = csv_dialect(sample, fmt)
    names = _header(sample, delim, quote)
    if not names:
        return
    from .scanner import sensitive

    skip_header = 1
    if any(sensitive(n) for n in names):
        # the first line holds data (an email, a card...), not column names: never print it
        names = [f"column_{i + 1}" for i in range(len(names))]
        skip_header = 0
        info.notes.append("the first line holds personal data or secrets, so it was read as data (columns are numbered)")
    keys = [f"c{i}" for i in range(len(names))]
    bad: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        bad.append((row.number if row.number and row.number > 0 else None, row.text))
        return "skip"

    # pyarrow's reader holds some 30 blocks in flight: small blocks keep its memory flat (RSS on a
    # 300 MB file), and they are joined back into chunks of ``block`` bytes for the scanner. It
    # parses on the read-ahead thread itself (use_threads=False): the scan's threads already keep
    # both cores busy, and pyarrow's own pool only competed with them (sparse 50 MB: CPU 0.58 ->
    # 0.56 s, wall the same or better; 300 MB files: same time and RSS)
    ropts = pcsv.ReadOptions(column_names=keys, skip_rows=skip_header, block_size=min(block, CSV_READ_BYTES), use_threads=False,
                             encoding=enc.replace("-sig", ""))
    popts = pcsv.ParseOptions(delimiter=delim, quote_char=quote or False, double_quote=dq, escape_char=esc or False,
                              newlines_in_values=True, invalid_row_handler=on_invalid)
    copts = pcsv.ConvertOptions(column_types={k: pa.string() for k in keys}, strings_can_be_null=False, quoted_strings_can_be_null=False)
    # a file shorter than its head is parsed from the head already read (decompressed, and
    # under the size cap): opening it again, twice, and pyarrow's read-ahead thread cost more
    # than parsing 8 KB (reading 592 small files: 364 -> 305 µs a file, with the bound below)
    whole = len(head) < HEAD_BYTES
    src: Any = pa.BufferReader(head) if whole else str(path) if comp is None else open_binary(path, comp, limits)
    base, oversized, bound = 0, False, 0
    acc: list[pa.RecordBatch] = []
    if comp is None and not whole:
        open_binary(path, None, limits).close()  # size cap
    try:
        try:
            reader = pcsv.open_csv(src, read_options=ropts, parse_options=popts, convert_options=copts)
        except pa.ArrowInvalid as exc:
            if "Empty CSV" in str(exc):
                return
            raise
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            acc.append(batch)
            # the buffers' sizes bound the batches' bytes from above and cost ~1 µs where
            # ``nbytes`` costs ~25 (a third of parsing a small file): the exact sum is taken
            # only once the bound reaches the block, so chunks are cut where they were
            bound += batch.get_total_buffer_size()
            if bound >= block and sum(b.nbytes for b in acc) >= block:
                yield _csv_chunk(acc, names, bad, base, info)
                base += sum(b.num_rows for b in acc)
                info.rows = base
                acc, bound = [], 0
        if acc:
            yield _csv_chunk(acc, names, bad, base, info)
            base += sum(b.num_rows for b in acc)
            info.rows = base
            acc = []
        if bad:
            yield Chunk([_malformed(bad, base, info)], base, 0)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc)
        if "straddl" in msg:
            oversized = True  # a row longer than a CSV block: the rest is read as text, below
        else:
            m = _SAFE_CSV_ERROR.match(msg)
            if "UTF8" in msg or "utf-8" in msg.lower() or isinstance(exc, UnicodeDecodeError):
                raise InputError(str(path), f"not valid {enc} text (set gates.pii.encoding, e.g. latin-1)") from None
            raise InputError(str(path), f"cannot parse as {fmt.upper()}: {m.group(1) if m else type(exc).__name__}") from None
    finally:
        if comp is not None and not whole:
            src.close()
    if oversized:
        if acc:  # parsed before the long row: scanned as columns
            yield _csv_chunk(acc, names, bad, base, info)
            base += sum(b.num_rows for b in acc)
        # every CSV row is at least one line, so skipping as many lines as rows were read (plus
        # the header) never skips an unread row; lines of the rows since are scanned as text
        info.notes.append(f"a row longer than the CSV block ({block >> 10} KiB) after data row {base}: the rest of the file "
                          "was scanned as text lines, without columns")
        rows = base
        yield from _text(path, comp, limits, info, enc, skip=base + skip_header)
        info.rows = max(rows, info.rows - skip_header)


def _csv_chunk(batches: list[pa.RecordBatch], names: list[str], bad: list[tuple[int | None, str]], base: int,
               info: FileInfo) -> Chunk:
    """One chunk of CSV rows from consecutive record batches (their columns joined)."""
    if len(batches) == 1:
        arrays = batches[0].columns
    else:
        t = pa.Table.from_batches(batches)
        arrays = [t.column(i).combine_chunks() for i in range(t.num_columns)]
    cols = [Column(names[i], arrays[i]) for i in range(len(arrays))]
    if bad:
        cols.append(_malformed(bad, base, info))
    return Chunk(cols, base, sum(b.num_rows for b in batches))


# ---- Parquet -------------------------------------------------------------------------------------

def _flatten(arr: pa.Array, label: str, rows: list[int] | None, depth: int = 0) -> Iterator[tuple[str, pa.Array, list[int] | None]]:
    """Structs become ``a.b`` columns, lists ``a[]`` columns with rows mapped back to parents."""
    from . import compute as pc

    t = arr.type
    if depth > JSON_MAX_DEPTH:
        return
    if pa.types.is_struct(t):
        for i in range(t.num_fields):
            child = arr.field(i)
            if arr.null_count:
                child = pc.if_else(pc.is_valid(arr), child, pa.nulls(len(child), child.type))
            yield from _flatten(child, f"{label}.{_safe_name(t.field(i).name, i)}", rows, depth + 1)
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        parents = pc.list_parent_indices(arr).to_pylist()
        flat = pc.list_flatten(arr)
        base_rows = [(rows[p] if rows is not None else p) for p in parents]
        yield from _flatten(flat, f"{label}[]", base_rows, depth + 1)
    elif pa.types.is_map(t):
        yield from _flatten(pa.ListArray.from_arrays(arr.offsets, arr.keys), f"{label}{{key}}", rows, depth + 1)
        yield from _flatten(pa.ListArray.from_arrays(arr.offsets, arr.items), f"{label}{{}}", rows, depth + 1)
    else:
        yield label, arr, rows


def _safe_name(name: str, i: int) -> str:
    """A schema name, unless it is itself a value we look for (then its position)."""
    from .scanner import sensitive

    return f"column_{i + 1}" if sensitive(name) else name


def spool(path: Path, comp: str, limits: Limits) -> BinaryIO:
    """A compressed file, decompressed (within the caps) to an anonymous temporary file, for
    readers that seek (columnar formats, a compressed TAR): the data must not sit in memory."""
    import shutil
    import tempfile

    tmp = tempfile.TemporaryFile(prefix="mlsec-gates-pii-")
    try:
        with open_binary(path, comp, limits) as fh:
            shutil.copyfileobj(fh, tmp, 1 << 20)
    except BaseException:
        tmp.close()
        raise
    tmp.seek(0)
    return tmp


def _batches(fmt: str, src: Any, path: Path, info: FileInfo, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of at most ``batch_rows`` rows from a Parquet, Arrow IPC/Feather or ORC file."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(src)
        start = 1
        for i in range(pf.metadata.num_row_groups):
            info.row_groups.append(start)
            start += pf.metadata.row_group(i).num_rows
        yield from pf.iter_batches(batch_size=batch_rows)
        return
    if fmt == "orc":
        import pyarrow.orc as orc

        of = orc.ORCFile(src)
        for i in range(of.nstripes):
            stripe = of.read_stripe(i)
            yield from (pa.Table.from_batches([stripe]) if isinstance(stripe, pa.RecordBatch) else stripe).to_batches(batch_rows)
        return
    import pyarrow.ipc as ipc

    src.seek(0)
    magic = src.read(8)
    src.seek(0)
    if magic.startswith(b"FEA1"):
        import pyarrow.feather as feather

        yield from feather.read_table(src).to_batches(batch_rows)
    elif magic.startswith(b"ARROW1"):
        rd = ipc.open_file(src)
        for i in range(rd.num_record_batches):
            yield from pa.Table.from_batches([rd.get_batch(i)]).to_batches(batch_rows)
    else:
        for b in ipc.open_stream(src):
            yield from pa.Table.from_batches([b]).to_batches(batch_rows)


_COLUMNAR_NAMES = {"parquet": "Parquet", "arrow": "Arrow IPC/Feather", "orc": "ORC"}


def _columnar(path: Path, comp: str | None, limits: Limits, info: FileInfo, fmt: str, batch_rows: int) -> Iterator[Chunk]:
    from .kernels import as_strings

    fh = open_binary(path, None, limits) if comp is None else spool(path, comp, limits)
    what = _COLUMNAR_NAMES[fmt]
    try:
        base = 0
        try:
            for batch in _batches(fmt, fh, path, info, batch_rows):
                # an Arrow IPC file is used as it lies on disk: corrupt offsets would make the
                # kernels read out of bounds (a crash found by fuzzing), so every batch is checked
                batch.validate(full=True)
                cols: list[Column] = []
                for i, (name, arr) in enumerate(zip(batch.schema.names, batch.columns)):
                    for label, leaf, rows in _flatten(arr, _safe_name(name, i), None):
                        s = as_strings(leaf)
                        if s is None:
                            continue
                        if rows is not None:
                            cols.append(Column(label, s, rows=[base + r + 1 for r in rows]))
                        else:
                            cols.append(Column(label, s))
                yield Chunk(cols, base, batch.num_rows)
                base += batch.num_rows
                info.rows = base
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, EOFError, ValueError, IndexError) as exc:
            if base == 0:
                raise InputError(str(path), f"not a readable {what} file ({type(exc).__name__})") from None
            raise InputError(str(path), f"cannot read {what} data after row {base} ({type(exc).__name__})") from None
    finally:
        fh.close()


# ---- JSON / JSONL --------------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_\- ]{0,63}$")


from .scanner import sensitive  # noqa: E402  (readers → scanner is one-way)


class _Walker:
    """Collects scalar values by normalised path (``users[].email``) with row and concrete path."""

    def __init__(self, path: Path, budget: int | None = None, kind: str = "JSON") -> None:
        self.file = path
        self.cols: dict[str, tuple[list[str], list[int], list[str]]] = {}
        #: nodes the walk may visit: YAML aliases can make a 1 KB document expand to billions
        self.budget = budget
        self.kind = kind
        self.chars = 0
        self.values = 0  # values with their rows and paths are Python objects: ~200 bytes each

    def full(self, limits: "Limits") -> bool:
        return self.chars >= limits.chunk_chars or self.values >= WALK_VALUES

    def add(self, label: str, value: str, row: int, where: str) -> None:
        c = self.cols.get(label)
        if c is None:
            c = self.cols[label] = ([], [], [])
        c[0].append(value)
        c[1].append(row)
        c[2].append(where)
        self.chars += len(value)
        self.values += 1

    def walk(self, obj: Any, row: int | None, label: str, where: str, fixed_row: bool, depth: int = 0) -> None:
        # children are pushed last first, so they are popped (and each column's values come)
        # in document order: a column's first values are its sample, and its first rows are
        # where its findings point
        stack = [(obj, row, label, where, depth)]
        while stack:
            o, r, lab, wh, depth = stack.pop()
            if depth > JSON_MAX_DEPTH:
                raise InputError(str(self.file), f"{self.kind} nesting deeper than {JSON_MAX_DEPTH} levels")
            if self.budget is not None:
                self.budget -= 1
                if self.budget < 0:
                    raise InputError(str(self.file), f"{self.kind} document expands to far more values than its size allows "
                                     "(aliases?): not expanded")
            if isinstance(o, dict):
                children = []
                for k, v in o.items():
                    k = str(k)
                    if _IDENT.match(k) and not sensitive(k):
                        part = k
                    else:
                        part = "*"
                        self.add(f"{lab}.{{key}}" if lab else "{key}", k, r or 1, wh)
                    children.append((v, r, f"{lab}.{part}" if lab else part, f"{wh}.{part}" if part != "*" else f"{wh}[*]", depth + 1))
                stack.extend(reversed(children))
            elif isinstance(o, list):
                for i in range(len(o) - 1, -1, -1):
                    v = o[i]
                    rr = r if (r is not None or fixed_row) else i + 1
                    # the records of a top-level array are rows: their fields are the columns
                    stack.append((v, rr, f"{lab}[]" if (lab or depth) else "", f"{wh}[{i}]", depth + 1))
            elif isinstance(o, str):
                self.add(lab or "$", o, r or 1, wh)
            elif isinstance(o, int) and not isinstance(o, bool):
                self.add(lab or "$", str(o), r or 1, wh)

    def columns(self) -> list[Column]:
        out = []
        for label, (vals, rows, paths) in self.cols.items():
            out.append(Column(label, pa.array(vals, pa.string()), rows=rows, paths=paths))
        return out


def _loads(text: str, path: Path, where: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(str(path), f"JSON nesting too deep{where}") from None


def _document(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str, kind: str) -> str | None:
    """A JSON or YAML document's text, or None (with a note) when it is larger than the cap:
    such a file is then scanned as text lines, in bounded pieces, without its structure."""
    with open_binary(path, comp, limits) as fh:
        raw = fh.read(limits.max_json_bytes + 1)
    if len(raw) > limits.max_json_bytes:
        del raw
        info.notes.append(f"{kind} document larger than {limits.max_json_bytes >> 20} MiB (gates.pii.max_json_mb): scanned as text "
                          "lines, without its structure (JSON Lines keeps records apart)")
        return None
    try:
        return raw.decode(enc)
    except UnicodeDecodeError:
        raise InputError(str(path), f"not valid {enc} text (set gates.pii.encoding)") from None


_WS = re.compile(r"[ \t\r\n]*")


class _Oversize(Exception):
    """An element of a streamed JSON array is larger than the cap; ``line`` is where it starts."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _JsonArray:
    """The elements of a top-level JSON array, decoded one at a time from a text stream, so an
    array of records (the usual shape of a big JSON dataset) is never held whole: memory is
    bounded by the largest record (``cap`` characters), not by the file."""

    def __init__(self, text: Any, path: Path, cap: int) -> None:
        self.t, self.path, self.cap = text, path, cap
        self.buf, self.pos, self.eof = "", 0, False
        self.line0, self.col0 = 1, 1  # where buf[0] is in the file
        self.dec = json.JSONDecoder()

    def fill(self) -> bool:
        """Read more (as much again as is buffered: a long record costs O(n log n), not O(n²))."""
        if self.eof:
            return False
        held = len(self.buf) - self.pos
        if held >= self.cap:
            raise _Oversize(self.line0 + self.buf.count("\n", 0, self.pos))
        more = self.t.read(min(max(1 << 20, held), self.cap - held + 1))
        if not more:
            self.eof = True
            return False
        if held + len(more) > self.cap:  # before joining: the peak stays near the cap
            raise _Oversize(self.line0 + self.buf.count("\n", 0, self.pos))
        dropped = self.buf[:self.pos]
        nl = dropped.count("\n")
        if nl:
            self.line0 += nl
            self.col0 = len(dropped) - dropped.rfind("\n")
        else:
            self.col0 += len(dropped)
        self.buf, self.pos = self.buf[self.pos:] + more, 0
        return True

    def peek(self) -> str:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self.fill():
                return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def bad(self, pos: int) -> InputError:
        before = self.buf[:pos]
        nl = before.count("\n")
        line = self.line0 + nl
        col = (pos - before.rfind("\n")) if nl else self.col0 + pos
        return InputError(str(self.path), f"invalid JSON at line {line} column {col}")

    def elements(self) -> Iterator[Any]:
        self.peek()
        self.pos += 1  # the "[" the caller saw
        if self.peek() == "]":
            self.pos += 1
        else:
            while True:
                self.peek()
                while True:
                    try:
                        obj, end = self.dec.raw_decode(self.buf, self.pos)
                    except json.JSONDecodeError as exc:
                        if self.fill():
                            continue
                        raise self.bad(exc.pos) from None
                    except RecursionError:
                        raise InputError(str(self.path), "JSON nesting too deep") from None
                    if end == len(self.buf) and self.fill():
                        continue  # a number or literal may go on in the next read
                    break
                self.pos = end
                yield obj
                c = self.peek()
                self.pos += 1
                if c == "]":
                    break
                if c != ",":
                    raise self.bad(self.pos - 1)
        if self.peek():
            raise self.bad(self.pos)


def _first_char(path: Path, comp: str | None, limits: Limits, enc: str) -> str:
    with open_binary(path, comp, limits) as fh:
        head = fh.read(4096)
    return head.decode(enc, errors="ignore").lstrip(" \t\r\n\ufeff")[:1]


def _json(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str, batch_rows: int = 65_536) -> Iterator[Chunk]:
    if _first_char(path, comp, limits, enc) == "[":
        yield from _json_records(path, comp, limits, info, enc, batch_rows)
        return
    text = _document(path, comp, limits, info, enc, "JSON")
    if text is None:
        yield from _text(path, comp, limits, info, enc)
        return
    try:
        doc = _loads(text, path, "")
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON at line {exc.lineno} column {exc.colno}") from None
    del text
    w = _Walker(path)
    w.walk(doc, None, "", "$", fixed_row=False)
    info.rows = len(doc) if isinstance(doc, list) else 1
    yield Chunk(w.columns(), 0, info.rows)


def _json_records(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str, batch_rows: int) -> Iterator[Chunk]:
    """A top-level JSON array, streamed: records are rows (1-based), their fields the columns,
    exactly as when the document is parsed whole, in chunks of ``batch_rows`` records."""
    fh = open_binary(path, comp, limits)
    oversize: _Oversize | None = None
    try:
        text = io.TextIOWrapper(fh, encoding=enc, errors="strict", newline="")
        w = _Walker(path)
        base = n = 0
        try:
            for n, obj in enumerate(_JsonArray(text, path, limits.max_json_bytes).elements(), 1):
                w.walk(obj, n, "", f"$[{n - 1}]", fixed_row=True, depth=1)
                if n - base >= batch_rows or w.full(limits):
                    yield Chunk(w.columns(), base, n - base)
                    w, base = _Walker(path), n
                    info.rows = n
        except UnicodeDecodeError:
            raise InputError(str(path), f"not valid {enc} text (set gates.pii.encoding)") from None
        except _Oversize as exc:
            oversize = exc
        yield Chunk(w.columns(), base, n - base)
        info.rows = n
    finally:
        fh.close()
    if oversize is not None:
        # a record too large to decode within bounds (a 1 GiB string): the rest of the file from
        # the line where it starts is scanned as text, in pieces (never a silent skip)
        info.notes.append(f"JSON array element {n + 1} is larger than {limits.max_json_bytes >> 20} MiB (gates.pii.max_json_mb): "
                          f"the file from line {oversize.line} on was scanned as text lines, without its structure")
        rows = n
        yield from _text(path, comp, limits, info, enc, skip=oversize.line - 1)
        info.rows = max(rows, info.rows)


def _yaml(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str) -> Iterator[Chunk]:
    """YAML through ``yaml.safe_load_all`` only (no tags that build objects), within the size cap
    and a node budget proportional to the text, so alias bombs stop early. Several documents in
    one stream are records (rows), like the elements of a top-level list."""
    import yaml

    text = _document(path, comp, limits, info, enc, "YAML")
    if text is None:
        yield from _text(path, comp, limits, info, enc)
        return
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        docs = list(yaml.load_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise InputError(str(path), f"invalid YAML{where}") from None
    except yaml.YAMLError as exc:
        raise InputError(str(path), f"invalid YAML ({type(exc).__name__})") from None
    except RecursionError:
        raise InputError(str(path), "YAML nesting too deep") from None
    w = _Walker(path, budget=2 * len(text) + 10_000, kind="YAML")
    del text
    doc: Any = docs[0] if len(docs) == 1 else docs
    w.walk(doc, None, "", "$", fixed_row=False)
    info.rows = len(doc) if isinstance(doc, list) else (1 if docs else 0)
    yield Chunk(w.columns(), 0, info.rows)


@dataclass
class Piece:
    """A text line, or a piece of a line longer than ``Limits.max_line``."""

    line: int
    text: str
    whole: bool                       # the complete line (not cut)
    seam: tuple[str, int] | None      # for a later piece: text across the cut before it, and where the cut is
    edge: int = 0                     # 1: cut before this piece, 2: cut after it (3: both)


def _pieces(path: Path, comp: str | None, limits: Limits, enc: str) -> Iterator[Piece]:
    """The file's lines, never more than ``limits.max_line`` characters at a time: a longer line
    comes in pieces, and each cut gets a seam (``limits.seam`` characters either side) so a value
    straddling the cut is still found (the scanner only counts matches crossing the cut there)."""
    fh = open_binary(path, comp, limits)
    width = limits.seam
    try:
        text = io.TextIOWrapper(fh, encoding=enc, errors="replace", newline=None)
        n = 0
        tail: str | None = None  # the end of the previous piece, when the line was cut after it
        while True:
            raw = text.readline(limits.max_line)
            if not raw:
                break
            ended = raw.endswith("\n")
            body = raw[:-1] if ended else raw
            after = 0 if ended else 2
            if tail is None:
                n += 1
                yield Piece(n, body, ended, None, after)
            else:
                yield Piece(n, body, False, (tail + body[:width], len(tail)), 1 | after)
            tail = None if ended else body[-width:]
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputError(str(path), f"cannot decompress ({comp}): {type(exc).__name__}") from None
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            raise InputError(str(path), f"cannot decompress (zstd): {type(exc).__name__}") from None
        raise
    finally:
        fh.close()


class _LineBuf:
    """Text cells with their line numbers, plus the seams of cut lines, flushed as chunks of a
    bounded number of characters (a file of one 1 GiB line is scanned 8 MiB at a time)."""

    def __init__(self, limits: Limits) -> None:
        self.limit = limits.chunk_chars
        self.reset()

    def reset(self) -> None:
        self.cells: list[str] = []
        self.rows: list[int] = []
        self.seams: list[str] = []
        self.seam_rows: list[int] = []
        self.cuts: list[int] = []
        self.edges: list[int] = []
        self.chars = 0
        self.cut = False

    def add(self, p: Piece) -> None:
        self.cells.append(p.text)
        self.rows.append(p.line)
        self.edges.append(p.edge)
        self.chars += len(p.text)
        self.cut = self.cut or p.edge != 0
        if p.seam is not None:
            self.seams.append(p.seam[0])
            self.seam_rows.append(p.line)
            self.cuts.append(p.seam[1])
            self.chars += len(p.seam[0])

    def full(self) -> bool:
        return self.chars >= self.limit or len(self.cells) >= TEXT_CHUNK_LINES

    def columns(self, label: str | None = None) -> list[Column]:
        if not self.cells:
            return []
        cols = [Column(label, pa.array(self.cells, pa.string()), rows=self.rows, edges=self.edges if self.cut else None)]
        if self.seams:
            cols.append(Column(label, pa.array(self.seams, pa.string()), rows=self.seam_rows, cross=self.cuts))
        return cols


def _jsonl(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str, batch_rows: int) -> Iterator[Chunk]:
    w = _Walker(path)
    raw = _LineBuf(limits)
    n = 0
    first_bad = None
    bad_count = long_lines = 0
    base = 0
    for p in _pieces(path, comp, limits, enc):
        n = p.line
        if not p.whole:
            # a line longer than max_line cannot be parsed within bounds: its pieces are text
            if p.seam is None:
                long_lines += 1
            raw.add(p)
        elif p.text.strip():
            try:
                obj = _loads(p.text, path, f" at line {n}")
            except json.JSONDecodeError:
                bad_count += 1
                first_bad = first_bad or n
                raw.add(p)
            else:
                w.walk(obj, n, "", "$", fixed_row=True)
        if n - base >= batch_rows or w.full(limits) or raw.chars >= limits.chunk_chars:
            yield Chunk(w.columns() + raw.columns(), base, n - base, lines=True)
            w = _Walker(path)
            raw.reset()
            base = n
    yield Chunk(w.columns() + raw.columns(), base, n - base, lines=True)
    info.rows = n
    if bad_count:
        info.problems.append(f"{bad_count} line(s) are not valid JSON (first: line {first_bad}); they were scanned as plain text")
    if long_lines:
        info.notes.append(f"{long_lines} line(s) longer than {limits.max_line >> 10} KiB were scanned as text in pieces, not parsed as JSON")


# ---- text ----------------------------------------------------------------------------------------

def _text(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str, skip: int = 0) -> Iterator[Chunk]:
    """Text lines as one unnamed column (row = line number); lines up to ``skip`` were read
    already in another form."""
    buf = _LineBuf(limits)
    base = n = skip
    for p in _pieces(path, comp, limits, enc):
        n = p.line
        if n <= skip:
            continue
        buf.add(p)
        if buf.full():
            yield _text_chunk(buf, base, n)
            buf.reset()
            base = n
    if buf.cells:
        yield _text_chunk(buf, base, n)
    info.rows = n


def _text_chunk(buf: _LineBuf, base: int, n: int) -> Chunk:
    if buf.cut or buf.rows[0] != base + 1 or len(buf.rows) != n - base:
        return Chunk(buf.columns(), base, n - base, lines=True)
    # whole consecutive lines: rows follow from the position (the vectorised path)
    return Chunk([Column(None, pa.array(buf.cells, pa.string()))], base, n - base, lines=True)
