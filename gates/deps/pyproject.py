"""``pyproject.toml``: PEP 621 ``[project]`` dependencies and extras, PEP 735
``[dependency-groups]``, Poetry's ``[tool.poetry.dependencies]`` (and its groups), and PEP 621
``dynamic`` dependencies read from the files ``[tool.setuptools.dynamic]`` names.

No build backend runs: dependencies a backend would compute some other way cannot be audited,
and saying so is an error naming the field, never "no dependencies".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from gates.core.errors import InputError

from .parsing import DependencySource, table_entry, from_requirement, key_line, load_toml, pinned_version
from .records import Dependency
from .requirements import read_named_files


class PyprojectFile(DependencySource):
    """Every dependency table a ``pyproject.toml`` may hold (see the module docstring)."""

    format = "pyproject"

    def collect(self) -> list[Dependency]:
        data, text = load_toml(self.path)
        project = _table(data, "project", self.path)
        tool = _table(data, "tool", self.path)
        poetry = _table(tool, "poetry", self.path, "tool.poetry")
        out = self._pep621(project, data, text)
        out += self._dynamic(project, tool, poetry, text)
        out += self._poetry(poetry, text)
        return out

    # ---- PEP 621 / PEP 735 ---------------------------------------------------------------------
    def _pep621(self, project: dict[str, Any], data: dict[str, Any], text: str) -> list[Dependency]:
        specs: list[str] = []
        specs.extend(_str_list(project.get("dependencies"), self.path, "project.dependencies"))
        for group, items in _table(project, "optional-dependencies", self.path, "project.optional-dependencies").items():
            specs.extend(_str_list(items, self.path, f"project.optional-dependencies.{group}"))
        for group, items in _table(data, "dependency-groups", self.path).items():
            if not isinstance(items, list):
                raise InputError(str(self.path), f"dependency-groups.{group} must be a list")
            specs.extend(s for s in items if isinstance(s, str))  # {include-group = ...} tables are references
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

    # ---- PEP 621 dynamic -----------------------------------------------------------------------
    def _dynamic(self, project: dict[str, Any], tool: dict[str, Any], poetry: dict[str, Any], text: str) -> list[Dependency]:
        dynamic = project.get("dynamic") or []
        if not isinstance(dynamic, list):
            raise InputError(f"{self.path}:{key_line(text, 'dynamic') or 1}", "project.dynamic must be a list")
        setuptools_dyn = _table(_table(tool, "setuptools", self.path, "tool.setuptools"), "dynamic", self.path, "tool.setuptools.dynamic")
        hatch_txt = _table(_table(_table(_table(tool, "hatch", self.path, "tool.hatch"), "metadata", self.path, "tool.hatch.metadata"),
                                  "hooks", self.path, "tool.hatch.metadata.hooks"), "requirements_txt", self.path, HATCH)
        out: list[Dependency] = []
        for field in ("dependencies", "optional-dependencies"):
            if field not in dynamic:
                continue
            where = f"{self.path}:{key_line(text, 'dynamic') or 1}"
            if field in project:
                raise InputError(where, f"project.{field} is listed in project.dynamic and also given statically (PEP 621 forbids both)")
            spec = setuptools_dyn.get(field)
            if spec is not None:
                groups = {"": spec} if field == "dependencies" else _table(setuptools_dyn, field, self.path, f"tool.setuptools.dynamic.{field}")
                for group, entry in groups.items():
                    label = f"tool.setuptools.dynamic.{field}" + (f".{group}" if group else "")
                    out += self._dynamic_files(entry, label, text)
            elif hatch_txt:  # hatch-requirements-txt: files = [...], optional-dependencies = {extra = [...]}
                groups = {"": hatch_txt.get("files")} if field == "dependencies" else _table(hatch_txt, field, self.path, f"{HATCH}.{field}")
                for group, names in groups.items():
                    label = f"{HATCH}." + (f"{field}.{group}" if group else "files")
                    out += self._dynamic_files({"file": names}, label, text)
            elif poetry.get("dependencies") is None:
                raise InputError(where, f"project.dynamic lists {field!r} but tool.setuptools.dynamic.{field} does not name the file that "
                                 "declares them, so they cannot be read (the gate runs no build backend); declare them in [project] "
                                 f"or point tool.setuptools.dynamic.{field} (or {HATCH}) at a requirements file")
        return out

    def _dynamic_files(self, entry: Any, label: str, text: str) -> list[Dependency]:
        files = entry.get("file") if isinstance(entry, dict) else None
        if isinstance(files, str):
            files = [files]
        where = f"{self.path}:{key_line(text, label.rsplit('.', 1)[-1]) or 1}"
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise InputError(where, f"{label} must be {{file = [...]}} naming requirements files (the gate runs no build backend)")
        return read_named_files(self, files, where, label)

    # ---- Poetry --------------------------------------------------------------------------------
    def _poetry(self, poetry: dict[str, Any], text: str) -> list[Dependency]:
        tables = [("tool.poetry.dependencies", poetry.get("dependencies")), ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies"))]
        for group, body in _table(poetry, "group", self.path, "tool.poetry.group").items():
            if not isinstance(body, dict):
                raise InputError(str(self.path), f"tool.poetry.group.{group} is not a table")
            tables.append((f"tool.poetry.group.{group}.dependencies", body.get("dependencies")))
        out: list[Dependency] = []
        for label, table in tables:
            if table is None:
                continue
            if not isinstance(table, dict):
                raise InputError(str(self.path), f"{label} is not a table")
            start = _header_offset(text, label)
            for name, spec in table.items():
                if name.lower() == "python":
                    continue  # the interpreter constraint, not a package
                line = key_line(text, name, start)
                for one in spec if isinstance(spec, list) else [spec]:  # a list: multiple-constraint dependency
                    out.append(self._poetry_dep(name, one, line, label))
        return out

    def _poetry_dep(self, name: str, spec: Any, line: int | None, label: str) -> Dependency:
        direct, spec, marker = table_entry(self, name, spec, line, label)
        if direct is not None:
            return direct
        version = poetry_pin(spec)
        kind = "pinned" if version is not None else "unpinned"
        return Dependency(name, version, self.path, line=line, kind=kind, specifier=spec, marker=marker, source_format=self.format,
                          text=f"{name} = {spec}")


HATCH = "tool.hatch.metadata.hooks.requirements_txt"


def poetry_pin(constraint: str) -> str | None:
    """The one version a Poetry constraint allows: ``2.19.0`` (Poetry reads a bare version as
    exact), ``==2.19.0``; None for ranges (``^``, ``~``, ``*``, ``>=``, wildcards, ``||``)."""
    c = constraint.strip()
    pinned = pinned_version(c)
    if pinned is not None:
        return pinned
    if not c or re.search(r"[\s*^~<>=!|,]", c):
        return None
    try:
        Version(c)
    except InvalidVersion:
        return None
    return c


def _header_offset(text: str, label: str) -> int:
    """Offset of the ``[label]`` table header (0 when the table is written inline)."""
    m = re.search(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in label.split(".")) + r"\s*\]", text, re.M)
    return m.end() if m else 0


def _table(data: dict[str, Any], key: str, path: Path, label: str | None = None) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(str(path), f"{label or key} is not a table")
    return value


def _str_list(value: Any, path: Path, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(str(path), f"{where} must be a list of strings")
    return value
