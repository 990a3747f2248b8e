"""The one error of remote resolution: the artifact could not be resolved or read, so the run
ends in exit code 2 (fail closed) with a message that names the reference, never a credential."""

from __future__ import annotations

from gates.core.errors import GatesError


class RemoteError(GatesError):
    """A remote reference could not be resolved, fetched or trusted."""
