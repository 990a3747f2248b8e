"""Dependency inputs: which files the deps gate reads, and which parser reads each.

The parsers live in modules named for their formats (:mod:`.requirements`, :mod:`.pyproject`,
:mod:`.locks`, :mod:`.installed`); this module holds the format table, discovery globs and the
rule that a lock file beside a ``pyproject.toml`` says what is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from packaging.utils import canonicalize_name

from gates.core.errors import InputError

from .installed import InstalledEnvironment, site_packages
from .locks import PoetryLock, PyLock, UvLock
from .parsing import DependencySource, find_line, from_requirement, load_toml, pinned_version, read_text, redact_url
from .pyproject import PyprojectFile
from .requirements import RequirementsFile

__all__ = [
    "FORMATS", "DISCOVERY_GLOBS", "DESCRIPTION", "DependencySource", "InstalledEnvironment", "PoetryLock", "PyLock",
    "PyprojectFile", "RequirementsFile", "UvLock", "canonical", "detect_format", "discovered_sources", "find_line",
    "from_requirement", "load_toml", "pinned_version", "read_text", "redact_url", "site_packages", "source_for",
]

FORMATS: dict[str, type[DependencySource]] = {
    "requirements": RequirementsFile, "pyproject": PyprojectFile, "pylock": PyLock,
    "uv.lock": UvLock, "poetry.lock": PoetryLock, "installed": InstalledEnvironment,
}
DISCOVERY_GLOBS = ("**/requirements*.txt", "**/requirements/*.txt", "**/pyproject.toml", "**/pylock.toml",
                   "**/pylock.*.toml", "**/uv.lock", "**/poetry.lock")
LOCK_NAMES = ("uv.lock", "poetry.lock", "pylock.toml")
DESCRIPTION = "requirements*.txt, pyproject.toml, pylock.toml, uv.lock, poetry.lock"


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
