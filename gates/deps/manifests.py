"""Manifests other tools read: Pipenv's ``Pipfile``, setuptools' ``setup.cfg`` and a conda
``environment.yml`` (its ``pip:`` section). Each is parsed as data only: no setup.py runs, no
conda solve happens, YAML is composed with the safe loader and never constructed into objects.
"""

from __future__ import annotations

import configparser
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement, Requirement

from gates.core.errors import InputError

from .parsing import DependencySource, find_line, from_requirement, key_line, load_toml, read_text, table_entry
from .records import Dependency
from .requirements import LogicalLine, RequirementsFile, read_named_files

#: Pipfile tables that are not package categories
_PIPFILE_META = {"source", "requires", "pipenv", "scripts"}


class Pipfile(DependencySource):
    """``[packages]``, ``[dev-packages]`` and custom categories: ``"*"``, a PEP 440 specifier,
    or a table (``version``, ``git``, ``path``, ``file``, ``editable``, ``markers``)."""

    format = "pipfile"

    def collect(self) -> list[Dependency]:
        data, text = load_toml(self.path)
        out: list[Dependency] = []
        for category, table in data.items():
            if category in _PIPFILE_META:
                continue
            if not isinstance(table, dict):
                raise InputError(f"{self.path}:{key_line(text, category) or 1}", f"Pipfile [{category}] is not a table")
            start = text.find(f"[{category}]")
            for name, spec in table.items():
                out.append(self._dep(name, spec, key_line(text, name, max(start, 0)), category))
        return out

    def _dep(self, name: str, spec: Any, line: int | None, category: str) -> Dependency:
        direct, spec, marker = table_entry(self, name, spec, line, f"Pipfile [{category}]")
        if direct is not None:
            return direct
        text = name if spec in ("*", "") else f"{name}{spec}"
        try:
            req = Requirement(text + (f"; {marker}" if marker else ""))
        except InvalidRequirement:
            raise InputError(f"{self.path}:{line or 1}", "not a valid version specifier (PEP 440)") from None
        return from_requirement(req, self.path, line, self.format, text=f"{name} = {spec}")


class SetupCfg(DependencySource):
    """setuptools' ``[options] install_requires`` and ``[options.extras_require]``, either as
    lists of PEP 508 lines or as ``file:`` directives naming requirements files."""

    format = "setup.cfg"

    def collect(self) -> list[Dependency]:
        text = read_text(self.path)
        cp = configparser.ConfigParser(interpolation=None, strict=True, delimiters=("=", ":"), comment_prefixes=("#", ";"))
        try:
            cp.read_string(text, source=str(self.path))
        except configparser.Error as exc:
            line = getattr(exc, "lineno", None) or (exc.errors[0][0] if isinstance(exc, configparser.ParsingError) and exc.errors else None)
            raise InputError(f"{self.path}:{line or 1}", f"invalid setup.cfg ({type(exc).__name__})") from None
        fields: list[tuple[str, str]] = []
        if cp.has_option("options", "install_requires"):
            fields.append(("install_requires", cp.get("options", "install_requires")))
        if cp.has_section("options.extras_require"):
            fields.extend((extra, cp.get("options.extras_require", extra)) for extra in cp.options("options.extras_require"))
        out: list[Dependency] = []
        for key, value in fields:
            start = text.find("\n", text.find(key)) if key in text else 0
            value = value.strip()
            if value.startswith("file:"):
                names = [n.strip() for n in value[len("file:"):].split(",")]
                out += read_named_files(self, names, f"{self.path}:{key_line(text, key) or 1}", f"{key} = file:")
                continue
            lines = []
            for raw in value.splitlines():
                req = raw.split(" #", 1)[0].strip()
                if req and not req.startswith("#"):
                    lines.append(LogicalLine(req, find_line(text, req, max(start, 0)) or 1))
            src = RequirementsFile(self.path)
            src.root = self.root
            out += [_as(d, self.format) for d in src.collect_lines(lines)]
        return out

class CondaEnvironment(DependencySource):
    """A conda ``environment.yml``: the ``pip:`` entries of ``dependencies`` are pip requirement
    lines and are audited; conda packages are counted in a note (the OSV PyPI data does not cover
    conda builds), so nobody reads silence as "audited"."""

    format = "conda"

    def collect(self) -> list[Dependency]:
        text = read_text(self.path)
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise InputError(f"{self.path}:{mark.line + 1 if mark else 1}", "invalid YAML") from None
        except (yaml.YAMLError, RecursionError):
            raise InputError(str(self.path), "invalid YAML") from None
        deps = _mapping_get(root, "dependencies")
        if deps is None:
            self.notes.append(f"{self.path.name}: no conda `dependencies` list; nothing to audit in it")
            return []
        if not isinstance(deps, yaml.SequenceNode):
            raise InputError(f"{self.path}:{deps.start_mark.line + 1}", "conda `dependencies` must be a list")
        lines: list[LogicalLine] = []
        conda = 0
        for item in deps.value:
            pip = _mapping_get(item, "pip") if isinstance(item, yaml.MappingNode) else None
            if isinstance(item, yaml.ScalarNode):
                conda += 1
            elif pip is not None:
                if not isinstance(pip, yaml.SequenceNode) or not all(isinstance(n, yaml.ScalarNode) for n in pip.value):
                    raise InputError(f"{self.path}:{item.start_mark.line + 1}", "conda `pip:` must be a list of requirement strings")
                lines += [LogicalLine(str(n.value).split(" #", 1)[0].strip(), n.start_mark.line + 1) for n in pip.value]
            else:
                raise InputError(f"{self.path}:{item.start_mark.line + 1}", "conda `dependencies` entries must be package specs or a `pip:` list")
        if conda:
            self.notes.append(f"{self.path.name}: {conda} conda package(s) not audited (advisories cover PyPI packages; "
                              "only the `pip:` section is checked)")
        src = RequirementsFile(self.path)
        src.root = self.root
        return [_as(d, self.format) for d in src.collect_lines(ln for ln in lines if ln.text)]


def _mapping_get(node: Any, key: str) -> Any:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _as(d: Dependency, fmt: str) -> Dependency:
    from dataclasses import replace

    return replace(d, source_format=fmt)
