"""Policy loading, validation and the effective policy.

The schema is assembled at run time from the core schema and each installed gate's options
fragment, so ``policy schema`` always describes exactly what this installation accepts. Unknown
keys are errors (a typo must not quietly disable a check). Every schema problem is reported as
``FILE:LINE: path.to.key: message``.
"""

from __future__ import annotations

import copy
import datetime as _dt
import importlib.resources
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from .errors import PolicyError
from .findings import Severity
from .gate import Gate
from .merge import add_append_keys
from .yamlsrc import SourcedYaml

DEFAULT_POLICY_NAMES = (".mlsec-gates.yml", ".mlsec-gates.yaml")
THRESHOLD_NONE = "none"


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


def build_schema(gates: Mapping[str, Gate]) -> dict[str, Any]:
    """The complete policy schema: core plus every installed gate's options."""
    schema = base_schema()
    props = schema["properties"]["gates"]["properties"]
    for name, gate in gates.items():
        gate_props = common_gate_properties()
        for k, v in gate.options_schema.items():
            if k in gate_props:
                raise PolicyError(f"gate {name!r} redefines the common option {k!r}")
            gate_props[k] = copy.deepcopy(v)
        props[name] = {
            "type": "object",
            "description": gate.description or gate.title,
            "additionalProperties": False,
            "properties": gate_props,
        }
    add_append_keys(schema)
    return schema


def default_policy(gates: Mapping[str, Gate]) -> dict[str, Any]:
    """The built-in policy: every gate on with its defaults, ``fail_on: high``, fail closed."""
    return {
        "version": 1,
        "defaults": {"fail_on": "high", "on_error": "fail"},
        "gates": {
            name: {"enabled": True, "paths": list(g.default_paths), "exclude": [], **copy.deepcopy(dict(g.default_options))}
            for name, g in gates.items()
        },
        "waivers": [],
    }


def deep_merge(base: Any, over: Any) -> Any:
    """Maps merge key by key; anything else (lists included) is replaced by ``over``."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def validate_document(src: SourcedYaml, schema: Mapping[str, Any]) -> None:
    """Raise :class:`PolicyError` listing every schema problem with its file and line."""
    if not isinstance(src.data, dict):
        raise PolicyError(f"{src.file}:1: the policy must be a mapping with 'version: 1'")
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for err in sorted(validator.iter_errors(src.data), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        path = tuple(err.absolute_path)
        message = err.message
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = [k for k in err.instance if k not in allowed]
            for k in extra:
                kp = (*path, k)
                problems.append(f"{src.file}:{src.line_of(kp)}: {_dotted(kp)}: unknown key (allowed: {', '.join(sorted(allowed)) or 'none'})")
            continue
        if err.validator in ("oneOf", "anyOf") and err.context:
            # the branch that matched the value's type says what is wrong (and where) best
            typed = [e for e in err.context if e.validator != "type" or len(e.absolute_path) > len(path)]
            best = max(typed, key=lambda e: len(e.absolute_path)) if typed else jsonschema.exceptions.best_match(err.context)
            message = best.message
            path = tuple(best.absolute_path)
        problems.append(f"{src.file}:{src.line_of(path)}: {_dotted(path) or '(top level)'}: {message}")
    if problems:
        raise PolicyError(f"{src.file}: invalid policy ({len(problems)} problem{'s' if len(problems) != 1 else ''})", problems)


def _dotted(path: tuple[Any, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    expires: _dt.date
    path: str | None = None
    fingerprint: str | None = None
    gate: str | None = None
    owner: str | None = None
    ticket: str | None = None
    source: str = ""  # FILE:LINE, for messages

    def expired(self, today: _dt.date) -> bool:
        return today > self.expires


@dataclass
class Policy:
    """The effective policy (built-in defaults merged with the user's files).

    ``provenance`` maps each effective key path to ``FILE:LINE``; ``locks`` are the floors the
    chain declared (command-line overrides obey them too); ``chain`` lists the merged documents.
    """

    data: dict[str, Any]
    path: str | None = None
    sources: list[SourcedYaml] = field(default_factory=list)
    digest: str | None = None
    provenance: dict[tuple, str] = field(default_factory=dict)
    locks: Any = None
    chain: list[Any] = field(default_factory=list)

    def gate_options(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.data.get("gates", {}).get(name, {}))

    def enabled(self, name: str) -> bool:
        return bool(self.data.get("gates", {}).get(name, {}).get("enabled", True))

    def fail_on(self, name: str) -> str:
        g = self.data.get("gates", {}).get(name, {})
        return g.get("fail_on") or self.data.get("defaults", {}).get("fail_on", "high")

    def on_error(self, name: str) -> str:
        g = self.data.get("gates", {}).get(name, {})
        return g.get("on_error") or self.data.get("defaults", {}).get("on_error", "fail")

    def blocks(self, name: str, severity: Severity) -> bool:
        threshold = self.fail_on(name)
        if threshold == THRESHOLD_NONE:
            return False
        return severity.at_least(Severity.parse(threshold))

    def waivers(self) -> list[Waiver]:
        out = []
        for i, w in enumerate(self.data.get("waivers", []) or []):
            source = self.provenance.get(("waivers", i), "")
            for src in [] if source else self.sources:
                if isinstance(src.data, dict) and w in (src.data.get("waivers") or []):
                    idx = src.data["waivers"].index(w)
                    source = f"{src.file}:{src.line_of(('waivers', idx))}"
            out.append(
                Waiver(
                    rule=w["rule"], reason=w["reason"], expires=_dt.date.fromisoformat(str(w["expires"])),
                    path=w.get("path"), fingerprint=w.get("fingerprint"), gate=w.get("gate"),
                    owner=w.get("owner"), ticket=w.get("ticket"), source=source or f"waivers[{i}]",
                )
            )
        return out


def find_policy_file(root: Path) -> Path | None:
    for name in DEFAULT_POLICY_NAMES:
        p = root / name
        if p.is_file():
            return p
    return None


def load_policy(path: str | Path | None, gates: Mapping[str, Gate], *, allow_unpinned: bool = False,
                root: Path | None = None) -> Policy:
    """Load, validate and merge the user's policy (and what it ``extends``) over the built-in
    default, enforcing locks; see :mod:`gates.core.loader`.

    ``path`` None means the built-in default alone (plus a waiver file in ``root``). A given path
    that does not exist is an error: a typo in ``--policy`` must not fall back to defaults.
    """
    from .loader import load_chain

    return load_chain(Path(path) if path is not None else None, gates, allow_unpinned=allow_unpinned, root=root)
