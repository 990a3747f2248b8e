"""The deps gate's data model: frozen records passed between inputs, services and the gate.

Shaped after pip-audit's ``Dependency``/``VulnerabilityResult``: inputs produce
:class:`Dependency` objects, vulnerability services turn them into :class:`Advisory` matches,
and nothing downstream can change what an earlier stage found.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

#: how a requirement names its artifact; anything but ``pinned`` cannot be audited by version
KINDS = ("pinned", "unpinned", "url", "vcs", "editable", "path")


@dataclass(frozen=True)
class Dependency:
    """One dependency as declared by an input file.

    ``version`` is set only when the declaration pins exactly one release (``==X`` or ``===X``,
    or a lock file entry); ``kind`` says why it is not auditable otherwise. ``path``/``line`` are
    where it was declared, so findings point at the line a reviewer has to change.
    """

    name: str
    version: str | None
    path: Path
    _: KW_ONLY  # the rest by name: ten positional strings are easy to swap unnoticed
    line: int | None = None
    kind: str = "pinned"
    specifier: str = ""
    marker: str = ""
    hashes: tuple[str, ...] = ()
    source_format: str = "requirements"
    text: str = ""  # the requirement as written (no secrets: URLs are redacted by the parser)

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)

    @property
    def auditable(self) -> bool:
        return self.kind == "pinned" and self.version is not None


@dataclass(frozen=True)
class Advisory:
    """One advisory that affects one dependency version (a pip-audit ``VulnerabilityResult``
    plus what the gate needs to rank and fix it)."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    fixed_versions: tuple[str, ...] = ()
    severity: str = "unknown"  # critical/high/medium/low/none/unknown
    score: float | None = None
    vector: str | None = None
    severity_source: str = "unknown"  # CVSS_V3 / CVSS_V4 / GHSA / unknown
    modified: str | None = None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.id, *self.aliases))


@dataclass(frozen=True)
class PackageResult:
    """What a service found for one dependency: advisories, the smallest safe upgrade, or why it
    was skipped (a skip is never a clean result: the gate decides whether it is allowed)."""

    dependency: Dependency
    advisories: tuple[Advisory, ...] = ()
    safe_version: str | None = None
    skip_reason: str | None = None


@dataclass(frozen=True)
class AuditReport:
    """A service's answer for a batch of dependencies, and where it came from."""

    source: str
    results: tuple[PackageResult, ...] = ()
    database_modified: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
