"""Containers: zip (PyTorch, TorchScript, Keras, npz), tar, compressed streams, .npy, LFS pointers.

Zip is read from the central directory (what PyTorch's reader and ``zipfile`` use), and every
member's local header is compared with it: a different name, flag or method, a bad CRC or a
duplicate name is the kind of trick that makes one reader see what another does not, so it is
reported and the member is still scanned. Members are sniffed by content, whatever their names.
Decompression is streamed with a byte limit; nothing is extracted to disk except a nested zip
inside a compressed member, which is spooled (bounded) because zip needs random access.
"""

from __future__ import annotations

import bz2
import lzma
import posixpath
import re
import struct
import tarfile
import tempfile
import zipfile
import zlib
from typing import Any, BinaryIO

from .budget import BudgetExceeded
from .dtypes import DescrError, parse_npy_header
from .fileio import Decompressing, ForwardOnly, SourceFile, decompressor_stream, is_seekable
from .formats import scan_keras_config
from .pickles import scan_pickle_stream
from .scan import Scan
from .stream import OverLimit, Region, Source, Truncated

STORAGE_RE = re.compile(r"(?:^|/)data/\d+$")
CRC_CHECK_MAX = 64 << 20


def _join(member: str | None, name: str) -> str:
    return f"{member}!{name}" if member else name


def _anomaly(scan: Scan, message: str, member: str | None, offset: int | None, key: str, severity: str = "high", **extra: Any) -> None:
    scan.hit("MODEL004", message, member, offset, severity=severity, key=key, extra=extra)


# ---- compressed single streams (gzip, bz2, xz, lzma, zlib, lz4: joblib's compressors) --------------
def scan_compressed(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    kind = scan.report.formats[-1]
    scan.budget.archive(member)
    stream = decompressor_stream(kind, SourceFile(src))
    if stream is None:
        scan.inconclusive(f"{kind}-compressed data cannot be inspected (the decompressor is not installed)", member, 0, key=f"codec:{kind}")
        return
    inner = re.sub(r"\.(gz|bz2|xz|lzma|z|lz4|zst)$", "", name)
    scan.descend(ForwardOnly(stream), member, depth + 1, inner, None, limit=scan.cfg.limits.max_decompressed_bytes)


def scan_unsupported(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    kind = scan.report.formats[-1]
    scan.inconclusive(f"{kind} archives cannot be inspected by this gate", member, 0, key=f"format:{kind}")


def scan_lfs(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    scan.hit("MODEL017", "this is a Git LFS pointer, not the model: the real file was not scanned", member, 0,
             blocking=True, key="lfs")


# ---- zip --------------------------------------------------------------------------------------------
def _seekable(scan: Scan, f: BinaryIO, src: Source, member: str | None) -> BinaryIO | None:
    if is_seekable(f):
        return f
    f = SourceFile(src)  # type: ignore[assignment]  # includes the bytes the sniffer peeked at
    limit = scan.cfg.limits.max_member_bytes
    spool = tempfile.SpooledTemporaryFile(max_size=4 << 20)  # bigger nested archives go to disk, not memory
    total = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            scan.inconclusive("nested archive larger than max_member_mb", member, 0, key="nested-size")
            return None
        spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


def zip_layout(names: list[str]) -> str:
    """PyTorch (``*/data.pkl``), TorchScript (``*/code/``, ``constants.pkl``), Keras v3, npz, zip."""
    if any(n.endswith("constants.pkl") for n in names) or any("/code/" in n or n.startswith("code/") for n in names):
        return "torchscript"
    if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return "pytorch"
    if "config.json" in names and ("metadata.json" in names or "model.weights.h5" in names):
        return "keras"
    if names and all(n.endswith(".npy") for n in names):
        return "npz"
    return "zip"


def scan_zip(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    lim = scan.cfg.limits
    scan.budget.archive(member)
    g = _seekable(scan, f, src, member)
    if g is None:
        return
    if g is f and src.start:
        g = Region(f, src.start, size if size is not None else 1 << 62)  # type: ignore[assignment]
    try:
        zf = zipfile.ZipFile(g)  # reads the central directory only
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error, NotImplementedError) as exc:
        scan.inconclusive(f"zip central directory cannot be read ({type(exc).__name__})", member, 0, key="zip-cd")
        return
    if scan.budget.members + len(infos) > lim.max_members:
        raise BudgetExceeded(f"zip has {len(infos)} members: more than {lim.max_members} in one file, all levels together", member, "members")
    names = [i.filename for i in infos]
    layout = zip_layout(names)
    scan.report.formats[-1] = layout
    ordered = sorted(names)  # neighbours compared: far less memory than a set for 20,000 members
    for a, b in zip(ordered, ordered[1:]):
        if a == b:
            _anomaly(scan, f"zip has two members named {b!r}: readers disagree on which one counts", member, None, f"dup:{b}", member_name=b)
    del ordered
    if layout == "torchscript" and not scan.cfg.allow_torchscript:
        code = [n for n in names if "/code/" in n or n.startswith("code/")]
        scan.hit("MODEL008", "TorchScript archive: its code/ members are programs that torch.jit.load compiles and runs",
                 member, None, key="torchscript", extra={"code_members": len(code)})
    for info in infos:
        m = _join(member, info.filename)
        scan.report.items += 1
        scan.budget.member(m)
        if info.filename.startswith("/") or ".." in info.filename.replace("\\", "/").split("/"):
            _anomaly(scan, "zip member name escapes the extraction directory (absolute or '..')", m, info.header_offset, "traversal")
        if info.is_dir():
            continue
        if (info.external_attr >> 16) & 0o170000 == 0o120000:  # unzip restores it as a symbolic link
            _zip_link(scan, zf, info, m)
        local = _local_header(scan, g, info, m)
        if local is None:
            continue
        data_start, flags, method = local
        if flags & 0x1:
            scan.inconclusive("zip member is marked encrypted: its content cannot be inspected", m, info.header_offset, key="encrypted")
            continue
        if info.file_size > lim.max_member_bytes:
            scan.inconclusive(f"zip member is {info.file_size} bytes, over max_member_mb", m, info.header_offset, key="member-size")
            continue
        if info.compress_type != 0 and info.compress_size and info.file_size > (8 << 20) and info.file_size / info.compress_size > lim.max_ratio:
            raise BudgetExceeded(f"zip member expands {info.file_size / info.compress_size:.0f}x (zip bomb?), over max_ratio", m, "ratio")
        raw = Region(g, data_start, info.compress_size)
        stream = _member_stream(info.compress_type, raw, zf, info)
        if stream is None:
            scan.inconclusive(f"zip compression method {info.compress_type} is not supported", m, info.header_offset, key=f"method:{info.compress_type}")
            continue
        storage = layout in ("pytorch", "torchscript") and STORAGE_RE.search(info.filename) is not None
        if storage:
            head = stream.read(2)
            if not (len(head) == 2 and head[0] == 0x80 and head[1] <= 5):
                continue  # raw tensor bytes: torch never unpickles these
            stream = _member_stream(info.compress_type, Region(g, data_start, info.compress_size), zf, info)
        if layout == "keras" and info.filename == "config.json":
            scan_keras_config(scan, stream, m, info.file_size)
            scan.report.formats.append("json")
        elif layout == "keras" and info.filename.endswith(".h5") and stream.read(8) == b"\x89HDF\r\n\x1a\n":
            # Keras 3 keeps the architecture in config.json; the .h5 member holds arrays only
            scan.report.formats.append("hdf5")
        else:
            base_off = data_start if info.compress_type == 0 else 0
            scan.descend(stream, m, depth + 1, info.filename, info.file_size if info.compress_type == 0 else None,
                        base=base_off, limit=info.file_size + 1 if info.compress_type else None)
        if info.file_size <= CRC_CHECK_MAX and not storage:
            _check_crc(scan, info, _member_stream(info.compress_type, Region(g, data_start, info.compress_size), zf, info), m)
    _unlisted(scan, g, zf, infos, member, depth)


def _zip_link(scan: Scan, zf: zipfile.ZipFile, info: zipfile.ZipInfo, m: str) -> None:
    """A zip member with a Unix symlink mode: its data is the link target."""
    target = ""
    if info.file_size <= 4096:
        try:
            with zf.open(info) as fh:
                target = fh.read(4097).decode("utf-8", "replace")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError, zlib.error):
            target = "/"  # unreadable target: assume the worst
    else:
        target = "/"
    if not _report_link(scan, m, info.filename, target, False, info.header_offset, False):
        _anomaly(scan, "zip member is a symbolic link that stays inside the archive; extracting links can overwrite or "
                 "expose files", m, info.header_offset, "link", severity="medium", link_target=target[:300])


def _span_end(g: BinaryIO, info: zipfile.ZipInfo) -> int | None:
    """Where a member's bytes end: local header, name, extra, data and data descriptor."""
    try:
        g.seek(info.header_offset)
        hdr = g.read(30)
        if len(hdr) < 30 or hdr[:4] != b"PK\x03\x04":
            return None
        nlen, elen = struct.unpack("<HH", hdr[26:30])
        end = info.header_offset + 30 + nlen + elen + info.compress_size
        if info.flag_bits & 0x8:
            g.seek(end)
            desc = g.read(4)
            big = info.compress_size >= 0xFFFFFFFF or info.file_size >= 0xFFFFFFFF
            end += (4 if desc == b"PK\x07\x08" else 0) + (20 if big else 12)
        return end
    except (OSError, ValueError, struct.error):
        return None


UNLISTED_SEARCH = 64 << 20


def _unlisted(scan: Scan, g: BinaryIO, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], member: str | None, depth: int) -> None:
    """Bytes the central directory does not account for: a streaming reader (unzip -, Java's
    ZipInputStream, some scanners) sees local entries hidden there, and overlapping entries
    make one byte range two members. Hidden local entries are scanned like members."""
    spans = []
    for info in infos:
        end = _span_end(g, info)
        if end is not None:
            spans.append((info.header_offset, end, info.filename))
    spans.sort()
    cursor = 0
    gaps = []
    for start, end, name in spans:
        if start < cursor:
            _anomaly(scan, f"zip member {name!r} overlaps the previous member's bytes", _join(member, name), start, f"overlap:{name}")
        elif start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    cd = getattr(zf, "start_dir", None)
    if isinstance(cd, int) and cd > cursor:
        gaps.append((cursor, cd))
    budget = UNLISTED_SEARCH
    for start, end in gaps:
        if start == 0 and not spans:
            continue
        take = min(end - start, budget)
        budget -= take
        g.seek(start)
        blob = g.read(take)
        hidden = [i for i in _find_all(blob, b"PK\x03\x04")]
        _anomaly(scan, f"{end - start} bytes of the zip are not listed in its central directory"
                 + (f" and hold {len(hidden)} hidden local entr{'y' if len(hidden) == 1 else 'ies'}" if hidden else ""),
                 member, start, f"unlisted:{start}", severity="high" if hidden else "medium")
        for i in hidden:
            hdr = blob[i : i + 30]
            if len(hdr) < 30:
                continue
            _, _, flags, method, _, _, _, csize, _, nlen, elen = struct.unpack("<IHHHHHIIIHH", hdr)
            name = blob[i + 30 : i + 30 + nlen].decode("utf-8", "replace")
            data_start = start + i + 30 + nlen + elen
            length = csize if csize and data_start + csize <= end else end - data_start
            raw = Region(g, data_start, max(length, 0))
            stream: Any = raw if method == 0 else Decompressing(raw, zlib.decompressobj(-15)) if method == 8 else None
            label = _join(member, f"<unlisted>{name}")
            scan.budget.member(label)
            if stream is None or flags & 1:
                scan.inconclusive("hidden zip entry cannot be decompressed", label, data_start, key="unlisted-method")
                continue
            scan.descend(stream, label, depth + 1, name, length if method == 0 else None, base=data_start if method == 0 else 0,
                        limit=None if method == 0 else scan.cfg.limits.max_decompressed_bytes)


def _find_all(blob: bytes, needle: bytes) -> list[int]:
    out, i = [], blob.find(needle)
    while i >= 0 and len(out) < 64:
        out.append(i)
        i = blob.find(needle, i + 1)
    return out


def _member_stream(method: int, raw: Region, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> BinaryIO | None:
    if method == zipfile.ZIP_STORED:
        return raw  # type: ignore[return-value]
    if method == zipfile.ZIP_DEFLATED:
        return Decompressing(raw, zlib.decompressobj(-15))  # type: ignore[return-value]
    if method == zipfile.ZIP_BZIP2:
        return Decompressing(raw, bz2.BZ2Decompressor())  # type: ignore[return-value]
    if method == zipfile.ZIP_LZMA:
        try:
            return zf.open(info)  # type: ignore[return-value]
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError):
            return None
    return None


def _local_header(scan: Scan, g: BinaryIO, info: zipfile.ZipInfo, m: str) -> tuple[int, int, int] | None:
    try:
        g.seek(info.header_offset)
        hdr = g.read(30)
    except (OSError, ValueError):
        hdr = b""
    if len(hdr) < 30 or hdr[:4] != b"PK\x03\x04":
        scan.inconclusive("zip member's local header is missing or corrupt", m, info.header_offset, key="local-header")
        return None
    _, _, flags, method, _, _, crc, _, _, nlen, elen = struct.unpack("<IHHHHHIIIHH", hdr)
    lname = g.read(nlen)
    if lname != info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace"):
        _anomaly(scan, "zip member's local header names a different file than the central directory", m, info.header_offset,
                 "name-mismatch", local_name=lname.decode("utf-8", "replace")[:200])
    if (flags & 0x1) != (info.flag_bits & 0x1):
        _anomaly(scan, "zip member's encryption flag differs between local header and central directory", m, info.header_offset, "flag-mismatch")
    if method != info.compress_type:
        _anomaly(scan, "zip member's compression method differs between local header and central directory", m, info.header_offset, "method-mismatch")
    if not flags & 0x8 and crc != info.CRC:
        _anomaly(scan, "zip member's CRC differs between local header and central directory", m, info.header_offset, "crc-header-mismatch")
    return info.header_offset + 30 + nlen + elen, info.flag_bits, info.compress_type


def _check_crc(scan: Scan, info: zipfile.ZipInfo, stream: BinaryIO | None, m: str) -> None:
    if stream is None:
        return
    crc, total = 0, 0
    try:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > info.file_size + 1:
                break
            crc = zlib.crc32(chunk, crc)
    except (OSError, zlib.error, EOFError, ValueError, lzma.LZMAError):
        scan.inconclusive("zip member data cannot be decompressed", m, info.header_offset, key="member-data")
        return
    if total != info.file_size:
        _anomaly(scan, f"zip member holds {total}{'+' if total > info.file_size else ''} bytes, the directory says {info.file_size}", m, info.header_offset, "size-mismatch")
    elif crc != info.CRC:
        _anomaly(scan, "zip member's CRC does not match its data (a reader that ignores CRCs sees different content than one that checks)", m, info.header_offset, "crc-mismatch")


# ---- tar --------------------------------------------------------------------------------------------
def scan_tar(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    seekable = is_seekable(f)
    try:
        if seekable:
            tf = tarfile.open(fileobj=Region(f, src.start, size if size is not None else 1 << 62), mode="r:")
        else:
            tf = tarfile.open(fileobj=SourceFile(src), mode="r|")  # type: ignore[arg-type]
    except (tarfile.TarError, OSError, ValueError, EOFError) as exc:
        scan.inconclusive(f"tar archive cannot be read ({type(exc).__name__})", member, 0, key="tar")
        return
    names = set()
    links: list[tuple[str, str, str, bool, int]] = []
    me = len(scan.report.formats) - 1
    scan.budget.archive(member)
    try:
        for ti in tf:
            m = _join(member, ti.name)
            scan.budget.member(m)
            names.add(ti.name)
            if ti.name.startswith("/") or ".." in ti.name.split("/"):
                _anomaly(scan, "tar member name escapes the extraction directory (absolute or '..')", m, ti.offset, "traversal")
            if ti.issym() or ti.islnk():
                links.append((m, ti.name, ti.linkname, ti.islnk(), ti.offset))
                continue
            if not ti.isreg():
                continue
            if ti.size > scan.cfg.limits.max_member_bytes:
                scan.inconclusive("tar member over max_member_mb", m, ti.offset, key="member-size")
                continue
            fh = tf.extractfile(ti)
            if fh is None:
                continue
            scan.descend(fh, m, depth + 1, ti.name, ti.size, base=ti.offset_data)
    except (tarfile.TarError, OSError, EOFError, Truncated, OverLimit) as exc:
        scan.inconclusive(f"tar archive cannot be followed ({type(exc).__name__})", member, None, key="tar-read")
        return
    if {"pickle", "storages", "tensors"} & names and "sys_info" in names:
        scan.report.formats[me] = "pytorch-legacy"
    torch_like = bool(TORCH_TAR_NAMES & names) or bool(TORCH_TAR_NAMES & {ln[1] for ln in links})
    inside = [m for m, lname, target, hard, offset in links if not _report_link(scan, m, lname, target, hard, offset, torch_like)]
    if inside:
        # links that stay inside a plain archive (tz databases hard-link hundreds of files): one note
        shown = ", ".join(inside[:3]) + (f" and {len(inside) - 3} more" if len(inside) > 3 else "")
        _anomaly(scan, f"archive holds {len(inside)} link member{'s that stay' if len(inside) != 1 else ' that stays'} inside it ({shown}); "
                 "extracting links can overwrite or expose files", member, None, "link", severity="medium", links=len(inside))


#: the members torch's legacy loader extracts from a tar checkpoint and then reads (``pickle`` is
#: unpickled): a link there makes torch unpickle whatever file the link names
TORCH_TAR_NAMES = frozenset({"pickle", "storages", "tensors", "sys_info"})


def link_escapes(name: str, target: str, hard: bool) -> bool:
    """Whether a link member points outside the archive once extracted: an absolute target, a
    drive letter, or ``..`` that climbs above the root (hard links are relative to the root,
    symbolic links to the link's own directory)."""
    t = target.replace("\\", "/")
    if t.startswith("/") or re.match(r"^[A-Za-z]:", t):
        return True
    base = "" if hard else posixpath.dirname(name.replace("\\", "/"))
    norm = posixpath.normpath(posixpath.join(base, t)) if t else "."
    return norm == ".." or norm.startswith("../") or norm.startswith("/")


def _report_link(scan: Scan, m: str, name: str, target: str, hard: bool, offset: int | None, torch_like: bool) -> bool:
    """Report a link that blocks (out of the archive, or in a torch tar) and return True; a link
    that stays inside a plain archive is left to the caller's summary (False)."""
    kind = "hard link" if hard else "symbolic link"
    extra = {"link_target": target[:300], "link_kind": kind}
    if link_escapes(name, target, hard):
        scan.hit("MODEL004", f"archive member is a {kind} that points outside the archive: extracting it exposes or overwrites "
                 "other files", m, offset, severity="critical", blocking=True, key="link-escape", extra=extra)
        return True
    if torch_like:
        scan.hit("MODEL004", f"legacy PyTorch tar checkpoint holds a {kind}: torch.load extracts it and then reads (unpickles) "
                 "the file it names", m, offset, severity="critical", blocking=True, key="link-torch", extra=extra)
        return True
    return False


# ---- numpy ------------------------------------------------------------------------------------------
def scan_npy(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """A ``.npy`` array: its header is read with NumPy's own rules (``dtypes``); an object dtype,
    in any spelling, means the data is a pickle and is walked; a dtype that cannot be sized, or
    data of the wrong length, is reported."""
    try:
        magic = src.read(8)
        version = (magic[6], magic[7])
        hlen = struct.unpack("<H" if version[0] == 1 else "<I", src.read(2 if version[0] == 1 else 4))[0]
        if hlen > min(scan.cfg.limits.max_header_bytes, 1 << 20):
            scan.inconclusive(f".npy header of {hlen} bytes is over the limit", member, 8, key="npy-header")
            return
        shape, _, dtype = parse_npy_header(version, src.read(hlen))
    except DescrError as exc:
        scan.inconclusive(f".npy header cannot be read as NumPy reads it: {exc}", member, 0, key="npy-header")
        return
    except (Truncated, OverLimit, IndexError, struct.error) as exc:
        scan.inconclusive(f".npy header cannot be parsed ({type(exc).__name__})", member, 0, key="npy-header")
        return
    if dtype.hasobject:
        scan.hit("MODEL009", "NumPy object array: its data is a pickle, loaded only with allow_pickle=True", member, src.offset,
                 severity="medium" if scan.cfg.allow_npy_object_arrays else "high",
                 blocking=None if scan.cfg.allow_npy_object_arrays else True, key="npy-object")
        scan_pickle_stream(scan, src, member, depth + 1)
        return
    if dtype.itemsize is None:
        scan.inconclusive(".npy dtype cannot be sized here, so its data cannot be checked", member, 0, key="npy-dtype")
        return
    if any(d < 0 for d in shape):
        scan.inconclusive(".npy shape has a negative dimension", member, 0, key="npy-shape")
        return
    count = 1
    for d in shape:
        count *= d
    left = src.remaining()
    if left is None:
        return  # a compressed member: its length is checked against the directory by the zip reader
    need = count * dtype.itemsize
    if left < need:
        scan.inconclusive(f".npy data is truncated: needs {need} bytes, has {left}", member, src.offset, key="npy-truncated")
    elif left > need:
        scan.hit("MODEL018", f".npy has {left - need} bytes after its array data", member, src.offset + need, severity="low", key="npy-trailing")