"""Findings and gate results: the one data model every gate and every report shares.

Gates create :class:`Finding` objects; the runner decides ``blocking`` from policy and applies
waivers; reports only read. Keeping these frozen means a report can never change a verdict.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, Mapping


class Severity(str, enum.Enum):
    """Ordered severities; ``str`` so they serialise as plain strings."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, value: "str | Severity") -> "Severity":
        if isinstance(value, Severity):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r} (expected one of {', '.join(s.value for s in cls)})") from None

    def at_least(self, other: "Severity") -> bool:
        return self.rank >= other.rank


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Rule:
    """Static description of a rule id: what it checks, why it matters and how to fix it."""

    id: str
    title: str
    severity: Severity
    why: str
    remediation: str
    help: str = ""


# Keys a gate may not override through ``extra``: the report schema owns them.
CORE_KEYS = (
    "gate", "rule", "severity", "blocking", "waived", "waiver_reason", "message", "why", "path",
    "member", "line", "row", "column", "offset", "entity", "evidence", "remediation", "fingerprint",
)

_CORE_KEYS = frozenset(CORE_KEYS)


@dataclass(frozen=True)
class Finding:
    """One problem found by a gate.

    ``evidence`` must already be redacted by the gate: the core prints it as-is. ``key`` is the
    gate's stable discriminator for the fingerprint (e.g. a metric name), chosen so that the
    fingerprint survives line shifts and value changes. ``extra`` carries gate-specific fields that
    reports flatten into the finding (e.g. ``package``/``advisory`` for the deps gate).
    """

    gate: str
    rule: str
    severity: Severity
    message: str
    path: str = ""
    member: str | None = None
    line: int | None = None
    row: int | None = None
    column: int | str | None = None
    offset: int | None = None
    entity: str | None = None
    evidence: str | None = None
    why: str = ""
    remediation: str = ""
    blocking: bool | None = None
    waived: bool = False
    waiver_reason: str | None = None
    fingerprint: str = ""
    key: str = ""
    rel_path: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity.parse(self.severity))
        bad = _CORE_KEYS.intersection(self.extra)
        if bad:
            raise ValueError(f"finding extra keys clash with core keys: {sorted(bad)}")
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", compute_fingerprint(self))

    def replace(self, **changes: Any) -> "Finding":
        return dataclasses.replace(self, **changes)

    @property
    def location(self) -> str:
        """Human-readable location: ``path[:member]`` plus line/row/column/offset."""
        loc = self.path or "."
        if self.member:
            loc += f"!{self.member}"
        if self.line is not None:
            loc += f":{self.line}"
        if self.row is not None:
            loc += f" row {self.row}"
        if self.column not in (None, ""):
            loc += f" col {self.column}"
        if self.offset is not None:
            loc += f" @byte {self.offset}"
        return loc

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "gate": self.gate,
            "rule": self.rule,
            "severity": self.severity.value,
            "blocking": bool(self.blocking),
            "waived": self.waived,
            "waiver_reason": self.waiver_reason,
            "message": self.message,
            "why": self.why,
            "remediation": self.remediation,
            "path": self.path,
            "member": self.member,
            "line": self.line,
            "row": self.row,
            "column": self.column,
            "offset": self.offset,
            "entity": self.entity,
            "evidence": self.evidence,
            "fingerprint": self.fingerprint,
        }
        for k, v in self.extra.items():
            out[k] = v
        return out


def compute_fingerprint(f: Finding) -> str:
    """Stable id: gate, rule, root-relative path, member, entity and the gate's key.

    Line numbers and values are deliberately left out so a waiver survives edits around it.
    """
    import hashlib  # here: OpenSSL's start-up is paid only by a run that finds something

    parts = [f.gate, f.rule, f.rel_path or f.path, f.member or "", f.entity or "", f.key or ""]
    if not f.key:
        parts.append(str(f.column or ""))
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GateError:
    """A gate could not do its job for ``path`` (unreadable input, crash, bad config)."""

    message: str
    path: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True)
class ScannedFile:
    path: str
    items: int = 0  # rows, metrics, opcodes... whatever the gate counts


@dataclass(frozen=True)
class Component:
    """Something a gate saw that belongs in an inventory: a model, a dataset file, a pinned
    dependency. Gates report it with ``ctx.component``; bill-of-materials writers read it; no
    verdict depends on it. ``kind`` is a CycloneDX component type (``machine-learning-model``,
    ``data``, ``library``, ``file``), ``hashes`` are ``(algorithm, hex)`` pairs (``SHA-256``),
    ``parts`` are the files a component is made of, and ``details`` holds facts a writer may map
    to a richer structure (e.g. a model card's datasets and task). Strings are already cleaned."""

    kind: str
    name: str
    version: str | None = None
    path: str = ""
    purl: str | None = None
    hashes: tuple[tuple[str, str], ...] = ()
    licenses: tuple[str, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()
    parts: tuple["Component", ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GateResult:
    """What one gate did: its verdict, findings, inputs and any errors."""

    gate: str
    title: str
    status: Status
    findings: tuple[Finding, ...] = ()
    files: tuple[ScannedFile, ...] = ()
    errors: tuple[GateError, ...] = ()
    duration: float = 0.0
    skip_reason: str | None = None
    rules: Mapping[str, Rule] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: what the gate saw, for bills of materials (see :class:`Component`)
    inventory: tuple[Component, ...] = ()

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.waived]

    def counts(self) -> dict[str, int]:
        return {
            "findings": len(self.findings),
            "blocking": len(self.blocking),
            "waived": len(self.waived),
            # info findings (e.g. "signature verified") are context, not warnings to act on
            "warnings": len([f for f in self.findings if not f.blocking and not f.waived and f.severity is not Severity.INFO]),
            "info": len([f for f in self.findings if not f.blocking and not f.waived and f.severity is Severity.INFO]),
            "errors": len(self.errors),
            "files": len(self.files),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "title": self.title,
            "duration": round(self.duration, 4),
            "skip_reason": self.skip_reason,
            "counts": self.counts(),
            "files": [{"path": s.path, "items": s.items} for s in self.files],
            "errors": [e.to_dict() for e in self.errors],
            "notes": list(self.notes),
        }
