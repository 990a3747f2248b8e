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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

import pyarrow as pa

from gates.core.errors import InputError

COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".lzma": "xz", ".zst": "zstd", ".zstd": "zstd"}
MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))
FORMAT_SUFFIXES = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".psv": "csv", ".json": "json", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".jsonlines": "jsonl", ".parquet": "parquet", ".pq": "parquet", ".txt": "text",
    ".log": "text", ".text": "text", ".md": "text", ".sql": "text", ".yaml": "text", ".yml": "text", ".xml": "text",
}
FORMATS = ("auto", "csv", "tsv", "json", "jsonl", "parquet", "text")
DATASET_GLOBS = tuple(
    f"**/*{ext}{comp}"
    for ext in (".csv", ".tsv", ".tab", ".json", ".jsonl", ".ndjson", ".parquet", ".pq", ".txt", ".log")
    for comp in ("", ".gz", ".bz2", ".xz", ".zst")
    if not (ext in (".parquet", ".pq") and comp)
)
TEXT_CHUNK_LINES = 65_536
JSON_MAX_DEPTH = 100
MAX_LINE = 1 << 20
CSV_BLOCK_BYTES = 8 << 20  # one chunk of work for a worker process
#: in one process, bigger Parquet/JSONL batches: pyarrow compiles a regex per call, so fewer calls pay
#: off (not for CSV: its reader parses small blocks faster, in parallel)
INLINE_SCALE = 4


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 4 << 30
    max_decompressed_bytes: int = 16 << 30
    max_json_bytes: int = 512 << 20
    encoding: str = "utf-8"


@dataclass
class Column:
    label: str | None
    values: pa.Array
    rows: Sequence[int] | None = None      # None: row_base + i + 1
    paths: Sequence[str] | None = None     # concrete JSON paths, per value


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


# ---- opening -----------------------------------------------------------------------------------

class BoundedReader(io.RawIOBase):
    """Reads through ``inner`` and fails once more than ``limit`` bytes came out of it."""

    def __init__(self, inner: BinaryIO, limit: int, path: Path) -> None:
        self.inner, self.limit, self.path, self.count = inner, limit, path, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.inner.read(len(b))
        n = len(data)
        self.count += n
        if self.count > self.limit:
            raise InputError(str(self.path), f"decompressed size exceeds the cap of {self.limit >> 20} MiB (gates.pii.max_decompressed_mb)")
        b[:n] = data
        return n

    def close(self) -> None:
        self.inner.close()
        super().close()


def detect(path: Path, forced: str = "auto") -> tuple[str, str | None]:
    """(format, compression) from the magic bytes and the file name."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    compression = next((c for m, c in MAGIC if head.startswith(m)), None)
    name = path.name.lower()
    suffixes = Path(name).suffixes
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        compression = compression or COMPRESSION_SUFFIXES[suffixes[-1]]
        suffixes = suffixes[:-1]
    if forced != "auto":
        return forced, compression
    if head.startswith(b"PAR1"):
        return "parquet", None
    fmt = FORMAT_SUFFIXES.get(suffixes[-1] if suffixes else "", "text")
    return fmt, compression


def open_binary(path: Path, compression: str | None, limits: Limits) -> BinaryIO:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise InputError(str(path), f"file is {size >> 20} MiB, above the cap of {limits.max_file_bytes >> 20} MiB (gates.pii.max_file_mb)")
    if compression is None:
        return open(path, "rb")
    try:
        if compression == "gzip":
            inner: BinaryIO = gzip.open(path, "rb")
        elif compression == "bz2":
            inner = bz2.open(path, "rb")
        elif compression == "xz":
            inner = lzma.open(path, "rb")
        else:
            import zstandard

            inner = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    except OSError as exc:
        raise InputError(str(path), f"cannot open {compression} stream ({type(exc).__name__})") from None
    return io.BufferedReader(BoundedReader(inner, limits.max_decompressed_bytes, path), buffer_size=1 << 20)


def read_head(path: Path, compression: str | None, limits: Limits, n: int = 65536) -> bytes:
    try:
        with open_binary(path, compression, limits) as fh:
            return fh.read(n)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputError(str(path), f"cannot decompress ({compression}): {type(exc).__name__}") from None
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            raise InputError(str(path), f"cannot decompress (zstd): {type(exc).__name__}") from None
        raise


def sniff_encoding(head: bytes, default: str) -> str:
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if default.replace("_", "-").lower() in ("utf-8", "utf8") else default
    return default


def is_binary(head: bytes) -> bool:
    """NUL bytes or mostly control characters in the first block (UTF-16 excluded by its BOM)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    if not head:
        return False
    ctrl = sum(1 for b in head[:8192] if b < 9 or 13 < b < 32)
    return ctrl / min(len(head), 8192) > 0.1


# ---- entry point ---------------------------------------------------------------------------------

def read(path: Path, limits: Limits, forced: str = "auto", batch_rows: int = 65_536, inline: bool = False) -> tuple[FileInfo, Iterator[Chunk]]:
    """Open ``path`` and return what it is plus an iterator over its chunks.

    Raises :class:`InputError` for unreadable input and :class:`Binary` for binary content in a
    file whose type was not given.
    """
    fmt, comp = detect(path, forced)
    info = FileInfo(fmt, comp)
    scale = INLINE_SCALE if inline else 1
    batch_rows *= scale
    if fmt == "parquet":
        return info, _parquet(path, comp, limits, info, batch_rows)
    head = read_head(path, comp, limits)
    if is_binary(head):
        if forced == "auto" and path.suffix.lower() not in FORMAT_SUFFIXES and fmt == "text":
            raise Binary(str(path))
        raise InputError(str(path), f"binary content where {fmt.upper()} text was expected")
    enc = sniff_encoding(head, limits.encoding)
    if fmt in ("csv", "tsv"):
        return info, _csv(path, comp, limits, info, fmt, head, enc, CSV_BLOCK_BYTES)
    if fmt == "json":
        return info, _json(path, comp, limits, info, enc)
    if fmt == "jsonl":
        return info, _jsonl(path, comp, limits, info, enc, batch_rows)
    return info, _text(path, comp, limits, info, enc)


# ---- CSV / TSV -----------------------------------------------------------------------------------

_SAFE_CSV_ERROR = re.compile(r"^(CSV parse error: Expected \d+ columns, got \d+|CSV conversion error[^:]*|Empty CSV file)")


def csv_dialect(sample: str, fmt: str) -> tuple[str, str | None, bool, str | None]:
    """(delimiter, quotechar, doublequote, escapechar) from csv.Sniffer, with a format default."""
    default = "\t" if fmt == "tsv" else ","
    lines = sample.splitlines(keepends=True)
    body = "".join(lines[:-1]) if len(lines) > 1 else sample
    try:
        d = csv.Sniffer().sniff(body[:32768], delimiters=",\t;|")
        delim = d.delimiter
        if fmt == "tsv" and delim != "\t" and "\t" in lines[0]:
            delim = "\t"
        return delim, d.quotechar or '"', bool(d.doublequote), d.escapechar
    except csv.Error:
        return default, '"', True, None


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

    sample = head.decode(enc if "16" in enc else "utf-8", errors="replace").lstrip("\ufeff")
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

    ropts = pcsv.ReadOptions(column_names=keys, skip_rows=skip_header, block_size=block, encoding=enc.replace("-sig", ""))
    popts = pcsv.ParseOptions(delimiter=delim, quote_char=quote or False, double_quote=dq, escape_char=esc or False,
                              newlines_in_values=True, invalid_row_handler=on_invalid)
    copts = pcsv.ConvertOptions(column_types={k: pa.string() for k in keys}, strings_can_be_null=False, quoted_strings_can_be_null=False)
    src: Any = str(path) if comp is None else open_binary(path, comp, limits)
    if comp is None:
        open_binary(path, None, limits).close()  # size cap
    try:
        try:
            reader = pcsv.open_csv(src, read_options=ropts, parse_options=popts, convert_options=copts)
        except pa.ArrowInvalid as exc:
            if "Empty CSV" in str(exc):
                return
            raise
        base = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            cols = [Column(names[i], batch.column(i)) for i in range(batch.num_columns)]
            if bad:
                cols.append(_malformed(bad, base, info))
            yield Chunk(cols, base, batch.num_rows)
            base += batch.num_rows
            info.rows = base
        if bad:
            yield Chunk([_malformed(bad, base, info)], base, 0)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        msg = str(exc)
        m = _SAFE_CSV_ERROR.match(msg)
        if "UTF8" in msg or "utf-8" in msg.lower() or isinstance(exc, UnicodeDecodeError):
            raise InputError(str(path), f"not valid {enc} text (set gates.pii.encoding, e.g. latin-1)") from None
        raise InputError(str(path), f"cannot parse as {fmt.upper()}: {m.group(1) if m else type(exc).__name__}") from None
    finally:
        if comp is not None:
            src.close()


# ---- Parquet -------------------------------------------------------------------------------------

def _flatten(arr: pa.Array, label: str, rows: list[int] | None, depth: int = 0) -> Iterator[tuple[str, pa.Array, list[int] | None]]:
    """Structs become ``a.b`` columns, lists ``a[]`` columns with rows mapped back to parents."""
    import pyarrow.compute as pc

    t = arr.type
    if depth > JSON_MAX_DEPTH:
        return
    if pa.types.is_struct(t):
        for i in range(t.num_fields):
            child = arr.field(i)
            if arr.null_count:
                child = pc.if_else(arr.is_valid(), child, pa.nulls(len(child), child.type))
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


def _parquet(path: Path, comp: str | None, limits: Limits, info: FileInfo, batch_rows: int) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    from .engine import as_strings

    fh = open_binary(path, comp, limits)
    try:
        src: Any = fh if comp is None else io.BytesIO(fh.read())
        try:
            pf = pq.ParquetFile(src)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(str(path), f"not a readable Parquet file ({type(exc).__name__})") from None
        start = 1
        for i in range(pf.metadata.num_row_groups):
            info.row_groups.append(start)
            start += pf.metadata.row_group(i).num_rows
        base = 0
        try:
            for batch in pf.iter_batches(batch_size=batch_rows):
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
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(str(path), f"cannot read Parquet data ({type(exc).__name__})") from None
    finally:
        fh.close()


# ---- JSON / JSONL --------------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_\- ]{0,63}$")


from .scanner import sensitive  # noqa: E402  (readers → scanner is one-way)


class _Walker:
    """Collects scalar values by normalised path (``users[].email``) with row and concrete path."""

    def __init__(self, path: Path) -> None:
        self.file = path
        self.cols: dict[str, tuple[list[str], list[int], list[str]]] = {}

    def add(self, label: str, value: str, row: int, where: str) -> None:
        c = self.cols.get(label)
        if c is None:
            c = self.cols[label] = ([], [], [])
        c[0].append(value)
        c[1].append(row)
        c[2].append(where)

    def walk(self, obj: Any, row: int | None, label: str, where: str, fixed_row: bool) -> None:
        stack = [(obj, row, label, where, 0)]
        while stack:
            o, r, lab, wh, depth = stack.pop()
            if depth > JSON_MAX_DEPTH:
                raise InputError(str(self.file), f"JSON nesting deeper than {JSON_MAX_DEPTH} levels")
            if isinstance(o, dict):
                for k, v in o.items():
                    k = str(k)
                    if _IDENT.match(k) and not sensitive(k):
                        part = k
                    else:
                        part = "*"
                        self.add(f"{lab}.{{key}}" if lab else "{key}", k, r or 1, wh)
                    stack.append((v, r, f"{lab}.{part}" if lab else part, f"{wh}.{part}" if part != "*" else f"{wh}[*]", depth + 1))
            elif isinstance(o, list):
                for i, v in enumerate(o):
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


def _json(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str) -> Iterator[Chunk]:
    with open_binary(path, comp, limits) as fh:
        raw = fh.read(limits.max_json_bytes + 1)
    if len(raw) > limits.max_json_bytes:
        raise InputError(str(path), f"JSON document larger than {limits.max_json_bytes >> 20} MiB (gates.pii.max_json_mb); use JSON Lines for big data")
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        raise InputError(str(path), f"not valid {enc} text (set gates.pii.encoding)") from None
    try:
        doc = _loads(text, path, "")
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON at line {exc.lineno} column {exc.colno}") from None
    w = _Walker(path)
    w.walk(doc, None, "", "$", fixed_row=False)
    info.rows = len(doc) if isinstance(doc, list) else 1
    yield Chunk(w.columns(), 0, info.rows)


def _lines(path: Path, comp: str | None, limits: Limits, enc: str) -> Iterator[str]:
    fh = open_binary(path, comp, limits)
    try:
        text = io.TextIOWrapper(fh, encoding=enc, errors="replace", newline=None)
        while True:
            line = text.readline(MAX_LINE)
            if not line:
                break
            yield line.rstrip("\r\n")
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputError(str(path), f"cannot decompress ({comp}): {type(exc).__name__}") from None
    finally:
        fh.close()


def _jsonl(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str, batch_rows: int) -> Iterator[Chunk]:
    w = _Walker(path)
    raw_bad: list[str] = []
    raw_rows: list[int] = []
    n = 0
    first_bad = None
    bad_count = 0
    base = 0
    for n, line in enumerate(_lines(path, comp, limits, enc), 1):
        if not line.strip():
            continue
        try:
            obj = _loads(line, path, f" at line {n}")
        except json.JSONDecodeError:
            bad_count += 1
            first_bad = first_bad or n
            raw_bad.append(line)
            raw_rows.append(n)
            continue
        w.walk(obj, n, "", "$", fixed_row=True)
        if n - base >= batch_rows:
            yield _jsonl_chunk(w, raw_bad, raw_rows, base, n)
            w = _Walker(path)
            raw_bad, raw_rows = [], []
            base = n
    yield _jsonl_chunk(w, raw_bad, raw_rows, base, n)
    info.rows = n
    if bad_count:
        info.problems.append(f"{bad_count} line(s) are not valid JSON (first: line {first_bad}); they were scanned as plain text")


def _jsonl_chunk(w: _Walker, bad: list[str], bad_rows: list[int], base: int, n: int) -> Chunk:
    cols = w.columns()
    if bad:
        cols.append(Column(None, pa.array(bad, pa.string()), rows=bad_rows))
    return Chunk(cols, base, n - base, lines=True)


# ---- text ----------------------------------------------------------------------------------------

def _text(path: Path, comp: str | None, limits: Limits, info: FileInfo, enc: str) -> Iterator[Chunk]:
    buf: list[str] = []
    base = 0
    for line in _lines(path, comp, limits, enc):
        buf.append(line)
        if len(buf) >= TEXT_CHUNK_LINES:
            yield Chunk([Column(None, pa.array(buf, pa.string()))], base, len(buf), lines=True)
            base += len(buf)
            buf = []
    if buf:
        yield Chunk([Column(None, pa.array(buf, pa.string()))], base, len(buf), lines=True)
        base += len(buf)
    info.rows = base
