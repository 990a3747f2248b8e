"""Safe YAML loading that remembers where each key came from.

Only PyYAML's SafeLoader is used (no arbitrary object construction). Besides the data we keep a
map from the key path (tuple of keys / list indexes) to its line, so schema errors can be reported
as ``FILE:LINE: path.to.key: message``. Duplicate keys are rejected: YAML silently keeps the last
one, which would let a repository hide a setting from a reviewer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import PolicyError

if TYPE_CHECKING:
    import yaml

MAX_POLICY_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NODES = 200_000  # aliases can make a small file expand enormously ("billion laughs")
KeyPath = tuple[Any, ...]


@functools.cache
def _loader() -> type:
    """SafeLoader that keeps timestamps as the strings written, so a bad date such as
    ``2026-13-01`` becomes a schema error with a line number instead of a crash. Built (and
    PyYAML imported) on first use: a run without a policy file never parses YAML."""
    import yaml

    class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        pass

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
    return _Loader


@dataclass
class SourcedYaml:
    """Parsed YAML data with ``lines[path] -> 1-based line`` for every key and list item."""

    data: Any
    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int:
        """The line of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def load_yaml_text(text: str, file: str) -> SourcedYaml:
    """Parse once (libyaml's safe loader when available), map lines, then construct the data
    from the same node graph."""
    import yaml

    loader = _loader()(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = (mark.line + 1) if mark is not None else 1
            problem = getattr(exc, "problem", None) or "invalid YAML"
            raise PolicyError(f"{file}:{line}: invalid YAML: {problem}") from None
        lines: dict[KeyPath, int] = {}
        if node is None:
            return SourcedYaml(None, file, {(): 1})
        lines[()] = node.start_mark.line + 1
        problems: list[str] = []
        budget = [MAX_NODES]
        _walk(node, (), lines, problems, file, 0, budget)
        if problems:
            raise PolicyError(f"{file}: invalid policy YAML", problems)
        try:
            data = loader.construct_document(node)
        except (yaml.YAMLError, ValueError, TypeError) as exc:
            raise PolicyError(f"{file}: invalid YAML: {getattr(exc, 'problem', None) or type(exc).__name__}") from None
    finally:
        loader.dispose()
    return SourcedYaml(data, file, lines)


def read_policy_bytes(path: Any, label: str | None = None) -> bytes:
    """At most :data:`MAX_POLICY_BYTES` from ``path`` (a ``Path`` or an importlib.resources
    ``Traversable``); a larger or unreadable file is a :class:`PolicyError` naming ``label``."""
    label = label or str(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"{label}: cannot read policy: {exc.strerror or exc}") from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(f"{label}: policy file is larger than {MAX_POLICY_BYTES} bytes")
    return raw


def load_yaml_file(path: str | Path) -> SourcedYaml:
    p = Path(path)
    raw = read_policy_bytes(p)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{p}: policy file is not UTF-8") from None
    return load_yaml_text(text, str(p))


def _walk(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], problems: list[str], file: str, depth: int, budget: list[int]) -> None:
    import yaml  # already loaded by load_yaml_text; imported here once, not per node

    _walk_nodes(yaml.MappingNode, yaml.ScalarNode, yaml.SequenceNode, node, path, lines, problems, file, depth, budget)


def _walk_nodes(mapping: type[yaml.MappingNode], scalar: type[yaml.ScalarNode], sequence: type[yaml.SequenceNode], node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int],
                problems: list[str], file: str, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        if budget[0] == -1:
            problems.append(f"{file}:{node.start_mark.line + 1}: more than {MAX_NODES} YAML nodes (alias expansion?)")
        return
    if depth > MAX_DEPTH:
        problems.append(f"{file}:{node.start_mark.line + 1}: nesting deeper than {MAX_DEPTH}")
        return
    if isinstance(node, mapping):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, scalar) else str(key_node.start_mark)
            line = key_node.start_mark.line + 1
            if key == "<<":
                continue  # merge keys: the loader resolves them
            if key in seen:
                dotted = ".".join(str(p) for p in (*path, key))
                problems.append(f"{file}:{line}: {dotted}: duplicate key (first defined on line {seen[key]})")
            seen[key] = line
            lines[path + (key,)] = line
            _walk_nodes(mapping, scalar, sequence, value_node, (*path, key), lines, problems, file, depth + 1, budget)
    elif isinstance(node, sequence):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk_nodes(mapping, scalar, sequence, item, (*path, i), lines, problems, file, depth + 1, budget)
