"""The state of one file's scan, shared by every format handler.

Handlers receive a :class:`Scan` and report through it (``hit``, ``inconclusive``, ``fmt``). To
look inside a member or a nested stream they call :meth:`Scan.descend`; the scanner attaches the
dispatcher when it builds the ``Scan``, so handlers never import the scanner and the import graph
points one way: ``scanner -> registry -> handlers -> scan``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Protocol

from .config import FileReport, Hit, ScanConfig, printable
from .stream import Source


class Descend(Protocol):
    """The dispatcher: sniff ``f`` and run the handler for what it holds; returns the format name."""

    def __call__(self, scan: "Scan", f: BinaryIO, member: str | None, depth: int, name: str, size: int | None,
                 base: int = 0, limit: int | None = None) -> str: ...


#: A format handler: reads ``src`` (positioned at the start of the stream, ``f`` is the underlying
#: file), reports hits on ``scan``, and may return a more precise format name (``pytorch`` for a
#: zip) or None to keep the sniffed one. It raises only ``Truncated``/``OverLimit`` (the
#: dispatcher turns them into one inconclusive finding); everything else it reports itself.
Handler = Callable[["Scan", BinaryIO, Source, "str | None", int, str, "int | None"], "str | None"]


@dataclass
class Scan:
    """State of one file's scan: config, where we are, what we found."""

    cfg: ScanConfig
    report: FileReport
    path: str
    dispatch: Descend | None = field(default=None, repr=False)

    def descend(self, f: BinaryIO, member: str | None, depth: int, name: str, size: int | None, base: int = 0,
                limit: int | None = None) -> str:
        """Scan a nested stream (an archive member, a decompressed stream, a nested pickle payload)
        at nesting ``depth``, as the top-level dispatcher would; returns its format name."""
        if self.dispatch is None:
            raise RuntimeError("Scan.descend called before the scanner attached its dispatcher")
        return self.dispatch(self, f, member, depth, name, size, base, limit)

    def descend_bytes(self, data: bytes, member: str | None, depth: int, name: str = "") -> str:
        """:meth:`descend` into bytes already in memory."""
        return self.descend(io.BytesIO(data), member, depth, name, len(data))

    def hit(self, rule: str, message: str, member: str | None = None, offset: int | None = None, **kw: Any) -> None:
        # names come from the file: escape control characters so a report cannot be used to
        # drive a terminal or forge lines
        if kw.get("evidence"):
            kw["evidence"] = printable(kw["evidence"])
        if kw.get("extra"):
            kw["extra"] = {k: printable(v) if isinstance(v, str) else v for k, v in kw["extra"].items()}
        self.report.hits.append(Hit(rule, printable(message, 600), member=printable(member) if member else None, offset=offset, **kw))

    def inconclusive(self, message: str, member: str | None = None, offset: int | None = None, key: str = "", **extra: Any) -> None:
        self.hit("MODEL003", message, member, offset, blocking=True, key=key or message.split(":")[0], extra=extra)

    def fmt(self, name: str) -> None:
        self.report.formats.append(name)
