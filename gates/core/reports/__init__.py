"""Report writers. Each takes a :class:`~gates.core.runner.RunResult` and returns text.

Reports print ``Finding.evidence`` as given: gates must hand over redacted evidence only.

A run imports only the writers its ``--format`` flags ask for (:func:`writer`): the text
report's ``rich`` and JUnit's XML library are most of a small run's start-up otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..runner import RunResult

Writer = Callable[["RunResult"], str]

FORMATS = ("text", "json", "markdown", "sarif", "junit", "codequality", "cyclonedx")


def writer(fmt: str) -> Writer:
    """The writer of one format, importing its module (and nothing else) on first use."""
    if fmt == "text":
        from . import text
        return text.render
    if fmt == "json":
        from . import json_report
        return json_report.render
    if fmt == "markdown":
        from . import markdown
        return markdown.render
    if fmt == "sarif":
        from . import sarif
        return sarif.render
    if fmt == "junit":
        from . import junit
        return junit.render
    if fmt == "codequality":
        from . import codequality
        return codequality.render
    if fmt == "cyclonedx":
        from . import cyclonedx
        return cyclonedx.render
    raise KeyError(fmt)


def writers() -> dict[str, Writer]:
    """Every writer by format (imports them all: for tools and tests that need each one)."""
    return {fmt: writer(fmt) for fmt in FORMATS}
