"""Lock files: ``uv.lock``, ``poetry.lock`` and PEP 751 ``pylock.toml`` (TOML), and Pipenv's
``Pipfile.lock`` (JSON). Each package entry is one exact pin (or a VCS/URL/path entry the gate
cannot audit by version)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from gates.core.errors import InputError

from .parsing import DependencySource, direct_reference, find_line, load_toml, pinned_version, read_text, valid_name
from .records import Dependency


def _sub(p: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """``p[key]`` as a table ({} when absent); another type is an error, never "not there"."""
    v = p.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise InputError(where, f"package field {key!r} is not a table")
    return v


def _array(p: dict[str, Any], key: str, where: str) -> list[Any]:
    v = p.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise InputError(where, f"package field {key!r} is not an array")
    return v


class _TomlLock(DependencySource):
    table: ClassVar[str] = "package"

    def collect(self) -> list[Dependency]:
        data, text = load_toml(self.path)
        pkgs = data.get(self.table)
        if pkgs is None:
            return []
        if not isinstance(pkgs, list):
            raise InputError(str(self.path), f"[[{self.table}]] is not an array of tables")
        out = []
        cursor = 0
        for i, p in enumerate(pkgs):
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                raise InputError(str(self.path), f"{self.table}[{i}] has no name")
            name = p["name"]
            at = text.find("[[" + self.table + "]]", cursor)
            line = find_line(text, f'name = "{name}"', max(at, 0)) if at >= 0 else find_line(text, f'"{name}"')
            if at >= 0:
                cursor = at + 1
            dep = self.dependency(p, name, line, f"{self.path}:{line or 1}")
            if dep is not None:
                out.append(dep)
        return out

    def dependency(self, p: dict[str, Any], name: str, line: int | None, where: str) -> Dependency | None:
        version = p.get("version")
        kind = self.kind_of(p, where)
        if kind is None:
            return None
        if not isinstance(version, str) and kind == "pinned":
            kind = "unpinned"
        return Dependency(name, version if kind == "pinned" else None, self.path, line=line, kind=kind,
                          specifier=f"=={version}" if isinstance(version, str) else "", marker=str(p.get("marker", "")),
                          hashes=self.hashes(p, where), source_format=self.format,
                          text=f"{name} {version if isinstance(version, str) else ''}".strip())

    def kind_of(self, p: dict[str, Any], where: str) -> str | None:
        return "pinned"

    def hashes(self, p: dict[str, Any], where: str) -> tuple[str, ...]:
        return ()


class UvLock(_TomlLock):
    """``uv.lock``: the project itself (``virtual``/``editable`` at ``.``) is not a dependency."""

    format = "uv.lock"

    def kind_of(self, p: dict[str, Any], where: str) -> str | None:
        src = _sub(p, "source", where)
        if "git" in src:
            return "vcs"
        if "url" in src:
            return "url"
        if "editable" in src or "virtual" in src:
            return None if src.get("editable", src.get("virtual")) == "." else "editable"
        if "path" in src or "directory" in src:
            return "path"
        return "pinned"

    def hashes(self, p: dict[str, Any], where: str) -> tuple[str, ...]:
        out = [w["hash"] for w in _array(p, "wheels", where) if isinstance(w, dict) and isinstance(w.get("hash"), str)]
        sd = _sub(p, "sdist", where)
        if isinstance(sd.get("hash"), str):
            out.append(sd["hash"])
        return tuple(out)


class PoetryLock(_TomlLock):
    format = "poetry.lock"

    def kind_of(self, p: dict[str, Any], where: str) -> str | None:
        t = _sub(p, "source", where).get("type")
        if not isinstance(t, (str, type(None))):
            raise InputError(where, "package field 'source.type' is not a string")
        return {"git": "vcs", "url": "url", "file": "path", "directory": "editable" if p.get("develop") else "path"}.get(t, "pinned")

    def hashes(self, p: dict[str, Any], where: str) -> tuple[str, ...]:
        return tuple(f["hash"] for f in _array(p, "files", where) if isinstance(f, dict) and isinstance(f.get("hash"), str))


class PyLock(_TomlLock):
    """PEP 751 ``pylock.toml``: ``[[packages]]`` with ``vcs``/``directory``/``archive`` sources."""

    format = "pylock"
    table = "packages"

    def kind_of(self, p: dict[str, Any], where: str) -> str | None:
        if "vcs" in p:
            return "vcs"
        if "directory" in p:
            return "editable" if _sub(p, "directory", where).get("editable") else "path"
        if "archive" in p and "url" in _sub(p, "archive", where):
            return "url" if "version" not in p else "pinned"
        return "pinned"

    def hashes(self, p: dict[str, Any], where: str) -> tuple[str, ...]:
        out = []
        for w in [*_array(p, "wheels", where), _sub(p, "sdist", where), _sub(p, "archive", where)]:
            hashes = w.get("hashes") if isinstance(w, dict) else None
            for algo, h in hashes.items() if isinstance(hashes, dict) else ():
                out.append(f"{algo}:{h}")
        return tuple(out)


class PipfileLock(DependencySource):
    """Pipenv's ``Pipfile.lock`` (JSON): every category (``default``, ``develop``, custom) maps
    names to ``{"version": "==X", "hashes": [...]}`` or a VCS/path/file entry."""

    format = "pipfile.lock"

    def collect(self) -> list[Dependency]:
        text = read_text(self.path)
        try:
            data = json.loads(text)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            raise InputError(f"{self.path}:{line or 1}", "invalid JSON") from None
        except RecursionError:
            raise InputError(str(self.path), "invalid JSON: nested too deeply") from None
        if not isinstance(data, dict):
            raise InputError(str(self.path), "Pipfile.lock is not a JSON object")
        out: list[Dependency] = []
        for category, table in data.items():
            if category == "_meta":
                continue
            if not isinstance(table, dict):
                raise InputError(f"{self.path}:{find_line(text, json.dumps(category)) or 1}", "a Pipfile.lock category is not an object")
            start = text.find(json.dumps(category))
            for name, entry in table.items():
                line = find_line(text, json.dumps(name) + ":", max(start, 0)) or find_line(text, json.dumps(name))
                out.append(self._dep(name, entry, line))
        return out

    def _dep(self, name: str, entry: Any, line: int | None) -> Dependency:
        where = f"{self.path}:{line or 1}"
        if not isinstance(entry, dict) or not valid_name(name):
            raise InputError(where, "a Pipfile.lock entry must map a package name to an object")
        marker = str(entry.get("markers") or "")
        hashes = tuple(h for h in entry.get("hashes") or [] if isinstance(h, str)) if isinstance(entry.get("hashes"), list) else ()
        direct = direct_reference(self, name, entry, line, hashes)
        if direct is not None:
            return direct
        spec = entry.get("version")
        version = pinned_version(spec) if isinstance(spec, str) else None
        kind = "pinned" if version is not None else "unpinned"
        spec = spec if isinstance(spec, str) else ""
        return Dependency(name, version, self.path, line=line, kind=kind, specifier=spec, marker=marker, hashes=hashes,
                          source_format=self.format, text=f"{name} {spec}".strip())
