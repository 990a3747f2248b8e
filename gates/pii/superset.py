"""Find Python ``re`` matches faster by letting RE2 say where they can start.

The per-cell scan runs the scanner's alternation with Python's ``re``, whose Unicode ``\\d``,
``\\s`` and ``\\b`` the findings depend on. On long cells (free text) ``re`` tries every
alternative at every position: ~50 µs for a 200-character paragraph. RE2 (google-re2, a DFA)
does the same walk several times faster, but its ``\\b`` and ``\\s`` are ASCII-only, so it cannot
simply replace ``re``.

:func:`translate` turns the pattern into an RE2 pattern that matches at *every position where
the Python one matches* (and maybe elsewhere): ``\\d`` becomes ``\\p{Nd}`` (exactly Python's
``\\d``), ``\\s``/``\\S`` become Python's whitespace set written out, and ``\\b`` is dropped (an
assertion less only matches more). :func:`finditer` then asks RE2 for the leftmost position
where a match could start and runs ``re`` from there: no ``re`` match can start before it, so
``re``'s search from that position finds the same match ``finditer`` would, and the text between
matches is never walked by ``re``. Patterns the translation cannot vouch for (lookarounds,
backreferences, ``\\w``, anchors, empty matches: custom policy patterns may hold anything) get
``None`` and keep the plain ``re`` walk.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterator

#: Python's str.isspace() characters (what ``\\s`` matches in a str pattern), for RE2
_SPACE = r"\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\p{Z}"
_ESCAPES_OUT = {"d": r"\p{Nd}", "D": r"\P{Nd}", "s": f"[{_SPACE}]", "S": f"[^{_SPACE}]", "b": ""}
_ESCAPES_IN = {"d": r"\p{Nd}", "s": _SPACE}
#: escapes that mean the same in both engines (outside and inside classes)
_SAME = set("tnrfv.-+*?()[]{}|^$\\/@:#&~%!=<>,;'\" _")
#: below this many characters a cell is walked by ``re`` alone (RE2's call costs more)
MIN_LEN = 48


def translate(pattern: str) -> str | None:
    """An RE2 pattern matching wherever ``pattern`` (Python ``re`` syntax) can start a match,
    or None when that cannot be guaranteed."""
    try:
        from re import _parser  # type: ignore[attr-defined]

        if _parser.parse(pattern).getwidth()[0] == 0:
            return None  # could match empty: finditer's rules for empty matches are not reproduced
    except (re.error, AttributeError, ImportError):
        return None
    out: list[str] = []
    i, n, depth_class = 0, len(pattern), False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if i + 1 >= n:
                return None
            e = pattern[i + 1]
            if depth_class:
                if e in _ESCAPES_IN:
                    out.append(_ESCAPES_IN[e])
                elif e in _SAME:
                    out.append("\\" + e)
                else:
                    return None  # \w, \S or \D inside a class, \b (backspace), octal...: not vouched for
            else:
                if e in _ESCAPES_OUT:
                    out.append(_ESCAPES_OUT[e])
                elif e in _SAME:
                    out.append("\\" + e)
                else:
                    return None  # \w \W \B \A \Z, backreferences, \u escapes
            i += 2
            continue
        if depth_class:
            if c == "[":
                return None  # nested sets or POSIX classes: not vouched for
            if c == "]":
                depth_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            depth_class = True
            out.append(c)
            # a leading ^ or ] belongs to the set
            j = i + 1
            if j < n and pattern[j] == "^":
                out.append("^")
                j += 1
            if j < n and pattern[j] == "]":
                out.append(r"\]")
                j += 1
            i = j
            continue
        if c in "^$":
            return None  # Python's $ also matches before a final newline
        if c == "(" and pattern.startswith("(?", i):
            rest = pattern[i + 2:i + 4]
            if rest.startswith("P<") or rest.startswith(":") or rest.startswith("i:"):
                out.append(c)
                i += 1
                continue
            return None  # lookarounds, (?P=name), inline flags other than i, conditionals
        out.append(c)
        i += 1
    if depth_class:
        return None
    return "".join(out)


@functools.lru_cache(maxsize=512)
def compiled(pattern: str) -> Any:
    """The RE2 stand-in for ``pattern`` compiled once, or None (then ``re`` walks alone). Its
    groups do not capture: only where a match starts is asked of it, and RE2 finds that with its
    DFA alone (capturing groups made it run its slower submatch engine on every hit)."""
    rx2 = translate(pattern)
    if rx2 is None:
        return None
    try:
        import re2

        opts = re2.Options()
        opts.max_mem = 64 << 20
        opts.never_capture = True
        return re2.compile(rx2, options=opts)
    except Exception:  # noqa: BLE001 - no binding, or a pattern it refuses: the plain walk
        return None


def finditer(rx: re.Pattern, starts: Any, text: str) -> Iterator[re.Match]:
    """``rx.finditer(text)``, with ``starts`` (from :func:`compiled`) skipping the stretches
    where no match can begin. ``rx`` never matches empty (``translate`` refuses such patterns).

    RE2 is given the text's UTF-8 bytes, encoded once: handed a ``str``, the binding encodes the
    whole text again on every search and converts every offset (most of the cost on long
    non-ASCII cells). Byte offsets are turned into ``str`` offsets as the walk goes, each stretch
    of text converted once."""
    if starts is None or len(text) < MIN_LEN:
        yield from rx.finditer(text)
        return
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for RE2 to walk
        yield from rx.finditer(text)
        return
    search, where = rx.search, starts.search
    n = len(text)
    pos = bpos = 0  # where the walk is, in characters and in bytes of ``data``
    ascii_only = len(data) == n
    while pos < n:
        hint = where(data, bpos)
        if hint is None:
            return
        hb = hint.start()
        if ascii_only:
            at = hb
        else:
            while hb > bpos and data[hb] & 0xC0 == 0x80:  # inside a character: from its first byte
                hb -= 1
            at = pos + len(data[bpos:hb].decode("utf-8"))
        m = search(text, at)
        if m is None:
            return
        yield m
        end = m.end()
        bpos = end if ascii_only else hb + len(text[at:end].encode("utf-8"))
        pos = end
