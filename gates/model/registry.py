"""One table of the formats the gate reads: each format is declared once, with its handler.

The dispatcher (``scanner``) sniffs a stream, looks its format up here and calls the handler.
Handlers live in their own modules (``containers``, ``formats``, ``pickles``...) and depend only
on :class:`~gates.model.scan.Scan`; they reach nested streams through ``Scan.descend``. To add a
format: write its handler, then add one :class:`FormatSpec` line below (and its content test to
``sniff``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import containers, formats, pickles
from .scan import Handler
from .sniff import FORMATS


@dataclass(frozen=True)
class FormatSpec:
    """A format the sniffer can return: its handler (None = nothing to check in it), whether it
    holds other streams (a container: members are judged too) and whether it is plain data that is
    never a model by itself (text, JSON, unknown bytes)."""

    name: str
    handler: Handler | None
    container: bool = False
    trivial: bool = False


SPECS: tuple[FormatSpec, ...] = (
    FormatSpec("pickle", pickles.scan_pickle),
    FormatSpec("pickle?", pickles.scan_pickle_tentative),  # protocol 0/1 guess: may turn out to be text
    FormatSpec("zip", containers.scan_zip, container=True),
    FormatSpec("tar", containers.scan_tar, container=True),
    FormatSpec("gzip", containers.scan_compressed, container=True),
    FormatSpec("bz2", containers.scan_compressed, container=True),
    FormatSpec("xz", containers.scan_compressed, container=True),
    FormatSpec("lzma", containers.scan_compressed, container=True),
    FormatSpec("zlib", containers.scan_compressed, container=True),
    FormatSpec("lz4", containers.scan_compressed, container=True),
    FormatSpec("zstd", containers.scan_compressed, container=True),
    FormatSpec("7z", containers.scan_unsupported, container=True),
    FormatSpec("numpy", containers.scan_npy),
    FormatSpec("git-lfs-pointer", containers.scan_lfs),
    FormatSpec("safetensors", formats.scan_safetensors),
    FormatSpec("gguf", formats.scan_gguf),
    FormatSpec("onnx", formats.scan_onnx),
    FormatSpec("hdf5", formats.scan_hdf5),
    FormatSpec("savedmodel", formats.scan_savedmodel),
    FormatSpec("tflite", None),  # identified by content; its custom operators are judged by a later handler
    FormatSpec("json", formats.scan_json, trivial=True),
    FormatSpec("text", None, trivial=True),
    FormatSpec("unknown", None, trivial=True),
)

BY_NAME: dict[str, FormatSpec] = {s.name: s for s in SPECS}
HANDLERS: dict[str, Handler | None] = {s.name: s.handler for s in SPECS}
CONTAINERS: frozenset[str] = frozenset(s.name for s in SPECS if s.container and s.name != "7z")
TRIVIAL: frozenset[str] = frozenset(s.name for s in SPECS if s.trivial)

# every sniffed format has a handler line, and every handler line is a format a policy can name
assert set(FORMATS) >= {s.name for s in SPECS if s.name != "pickle?"}, "registry names a format sniff does not list"
