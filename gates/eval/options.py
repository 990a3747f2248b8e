"""The eval gate's options under ``gates.eval`` (JSON Schema fragment) and their defaults."""

from __future__ import annotations

from typing import Any

from .readers import FORMATS

_number = {"type": "number"}
METRIC_RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min": {**_number, "description": "Fail when the value is below this."},
        "max": {**_number, "description": "Fail when the value is above this."},
        "max_regression": {"type": "number", "minimum": 0, "description": "Largest allowed absolute drop versus the baseline."},
        "max_relative_regression": {"type": "number", "minimum": 0, "description": "Largest allowed drop versus the baseline as a fraction of |baseline| (0.02 = 2%)."},
        "greater_is_better": {"type": "boolean", "description": "Direction of the metric (default true)."},
        "required": {"type": "boolean", "description": "A missing metric fails (default false: reported, not blocking)."},
        "max_gap": {"type": "number", "minimum": 0, "description": "For a glob key: largest allowed difference between the matched metrics."},
        "severity": {"$ref": "#/$defs/severity"},
    },
}
_paths = {"oneOf": [{"type": "string", "minLength": 1}, {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]}

OPTIONS_SCHEMA: dict[str, Any] = {
    "results": {**_paths, "description": "Results file(s), glob(s) or MLflow run directories, relative to the root."},
    "baseline": {**_paths, "description": "Baseline results for regression rules."},
    "format": {"enum": list(FORMATS), "description": "Force a results format (default: detect)."},
    "metrics": {"type": "object", "additionalProperties": METRIC_RULE_SCHEMA, "description": "Rules per metric name (globs allowed)."},
    "max_file_mb": {"type": "number", "exclusiveMinimum": 0},
}
DEFAULT_OPTIONS: dict[str, Any] = {"metrics": {}, "format": "auto", "max_file_mb": 64}
