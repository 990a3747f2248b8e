"""Hugging Face model folders: the model card's YAML front matter and the JSON configs.

The card (``README.md`` starting with ``---``) declares ``license``, ``license_name``,
``license_link``, ``base_model`` (a string or a list), ``datasets``, ``library_name`` and
``pipeline_tag``; ``config.json`` its ``_name_or_path`` and ``auto_map``; ``adapter_config.json``
(PEFT) the ``base_model_name_or_path``; ``tokenizer_config.json`` its own ``auto_map``. Only
``yaml.safe_load`` semantics are used (the core's line-mapping safe loader, which also refuses
duplicate keys and alias bombs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gates.core.errors import PolicyError
from gates.core.yamlsrc import SourcedYaml, load_yaml_text

from .facts import Fact, Kind, ReadError
from .reading import json_line, read_json, read_text

CARD_KEYS = ("license", "license_name", "license_link", "base_model", "datasets", "library_name", "pipeline_tag", "model-index")
HF_CONFIG_KEYS = ("model_type", "architectures", "_name_or_path", "auto_map", "transformers_version")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*$", re.DOTALL | re.MULTILINE)
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")


def front_matter(path: Path) -> SourcedYaml | None:
    """The card's YAML front matter with line numbers (lines counted in the README), or None."""
    text = read_text(path)
    m = _FRONT.match(text)
    if not m:
        return None
    try:
        src = load_yaml_text(m.group(1), str(path))
    except PolicyError as exc:
        where = exc.problems[0].split(": ", 1)[-1] if exc.problems else str(exc).split(": ", 1)[-1]
        raise ReadError(path, f"model card front matter is not valid YAML ({where.splitlines()[0]})") from None
    src.lines = {k: v + 1 for k, v in src.lines.items()}  # the opening '---' is line 1
    return src


def is_card(src: SourcedYaml | None) -> bool:
    return src is not None and isinstance(src.data, dict) and any(k in src.data for k in CARD_KEYS)


def _strings(value: Any) -> list[tuple[int | None, str]]:
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def card_facts(path: Path, src: SourcedYaml) -> list[Fact]:
    """Facts a model card declares. ``license: other`` takes its id from ``license_name``; without
    one the licence is declared but unknown (unless ``license_link`` names a file the caller reads)."""
    data = src.data if isinstance(src.data, dict) else {}
    out: list[Fact] = []

    def add(kind: Kind, value: str, key: str, idx: int | None = None) -> None:
        path_key = (key,) if idx is None else (key, idx)
        out.append(Fact(kind, value.strip(), path, key if idx is None else f"{key}[{idx}]", src.line_of(path_key)))

    lic = data.get("license")
    name = data.get("license_name")
    for idx, value in _strings(lic):
        if value.strip().lower() == "other" and isinstance(name, str) and name.strip():
            add(Kind.LICENSE, name, "license_name")
        elif value.strip().lower() in ("other", "unknown"):
            add(Kind.LICENSE_UNKNOWN, value, "license", idx)
        else:
            add(Kind.LICENSE, value, "license", idx)
    for key, kind in (("base_model", Kind.BASE), ("datasets", Kind.DATASET), ("library_name", Kind.LIBRARY),
                      ("pipeline_tag", Kind.TASK)):
        for idx, value in _strings(data.get(key)):
            if value.strip():
                add(kind, value, key, idx)
    return out


def license_link(src: SourcedYaml) -> str | None:
    link = src.data.get("license_link") if isinstance(src.data, dict) else None
    return link if isinstance(link, str) else None


def config_facts(path: Path) -> tuple[list[Fact], bool]:
    """``config.json``: (facts, whether it is a Transformers config at all)."""
    data, text = read_json(path)
    if not isinstance(data, dict) or not any(k in data for k in HF_CONFIG_KEYS):
        return [], False
    out: list[Fact] = []
    nop = data.get("_name_or_path")
    if isinstance(nop, str) and HUB_ID.match(nop.strip()):
        out.append(Fact(Kind.ORIGIN, nop.strip(), path, "_name_or_path", json_line(text, "_name_or_path")))
    out.extend(_auto_map(path, data, text))
    return out, True


def tokenizer_facts(path: Path) -> list[Fact]:
    data, text = read_json(path)
    return _auto_map(path, data, text) if isinstance(data, dict) else []


def adapter_facts(path: Path) -> tuple[list[Fact], bool]:
    """``adapter_config.json`` (PEFT): the base model, a hub id or a local path."""
    data, text = read_json(path)
    if not isinstance(data, dict) or not ("base_model_name_or_path" in data or "peft_type" in data):
        return [], False
    base = data.get("base_model_name_or_path")
    out: list[Fact] = []
    if isinstance(base, str) and base.strip():
        b = base.strip()
        line = json_line(text, "base_model_name_or_path")
        local = b.startswith((".", "/", "~")) or not HUB_ID.match(b) or (path.parent / b).exists()
        out.append(Fact(Kind.LOCAL_BASE if local else Kind.BASE, b, path, "base_model_name_or_path", line))
    out.extend(_auto_map(path, data, text))
    return out, True


def _auto_map(path: Path, data: dict, text: str) -> list[Fact]:
    amap = data.get("auto_map")
    if not isinstance(amap, dict):
        return []
    line = json_line(text, "auto_map")
    out = []
    for cls, ref in amap.items():
        for r in _refs(ref):
            out.append(Fact(Kind.CODE, r, path, f"auto_map.{cls}", line))
    return out


def _refs(ref: Any) -> Iterable[str]:
    if isinstance(ref, str) and ref.strip():
        yield ref.strip()
    elif isinstance(ref, list):  # tokenizers: [slow, fast], either may be null
        for r in ref:
            if isinstance(r, str) and r.strip():
                yield r.strip()
