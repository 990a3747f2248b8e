"""Report writers. Each takes a :class:`~gates.core.runner.RunResult` and returns text.

Reports print ``Finding.evidence`` as given: gates must hand over redacted evidence only.
"""

from __future__ import annotations

from typing import Callable

from ..runner import RunResult

Writer = Callable[[RunResult], str]


def writers() -> dict[str, Writer]:
    from . import codequality, cyclonedx, json_report, junit, markdown, sarif, text

    return {
        "text": text.render,
        "json": json_report.render,
        "markdown": markdown.render,
        "sarif": sarif.render,
        "junit": junit.render,
        "codequality": codequality.render,
        "cyclonedx": cyclonedx.render,
    }


FORMATS = ("text", "json", "markdown", "sarif", "junit", "codequality", "cyclonedx")
