"""What every dependency input shares: bounded UTF-8 and TOML reads, PEP 508 requirements turned
into :class:`~gates.deps.records.Dependency` records, line lookup, and the
:class:`DependencySource` contract each input format implements.

Nothing here installs, resolves or builds anything: files are only parsed (``packaging`` for
requirements, ``tomllib``/``tomli`` for TOML).
"""

from __future__ import annotations

import abc
import re
import stat
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
_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)
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
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError(str(path), "not a regular file (a FIFO, socket or device is never opened)")
        size = st.st_size
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
    except RecursionError:
        raise InputError(str(path), "invalid TOML: nested too deeply") from None


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


def key_line(text: str, key: str, start: int = 0) -> int | None:
    """1-based line of a TOML/INI key ``key = …`` (bare or quoted) at or after offset ``start``."""
    m = re.compile(r"""^[ \t]*["']?""" + re.escape(key) + r"""["']?[ \t]*[=:]""", re.M | re.I).search(text, start)
    return None if m is None else text.count("\n", 0, m.start()) + 1


def valid_name(name: str) -> bool:
    """A distribution name as PEP 508 allows it (letters, digits, ``.``, ``_``, ``-``)."""
    return bool(_NAME_RE.match(name))


#: table keys that make a Pipfile/Poetry/Pipfile.lock entry a direct reference, not a release
DIRECT_KEYS = (("git", "vcs"), ("hg", "vcs"), ("svn", "vcs"), ("bzr", "vcs"), ("url", "url"), ("file", "url"), ("path", "path"))


def direct_reference(src: "DependencySource", name: str, entry: dict[str, Any], line: int | None, hashes: tuple[str, ...] = ()) -> Dependency | None:
    """The VCS/URL/path dependency a tool's table entry declares (``editable``/``develop`` make it
    editable), or None when the entry names a release by version."""
    for key, kind in DIRECT_KEYS:
        if key in entry:
            kind = "editable" if entry.get("editable") or entry.get("develop") else kind
            return Dependency(name, None, src.path, line=line, kind=kind, marker=str(entry.get("markers") or ""), hashes=hashes,
                              source_format=src.format, text=f"{name} ({key} dependency)")
    return None


def table_entry(src: "DependencySource", name: str, spec: Any, line: int | None, label: str) -> tuple[Dependency | None, str, str]:
    """A Pipfile/Poetry ``name = spec`` entry: a string, or a table with ``version``/``markers`` or
    a direct reference. Returns (the direct reference or None, the version constraint, markers);
    raises :class:`InputError` at ``path:line`` for a bad name or value."""
    where = f"{src.path}:{line or 1}"
    if not valid_name(name):
        raise InputError(where, f"{label} has a key that is not a valid package name")
    marker = ""
    if isinstance(spec, dict):
        marker = str(spec.get("markers") or "")
        direct = direct_reference(src, name, spec, line)
        if direct is not None:
            return direct, "", marker
        spec = spec.get("version", "*")
    if not isinstance(spec, str):
        raise InputError(where, f"{label}: the value for a package must be a version string or a table")
    return None, spec.strip(), marker


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
        #: files read besides ``path`` (requirements files a manifest points at)
        self.extra_files: list[Path] = []

    @abc.abstractmethod
    def collect(self) -> list[Dependency]:
        """Every declared dependency. Raise :class:`InputError` when the input cannot be parsed."""

    def files(self) -> list[Path]:
        """Files read (for the report's scanned list)."""
        return [self.path, *(f for f in self.extra_files if f != self.path)]


