"""An installed environment (``site-packages`` or a virtualenv root), read from its
``*.dist-info`` metadata without importing anything."""

from __future__ import annotations

from pathlib import Path

from gates.core.errors import InputError

from .parsing import DependencySource
from .records import Dependency


class InstalledEnvironment(DependencySource):
    """Distributions installed in a ``site-packages`` directory (or a virtualenv root), read from
    their ``*.dist-info`` metadata without importing anything."""

    format = "installed"

    def collect(self) -> list[Dependency]:
        import importlib.metadata as md

        dirs = site_packages(self.path)
        if not dirs:
            raise InputError(str(self.path), "no site-packages directory found (give a site-packages path or a virtualenv root)")
        out = []
        for dist in md.distributions(path=[str(d) for d in dirs]):
            name = dist.metadata["Name"] if dist.metadata else None
            if not name:
                continue
            kind = _installed_kind(dist.read_text("direct_url.json"))
            out.append(Dependency(name, dist.version, self.path, kind=kind, specifier=f"=={dist.version}", source_format=self.format,
                                  text=f"{name} {dist.version}"))
        return sorted(out, key=lambda d: d.canonical_name)


def _installed_kind(direct_url: str | None) -> str:
    """PEP 610 ``direct_url.json``: editable installs, VCS checkouts and URL installs are not
    releases a database can vouch for."""
    import json

    if not direct_url:
        return "pinned"
    try:
        info = json.loads(direct_url)
    except ValueError:
        return "url"
    if not isinstance(info, dict):
        return "url"
    if (info.get("dir_info") or {}).get("editable"):
        return "editable"
    if "vcs_info" in info:
        return "vcs"
    if str(info.get("url", "")).startswith("file:"):
        return "path"
    return "url"


def site_packages(path: Path) -> list[Path]:
    if path.name == "site-packages" or any(path.glob("*.dist-info")):
        return [path]
    return sorted(p for p in path.glob("lib/python*/site-packages") if p.is_dir()) + sorted(p for p in path.glob("Lib/site-packages") if p.is_dir())


