"""The policy schema, validation against it and the built-in default policy.

The schema is assembled at run time from the core schema and each installed gate's options
fragment, so ``policy schema`` always describes exactly what this installation accepts. Unknown
keys are errors (a typo must not quietly disable a check). Every schema problem is reported as
``FILE:LINE: path.to.key: message``. This module knows nothing about where documents come from:
:mod:`gates.core.loader` reads them and calls in here.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from typing import Any, Iterable, Mapping

from .errors import PolicyError
from .gate import Gate
from .hygiene import clean, clean_name
from .merge import add_append_keys
from .suggest import did_you_mean
from .yamlsrc import SourcedYaml


def base_schema() -> dict[str, Any]:
    text = importlib.resources.files("gates.core").joinpath("policy_schema.json").read_text("utf-8")
    return json.loads(text)


def common_gate_properties() -> dict[str, Any]:
    return {
        "enabled": {"type": "boolean", "description": "Run this gate."},
        "paths": {"$ref": "#/$defs/globs"},
        "exclude": {"$ref": "#/$defs/globs"},
        "fail_on": {"$ref": "#/$defs/threshold"},
        "on_error": {"$ref": "#/$defs/on_error"},
    }


def build_schema(gates: Mapping[str, Gate], unloaded: Iterable[str] = ()) -> dict[str, Any]:
    """The complete policy schema: core plus every installed gate's options.

    ``unloaded`` names installed gates that were not imported (lazy loading, or a missing extra):
    their common options are checked, their own options are accepted unchecked, since only the
    gate knows them; such a gate is never run without being loaded.
    """
    check_gate_options(gates)
    schema = base_schema()
    props = schema["properties"]["gates"]["properties"]
    for name, gate in gates.items():
        gate_props = common_gate_properties()
        for k, v in gate.options_schema.items():
            gate_props[k] = copy.deepcopy(v)
        props[name] = {
            "type": "object",
            "description": gate.description or gate.title,
            "additionalProperties": False,
            "properties": gate_props,
        }
    for name in unloaded:
        if name not in props:
            props[name] = {"type": "object", "description": f"the {name} gate (not loaded: its own options are not checked here)",
                           "properties": common_gate_properties()}
    add_append_keys(schema)
    _add_defaults(schema, gates)
    return schema


def check_gate_options(gates: Mapping[str, Gate]) -> None:
    """A gate may not redefine a common option (its schema would replace the core's). Checked
    for every run, also one with no policy document to validate (no schema is built then)."""
    common = common_gate_properties()
    for name, gate in gates.items():
        for k in gate.options_schema:
            if k in common:
                raise PolicyError(f"gate {name!r} redefines the common option {k!r}")


def _add_defaults(schema: dict[str, Any], gates: Mapping[str, Gate]) -> None:
    """Annotate each key with its built-in value (``default``), so an editor shows what leaving
    it out means. Annotations only: validation ignores ``default``, the loader merges the real
    defaults (:func:`default_policy`)."""
    builtin = default_policy(gates)
    props = schema["properties"]
    _annotate(props["defaults"], builtin["defaults"])
    for name, section in builtin["gates"].items():
        if name in props["gates"]["properties"]:
            _annotate(props["gates"]["properties"][name], section)


def _annotate(node: dict[str, Any], value: Mapping[str, Any]) -> None:
    props = node.get("properties") or {}
    for key, default in value.items():
        sub = props.get(key)
        if not isinstance(sub, dict):
            continue
        sub["default"] = json.loads(json.dumps(default, default=list))  # tuples and sets as lists
        if isinstance(default, Mapping):
            _annotate(sub, default)


def waiver_file_schema() -> dict[str, Any]:
    """The waiver file schema, built from the policy schema's ``waiver`` definition."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:mlsec-gates:waivers:v1",
        "title": "mlsec-gates waiver file (version 1)",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "waivers"],
        "properties": {
            "$schema": {"type": "string"},
            "version": {"const": 1},
            "waivers": {"type": "array", "items": {"$ref": "#/$defs/waiver"}},
        },
        "$defs": {"waiver": copy.deepcopy(base_schema()["$defs"]["waiver"])},
    }


def default_policy(gates: Mapping[str, Gate], unloaded: Iterable[str] = ()) -> dict[str, Any]:
    """The built-in policy: every gate on with its defaults, ``fail_on: high``, fail closed."""
    sections = {
        name: {"enabled": True, "paths": list(g.default_paths), "exclude": [], **copy.deepcopy(dict(g.default_options))}
        for name, g in gates.items()
    }
    for name in unloaded:
        sections.setdefault(name, {"enabled": True})
    return {"version": 1, "defaults": {"fail_on": "high", "on_error": "fail"}, "gates": sections, "waivers": []}


def validate_document(src: SourcedYaml, schema: Mapping[str, Any]) -> None:
    """Raise :class:`PolicyError` listing every schema problem with its file and line."""
    if not isinstance(src.data, dict):
        raise PolicyError(f"{clean_file(src.file)}:1: the policy must be a mapping with 'version: 1'")
    import jsonschema  # ~30 ms: only commands that read a policy file pay for it

    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = []
    file = clean_file(src.file)
    for err in sorted(validator.iter_errors(src.data), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        path = tuple(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = [k for k in err.instance if k not in allowed]
            for k in extra:
                kp = (*path, k)
                hint = did_you_mean(str(k), allowed)
                problems.append(f"{file}:{src.line_of(kp)}: {_dotted(kp)}: unknown key{hint} (allowed: {', '.join(sorted(allowed)) or 'none'})")
            continue
        if err.validator in ("oneOf", "anyOf") and err.context:
            # the branch that matched the value's type says what is wrong (and where) best
            typed = [e for e in err.context if e.validator != "type" or len(e.absolute_path) > len(path)]
            best = max(typed, key=lambda e: len(e.absolute_path)) if typed else jsonschema.exceptions.best_match(err.context)
            message = best.message
            path = tuple(best.absolute_path)
        # schema messages quote policy values: a value may hold a token, an e-mail or a control character
        problems.append(f"{file}:{src.line_of(path)}: {_dotted(path) or '(top level)'}: {clean(message)}")
    if problems:
        raise PolicyError(f"{file}: invalid policy ({len(problems)} problem{'s' if len(problems) != 1 else ''})", problems)


def clean_file(name: str) -> str:
    """A policy's display name (a path, or a URL for a fetched one) made safe to print."""
    return clean_name(name)


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return clean(out, pii=False)
