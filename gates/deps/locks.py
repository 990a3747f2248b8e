"""Lock files read as TOML: ``uv.lock``, ``poetry.lock`` and PEP 751 ``pylock.toml``. Each
package entry is one exact pin (or a VCS/URL/path entry the gate cannot audit by version)."""

from __future__ import annotations

from typing import Any, ClassVar

from gates.core.errors import InputError

from .parsing import DependencySource, find_line, load_toml
from .records import Dependency


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
            dep = self.dependency(p, name, line)
            if dep is not None:
                out.append(dep)
        return out

    def dependency(self, p: dict[str, Any], name: str, line: int | None) -> Dependency | None:
        version = p.get("version")
        kind = self.kind_of(p)
        if kind is None:
            return None
        if not isinstance(version, str) and kind == "pinned":
            kind = "unpinned"
        return Dependency(name, version if kind == "pinned" else None, self.path, line, kind,
                          f"=={version}" if isinstance(version, str) else "", str(p.get("marker", "")),
                          self.hashes(p), self.format, f"{name} {version or ''}".strip())

    def kind_of(self, p: dict[str, Any]) -> str | None:
        return "pinned"

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        return ()


class UvLock(_TomlLock):
    """``uv.lock``: the project itself (``virtual``/``editable`` at ``.``) is not a dependency."""

    format = "uv.lock"

    def kind_of(self, p: dict[str, Any]) -> str | None:
        src = p.get("source") or {}
        if "git" in src:
            return "vcs"
        if "url" in src:
            return "url"
        if "editable" in src or "virtual" in src:
            return None if src.get("editable", src.get("virtual")) == "." else "editable"
        if "path" in src or "directory" in src:
            return "path"
        return "pinned"

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        out = [w["hash"] for w in p.get("wheels", []) or [] if isinstance(w, dict) and "hash" in w]
        sd = p.get("sdist")
        if isinstance(sd, dict) and "hash" in sd:
            out.append(sd["hash"])
        return tuple(out)


class PoetryLock(_TomlLock):
    format = "poetry.lock"

    def kind_of(self, p: dict[str, Any]) -> str | None:
        t = (p.get("source") or {}).get("type")
        return {"git": "vcs", "url": "url", "file": "path", "directory": "editable" if p.get("develop") else "path"}.get(t, "pinned")

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        return tuple(f["hash"] for f in p.get("files", []) or [] if isinstance(f, dict) and "hash" in f)


class PyLock(_TomlLock):
    """PEP 751 ``pylock.toml``: ``[[packages]]`` with ``vcs``/``directory``/``archive`` sources."""

    format = "pylock"
    table = "packages"

    def kind_of(self, p: dict[str, Any]) -> str | None:
        if "vcs" in p:
            return "vcs"
        if "directory" in p:
            return "editable" if (p["directory"] or {}).get("editable") else "path"
        if "archive" in p and "url" in (p["archive"] or {}):
            return "url" if "version" not in p else "pinned"
        return "pinned"

    def hashes(self, p: dict[str, Any]) -> tuple[str, ...]:
        out = []
        for w in [*(p.get("wheels") or []), p.get("sdist") or {}, p.get("archive") or {}]:
            for algo, h in (w.get("hashes") or {}).items() if isinstance(w, dict) else ():
                out.append(f"{algo}:{h}")
        return tuple(out)


