"""What a waiver matches, judged by behaviour: one matcher for applying waivers, refusing
catch-all ones and enforcing ``forbid_rules``.

A waiver names a rule (a glob over rule ids) and optionally a path (a gitignore-style glob,
:func:`gates.core.files.glob_match`). Whether a waiver is "too broad" or covers a forbidden rule
is decided by what its globs *match*, not by how they are spelt: ``**/*.*``, ``**`` and ``*``
all match nearly every file, and a text check (``path.strip("*?/")``) lets the first through.
"""

from __future__ import annotations

import fnmatch
import itertools

from .files import glob_match

#: probe paths of many shapes: depths, dot-files, no extension, double extensions, spaces,
#: non-ASCII names, directory names that look like files
PROBE_DIRS = ("", "data/", "src/pkg/", "models/v1/weights/", ".github/workflows/", "tests/fixtures/data/",
              "a/b/c/d/e/f/", "Über Ordner/", "x.d/")
PROBE_NAMES = ("train.csv", "weights.pkl", "config.json", "main.py", "notes.txt", "README.md", ".env", "bundle.tar.gz",
               "Makefile", "part-0.parquet", "model.safetensors", "LICENSE", "données.jsonl", "my file.bin", "requirements.txt")
PROBE_PATHS = tuple(d + n for d, n in itertools.product(PROBE_DIRS, PROBE_NAMES))

#: a path glob is a catch-all when it matches files of this many kinds in this many directories
CATCH_ALL_KINDS = 3
CATCH_ALL_DIRS = 3

GLOB_CHARS = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return bool(GLOB_CHARS & set(pattern))


def rule_matches(pattern: str, rule_id: str) -> bool:
    """A waiver's ``rule`` (a glob, case-sensitive) against a rule id."""
    return fnmatch.fnmatchcase(rule_id, pattern)


def path_matches(pattern: str, path: str) -> bool:
    """A waiver's ``path`` (gitignore-style glob, relative to the scanned root) against a path."""
    return glob_match(path, pattern)


def _kind(name: str) -> str:
    return name.partition(".")[2].lower() if "." in name.lstrip(".") else name.lower()


def is_catch_all_path(pattern: str | None) -> bool:
    """True when ``pattern`` (a waiver's ``path``, None for none) matches probe files of at
    least :data:`CATCH_ALL_KINDS` kinds in at least :data:`CATCH_ALL_DIRS` directories: it scopes
    the waiver to nothing in particular. ``data/**`` (one directory) and ``**/*.csv`` (one kind)
    are scoped; ``**/*.*``, ``*``, ``**`` and ``**/*`` are not."""
    if pattern is None or not str(pattern).strip():
        return True
    hits = [p for p in PROBE_PATHS if path_matches(str(pattern), p)]
    kinds = {_kind(p.rpartition("/")[2]) for p in hits}
    dirs = {p.rpartition("/")[0] for p in hits}
    return len(kinds) >= CATCH_ALL_KINDS and len(dirs) >= CATCH_ALL_DIRS


_STAR = None  # token for ``*``


def _tokens(pattern: str) -> list[tuple[bool, frozenset[str]] | None]:
    """fnmatch syntax as tokens: ``None`` for ``*``, else (negated, chars) for one character
    (``?`` is a negated empty set: any character)."""
    out: list[tuple[bool, frozenset[str]] | None] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            if not out or out[-1] is not _STAR:
                out.append(_STAR)
            i += 1
        elif c == "?":
            out.append((True, frozenset()))
            i += 1
        elif c == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j == -1:  # fnmatch treats an unclosed bracket as a literal
                out.append((False, frozenset("[")))
                i += 1
                continue
            body = pattern[i + 1 : j]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            chars: set[str] = set()
            k = 0
            while k < len(body):
                if k + 2 < len(body) and body[k + 1] == "-":
                    chars.update(chr(x) for x in range(ord(body[k]), ord(body[k + 2]) + 1))
                    k += 3
                else:
                    chars.add(body[k])
                    k += 1
            out.append((neg, frozenset(chars)))
            i = j + 1
        else:
            out.append((False, frozenset(c)))
            i += 1
    return out


def _sets_meet(x: tuple[bool, frozenset[str]], y: tuple[bool, frozenset[str]]) -> bool:
    (xn, xs), (yn, ys) = x, y
    if xn and yn:
        return True  # two complements of finite sets always share a character
    if xn:
        return bool(ys - xs)
    if yn:
        return bool(xs - ys)
    return bool(xs & ys)


def globs_intersect(a: str, b: str) -> bool:
    """True when some string matches both fnmatch globs ``a`` and ``b`` (decided exactly, by
    walking both patterns together), e.g. ``?ODEL001`` and ``MODEL00*``."""
    ta, tb = _tokens(a), _tokens(b)
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(ta) and j == len(tb):
            return True
        x = ta[i] if i < len(ta) else "end"
        y = tb[j] if j < len(tb) else "end"
        if x is _STAR:
            todo.append((i + 1, j))  # the star matches nothing more
            if y != "end":
                todo.append((i, j + 1))  # the star swallows what b's next token matches
        if y is _STAR:
            todo.append((i, j + 1))
            if x != "end":
                todo.append((i + 1, j))
        if x not in ("end", _STAR) and y not in ("end", _STAR) and _sets_meet(x, y):  # type: ignore[arg-type]
            todo.append((i + 1, j + 1))
    return False


def rules_overlap(a: str, b: str) -> bool:
    """True when some rule id is matched by both rule globs: ``forbid_rules`` is enforced by what
    a waiver's rule could cover, not by how it is spelt."""
    return globs_intersect(a, b)
