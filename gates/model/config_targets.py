"""NeMo/Hydra model configs: the callables they name.

A ``.nemo`` archive carries ``model_config.yaml`` next to its weights. Restoring the model
builds it from that config: the model class from ``target`` and every nested object (optimizer,
scheduler, tokenizer, data loaders) through Hydra's ``instantiate`` from ``_target_``, which
imports any dotted path and *calls* it with the sibling keys as arguments (``_target_: os.system``
with ``_args_: [id]`` runs a command). The weights can be clean while the config runs code.

Every ``target``/``_target_`` string is judged: what the pickle allowlist's severity table knows
as dangerous is critical; anything outside the libraries NeMo configs are built from is high.
"""

from __future__ import annotations

import re
from typing import Any, BinaryIO, Iterator

import yaml

from gates.core.hygiene import clean

from .allowlists import UNKNOWN, danger_of
from .scan import Scan
from .stream import Source, Truncated

TARGET_KEYS = ("_target_", "target")
#: packages NeMo model configs instantiate from
ALLOWED_PREFIXES = ("nemo.", "torch.nn.", "torch.optim.", "torch.utils.data.", "pytorch_lightning.", "lightning.",
                    "megatron.core.", "transformers.", "omegaconf.", "sentencepiece.", "tokenizers.")
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
MAX_DEPTH = 100
#: nodes walked per document: YAML aliases share nodes, so a 1 KB file of nested ``*a`` lists is a
#: walk of 10⁹ nodes (billion laughs); a real NeMo config has a few thousand
MAX_NODES = 200_000
TOO_DEEP = object()  # yielded instead of a value when the document nests past MAX_DEPTH
TOO_LARGE = object()  # yielded instead of a value when the walk passes MAX_NODES


def targets(doc: Any) -> Iterator[tuple[str, Any]]:
    """(key path, value) of every ``target``/``_target_`` in a loaded YAML document."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    walked = 0
    while stack:
        node, path, depth = stack.pop()
        walked += 1
        if walked > MAX_NODES:
            yield path, TOO_LARGE
            return
        if depth > MAX_DEPTH:
            yield path, TOO_DEEP
            return
        if isinstance(node, dict):
            for k, v in node.items():
                key = f"{path}.{k}" if path else str(k)
                if k in TARGET_KEYS:
                    yield key, v
                stack.append((v, key, depth + 1))
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))


def target_problem(value: Any) -> tuple[str, str] | None:
    """(severity, why) for a target value, or None when it names a class of the allowed libraries."""
    if not isinstance(value, str) or not DOTTED.match(value):
        return "high", "is not a plain dotted name"
    d = danger_of(value)
    if d is not UNKNOWN:
        return "critical", d.reason
    if any(seg.startswith("__") for seg in value.split(".")):
        return "critical", "walks dunder attributes"
    if not value.startswith(ALLOWED_PREFIXES):
        return "high", "is outside the libraries NeMo configs are built from: loading imports and calls it"
    return None


def scan_model_config(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """``model_config.yaml``: MODEL021 for each target that imports code outside NeMo's libraries
    (critical when it is a known-dangerous callable); MODEL003 when the YAML cannot be read."""
    limit = scan.cfg.limits.max_header_bytes
    data = src.peek(limit + 1)
    if len(data) > limit:
        scan.inconclusive("model_config.yaml is over the header size limit", member, 0, key="nemo-config-size")
        return
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError, Truncated) as exc:
        scan.inconclusive(f"model_config.yaml cannot be parsed ({type(exc).__name__})", member, 0, key="nemo-config-parse")
        return
    found = list(targets(doc))  # bounded by MAX_NODES; judged only when the walk completed
    if found and found[-1][1] is TOO_DEEP:
        scan.inconclusive("model_config.yaml is nested too deeply to check", member, 0, key="nemo-config-depth")
        return
    if found and found[-1][1] is TOO_LARGE:
        scan.inconclusive(f"model_config.yaml has more than {MAX_NODES:,} nodes once its aliases are expanded",
                          member, 0, key="nemo-config-nodes")
        return
    for path, value in found:
        problem = target_problem(value)
        if problem is None:
            continue
        severity, why = problem
        shown, where = clean(str(value)[:200]), clean(path[:200])
        scan.hit("MODEL021", f"config `{where}` instantiates `{shown}`: it {why}", member, None, severity=severity, blocking=True,
                 key=f"target:{where}", extra={"global": shown, "config_key": where})
