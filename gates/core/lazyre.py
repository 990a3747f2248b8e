"""Module-level regular expressions compiled on first use (issue 18: start-up cost).

Compiling a module's patterns at import is paid by every process, including those that never use
them (a numeric CSV never meets an address pattern). ``_WORD = lazy(globals(), r"...")`` binds a
stand-in that compiles the pattern on its first attribute access (``_WORD.search``) and then puts
the compiled :class:`re.Pattern` in the module's namespace in its own place: every later use, in
the module or as ``module._WORD`` from outside, reads the real pattern with no extra call.

Only attribute use is supported (``_WORD.fullmatch(s)``, ``_WORD.pattern``); code that passes the
object itself to :mod:`re` functions or checks ``isinstance(x, re.Pattern)`` should compile
eagerly instead.
"""

from __future__ import annotations

import re
from typing import Any, MutableMapping


class LazyPattern:
    """A stand-in for ``re.compile(pattern, flags)`` that replaces itself in ``namespace``."""

    __slots__ = ("_namespace", "_pattern", "_flags", "_compiled")

    def __init__(self, namespace: MutableMapping[str, Any], pattern: str, flags: int = 0) -> None:
        self._namespace = namespace
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiling it once); the module's names bound to this stand-in
        are rebound to it. Two threads racing here compile twice and bind equal patterns."""
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
            for name, value in list(self._namespace.items()):
                if value is self:
                    self._namespace[name] = self._compiled
        return self._compiled

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.compiled(), attr)

    def __repr__(self) -> str:
        return f"LazyPattern({self._pattern!r}, {self._flags!r})"


def lazy(namespace: MutableMapping[str, Any], pattern: str, flags: int = 0) -> LazyPattern:
    """``re.compile(pattern, flags)`` deferred to first use; ``namespace`` is the caller's
    ``globals()``, where the compiled pattern will replace the stand-in."""
    return LazyPattern(namespace, pattern, flags)
