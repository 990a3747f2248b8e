"""The model gate's option schema: what a policy (and ``overrides`` entries) may set."""

from __future__ import annotations

from typing import Any

from .allowlists import PROFILES
from .sniff import FORMATS

GLOBS = {"type": "array", "items": {"type": "string", "minLength": 1}}
SCAN_OPTIONS: dict[str, Any] = {
    "profiles": {"type": "array", "items": {"enum": sorted(PROFILES)}, "description": "Allowlist profiles of pickle globals (default: torch, numpy)."},
    "allow_globals": {"type": "array", "items": {"type": "string", "minLength": 3}, "description": "Extra allowed globals: exact dotted names (`mypkg.layers.MyLayer`); `*` = one name segment, `**` = several."},
    "deny_globals": {"type": "array", "items": {"type": "string", "minLength": 3}, "description": "Globals to block even when a profile allows them."},
    "unknown_globals": {"enum": ["block", "warn"], "description": "What a global outside the allowlist does (default: block)."},
    "allowed_formats": {"type": "array", "items": {"enum": list(FORMATS)}, "description": "Only these formats may be present (e.g. [safetensors, gguf, onnx]). Default: all."},
    "extension_must_match": {"type": "boolean", "description": "A file whose extension names another format than its content blocks (default true)."},
    "allow_torchscript": {"type": "boolean", "description": "TorchScript archives (code/) pass (default false)."},
    "allow_npy_object_arrays": {"type": "boolean", "description": "NumPy object arrays only warn (their pickle is still checked)."},
    "onnx_allowed_domains": {"type": "array", "items": {"type": "string"}, "description": "Custom ONNX operator domains that are fine (e.g. com.microsoft)."},
    "keras_allowed_modules": {"type": "array", "items": {"type": "string", "minLength": 1}, "description": "Keras config modules that are not custom code (default keras, tf_keras, tensorflow.keras)."},
    "savedmodel_allowed_ops": {"type": "array", "items": {"type": "string"}, "description": "TensorFlow ops to accept even though they touch files."},
    "second_opinion": {"type": "boolean", "description": "Record fickling's verdict next to blocking pickle findings (never decides)."},
    "max_file_mb": {"type": "number", "minimum": 0, "description": "Files larger than this block (0 = no limit: only headers and pickle streams are read)."},
    "limits": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "max_pickle_mb": {"type": "number", "exclusiveMinimum": 0},
            "max_member_mb": {"type": "number", "exclusiveMinimum": 0},
            "max_decompressed_mb": {"type": "number", "exclusiveMinimum": 0},
            "max_ratio": {"type": "number", "exclusiveMinimum": 1},
            "max_depth": {"type": "integer", "minimum": 0, "maximum": 16},
            "max_members": {"type": "integer", "minimum": 1},
            "max_header_mb": {"type": "number", "exclusiveMinimum": 0},
        },
    },
}
OVERRIDABLE = tuple(k for k in SCAN_OPTIONS)

OPTIONS_SCHEMA: dict[str, Any] = {
    **SCAN_OPTIONS,
    "trusted_sha256": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                       "description": "Files with these SHA-256 digests are reviewed: their findings do not block."},
    "symlinks": {"enum": ["block", "follow"], "description": "A scanned symlink pointing outside the root blocks (default) or is followed."},
    "workers": {"type": "integer", "minimum": 1, "maximum": 64, "description": "Files scanned in parallel (default: CPU count)."},
    "overrides": {
        "type": "array",
        "description": "Options for some paths only: the first entry whose `paths` glob matches applies.",
        "items": {
            "type": "object", "additionalProperties": False, "required": ["paths"],
            "properties": {"paths": GLOBS, **SCAN_OPTIONS},
        },
    },
}
DEFAULT_OPTIONS: dict[str, Any] = {
    "profiles": ["torch", "numpy"], "allow_globals": [], "deny_globals": [], "unknown_globals": "block",
    "extension_must_match": True, "allow_torchscript": False, "allow_npy_object_arrays": False,
    "second_opinion": True, "max_file_mb": 0, "trusted_sha256": [], "symlinks": "block", "overrides": [],
}
