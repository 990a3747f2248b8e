"""File discovery with gitignore-style globs, kept inside the scanned root.

Gates never walk the file system themselves: they ask the context, which applies the policy's
``paths``/``exclude`` globs, skips the usual junk directories, does not follow directory symlinks,
and refuses files whose real location escapes the root (a symlink to ``/etc/passwd`` in a PR must
not be scanned, nor silently skipped: it is reported).
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

VCS_DIRS = frozenset({".git", ".hg", ".svn"})
#: ``.cache``: where CI jobs keep pip's cache inside the project (GitLab caches only paths there)
ALWAYS_EXCLUDED_DIRS = VCS_DIRS | {"node_modules", "__pycache__", ".tox", ".nox", ".venv", "venv", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                                   ".cache"}


def _skip_dir(full: Path, name: str) -> bool:
    """VCS metadata is never scanned. Tool directories (virtualenvs, caches, ``node_modules``) are
    skipped only when git tracks nothing in them: they are then what CI made, whereas a pull
    request that commits ``models/venv/evil.pkl`` must not hide the file by the directory's name."""
    if name in VCS_DIRS:
        return True
    return name in ALWAYS_EXCLUDED_DIRS and not _git_tracks_files(full)


def _git_tracks_files(directory: Path) -> bool:
    """True when git's index lists a file under ``directory`` (no git or no repository: False).

    Asked once per work tree, not once per directory: a tree after a test run has a
    ``__pycache__`` in every package, and one ``git ls-files`` per directory cost ~2.5 ms each
    (2,110 of them, 5 s, on a site-packages tree). The work tree is the nearest directory above
    with a ``.git`` (a submodule's own); its index is listed once and every directory holding a
    tracked file is remembered."""
    d = os.path.abspath(directory)
    top = _work_tree(d)
    if top is None:
        return False
    try:  # the index's stamp (git replaces the file on each write): a later walk sees ``git add``
        st = os.stat(os.path.join(top, ".git", "index"))
        stamp: tuple[int, ...] = (st.st_ino, st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = ()
    tracked = _tracked_dirs(top, stamp)
    rel = os.path.relpath(d, top).replace(os.sep, "/")
    return rel in tracked


def _work_tree(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` holding ``.git`` (a directory, or the file
    of a submodule or linked work tree), or None."""
    d = directory
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        up = os.path.dirname(d)
        if up == d:
            return None
        d = up


@functools.lru_cache(maxsize=16)
def _tracked_dirs(top: str, stamp: tuple[int, ...] = ()) -> frozenset[str]:
    """Every directory (relative to ``top``, ``/``-separated) holding a file git's index lists
    (empty when git is missing or ``top`` is no repository). The repository's own config is not
    trusted to run anything (``core.fsmonitor``)."""
    import subprocess  # here: most scans never meet a tool directory, and every process would pay for it

    cmd = ["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false", "-C", top, "ls-files", "-z", "--cached", "--", "."]
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    if out.returncode != 0:
        return frozenset()
    dirs: set[str] = set()
    for name in out.stdout.decode("utf-8", "surrogateescape").split("\0"):
        parent = name.rpartition("/")[0]
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent.rpartition("/")[0]
    return frozenset(dirs)


@functools.lru_cache(maxsize=512)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a gitignore-style glob (``**``, ``*``, ``?``, ``[...]``) to a regex.

    A pattern without a slash matches the basename anywhere (like ``.gitignore``); a pattern with
    a slash is anchored at the root. ``**/`` matches zero or more directories.
    """
    return _translate(pattern)[0]


@functools.lru_cache(maxsize=512)
def _needle(pattern: str) -> str:
    """The longest run of plain characters of ``pattern``: text every path it matches contains
    (``**/*.csv`` → ``.csv``; the slash of ``**/`` may match nothing, so it is no part of it)."""
    return _translate(pattern)[1]


def _translate(pattern: str) -> tuple[re.Pattern[str], str]:
    """The glob's regex, and its longest literal run (one reading of the glob for both)."""
    pat = pattern.strip()
    if pat.startswith("./"):
        pat = pat[2:]
    anchored = "/" in pat.rstrip("/")
    pat = pat.lstrip("/")
    if pat.endswith("/"):
        pat += "**"
    i, out = 0, []
    runs, run = [""], ""  # literal runs: each wildcard ends one
    while i < len(pat):
        c = pat[i]
        if not (c in "*?" or (c == "[" and pat.find("]", i + 1) != -1)):
            run += c
        elif run:
            runs.append(run)
            run = ""
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            j = pat.find("]", i + 1)
            if j == -1:
                out.append(re.escape(c))
                i += 1
            else:
                body = pat[i + 1 : j].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = j + 1
        else:
            out.append(re.escape(c))
            i += 1
    runs.append(run)
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    # a directory pattern also matches everything below it
    return re.compile(f"^{prefix}{body}(?:/.*)?$", re.DOTALL), max(runs, key=len)


def glob_match(path: str, pattern: str) -> bool:
    # the substring test first: a walk asks every file against every glob (79 for the pii
    # gate), and most globs are a suffix the file lacks; the regex then decides
    path = path.replace(os.sep, "/")
    needle = _needle(pattern)
    if needle and needle not in path:
        return False
    return bool(glob_to_regex(pattern).match(path))


@functools.lru_cache(maxsize=256)
def _globs(patterns: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((_needle(p), glob_to_regex(p)) for p in patterns)


def any_match(path: str, patterns: Iterable[str]) -> bool:
    path = path.replace(os.sep, "/")
    for needle, rx in _globs(patterns if type(patterns) is tuple else tuple(patterns)):  # noqa: E721
        if needle in path and rx.match(path):
            return True
    return False


@dataclass(frozen=True)
class Discovered:
    """Files to scan, plus the ones refused because they resolve outside the root."""

    files: tuple[Path, ...]
    escaped: tuple[Path, ...]
    #: paths that match but cannot be scanned, with the reason: directories that could not be
    #: listed (the reason is the OS error), FIFOs, sockets, devices, symlink loops and dangling
    #: links (a sentence from :func:`unscannable`); the gate must report each
    unreadable: tuple[tuple[Path, str], ...] = ()
    #: the ``include`` globs that matched at least one path (a configured glob that matched
    #: nothing is usually a typo, and must not pass as "nothing to scan")
    matched: frozenset[str] = frozenset()


def is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False


_SPECIAL = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"))


def unscannable(path: Path) -> str | None:
    """Why ``path`` cannot be scanned as a regular file (it is never opened), or None.

    Opening a FIFO blocks until someone writes to it and a device can stream forever, so a gate
    must not even open them; a symlink loop or a dangling link is one error for that path rather
    than a crash of the whole gate.
    """
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            st = os.stat(path)
    except FileNotFoundError:
        return "dangling symlink: its target does not exist" if os.path.islink(path) else "no such file or directory"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop: the link cannot be resolved"
        return f"cannot read: {exc.strerror or type(exc).__name__}"
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return None
    kind = next((what for test, what in _SPECIAL if test(st.st_mode)), "a special file")
    return f"{kind}, not a regular file: not read"


def walk(root: Path, include: Sequence[str], exclude: Sequence[str]) -> Discovered:
    """Walk ``root`` (not following directory symlinks) and keep files matching ``include``."""
    root = root.resolve()
    files: list[Path] = []
    escaped: list[Path] = []
    unreadable: list[tuple[Path, str]] = []
    matched: set[str] = set()

    globs = list(zip(include, _globs(tuple(include))))

    def hit(rel: str) -> None:
        nonlocal globs
        if globs:
            now = [p for p, (needle, rx) in globs if needle in rel and rx.match(rel)]
            if now:
                matched.update(now)
                globs = [g for g in globs if g[0] not in matched]

    def failed(exc: OSError) -> None:
        unreadable.append((Path(exc.filename or root), exc.strerror or type(exc).__name__))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=failed):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        keep = []
        for d in sorted(dirnames):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            full = Path(dirpath, d)
            if any_match(rel, exclude) or (d in ALWAYS_EXCLUDED_DIRS and _skip_dir(full, d)):
                continue
            if full.is_symlink():
                # a directory symlink is treated like a file entry so its target gets checked
                if any_match(rel, include) and not is_within(full, root):
                    escaped.append(full)
                    hit(rel)
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if any_match(rel, exclude) or not any_match(rel, include):
                continue
            full = Path(dirpath, name)
            hit(rel)
            why = unscannable(full)
            if why is not None:
                unreadable.append((full, why))
                continue
            if full.is_symlink() and not is_within(full, root):
                escaped.append(full)
                continue
            files.append(full)
    return Discovered(tuple(files), tuple(escaped), tuple(unreadable), frozenset(matched))


def display_path(path: Path, cwd: Path | None = None) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    cwd = _resolved(Path(os.path.abspath(cwd or Path.cwd())))
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(cwd).as_posix()
    except ValueError:
        return p.as_posix()


@functools.lru_cache(maxsize=16)
def _resolved(directory: Path) -> Path:
    """The working directory or root (absolute: a relative one would name another directory
    after a ``chdir``) with its symbolic links resolved, once per run and directory (a report of
    592 files resolved both per file: an ``lstat`` per path component, a fifth of the parent's
    reporting)."""
    return directory.resolve()


def root_relative(path: Path, root: Path) -> str:
    p = Path(os.path.abspath(path))
    try:
        return p.relative_to(_resolved(Path(os.path.abspath(root)))).as_posix()
    except ValueError:
        return p.as_posix()


def select(paths: Iterable[Path], root: Path, include: Sequence[str], exclude: Sequence[str]) -> tuple[list[Path], list[Path]]:
    """Split files named on a command line (pre-commit passes the staged ones) into those a gate's
    ``paths``/``exclude`` globs select, relative to ``root``, and the rest. A file outside the
    root is kept: the globs cannot speak for it, and dropping it would pass it unchecked."""
    base = root.absolute()
    kept: list[Path] = []
    dropped: list[Path] = []
    for p in paths:
        rel = os.path.relpath(p.absolute(), base).replace(os.sep, "/")
        if rel.startswith("../") or rel == "..":
            kept.append(p)
        elif any_match(rel, include) and not any_match(rel, exclude):
            kept.append(p)
        else:
            dropped.append(p)
    return kept, dropped
