"""Dependency inputs: which files the deps gate reads, and which parser reads each.

The parsers live in modules named for their formats (:mod:`.requirements`, :mod:`.pyproject`,
:mod:`.locks`, :mod:`.installed`); this module holds the format table, discovery globs and the
rule that a lock file beside a ``pyproject.toml`` says what is installed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from packaging.utils import canonicalize_name

from gates.core.errors import InputError

from .installed import InstalledEnvironment, site_packages
from .locks import PipfileLock, PoetryLock, PyLock, UvLock
from .manifests import CondaEnvironment, Pipfile, SetupCfg
from .parsing import DependencySource, find_line, from_requirement, load_toml, pinned_version, read_text, redact_url
from .pyproject import PyprojectFile
from .requirements import RequirementsFile

__all__ = [
    "FORMATS", "DISCOVERY_GLOBS", "DESCRIPTION", "CondaEnvironment", "DependencySource", "InstalledEnvironment", "Pipfile",
    "PipfileLock", "PoetryLock", "PyLock", "SetupCfg", "sniff",
    "PyprojectFile", "RequirementsFile", "UvLock", "canonical", "detect_format", "discovered_sources", "find_line",
    "from_requirement", "load_toml", "pinned_version", "read_text", "redact_url", "site_packages", "source_for",
]

FORMATS: dict[str, type[DependencySource]] = {
    "requirements": RequirementsFile, "pyproject": PyprojectFile, "pylock": PyLock, "uv.lock": UvLock,
    "poetry.lock": PoetryLock, "pipfile": Pipfile, "pipfile.lock": PipfileLock, "setup.cfg": SetupCfg,
    "conda": CondaEnvironment, "installed": InstalledEnvironment,
}
#: by convention: where each tool writes its dependency files (content decides for explicit paths)
DISCOVERY_GLOBS = (
    "**/*requirements*.txt", "**/requirements/*.txt", "**/*constraints*.txt", "**/*requirements*.in",
    "**/pyproject.toml", "**/pylock.toml", "**/pylock.*.toml", "**/uv.lock", "**/poetry.lock",
    "**/Pipfile", "**/Pipfile.lock", "**/setup.cfg", "**/environment.yml", "**/environment.yaml",
)
DESCRIPTION = ("requirements/constraints files, pyproject.toml, setup.cfg, Pipfile(.lock), pylock.toml, uv.lock, "
               "poetry.lock, conda environment.yml")
#: a manifest beside one of these locks is not audited: the lock says what is installed
_LOCKED_BY = {"pyproject": ("uv.lock", "poetry.lock", "pylock"), "setup.cfg": ("uv.lock", "poetry.lock", "pylock"),
              "pipfile": ("pipfile.lock",)}
_SNIFF_BYTES = 64 << 10


def detect_format(path: Path) -> str:
    """The input format of ``path``: by the name its tool gives it, else by its content."""
    n = path.name
    if path.is_dir():
        return "installed"
    by_name = {"pyproject.toml": "pyproject", "uv.lock": "uv.lock", "poetry.lock": "poetry.lock", "Pipfile": "pipfile",
               "Pipfile.lock": "pipfile.lock", "setup.cfg": "setup.cfg", "environment.yml": "conda", "environment.yaml": "conda"}
    if n in by_name:
        return by_name[n]
    if n == "pylock.toml" or (n.startswith("pylock.") and n.endswith(".toml")):
        return "pylock"
    if n.endswith((".txt", ".in")):
        return "requirements"
    return sniff(path)


def sniff(path: Path) -> str:
    """The format a file's first bytes say it has (for a path given explicitly under another name);
    requirements when nothing else fits, so its lines are still read and checked."""
    try:
        if not path.is_file():
            return "requirements"  # reading it reports what it is
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES).decode("utf-8", "replace")
    except OSError:
        return "requirements"
    if head.lstrip().startswith("{") and '"_meta"' in head:
        return "pipfile.lock"
    if "[[package]]" in head:
        return "poetry.lock" if ("content-hash" in head or "[metadata]" in head) else "uv.lock"
    if "[[packages]]" in head and "lock-version" in head:
        return "pylock"
    if re.search(r"^\[(project|build-system|tool\.poetry)[\].]", head, re.M):
        return "pyproject"
    if re.search(r"^\[(dev-)?packages\]", head, re.M):
        return "pipfile"
    if re.search(r"^\[options(\.extras_require)?\]", head, re.M):
        return "setup.cfg"
    if re.search(r"^dependencies:\s*$", head, re.M):
        return "conda"
    return "requirements"


def source_for(path: Path, fmt: str | None = None) -> DependencySource:
    fmt = fmt or detect_format(path)
    try:
        return FORMATS[fmt](path)
    except KeyError:
        raise InputError(str(path), f"unknown dependency format {fmt!r} (one of {', '.join(FORMATS)})") from None


def discovered_sources(files: Iterable[Path]) -> tuple[list[DependencySource], list[Path]]:
    """Sources for discovered files, minus manifests whose lock sits beside them (the lock says
    what is installed; the manifest's ranges would all read as unpinned): ``pyproject.toml`` and
    ``setup.cfg`` beside ``uv.lock``/``poetry.lock``/``pylock.toml``, ``Pipfile`` beside
    ``Pipfile.lock``, and ``X.in`` beside the ``X.txt`` pip-compile writes from it. Returns the
    sources and the files left out, for a note."""
    files = list(dict.fromkeys(files))
    formats = {f: detect_format(f) for f in files}
    present = {(f.parent, fmt) for f, fmt in formats.items()}
    names = {(f.parent, f.name) for f in files}
    skipped = [f for f, fmt in formats.items()
               if any((f.parent, lock) in present for lock in _LOCKED_BY.get(fmt, ()))
               or (f.suffix == ".in" and (f.parent, f.stem + ".txt") in names)]
    sources = [source_for(f, formats[f]) for f in files if f not in skipped]
    return sources, skipped


def canonical(name: str) -> str:
    return canonicalize_name(name)
