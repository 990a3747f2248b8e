"""The gate's policy section: its JSON Schema, defaults, and the :class:`ScanConfig` built from it.

Per entity: ``action`` (block | warn | ignore), ``min_count`` (block only from this many
occurrences in a column) and ``max_fraction`` (block only when more than this share of a
column's rows hold the entity). An entity that blocks on a single occurrence is zero-tolerance
and always scanned in full; the others may be sampled on large columns, and their fraction is
then reported with a confidence interval.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from gates.core.errors import InputError
from gates.core.lazyre import lazy

from .entities import ENTITIES
from .readers import DATASET_GLOBS, FORMATS, Limits
from .redact import resolve_salt
from .scanner import CustomEntity, EntityRule, ScanConfig, compile_pattern
from .validators import VALIDATORS

ACTIONS = ("block", "warn", "ignore")
_ENTITY_RULE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "action": {"enum": list(ACTIONS), "description": "block: fails the build; warn: reported only; ignore: not reported."},
        "min_count": {"type": "integer", "minimum": 1, "description": "Block only when a column holds at least this many (default 1)."},
        "max_fraction": {"type": "number", "minimum": 0, "maximum": 1, "description": "Block only when more than this share of a column's rows hold the entity (default 0: any)."},
        "severity": {"$ref": "#/$defs/severity"},
    },
}
_CUSTOM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["pattern"],
    "properties": {
        **_ENTITY_RULE["properties"],
        "pattern": {"type": "string", "minLength": 1, "description": "RE2 syntax (no look-around or backreferences); nested quantifiers are rejected."},
        "validator": {"enum": sorted(VALIDATORS), "description": "Checksum a match must pass."},
        "kind": {"enum": ["pii", "secret"]},
    },
}
_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}

OPTIONS_SCHEMA: dict[str, Any] = {
    "entities": {"type": "object", "propertyNames": {"pattern": "^[A-Z][A-Z0-9_]*$"}, "additionalProperties": _ENTITY_RULE,
                 "description": "Per-entity policy (CREDIT_CARD, EMAIL_ADDRESS, US_SSN, ...)."},
    "allow": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "columns": {**_STRINGS, "description": "Globs on column names or JSON paths that are never scanned."},
            "paths": {**_STRINGS, "description": "Globs on file paths (relative to the root) that are never scanned."},
            "values": {**_STRINGS, "description": "Exact values that are not findings (e.g. a support address)."},
            "patterns": {**_STRINGS, "description": "RE2 regexes; a matching value is not a finding."},
            "hashes": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{16}$"}, "description": "value_hash of findings to accept (salted)."},
        },
    },
    "custom": {"type": "object", "propertyNames": {"pattern": "^[A-Z][A-Z0-9_]*$"}, "additionalProperties": _CUSTOM,
               "description": "Extra entities defined by a regex and an optional validator."},
    "sampling": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "enabled": {"type": "boolean"},
            "min_rows": {"type": "integer", "minimum": 0, "description": "Rows of each column always validated in full."},
            "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": "Share of later candidates validated."},
        },
        "description": "Sampling for fraction rules; zero-tolerance entities are never sampled.",
    },
    "salt": {"type": "string", "minLength": 8, "description": "Salt for value hashes (MLSEC_GATES_PII_SALT overrides it)."},
    "examples": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Findings listed per column and entity (distinct values)."},
    "phone_region": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "Region for phone numbers without a country code."},
    # ---- pii-detect: column semantics (new entities are in entities.ENTITIES) ----
    "phone_regions": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}, "uniqueItems": True,
                      "description": "Regions tried, in order, for national-format phone numbers (default: a broad list)."},
    # ---- end pii-detect ----
    "format": {"enum": list(FORMATS)},
    "encoding": {"type": "string", "minLength": 1},
    "max_file_mb": {"type": "number", "exclusiveMinimum": 0},
    "max_decompressed_mb": {"type": "number", "exclusiveMinimum": 0},
    "max_json_mb": {"type": "number", "exclusiveMinimum": 0,
                    "description": "A JSON or YAML document parsed whole up to this size; a larger one is scanned as text lines."},
    "max_decompression_ratio": {"type": "number", "minimum": 2,
                                "description": "Stop (error) when a compressed file inflates more than this many times (bombs)."},
    "max_line_kb": {"type": "number", "minimum": 1,
                    "description": "Longer text/JSONL lines are scanned in pieces of this size, with seams across the cuts."},
    "workers": {"type": "integer", "minimum": 0, "description": "Worker processes (0: one per CPU)."},
    "parallel_min_mb": {"type": "number", "minimum": 0, "description": "Files from this size are split across processes (below it, one process with two threads was faster on two cores: a 50 MB dense CSV 1.3 s against 1.55 s)."},
}

DEFAULT_OPTIONS: dict[str, Any] = {
    "entities": {},
    "allow": {},
    "custom": {},
    "sampling": {"enabled": True, "min_rows": 1000, "rate": 0.02},
    "examples": 10,
    "phone_region": "US",
    "format": "auto",
    "encoding": "utf-8",
    "max_file_mb": 4096,
    "max_decompressed_mb": 16384,
    "max_json_mb": 64,
    "max_decompression_ratio": 1000,
    "max_line_kb": 1024,
    "workers": 0,
    "parallel_min_mb": 128,
    "exclude": ["**/package.json", "**/package-lock.json", "**/tsconfig*.json", "**/.mlsec-gates*", "**/*.schema.json"],
}
DEFAULT_PATHS = DATASET_GLOBS

_NESTED_QUANTIFIER = lazy(globals(), r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,\d*\})")


def check_pattern(name: str, pattern: str) -> None:
    """Reject what could blow up: RE2-incompatible syntax and nested quantifiers (``(a+)+``),
    the classic catastrophic-backtracking shape for the ``re`` candidate pass."""
    try:
        compile_pattern(pattern, "re2")
    except Exception:  # noqa: BLE001 - re2.error and friends
        raise ValueError(f"custom entity {name}: pattern is not valid RE2 syntax (no look-around or backreferences)") from None
    if "(?P<" in pattern or "(?<" in pattern:
        raise ValueError(f"custom entity {name}: named groups are not allowed (the scanner names its own)")
    if _NESTED_QUANTIFIER.search(pattern):
        raise ValueError(f"custom entity {name}: nested quantifiers such as (a+)+ can backtrack catastrophically; rewrite the pattern")
    try:
        re.compile(pattern)
    except re.error:
        raise ValueError(f"custom entity {name}: pattern is not a valid regex") from None


def build(options: Mapping[str, Any], policy_file: str = "policy") -> tuple[ScanConfig, Limits]:
    """ScanConfig and Limits from the merged options. Raises InputError (naming the policy) on
    a custom pattern that is refused."""
    rules: dict[str, EntityRule] = {}
    user = options.get("entities") or {}
    for name, e in ENTITIES.items():
        r = user.get(name, {})
        rules[name] = EntityRule(action=r.get("action", e.action), min_count=int(r.get("min_count", 1)),
                                 max_fraction=float(r.get("max_fraction", 0.0)), severity=r.get("severity"))
    custom = []
    for name, c in (options.get("custom") or {}).items():
        if name in ENTITIES:
            raise InputError(policy_file, f"custom entity {name} clashes with a built-in entity name")
        try:
            check_pattern(name, c["pattern"])
        except ValueError as exc:
            raise InputError(policy_file, str(exc)) from None
        pattern = re.sub(r"(?<!\\)\((?!\?)", "(?:", c["pattern"])
        custom.append(CustomEntity(name, pattern, c.get("validator"), c.get("kind", "pii")))
        rules[name] = EntityRule(action=c.get("action", "block"), min_count=int(c.get("min_count", 1)),
                                 max_fraction=float(c.get("max_fraction", 0.0)), severity=c.get("severity"))
    unknown = sorted(set(user) - set(rules))
    if unknown:
        raise InputError(policy_file, f"gates.pii.entities names unknown entities: {', '.join(unknown)}")
    allow = options.get("allow") or {}
    for p in allow.get("patterns", []):
        try:
            compile_pattern(p, "re2")
        except Exception:  # noqa: BLE001
            raise InputError(policy_file, "gates.pii.allow.patterns: a pattern is not valid RE2 syntax") from None
    sampling = options.get("sampling") or {}
    cfg = ScanConfig(
        rules=rules, salt=resolve_salt(options.get("salt")), custom=tuple(custom),
        allow_values=frozenset(allow.get("values", [])), allow_patterns=tuple(allow.get("patterns", [])),
        allow_hashes=frozenset(allow.get("hashes", [])), allow_columns=tuple(allow.get("columns", [])),
        sample_min_rows=int(sampling.get("min_rows", 1000)), sample_rate=float(sampling.get("rate", 0.02)),
        sampling=bool(sampling.get("enabled", True)), examples=int(options.get("examples", 10)),
        phone_region=str(options.get("phone_region", "US")),
        phone_regions=tuple(options.get("phone_regions") or ()),  # pii-detect
    )
    mb = 1 << 20
    limits = Limits(
        max_file_bytes=int(float(options.get("max_file_mb", 4096)) * mb),
        max_decompressed_bytes=int(float(options.get("max_decompressed_mb", 16384)) * mb),
        max_json_bytes=int(float(options.get("max_json_mb", 64)) * mb),
        encoding=str(options.get("encoding", "utf-8")),
        max_ratio=float(options.get("max_decompression_ratio", 1000)),
        max_line=max(1024, int(float(options.get("max_line_kb", 1024)) * 1024)),
    )
    return cfg, limits
