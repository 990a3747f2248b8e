"""``pyproject.toml``: PEP 621 ``[project]`` dependencies and extras, and PEP 735
``[dependency-groups]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from gates.core.errors import InputError

from .parsing import DependencySource, from_requirement, load_toml
from .records import Dependency


class PyprojectFile(DependencySource):
    """``[project] dependencies``, ``optional-dependencies`` and PEP 735 ``[dependency-groups]``."""

    format = "pyproject"

    def collect(self) -> list[Dependency]:
        data, text = load_toml(self.path)
        specs: list[str] = []
        project = data.get("project") or {}
        if not isinstance(project, dict):
            raise InputError(str(self.path), "[project] is not a table")
        specs.extend(_str_list(project.get("dependencies"), self.path, "project.dependencies"))
        for group, items in (project.get("optional-dependencies") or {}).items():
            specs.extend(_str_list(items, self.path, f"project.optional-dependencies.{group}"))
        for group, items in (data.get("dependency-groups") or {}).items():
            specs.extend(s for s in (items or []) if isinstance(s, str))  # {include-group = ...} tables are references
        out = []
        cursor = 0
        for s in specs:
            # quoted as written, searched from the previous hit so repeated entries get their own line
            hits = [i for i in (text.find(f'"{s}"', cursor), text.find(f"'{s}'", cursor)) if i >= 0]
            at = min(hits) if hits else text.find(s)
            line = text.count("\n", 0, at) + 1 if at >= 0 else None
            if at >= 0:
                cursor = at + 1
            try:
                req = Requirement(s)
            except InvalidRequirement:
                raise InputError(f"{self.path}:{line or 1}", "not a valid requirement (PEP 508)") from None
            out.append(from_requirement(req, self.path, line, self.format, text=s))
        return out


def _str_list(value: Any, path: Path, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(str(path), f"{where} must be a list of strings")
    return value


