"""KitOps ``Kitfile`` manifests: a model as a package, with licences per part.

Read: ``package.name``/``version``/``license``, ``model.name``/``license``/``parts[].license``,
``datasets[].license`` and ``code[].license``. Every licence a package declares ships with it, so
every one is held to the policy. Identified by content (a YAML mapping with ``manifestVersion``
and a ``package`` or ``model`` section), not only by its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gates.core.errors import PolicyError
from gates.core.yamlsrc import SourcedYaml, load_yaml_text

from .facts import Fact, Kind, ReadError
from .reading import read_text

NAMES = ("Kitfile", "kitfile", "Kitfile.yaml", "Kitfile.yml")


def load(path: Path) -> SourcedYaml | None:
    """The Kitfile's YAML with lines, or None when the file is not a Kitfile."""
    text = read_text(path)
    try:
        src = load_yaml_text(text, str(path))
    except PolicyError as exc:
        detail = (exc.problems[0] if exc.problems else str(exc)).split(": ", 1)[-1].splitlines()[0]
        raise ReadError(path, f"Kitfile is not valid YAML ({detail})") from None
    d = src.data
    if not isinstance(d, dict) or "manifestVersion" not in d or not ({"package", "model"} & set(d)):
        return None
    return src


def facts(path: Path, src: SourcedYaml) -> list[Fact]:
    d: dict[str, Any] = src.data
    out: list[Fact] = []

    def add(kind: Kind, value: Any, key_path: tuple) -> None:
        if isinstance(value, (str, int, float)) and str(value).strip():
            key = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in key_path).replace(".[", "[")
            out.append(Fact(kind, str(value).strip(), path, key, src.line_of(key_path)))

    pkg = d.get("package") if isinstance(d.get("package"), dict) else {}
    add(Kind.NAME, pkg.get("name"), ("package", "name"))
    add(Kind.VERSION, pkg.get("version"), ("package", "version"))
    _license(add, pkg.get("license"), ("package", "license"))
    model = d.get("model") if isinstance(d.get("model"), dict) else {}
    if not pkg.get("name"):
        add(Kind.NAME, model.get("name"), ("model", "name"))
    _license(add, model.get("license"), ("model", "license"))
    for i, part in enumerate(model.get("parts") or [] if isinstance(model.get("parts"), list) else []):
        if isinstance(part, dict):
            _license(add, part.get("license"), ("model", "parts", i, "license"))
    for section in ("datasets", "code"):
        items = d.get(section) if isinstance(d.get(section), list) else []
        for i, item in enumerate(items):
            if isinstance(item, dict):
                _license(add, item.get("license"), (section, i, "license"))
                if section == "datasets":
                    add(Kind.DATASET, item.get("name") or item.get("path"), (section, i, "name" if item.get("name") else "path"))
    return out


def _license(add, value: Any, key_path: tuple) -> None:
    if isinstance(value, str) and value.strip().lower() in ("other", "unknown"):
        add(Kind.LICENSE_UNKNOWN, value, key_path)
    else:
        add(Kind.LICENSE, value, key_path)
