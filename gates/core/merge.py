"""Merging policy layers while remembering where every setting came from.

Rules (the README documents them): maps merge key by key; a list (or any other value) is
replaced by the later layer, unless the later layer writes the key with a ``+`` prefix
(``+paths: [...]``) or declares ``merge: append`` at its top level, in which case its items are
appended; ``waivers`` always accumulate. The keys ``extends``, ``locks`` and ``merge`` describe a
document and never enter the effective policy.

Provenance maps every effective key path (and every list item) to ``FILE:LINE`` of the layer
that set it, so ``policy show --explain`` and lock violations can name the line to look at.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .errors import PolicyError
from .yamlsrc import KeyPath

META_KEYS = ("extends", "locks", "merge")
ACCUMULATE = ("waivers",)
BUILTIN = "(built-in default)"
_MISSING = object()


@dataclass
class Layer:
    """One document to merge: its data (meta keys included) and a line lookup for its keys."""

    data: dict[str, Any]
    file: str
    line_of: Callable[[KeyPath], int] = lambda _p: 0

    def where(self, path: KeyPath) -> str:
        line = self.line_of(path)
        return f"{self.file}:{line}" if line else self.file


@dataclass
class Merged:
    data: dict[str, Any] = field(default_factory=dict)
    provenance: dict[KeyPath, str] = field(default_factory=dict)


def deep_merge(base: Any, over: Any) -> Any:
    """Maps merge key by key; anything else (lists included) is replaced by ``over``. For
    command-line overrides, which carry no provenance (locks still apply to the result)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def builtin_layer(data: Mapping[str, Any]) -> Merged:
    """The built-in default policy as the first state, every key attributed to it."""
    out = Merged(copy.deepcopy(dict(data)))
    _attribute(out.data, (), BUILTIN, out.provenance)
    return out


def merge_layer(state: Merged, layer: Layer) -> tuple[Merged, list[int]]:
    """``state`` with ``layer`` merged over it (neither is changed), and the indexes of the
    waivers this layer added (they are checked against waiver locks)."""
    out = Merged(copy.deepcopy(state.data), dict(state.provenance))
    append_all = layer.data.get("merge") == "append"
    before = len(out.data.get("waivers") or [])
    body = {k: v for k, v in layer.data.items() if k not in META_KEYS}
    _merge_map(out, out.data, body, (), (), layer, append_all)
    after = len(out.data.get("waivers") or [])
    return out, list(range(before, after))


def _merge_map(out: Merged, base: dict, over: Mapping, path: KeyPath, src_path: KeyPath, layer: Layer, append_all: bool) -> None:
    plain = {k for k in over if not str(k).startswith("+")}
    for k, v in over.items():
        append = str(k).startswith("+")
        key = k[1:] if append else k
        if append and key in plain:
            raise PolicyError(f"{layer.where((*src_path, k))}: {dotted((*path, key))}: both '{key}' and '+{key}' are set; use one")
        kp, sp = (*path, key), (*src_path, k)
        old = base.get(key, _MISSING)
        if isinstance(old, dict) and isinstance(v, dict):
            _merge_map(out, old, v, kp, sp, layer, append_all)
            continue
        accumulate = path == () and key in ACCUMULATE
        if isinstance(v, list) and (append or append_all or accumulate) and old is not _MISSING and not isinstance(old, dict):
            if not isinstance(old, list):
                old = [old]  # a scalar form such as `results: a.json` extended by `+results`
                _forget(out.provenance, kp)
                out.provenance[kp + (0,)] = out.provenance.get(kp, BUILTIN)
            start = len(old)
            base[key] = old + copy.deepcopy(v)
            for i, item in enumerate(v):
                _attribute(item, (*kp, start + i), layer.where((*sp, i)), out.provenance, layer, (*sp, i))
            out.provenance[kp] = layer.where(sp)
            continue
        base[key] = copy.deepcopy(v)
        _forget(out.provenance, kp)
        _attribute(v, kp, layer.where(sp), out.provenance, layer, sp)


def _forget(prov: dict[KeyPath, str], path: KeyPath) -> None:
    n = len(path)
    for p in [p for p in prov if len(p) > n and p[:n] == path]:
        del prov[p]


def _attribute(value: Any, path: KeyPath, where: str, prov: dict[KeyPath, str], layer: Layer | None = None, src_path: KeyPath | None = None) -> None:
    prov[path] = where
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for k, v in items:
        sub_where = layer.where((*src_path, k)) if layer is not None and src_path is not None else where
        _attribute(v, (*path, k), sub_where, prov, layer, (*src_path, k) if src_path is not None else None)


def dotted(path: KeyPath) -> str:
    """``gates.eval.metrics["acc.v2"].min``, ``waivers[0].rule``: keys with dots are quoted."""
    out = ""
    for p in path:
        s = str(p)
        if isinstance(p, int):
            out += f"[{p}]"
        elif not s or any(c in s for c in '.[]" '):
            out += f"[{json.dumps(s)}]"
        else:
            out += f".{s}" if out else s
    return out


def add_append_keys(schema: dict[str, Any]) -> None:
    """Allow ``+key`` beside every list-valued ``key`` under ``defaults`` and ``gates`` in the
    published schema, so editors accept what the loader accepts."""
    props = schema.get("properties", {})
    for top in ("defaults", "gates"):
        if top in props:
            _add_plus(props[top], schema)


def _add_plus(node: Any, root: Mapping[str, Any]) -> None:
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        for k, sub in list(props.items()):
            if not k.startswith("+") and _is_listish(sub, root):
                props.setdefault(f"+{k}", copy.deepcopy(sub))
            _add_plus(sub, root)
    for key in ("additionalProperties", "items"):
        _add_plus(node.get(key), root)


def _is_listish(s: Any, root: Mapping[str, Any]) -> bool:
    if not isinstance(s, dict):
        return False
    ref = s.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _is_listish(root.get("$defs", {}).get(ref.split("/")[-1]), root)
    if s.get("type") == "array" or (isinstance(s.get("type"), list) and "array" in s["type"]):
        return True
    return any(_is_listish(alt, root) for key in ("oneOf", "anyOf") for alt in s.get(key, []) or [])


def explain_lines(data: Mapping[str, Any], provenance: Mapping[KeyPath, str]) -> list[tuple[str, str, str]]:
    """``(key, value, source)`` for every effective leaf: scalars, lists of scalars (with every
    source that contributed an item) and empty containers."""
    rows: list[tuple[str, str, str]] = []
    _explain(data, (), provenance, rows)
    return rows


def _source(provenance: Mapping[KeyPath, str], path: KeyPath) -> str:
    p = tuple(path)
    while p:
        if p in provenance:
            return provenance[p]
        p = p[:-1]
    return BUILTIN


def _explain(value: Any, path: KeyPath, prov: Mapping[KeyPath, str], rows: list) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _explain(v, (*path, k), prov, rows)
        return
    if isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
        sources = []
        for i in range(len(value)):
            s = _source(prov, (*path, i))
            if s not in sources:
                sources.append(s)
        rows.append((dotted(path), json.dumps(value), " + ".join(sources)))
        return
    if isinstance(value, list) and value:
        for i, v in enumerate(value):
            _explain(v, (*path, i), prov, rows)
        return
    rows.append((dotted(path), json.dumps(value, default=str), _source(prov, path)))
