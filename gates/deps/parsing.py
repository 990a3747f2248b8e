"""What every dependency input shares: bounded UTF-8 and TOML reads, PEP 508 requirements turned
into :class:`~gates.deps.records.Dependency` records, line lookup, and the
:class:`DependencySource` contract each input format implements.

Nothing here installs, resolves or builds anything: files are only parsed (``packaging`` for
requirements, ``tomllib``/``tomli`` for TOML).
"""

from __future__ import annotations

import abc
import re
import sys
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from packaging.requirements import Requirement

from gates.core.errors import InputError

from .records import Dependency

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

MAX_INPUT_BYTES = 16 << 20
VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")
_PIN_RE = re.compile(r"^(===?)\s*([^\s,*]+)$")


def redact_url(text: str) -> str:
    """Drop ``user:password@`` from URLs so tokens in index or VCS URLs never reach a report."""
    def fix(m: re.Match[str]) -> str:
        try:
            parts = urlsplit(m.group(0))
        except ValueError:
            return "<url>"
        if parts.username or parts.password:
            host = parts.hostname or ""
            if parts.port:
                host += f":{parts.port}"
            return urlunsplit((parts.scheme, "***@" + host, parts.path, parts.query, parts.fragment))
        return m.group(0)

    return re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s;]+", fix, text)


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_INPUT_BYTES:
            raise InputError(str(path), f"file is {size} bytes, above the {MAX_INPUT_BYTES}-byte limit for dependency files")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or type(exc).__name__}") from None


def load_toml(path: Path) -> tuple[dict[str, Any], str]:
    text = read_text(path)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # the message carries line/column, never the offending value
        raise InputError(str(path), f"invalid TOML: {exc}") from None


def pinned_version(specifier: str) -> str | None:
    """The single version of ``==X``/``===X`` (no wildcard), else None."""
    m = _PIN_RE.match(specifier.strip())
    return m.group(2) if m else None


def from_requirement(req: Requirement, path: Path, line: int | None, fmt: str, *, editable: bool = False, hashes: tuple[str, ...] = (), text: str = "") -> Dependency:
    spec = str(req.specifier)
    version = pinned_version(spec) if not req.url else None
    if editable:
        kind = "editable"
    elif req.url:
        kind = "vcs" if req.url.startswith(VCS_SCHEMES) else "url"
    elif version is not None:
        kind = "pinned"
    else:
        kind = "unpinned"
    return Dependency(
        name=req.name, version=version if kind == "pinned" else None, path=path, line=line, kind=kind,
        specifier=spec, marker=str(req.marker or ""), hashes=hashes, source_format=fmt, text=redact_url(text or str(req)),
    )


def find_line(text: str, needle: str, start: int = 0) -> int | None:
    """1-based line of the first occurrence of ``needle`` at or after offset ``start``."""
    i = text.find(needle, start)
    return None if i < 0 else text.count("\n", 0, i) + 1


class DependencySource(abc.ABC):
    """One input that declares dependencies (pip-audit's ``DependencySource``)."""

    format: ClassVar[str]
    #: the scanned root: a file inside it may not pull in files from outside it (``-r ../../x``)
    root: Path | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        #: context for the report (never input values), e.g. what a format cannot audit
        self.notes: list[str] = []

    @abc.abstractmethod
    def collect(self) -> list[Dependency]:
        """Every declared dependency. Raise :class:`InputError` when the input cannot be parsed."""

    def files(self) -> list[Path]:
        """Files read (for the report's scanned list)."""
        return [self.path]


