"""The effective policy and its waivers: types only.

Reading, validating and merging documents is :mod:`gates.core.loader`'s job and the schema is
:mod:`gates.core.schema`'s; this module imports neither, so everything that only *reads* a
policy (the runner, waivers, reports) depends on types and nothing loops back.
"""

from __future__ import annotations

import copy
import datetime as _dt
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PolicyError
from .findings import Severity
from .hygiene import clean_name
from .locks import LockSet
from .merge import BUILTIN
from .yamlsrc import KeyPath, SourcedYaml

DEFAULT_POLICY_NAMES = (".mlsec-gates.yml", ".mlsec-gates.yaml")
THRESHOLD_NONE = "none"


@dataclass(frozen=True)
class Waiver:
    rule: str
    reason: str
    expires: _dt.date
    path: str | None = None
    fingerprint: str | None = None
    gate: str | None = None
    owner: str | None = None
    ticket: str | None = None
    source: str = ""  # FILE:LINE, for messages

    def expired(self, today: _dt.date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class ChainEntry:
    """One merged document, for ``policy show --explain`` and reports."""

    display: str
    digest: str
    how: str  # read / fetched / cache


@dataclass
class Policy:
    """The effective policy (built-in defaults merged with the user's files).

    ``provenance`` maps each effective key path to ``FILE:LINE``; ``locks`` are the floors the
    chain declared (command-line overrides obey them too); ``chain`` lists the merged documents.
    """

    data: dict[str, Any]
    path: str | None = None
    sources: list[SourcedYaml] = field(default_factory=list)
    digest: str | None = None
    provenance: dict[KeyPath, str] = field(default_factory=dict)
    locks: LockSet = field(default_factory=LockSet)
    chain: list[ChainEntry] = field(default_factory=list)

    def gate_options(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.data.get("gates", {}).get(name, {}))

    def enabled(self, name: str) -> bool:
        return bool(self.data.get("gates", {}).get(name, {}).get("enabled", True))

    def configures(self, name: str) -> bool:
        """True when a policy document (not the built-in default) sets something for gate ``name``."""
        return any(k[:2] == ("gates", name) and src != BUILTIN for k, src in self.provenance.items())

    def configured_options(self, name: str) -> set[str]:
        """The options of gate ``name`` that a policy document set (not the built-in default)."""
        return {str(k[2]) for k, src in self.provenance.items() if len(k) > 2 and k[:2] == ("gates", name) and src != BUILTIN}

    def fail_on(self, name: str) -> str:
        g = self.data.get("gates", {}).get(name, {})
        return str(g.get("fail_on") or self.data.get("defaults", {}).get("fail_on", "high"))

    def on_error(self, name: str) -> str:
        g = self.data.get("gates", {}).get(name, {})
        return str(g.get("on_error") or self.data.get("defaults", {}).get("on_error", "fail"))

    def blocks(self, name: str, severity: Severity) -> bool:
        threshold = self.fail_on(name)
        if threshold == THRESHOLD_NONE:
            return False
        return severity.at_least(Severity.parse(threshold))

    def waivers(self) -> list[Waiver]:
        out = []
        for i, w in enumerate(self.data.get("waivers", []) or []):
            source = self.provenance.get(("waivers", i), "")
            for src in [] if source else self.sources:
                if isinstance(src.data, dict) and w in (src.data.get("waivers") or []):
                    idx = src.data["waivers"].index(w)
                    source = f"{src.file}:{src.line_of(('waivers', idx))}"
            out.append(
                Waiver(
                    rule=w["rule"], reason=w["reason"], expires=_dt.date.fromisoformat(str(w["expires"])),
                    path=w.get("path"), fingerprint=w.get("fingerprint"), gate=w.get("gate"),
                    owner=w.get("owner"), ticket=w.get("ticket"), source=source or f"waivers[{i}]",
                )
            )
        return out


def find_policy_file(root: Path) -> Path | None:
    """The policy file in ``root`` by its conventional name, or None (the built-in default).

    A file whose name is a near miss (``mlsec-gates.yml``, ``.mlsec_gates.yaml``,
    ``.mlsec-gate.yml``, ``.mlsec-gates.YML``) next to no real one is an error: silently running
    the built-in default instead of the policy someone wrote would pass what it should fail.
    """
    for name in DEFAULT_POLICY_NAMES:
        p = root / name
        if p.is_file():
            return p
    near = misspelt_policy_files(root)
    if near:
        raise PolicyError(f"{clean_name(root / near[0])}: looks like a misspelt policy file name, and there is no "
                          f"{DEFAULT_POLICY_NAMES[0]}: rename it to {DEFAULT_POLICY_NAMES[0]} (or pass --policy {clean_name(near[0])})")
    return None


def misspelt_policy_files(root: Path, limit: int = 10_000) -> list[str]:
    """Names in ``root`` that look like the policy file's name with a typo."""
    out: list[str] = []
    try:
        entries = os.scandir(root)
    except OSError:
        return out
    with entries:
        for entry in itertools.islice(entries, limit):
            name = entry.name
            if name in DEFAULT_POLICY_NAMES or not entry.is_file():
                continue
            base, _, ext = name.lower().lstrip(".").partition(".")
            if not ext.startswith(("y", "j")):  # yml, yaml, ymal, json, …
                continue
            base = base.replace("_", "-").replace(" ", "-")
            import difflib  # only for names that could be a misspelt policy file

            if difflib.SequenceMatcher(None, base, "mlsec-gates").ratio() >= 0.8:
                out.append(name)
    return sorted(out)
