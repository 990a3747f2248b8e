"""The provenance gate's options: their JSON Schema fragment, defaults and a typed view.

The gate reads its options once into :class:`Options`, so licence ids and globs are compared in
one case-folded form everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .licenses import normalise

ACTIONS = ("block", "warn")
CODE_ACTIONS = ("block", "warn", "allow")
REQUIREMENTS = ("license", "model_card", "source")

_ids = {"type": "array", "items": {"type": "string", "minLength": 1}}

OPTIONS_SCHEMA: dict[str, Any] = {
    "licenses": {
        "type": "object",
        "additionalProperties": False,
        "description": "Licence policy; ids are SPDX or Hugging Face licence ids, compared case-insensitively.",
        "properties": {
            "allow": {**_ids, "description": "Only these licences pass (empty: any licence not denied)."},
            "deny": {**_ids, "description": "These licences block (e.g. cc-by-nc-4.0, llama2)."},
            "unknown": {"enum": list(ACTIONS), "description": "A licence that cannot be identified: block (default) or warn."},
        },
    },
    "sources": {
        "type": "object",
        "additionalProperties": False,
        "description": "Globs over org/name of the model and of every base model it declares.",
        "properties": {
            "allow": {**_ids, "description": "Only these sources pass (empty: any source not denied)."},
            "deny": {**_ids, "description": "These sources block."},
        },
    },
    "custom_code": {"enum": list(CODE_ACTIONS),
                    "description": "auto_map entries and *.py files beside weights: block (default), warn or allow."},
    "custom_code_allow_sha256": {
        "type": "array", "items": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        "description": "SHA-256 of reviewed custom-code files that may ship with a model.",
    },
    "require": {"type": "array", "uniqueItems": True, "items": {"enum": list(REQUIREMENTS)},
                "description": "Facts every model must declare: license, model_card, source."},
    "hash_files": {"type": "boolean", "description": "Hash every model file for the inventory (default true)."},
    "max_metadata_mb": {"type": "number", "exclusiveMinimum": 0,
                        "description": "Largest metadata block read from one file (GGUF header, safetensors header, card)."},
}

DEFAULT_OPTIONS: dict[str, Any] = {
    "licenses": {"allow": [], "deny": [], "unknown": "block"},
    "sources": {"allow": [], "deny": []},
    "custom_code": "block",
    "custom_code_allow_sha256": [],
    "require": [],
    "hash_files": True,
    "max_metadata_mb": 64,
}


@dataclass(frozen=True)
class Options:
    """The effective options, normalised (licence ids and hashes lower-cased)."""

    allow: frozenset[str]
    deny: frozenset[str]
    unknown: str
    source_allow: tuple[str, ...]
    source_deny: tuple[str, ...]
    custom_code: str
    code_sha256: frozenset[str]
    require: frozenset[str]
    hash_files: bool
    max_metadata: int

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Options:
        lic = {**DEFAULT_OPTIONS["licenses"], **(raw.get("licenses") or {})}
        src = {**DEFAULT_OPTIONS["sources"], **(raw.get("sources") or {})}
        return cls(
            allow=frozenset(normalise(x) for x in lic.get("allow") or ()),
            deny=frozenset(normalise(x) for x in lic.get("deny") or ()),
            unknown=lic.get("unknown") or "block",
            source_allow=tuple(str(x).lower() for x in src.get("allow") or ()),
            source_deny=tuple(str(x).lower() for x in src.get("deny") or ()),
            custom_code=raw.get("custom_code") or "block",
            code_sha256=frozenset(str(x).lower() for x in raw.get("custom_code_allow_sha256") or ()),
            require=frozenset(raw.get("require") or ()),
            hash_files=bool(raw.get("hash_files", True)),
            max_metadata=int(float(raw.get("max_metadata_mb") or 64) * (1 << 20)),
        )
