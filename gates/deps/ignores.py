"""Advisory ignores from the policy: ``id`` (matched against aliases too), ``reason``,
``expires``, optional ``package``/``version`` scope.

Unlike pip-audit's ``--ignore-vuln``, an ignore here must say why and until when. An expired
ignore no longer suppresses anything and is itself a blocking finding; one that matches nothing
is stale and reported as a warning so the policy does not collect dead entries.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Ignore:
    id: str
    reason: str
    expires: _dt.date
    package: str | None = None
    version: str | None = None
    index: int = 0

    def expired(self, today: _dt.date) -> bool:
        return today > self.expires

    def matches(self, ids: Iterable[str], package: str, version: str | None) -> bool:
        if self.id.upper() not in {i.upper() for i in ids}:
            return False
        if self.package and canonicalize_name(self.package) != canonicalize_name(package):
            return False
        if self.version:
            if version is None:
                return False
            spec = self.version if self.version[0] in "<>=!~" else f"=={self.version}"
            try:
                return SpecifierSet(spec).contains(version, prereleases=True)
            except InvalidSpecifier:
                return False
        return True


def parse_ignores(raw: Iterable[Mapping[str, Any]]) -> list[Ignore]:
    """The policy schema has already checked the shape; dates may arrive as ``date`` or text."""
    out = []
    for i, r in enumerate(raw or []):
        exp = r["expires"]
        if not isinstance(exp, _dt.date):
            exp = _dt.date.fromisoformat(str(exp))
        out.append(Ignore(str(r["id"]), str(r["reason"]), exp, r.get("package"), None if r.get("version") is None else str(r["version"]), i))
    return out
