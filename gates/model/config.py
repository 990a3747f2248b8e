"""The gate's effective configuration and the raw findings scanners produce.

Scanners run in worker processes, so what they return must be plain picklable data (our own
dataclasses; the gate turns them into core findings in the parent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from gates.core.hygiene import clean

from .allowlists import Allowlist, build_allowlist

MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 0  # 0 = no limit on the file itself (we only read headers/streams)
    max_pickle_bytes: int = 4096 * MB  # bytes a pickle stream may span (payloads are seeked past)
    max_member_bytes: int = 64 * 1024 * MB  # one archive member, uncompressed
    max_decompressed_bytes: int = 4096 * MB  # inflated by decompressors, all nesting levels of one file together
    max_ratio: float = 200.0  # zip member uncompressed/compressed
    max_depth: int = 4  # nested archives / nested pickles
    max_members: int = 200_000  # archive members, all nesting levels of one file together
    max_archives: int = 256  # archives and compressed streams opened in one file (the top-level one counts)
    max_seconds: float = 60.0  # wall time for one file
    max_header_bytes: int = 100 * MB  # safetensors/GGUF/npy headers, JSON configs
    max_memo: int = 2_000_000


@dataclass(frozen=True)
class ScanConfig:
    allowlist: Allowlist
    limits: Limits = field(default_factory=Limits)
    unknown_globals_block: bool = True
    allow_torchscript: bool = False
    allow_npy_object_arrays: bool = False
    second_opinion: bool = True
    custom_onnx_domains: tuple[str, ...] = ()
    keras_allowed_modules: tuple[str, ...] = ("keras", "tf_keras", "tensorflow.keras")
    savedmodel_allowed_ops: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()  # the allowlist profiles in force (some constructs are judged per profile)
    explain: bool = False  # ``--explain``: trace rejected globals for the console (never in reports)


def config_from_options(opts: Mapping[str, Any]) -> ScanConfig:
    lim = opts.get("limits") or {}
    limits = Limits(
        max_file_bytes=int(float(opts.get("max_file_mb") or 0) * MB),
        max_pickle_bytes=int(float(lim.get("max_pickle_mb", 4096)) * MB),
        max_member_bytes=int(float(lim.get("max_member_mb", 64 * 1024)) * MB),
        max_decompressed_bytes=int(float(lim.get("max_decompressed_mb", 4096)) * MB),
        max_ratio=float(lim.get("max_ratio", 200)),
        max_depth=int(lim.get("max_depth", 4)),
        max_members=int(lim.get("max_members", 200_000)),
        max_archives=int(lim.get("max_archives", 256)),
        max_seconds=float(lim.get("max_seconds", 60)),
        max_header_bytes=int(float(lim.get("max_header_mb", 100)) * MB),
    )
    allow = build_allowlist(tuple(opts.get("profiles") or ()), tuple(opts.get("allow_globals") or ()), tuple(opts.get("deny_globals") or ()))
    return ScanConfig(
        allowlist=allow,
        profiles=tuple(opts.get("profiles") or ()),
        limits=limits,
        unknown_globals_block=opts.get("unknown_globals", "block") == "block",
        allow_torchscript=bool(opts.get("allow_torchscript", False)),
        allow_npy_object_arrays=bool(opts.get("allow_npy_object_arrays", False)),
        second_opinion=bool(opts.get("second_opinion", True)),
        custom_onnx_domains=tuple(opts.get("onnx_allowed_domains") or ()),
        keras_allowed_modules=tuple(opts.get("keras_allowed_modules") or ("keras", "tf_keras", "tensorflow.keras")),
        savedmodel_allowed_ops=tuple(opts.get("savedmodel_allowed_ops") or ()),
    )


@dataclass
class Hit:
    """One raw finding from a scanner (turned into a core ``Finding`` by the gate)."""

    rule: str
    message: str
    member: str | None = None
    offset: int | None = None
    severity: str | None = None
    blocking: bool | None = None
    key: str = ""
    evidence: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileReport:
    path: str
    formats: list[str] = field(default_factory=list)  # top-level format first, then members
    hits: list[Hit] = field(default_factory=list)
    items: int = 0  # opcodes/tensors/members looked at
    error: str | None = None
    explanations: list[list[str]] = field(default_factory=list)  # ``--explain`` blocks, already escaped


def printable(text: str, limit: int = 300, *, pii: bool = False) -> str:
    """``text`` through the core's hygiene step (credential shapes redacted, control characters
    escaped as ``\\x1b``; PII shapes too with ``pii=True``) and cut to ``limit``: strings from a
    file must not drive a terminal, forge report lines or copy a secret into a report."""
    out = clean(text, pii=pii)
    return out if len(out) <= limit else out[: limit - 1] + "…"
