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


#: format -> the module (in this package) whose ``render`` writes it
MODULES = {"text": "text", "json": "json_report", "markdown": "markdown", "sarif": "sarif", "junit": "junit",
           "codequality": "codequality", "cyclonedx": "cyclonedx"}


def writer(fmt: str) -> Writer:
    """The writer of one format, importing its module (and nothing else) on first use."""
    import importlib

    render: Writer = importlib.import_module(f"{__name__}.{MODULES[fmt]}").render
    return render


def writers() -> dict[str, Writer]:
    """Every writer by format (imports them all: for tools and tests that need each one)."""
    return {fmt: writer(fmt) for fmt in FORMATS}
