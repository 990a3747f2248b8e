"""Which files the pii gate reads: those its paths name, and with the default paths any other
file whose content is a dataset (:mod:`.content` says why and what counts).

Looking costs one short read per file the paths do not name (a gzip/bz2/xz/zstd stream is
decompressed for its first :data:`content.HEAD` bytes, within the file's caps), in the parent,
before any file is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from gates.core.errors import InputError

from . import content
from . import readers as R

#: what the readers read by content under any name
READ_BY_CONTENT = frozenset({*R.READ_BINARY, "csv", "jsonl", "json"})
#: data containers the gate does not read, reported (PII006) when found under another name: the
#: others (ZIP, PNG, PDF, pickle, NumPy...) are everywhere in a repository and not datasets
#: by themselves
REPORTED_BY_CONTENT = frozenset({"unread:Avro", "unread:SQLite"})


def is_dataset(path: Path, limits: R.Limits) -> bool:
    """Whether a file the paths do not name holds a dataset (see :mod:`.content`). A regular
    file that cannot be read is kept: reading it reports why (fail closed); a FIFO, socket or
    device is not (it is no dataset, and a read could block)."""
    if not content.looked_at(path):
        return False
    try:
        fmt, comp = R.detect(path)
    except InputError:
        return False  # not a regular file
    except OSError:
        return True
    if comp is None and not (fmt == "text" and path.suffix.lower() in R.PLAIN_TEXT_SUFFIXES):
        return fmt in READ_BY_CONTENT or fmt in REPORTED_BY_CONTENT
    # a compressed stream, or a name of plain text the paths did not match (``PEOPLE.TXT``):
    # what it holds says (:func:`readers.read` reads a table there as a table)
    try:
        with R.open_binary(path, comp, limits) as fh:
            head = fh.read(content.HEAD + 1)
    except (InputError, OSError, EOFError, ValueError, ImportError):
        return True  # a stream that cannot be decompressed: reading it reports why
    return content.text_format(head[:content.HEAD], len(head) <= content.HEAD) is not None


def by_content(files: list[Path], named: Callable[[Path], bool], limits: R.Limits) -> tuple[list[Path], int]:
    """``files`` (every file discovered) that the paths name or whose content is a dataset, in
    their order, and how many others were looked at and left."""
    out: list[Path] = []
    left = 0
    for p in files:
        if named(p) or is_dataset(p, limits):
            out.append(p)
        else:
            left += 1
    return out, left
