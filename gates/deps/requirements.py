"""pip requirements files (``requirements*.txt``, ``constraints*.txt``, ``requirements.in``, …):
``-r``/``-c`` includes, ``--hash`` options, markers, ``-e``, URL and VCS requirements, each with
its file and line.

Unlike pip-audit, which stops at the first unpinned requirement, every declaration is returned,
so the gate can list all unpinned, URL, VCS and editable requirements at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from gates.core.errors import InputError
from gates.core.files import is_within

from .parsing import VCS_SCHEMES, DependencySource, from_requirement, read_text, redact_url
from .records import Dependency

MAX_INCLUDE_DEPTH = 16


_GLOBAL_OPTS_WITH_ARG = {"-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--trusted-host",
                         "--no-binary", "--only-binary", "--prefer-binary", "--use-feature", "--progress-bar",
                         "--config-settings", "--global-option"}
_GLOBAL_FLAGS = {"--pre", "--no-index", "--require-hashes", "--prefer-binary"}


@dataclass
class LogicalLine:
    """One requirement line after continuations are joined, with its first physical line."""

    text: str
    line: int


def _logical_lines(text: str) -> Iterable[LogicalLine]:
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
            yield LogicalLine(joined, start)
    if buf:
        joined = re.sub(r"(^|\s)#.*$", "", " ".join(buf)).strip()
        if joined:
            yield LogicalLine(joined, start)


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
        return _apply_constraints(reqs, constraints)

    def collect_lines(self, lines: Iterable[LogicalLine]) -> list[Dependency]:
        """Requirement lines embedded in another manifest (a conda ``pip:`` section, setup.cfg),
        located in ``self.path``; ``-r``/``-c`` includes are read relative to it."""
        reqs: list[Dependency] = []
        constraints: list[Dependency] = []
        seen = {self.path.resolve()}
        for ll in lines:
            self._line(self.path, ll, reqs, constraints, seen, 0, False)
        return _apply_constraints(reqs, constraints)

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
            self._line(path, ll, reqs, cons, seen, depth, constraint)

    def _line(self, path: Path, ll: LogicalLine, reqs: list[Dependency], cons: list[Dependency], seen: set[Path], depth: int,
              constraint: bool) -> None:
        tokens = ll.text.split()  # not shlex: markers keep their quotes for packaging
        if not tokens:
            return
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
            return
        head = tokens[0]
        opt, _, inline = head.partition("=") if head.startswith("--") else (head, "", "")
        if opt in _GLOBAL_OPTS_WITH_ARG or opt in _GLOBAL_FLAGS:
            return
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
            try:
                name = m.group(1) if m else _name_from_url(spec)
            except ValueError:  # urllib: "Invalid IPv6 URL" and the like; the message quotes nothing useful
                raise InputError(where, "not a valid URL requirement") from None
            kind = "editable" if editable else ("vcs" if spec.startswith(VCS_SCHEMES) else "url")
            return Dependency(name, None, path, line=line, kind=kind, hashes=hashes, source_format=self.format, text=redact_url(spec))
        if spec.startswith((".", "/", "~")) or (editable and not re.match(r"^[A-Za-z0-9]", spec)):
            return Dependency(Path(spec).name or spec, None, path, line=line, kind="editable" if editable else "path", hashes=hashes,
                              source_format=self.format, text=spec)
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            if editable or _exists(path.parent, spec.split(";")[0].strip()):
                return Dependency(spec, None, path, line=line, kind="editable" if editable else "path", hashes=hashes,
                                  source_format=self.format, text=spec)
            # the reason from packaging quotes the input; keep only the location
            raise InputError(where, "not a valid requirement (PEP 508)") from None
        return from_requirement(req, path, line, self.format, editable=editable, hashes=hashes, text=spec)


def _exists(base: Path, name: str) -> bool:
    """Whether ``name`` is a path beside the requirements file (a bare local path requirement);
    names the OS cannot hold (NUL bytes, too long) are not."""
    try:
        return (base / name).exists()
    except (OSError, ValueError):
        return False


def _apply_constraints(reqs: list[Dependency], constraints: list[Dependency]) -> list[Dependency]:
    """Unpinned requirements pinned by a ``-c`` constraint of the same name (when it allows it)."""
    pins: dict[str, Dependency] = {}
    for c in constraints:
        if c.kind == "pinned":
            pins.setdefault(c.canonical_name, c)
    out = []
    for d in reqs:
        c = pins.get(d.canonical_name)
        if d.kind == "unpinned" and c is not None and c.version is not None and _spec_allows(d.specifier, c.version):
            d = replace(d, version=c.version, kind="pinned", hashes=d.hashes or c.hashes, text=f"{d.text} (pinned by {c.path.name}:{c.line})")
        out.append(d)
    return out


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




def read_named_files(owner: DependencySource, names: list[str], where: str, label: str) -> list[Dependency]:
    """Requirements files another manifest points at (``tool.setuptools.dynamic``'s ``file``,
    setup.cfg's ``file:``), relative to it and inside the scanned root; the files read are added
    to ``owner.extra_files`` for the report."""
    out: list[Dependency] = []
    for name in names:
        target = owner.path.parent / name
        if not name or not is_within(target, owner.root or owner.path.parent):
            raise InputError(where, f"{label} names a file outside the scanned root (or no file); it was not read")
        if not target.is_file():
            raise InputError(where, f"{label} names a file that does not exist")
        src = RequirementsFile(target)
        src.root = owner.root
        out += src.collect()
        owner.extra_files += [f for f in src.files() if f not in owner.extra_files]
    return out
