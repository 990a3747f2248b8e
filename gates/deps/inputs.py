"""Dependency sources: requirements files, pyproject.toml, pylock.toml, uv.lock, poetry.lock and
installed environments, each read into :class:`~gates.deps.model.Dependency` records.

Unlike pip-audit, which stops at the first unpinned requirement, every source here returns every
declaration with its file and line, so the gate can list all unpinned, URL, VCS and editable
requirements at once. Nothing is installed or resolved and no build backend runs: files are only
parsed (``packaging`` for requirements, ``tomllib`` for TOML).
"""

from __future__ import annotations

import abc
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Iterable
from urllib.parse import urlsplit, urlunsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from gates.core.errors import InputError
from gates.core.files import is_within

from .model import Dependency

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

MAX_INPUT_BYTES = 16 << 20
MAX_INCLUDE_DEPTH = 16
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

    @abc.abstractmethod
    def collect(self) -> list[Dependency]:
        """Every declared dependency. Raise :class:`InputError` when the input cannot be parsed."""

    def files(self) -> list[Path]:
        """Files read (for the report's scanned list)."""
        return [self.path]


# ---- requirements files ------------------------------------------------------------------------
_GLOBAL_OPTS_WITH_ARG = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host",
                         "--no-binary", "--only-binary", "--prefer-binary", "--use-feature", "--progress-bar",
                         "--config-settings", "--global-option"}
_GLOBAL_FLAGS = {"--pre", "--no-index", "--require-hashes", "--prefer-binary"}


@dataclass
class _Logical:
    text: str
    line: int


def _logical_lines(text: str) -> Iterable[_Logical]:
    """Join backslash continuations and strip comments, keeping the first physical line number."""
    buf: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = n
        line = raw
        if line.endswith("\\"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        joined = " ".join(buf)
        buf = []
        joined = re.sub(r"(^|\s)#.*$", "", joined).strip()
        if joined:
            yield _Logical(joined, start)
    if buf:
        joined = re.sub(r"(^|\s)#.*$", "", " ".join(buf)).strip()
        if joined:
            yield _Logical(joined, start)


class RequirementsFile(DependencySource):
    """pip requirements format: ``-r``/``-c`` includes, ``--hash`` options, markers, ``-e``,
    URL and VCS requirements. Constraints files (``-c``) pin unpinned requirements of the same
    name but are not themselves audited (pip installs nothing from a constraint alone)."""

    format = "requirements"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._read: list[Path] = []

    def files(self) -> list[Path]:
        return list(self._read) or [self.path]

    def collect(self) -> list[Dependency]:
        reqs: list[Dependency] = []
        constraints: list[Dependency] = []
        self._parse(self.path, reqs, constraints, set(), 0, constraint=False)
        pins: dict[str, Dependency] = {}
        for c in constraints:
            if c.kind == "pinned":
                pins.setdefault(c.canonical_name, c)
        out = []
        for d in reqs:
            c = pins.get(d.canonical_name)
            if d.kind == "unpinned" and c is not None and c.version is not None and _spec_allows(d.specifier, c.version):
                d = Dependency(d.name, c.version, d.path, d.line, "pinned", d.specifier, d.marker, d.hashes or c.hashes, d.source_format,
                               f"{d.text} (pinned by {c.path.name}:{c.line})")
            out.append(d)
        return out

    def _parse(self, path: Path, reqs: list[Dependency], cons: list[Dependency], seen: set[Path], depth: int, constraint: bool) -> None:
        key = path.resolve()
        if key in seen:
            return  # include cycle: each file counts once
        if depth > MAX_INCLUDE_DEPTH:
            raise InputError(str(path), f"requirements includes nested deeper than {MAX_INCLUDE_DEPTH}")
        seen.add(key)
        if not path.is_file():
            raise InputError(str(path), "requirements file not found")
        self._read.append(path)
        text = read_text(path)
        for ll in _logical_lines(text):
            tokens = ll.text.split()  # not shlex: markers keep their quotes for packaging
            if not tokens:
                continue
            include = _include(tokens)
            if include is not None:
                is_c, target = include
                if not target:
                    raise InputError(f"{path}:{ll.line}", "-r/-c needs a file name")
                if "://" in target:
                    raise InputError(f"{path}:{ll.line}", "remote requirements includes are not supported (the gate reads local files only)")
                inc = path.parent / target
                if self.root is not None and is_within(self.path, self.root) and not is_within(inc, self.root):
                    raise InputError(f"{path}:{ll.line}", "-r/-c include leaves the scanned root (by .. or a symlink); it was not read")
                self._parse(inc, reqs, cons, seen, depth + 1, constraint or is_c)
                continue
            head = tokens[0]
            opt, _, inline = head.partition("=") if head.startswith("--") else (head, "", "")
            if opt in _GLOBAL_OPTS_WITH_ARG or opt in _GLOBAL_FLAGS:
                continue
            editable = False
            if opt in ("-e", "--editable"):
                editable = True
                tokens = [inline] + tokens[1:] if inline else tokens[1:]
                if not tokens:
                    raise InputError(f"{path}:{ll.line}", "-e needs a requirement")
            hashes: list[str] = []
            rest: list[str] = []
            i = 0
            while i < len(tokens):
                t = tokens[i]
                if t.startswith("--hash="):
                    hashes.append(t[len("--hash="):])
                elif t == "--hash" and i + 1 < len(tokens):
                    hashes.append(tokens[i + 1])
                    i += 1
                elif t.startswith("--") and rest:
                    pass  # per-requirement options such as --config-settings
                else:
                    rest.append(t)
                i += 1
            spec = " ".join(rest)
            dep = self._requirement(spec, path, ll.line, editable, tuple(hashes))
            (cons if constraint else reqs).append(dep)

    def _requirement(self, spec: str, path: Path, line: int, editable: bool, hashes: tuple[str, ...]) -> Dependency:
        where = f"{path}:{line}"
        if spec.startswith(VCS_SCHEMES) or "://" in spec.split(";")[0] and "@" not in spec.split("://")[0]:
            # bare URL / VCS URL: the name comes from #egg= if present
            m = re.search(r"#egg=([A-Za-z0-9._-]+)", spec)
            name = m.group(1) if m else _name_from_url(spec)
            kind = "editable" if editable else ("vcs" if spec.startswith(VCS_SCHEMES) else "url")
            return Dependency(name, None, path, line, kind, "", "", hashes, self.format, redact_url(spec))
        if spec.startswith((".", "/", "~")) or (editable and not re.match(r"^[A-Za-z0-9]", spec)):
            return Dependency(Path(spec).name or spec, None, path, line, "editable" if editable else "path", "", "", hashes, self.format, spec)
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            if editable or Path(path.parent / spec.split(";")[0].strip()).exists():
                return Dependency(spec, None, path, line, "editable" if editable else "path", "", "", hashes, self.format, spec)
            # the reason from packaging quotes the input; keep only the location
            raise InputError(where, "not a valid requirement (PEP 508)") from None
        return from_requirement(req, path, line, self.format, editable=editable, hashes=hashes, text=spec)


def _name_from_url(url: str) -> str:
    """``https://…/pkg-1.0-py3-none-any.whl`` → ``pkg`` (wheel or sdist file name), else the URL's
    last path segment."""
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    last = urlsplit(url.split(";")[0].strip()).path.rsplit("/", 1)[-1]
    try:
        if last.endswith(".whl"):
            return str(parse_wheel_filename(last)[0])
        return str(parse_sdist_filename(last)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return last or "<url>"


def _include(tokens: list[str]) -> tuple[bool, str] | None:
    """``-r F``, ``-rF``, ``--requirement F``, ``--requirement=F`` (and the ``-c`` forms)."""
    head = tokens[0]
    for short, long, is_c in (("-r", "--requirement", False), ("-c", "--constraint", True)):
        if head in (short, long):
            return is_c, tokens[1] if len(tokens) > 1 else ""
        if head.startswith(long + "="):
            return is_c, head[len(long) + 1:]
        if head.startswith(short) and not head.startswith("--"):
            return is_c, head[2:]
    return None


def _spec_allows(spec: str, version: str) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False


# ---- pyproject.toml -----------------------------------------------------------------------------
class PyprojectFile(DependencySource):
    """``[project] dependencies``, ``optional-dependencies`` and PEP 735 ``[dependency-groups]``."""

    format = "pyproject"

    def collect(self) -> list[Dependency]:
        data, text = load_toml(self.path)
        specs: list[str] = []
        project = data.get("project") or {}
        if not isinstance(project, dict):
            raise InputError(str(self.path), "[project] is not a table")
        specs.extend(_str_list(project.get("dependencies"), self.path, "project.dependencies"))
        for group, items in (project.get("optional-dependencies") or {}).items():
            specs.extend(_str_list(items, self.path, f"project.optional-dependencies.{group}"))
        for group, items in (data.get("dependency-groups") or {}).items():
            specs.extend(s for s in (items or []) if isinstance(s, str))  # {include-group = ...} tables are references
        out = []
        cursor = 0
        for s in specs:
            # quoted as written, searched from the previous hit so repeated entries get their own line
            hits = [i for i in (text.find(f'"{s}"', cursor), text.find(f"'{s}'", cursor)) if i >= 0]
            at = min(hits) if hits else text.find(s)
            line = text.count("\n", 0, at) + 1 if at >= 0 else None
            if at >= 0:
                cursor = at + 1
            try:
                req = Requirement(s)
            except InvalidRequirement:
                raise InputError(f"{self.path}:{line or 1}", "not a valid requirement (PEP 508)") from None
            out.append(from_requirement(req, self.path, line, self.format, text=s))
        return out


def _str_list(value: Any, path: Path, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(str(path), f"{where} must be a list of strings")
    return value


# ---- lock files ---------------------------------------------------------------------------------
class _TomlLock(DependencySource):
    table: ClassVar[str] = "package"

    def collect(self) -> list[Dependency]:
        data, text = load_toml(self.path)
        pkgs = data.get(self.table)
        if pkgs is None:
            return []
        if not isinstance(pkgs, list):
            raise InputError(str(self.path), f"[[{self.table}]] is not an array of tables")
        out = []
        cursor = 0
        for i, p in enumerate(pkgs):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                raise InputError(str(self.path), f"{self.table}[{i}] has no name")
            name = p["name"]
            at = text.find("[[" + self.table + "]]", cursor)
            line = find_line(text, f'name = "{name}"', max(at, 0)) if at >= 0 else find_line(text, f'"{name}"')
            if at >= 0:
                cursor = at + 1
            dep = self.dependency(p, name, line)
            if dep is not None:
                out.append(dep)
        return out

    def dependency(self, p: dict[str, Any], name: str, line: int | None) -> Dependency | None:
        version = p.get("version")
        kind = self.kind_of(p)
        if kind is None:
            return None
        if not isinstance(version, str) and kind == "pinned":
            kind = "unpinned"
        return Dependency(name, version if kind == "pinned" else None, self.path, line, kind,
                          f"=={version}" if isinstance(version, str) else "", str(p.get("marker", "")),
                          self.hashes(p), self.format, f"{name} {version or ''}".strip())

    def kind_of(self, p: dict[str, Any]) -> str | None:
        return "pinned"

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        return ()


class UvLock(_TomlLock):
    """``uv.lock``: the project itself (``virtual``/``editable`` at ``.``) is not a dependency."""

    format = "uv.lock"

    def kind_of(self, p: dict[str, Any]) -> str | None:
        src = p.get("source") or {}
        if "git" in src:
            return "vcs"
        if "url" in src:
            return "url"
        if "editable" in src or "virtual" in src:
            return None if src.get("editable", src.get("virtual")) == "." else "editable"
        if "path" in src or "directory" in src:
            return "path"
        return "pinned"

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        out = [w["hash"] for w in p.get("wheels", []) or [] if isinstance(w, dict) and "hash" in w]
        sd = p.get("sdist")
        if isinstance(sd, dict) and "hash" in sd:
            out.append(sd["hash"])
        return tuple(out)


class PoetryLock(_TomlLock):
    format = "poetry.lock"

    def kind_of(self, p: dict[str, Any]) -> str | None:
        t = (p.get("source") or {}).get("type")
        return {"git": "vcs", "url": "url", "file": "path", "directory": "editable" if p.get("develop") else "path"}.get(t, "pinned")

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        return tuple(f["hash"] for f in p.get("files", []) or [] if isinstance(f, dict) and "hash" in f)


class PyLock(_TomlLock):
    """PEP 751 ``pylock.toml``: ``[[packages]]`` with ``vcs``/``directory``/``archive`` sources."""

    format = "pylock"
    table = "packages"

    def kind_of(self, p: dict[str, Any]) -> str | None:
        if "vcs" in p:
            return "vcs"
        if "directory" in p:
            return "editable" if (p["directory"] or {}).get("editable") else "path"
        if "archive" in p and "url" in (p["archive"] or {}):
            return "url" if "version" not in p else "pinned"
        return "pinned"

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        out = []
        for w in [*(p.get("wheels") or []), p.get("sdist") or {}, p.get("archive") or {}]:
            for algo, h in (w.get("hashes") or {}).items() if isinstance(w, dict) else ():
                out.append(f"{algo}:{h}")
        return tuple(out)


# ---- installed environment ----------------------------------------------------------------------
class InstalledEnvironment(DependencySource):
    """Distributions installed in a ``site-packages`` directory (or a virtualenv root), read from
    their ``*.dist-info`` metadata without importing anything."""

    format = "installed"

    def collect(self) -> list[Dependency]:
        import importlib.metadata as md

        dirs = site_packages(self.path)
        if not dirs:
            raise InputError(str(self.path), "no site-packages directory found (give a site-packages path or a virtualenv root)")
        out = []
        for dist in md.distributions(path=[str(d) for d in dirs]):
            name = dist.metadata["Name"] if dist.metadata else None
            if not name:
                continue
            kind = _installed_kind(dist.read_text("direct_url.json"))
            out.append(Dependency(name, dist.version, self.path, None, kind, f"=={dist.version}", "", (), self.format, f"{name} {dist.version}"))
        return sorted(out, key=lambda d: d.canonical_name)


def _installed_kind(direct_url: str | None) -> str:
    """PEP 610 ``direct_url.json``: editable installs, VCS checkouts and URL installs are not
    releases a database can vouch for."""
    import json

    if not direct_url:
        return "pinned"
    try:
        info = json.loads(direct_url)
    except ValueError:
        return "url"
    if not isinstance(info, dict):
        return "url"
    if (info.get("dir_info") or {}).get("editable"):
        return "editable"
    if "vcs_info" in info:
        return "vcs"
    if str(info.get("url", "")).startswith("file:"):
        return "path"
    return "url"


def site_packages(path: Path) -> list[Path]:
    if path.name == "site-packages" or any(path.glob("*.dist-info")):
        return [path]
    return sorted(p for p in path.glob("lib/python*/site-packages") if p.is_dir()) + sorted(p for p in path.glob("Lib/site-packages") if p.is_dir())


# ---- discovery ----------------------------------------------------------------------------------
FORMATS: dict[str, type[DependencySource]] = {
    "requirements": RequirementsFile, "pyproject": PyprojectFile, "pylock": PyLock,
    "uv.lock": UvLock, "poetry.lock": PoetryLock, "installed": InstalledEnvironment,
}
DISCOVERY_GLOBS = ("**/requirements*.txt", "**/requirements/*.txt", "**/pyproject.toml", "**/pylock.toml",
                   "**/pylock.*.toml", "**/uv.lock", "**/poetry.lock")
LOCK_NAMES = ("uv.lock", "poetry.lock", "pylock.toml")


def detect_format(path: Path) -> str:
    n = path.name
    if path.is_dir():
        return "installed"
    if n == "pyproject.toml":
        return "pyproject"
    if n == "uv.lock":
        return "uv.lock"
    if n == "poetry.lock":
        return "poetry.lock"
    if n == "pylock.toml" or (n.startswith("pylock.") and n.endswith(".toml")):
        return "pylock"
    return "requirements"


def source_for(path: Path, fmt: str | None = None) -> DependencySource:
    fmt = fmt or detect_format(path)
    try:
        return FORMATS[fmt](path)
    except KeyError:
        raise InputError(str(path), f"unknown dependency format {fmt!r} (one of {', '.join(FORMATS)})") from None


def discovered_sources(files: Iterable[Path]) -> tuple[list[DependencySource], list[Path]]:
    """Sources for discovered files. A ``pyproject.toml`` beside a lock file is not audited (the
    lock says what is installed; the pyproject's ranges would all read as unpinned). Returns the
    sources and the pyproject files left out, for a note."""
    files = list(files)
    lock_dirs = {f.parent for f in files if f.name in LOCK_NAMES or (f.name.startswith("pylock.") and f.name.endswith(".toml"))}
    skipped = [f for f in files if f.name == "pyproject.toml" and f.parent in lock_dirs]
    sources = [source_for(f) for f in files if f not in skipped]
    return sources, skipped


def canonical(name: str) -> str:
    return canonicalize_name(name)
