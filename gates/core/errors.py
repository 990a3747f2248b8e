"""Typed errors. Each maps to exit code 2 at the CLI; their messages name the file and reason.

Messages must never include raw input values (they may be PII or secrets): name the file, the
location and the kind of problem only.
"""

from __future__ import annotations

from .hygiene import redact_urls

__all__ = ["GatesError", "UsageError", "PolicyError", "OptionsError", "InputError", "redact_urls"]


class GatesError(Exception):
    """Base class: anything that should end the run with exit code 2."""

    exit_code = 2


class UsageError(GatesError):
    """Bad command line."""


class PolicyError(GatesError):
    """The policy file is missing, unparseable or does not match the schema.

    ``problems`` holds one ``FILE:LINE: path.to.key: message`` string per problem.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        # schema messages quote policy values, and a value may be a URL with a token in it
        message = redact_urls(message)
        self.problems = [redact_urls(p) for p in problems or []]
        super().__init__(message if not self.problems else message + "\n" + "\n".join("  " + p for p in self.problems))


class OptionsError(GatesError):
    """The policy's options for a gate are invalid in a way its schema cannot express (e.g. two
    options that contradict each other, a key file that does not exist).

    ``key`` is the dotted option under ``gates.<gate>`` (``artifacts[0].path``); the runner
    reports every gate's options error the same way, as ``gates.<gate>.<key>: <reason>``.
    """

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


class InputError(GatesError):
    """An input file could not be read or parsed. The gate reports it as an error (fail closed)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")
