"""The one small interface every gate implements, and the context the core hands it.

A gate is a class with a name, its rules, a JSON Schema fragment for its options, optional CLI
flags, and ``run(ctx)``. It reports through the context (``ctx.add``, ``ctx.error``,
``ctx.scanned``) and never decides exit codes, blocking or waivers: the runner does that from the
policy, the same way for every gate. To add a gate, copy ``gates/eval``, change the names, and
register it under the ``mlsec_gates.gates`` entry point in ``pyproject.toml``.
"""

from __future__ import annotations

import abc
import argparse
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Sequence

from . import events as _events
from . import files as _files
from .findings import Component, Finding, GateError, Rule, ScannedFile, Severity
from .hygiene import Memo, clean_name
from .shard import Shard, select


class Gate(abc.ABC):
    """Base class for gates. Subclasses set the class attributes and implement :meth:`run`."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    rules: ClassVar[Mapping[str, Rule]] = {}
    #: JSON Schema ``properties`` for the gate's own options under ``gates.<name>``
    options_schema: ClassVar[Mapping[str, Any]] = {}
    #: default values of the gate's options (merged under the user's policy)
    default_options: ClassVar[Mapping[str, Any]] = {}
    #: default include globs when the policy gives no ``paths``
    default_paths: ClassVar[Sequence[str]] = ("**/*",)
    #: help text for ``mlsec-gates <name> --help``: examples
    epilog: ClassVar[str] = ""
    #: True when the gate judges each discovered file on its own (no finding depends on another
    #: file, or only on neighbours it picks from :attr:`GateContext.discovered`, the same in every
    #: shard): ``run --shard K/N`` then gives it only this shard's files. A gate that looks at the
    #: repository as a whole keeps the default and runs in shard 1 only.
    per_file: ClassVar[bool] = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add gate-specific CLI flags for ``mlsec-gates <name>``. Optional."""

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        """Map gate-specific CLI flags to option overrides (deep-merged over the policy)."""
        return {}

    def add_commands(self, subparsers: argparse._SubParsersAction) -> None:
        """Add top-level commands of the gate's own (``mlsec-gates sign``), or extend its
        subparser (``subparsers.choices[self.name]``). Optional: the default adds nothing."""

    @abc.abstractmethod
    def run(self, ctx: "GateContext") -> None:
        """Scan and report through ``ctx``. Raise :class:`~gates.core.errors.InputError` (or
        anything) to make the gate end in ``error``: the runner fails closed."""

    def skip_reason(self, ctx: "GateContext") -> str | None:
        """Return why there is nothing to do (the gate is then ``skipped``), or None."""
        return None


@dataclass
class GateContext:
    """What a gate sees: its options, the scanned root, explicit targets and the report sinks."""

    gate: Gate
    root: Path
    options: dict[str, Any]
    policy: Mapping[str, Any]
    targets: tuple[Path, ...] = ()
    cwd: Path = field(default_factory=Path.cwd)
    findings: list[Finding] = field(default_factory=list)
    errors: list[GateError] = field(default_factory=list)
    files: list[ScannedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inventory: list[Component] = field(default_factory=list)
    #: extra arguments from the command line, for gates that need them (e.g. the signature gate)
    args: argparse.Namespace | None = None
    #: the gate's option keys that a policy document or the command line set (the rest are the
    #: built-in defaults): a ``paths`` glob someone wrote must match something
    configured: frozenset[str] = frozenset()
    #: ``run --shard K/N``: a per-file gate discovers only this shard's files
    shard: Shard | None = None
    #: set for a remote reference's mirror: fetches the files a gate is about to read (None: all)
    prepare: Callable[["GateContext", Sequence[Path] | None], list[Path]] | None = None
    #: every file the last :meth:`discover` found, before ``--shard`` took this job's share: a gate
    #: that judges a file together with its neighbours (the pii gate samples a directory of
    #: same-schema parts as one dataset) sees the same neighbours in every shard
    discovered: list[Path] = field(default_factory=list, init=False, repr=False, compare=False)
    #: this run's cleaned strings and shown paths: a gate reports the same file, column names and
    #: masked values finding after finding (each ``display`` resolved the working directory)
    _memo: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)
    _paths: dict[tuple[Any, ...], str] = field(default_factory=dict, init=False, repr=False, compare=False)

    # ---- paths -------------------------------------------------------------------------------
    def display(self, path: Path | str) -> str:
        """``path`` as the reports show it: relative to the working directory, and cleaned
        (a file name is input: no control characters, no credentials)."""
        key = ("display", path, self.cwd)
        got = self._paths.get(key)
        if got is None:
            got = self._path(key, clean_name(_files.display_path(Path(path), self.cwd)))
        return got

    def relative(self, path: Path | str) -> str:
        key = ("relative", path, self.root)
        got = self._paths.get(key)
        if got is None:
            got = self._path(key, _files.root_relative(Path(path), self.root))
        return got

    def _path(self, key: tuple[Any, ...], value: str) -> str:
        """Remember a shown path for this run (bounded; the file system does not move under a run)."""
        if len(self._paths) >= _PATHS_LIMIT:
            self._paths.clear()
        self._paths[key] = value
        return value

    def resolve(self, relpath: str) -> Path:
        """A path from the policy, relative to the root. Absolute paths are allowed (the policy
        author chose them); relative ones may not leave the root, by ``..`` or by a symlink."""
        p = Path(os.path.expanduser(relpath))
        if p.is_absolute():
            return p
        full = Path(os.path.normpath(self.root.absolute() / p))
        if full.is_symlink() and _files.unscannable(full) is not None:
            return full  # a loop or a dangling link leads nowhere: the reader reports it for this path
        if not _files.is_within(full, self.root):
            raise ValueError(f"policy path {relpath!r} escapes the scanned root")
        return full

    def discover(self, include: Sequence[str] | None = None) -> list[Path]:
        """Files this gate should scan: explicit targets, else the policy globs under the root.

        Symlinks that resolve outside the root are reported (``CORE003``, blocking) instead of
        being read or silently skipped.
        """
        inc = list(include or self.options.get("paths") or self.gate.default_paths)
        exc = list(self.options.get("exclude") or [])
        if self.shard is not None and self.gate.per_file:
            found = self._sharded(inc, exc, include)
        else:
            found = self.discovered = self._discover(inc, exc, include)
        return self.prepare(self, found) if self.prepare is not None else found

    def _sharded(self, inc: list[str], exc: list[str], include: Sequence[str] | None) -> list[Path]:
        """Discovery as usual, then this shard's share; escaped symlinks are reported by the
        shard that owns them, so merged shards report each once."""
        assert self.shard is not None
        before = len(self.findings)
        files = self.discovered = self._discover(inc, exc, include)
        escaped = self.findings[before:]
        by_path = {self.root / f.rel_path: f for f in escaped}
        mine, mine_escaped = select(files, self.shard, also=list(by_path))
        self.findings[before:] = [by_path[p] for p in mine_escaped]
        return mine

    def _discover(self, inc: list[str], exc: list[str], include: Sequence[str] | None) -> list[Path]:
        if self.targets:
            out: list[Path] = []
            for t in self.targets:
                why = _files.unscannable(t)
                if why is not None:
                    self.error(why, t)
                    continue
                if t.is_dir():
                    d = _files.walk(t, inc, exc)
                    out.extend(d.files)
                    self._escaped(d)
                    if not d.matched:
                        self._nothing(f"no file under it matches the gate's paths ({', '.join(map(repr, inc))})", t)
                else:
                    out.append(t)
            return out
        d = _files.walk(self.root, inc, exc)
        self._escaped(d)
        if include is None and "paths" in self.configured:
            for glob in inc:
                if glob not in d.matched:
                    self._nothing(f"paths: {glob!r} matches no file under the scanned root (a typo?)", self.root)
        return list(d.files)

    def _nothing(self, message: str, where: Path) -> None:
        """Once per message: gates may discover more than once."""
        if not any(e.message == message for e in self.errors):
            self.error(message, where)

    def _escaped(self, d: _files.Discovered) -> None:
        for p, reason in d.unreadable:
            self.error(f"cannot list directory: {reason}" if os.path.isdir(p) else reason, p)
        for p in d.escaped:
            self.findings.append(
                Finding(
                    gate=self.gate.name, rule="CORE003", severity=Severity.HIGH, blocking=True,
                    message="symlink points outside the scanned root; it was not read",
                    why="A symlink can make the gate read (or a later step ship) files from outside the repository.",
                    remediation="Replace the symlink with the file itself, or exclude it in the policy.",
                    path=self.display(p), rel_path=self.relative(p),
                )
            )

    # ---- reporting -----------------------------------------------------------------------------
    def add(
        self,
        rule: str,
        message: str,
        path: Path | str | None = None,
        *,
        severity: Severity | str | None = None,
        blocking: bool | None = None,
        key: str = "",
        **fields: Any,
    ) -> Finding:
        """Record a finding for ``rule``; why/remediation/severity default to the rule's."""
        try:
            r = self.gate.rules[rule]
        except KeyError:
            raise KeyError(f"gate {self.gate.name!r} has no rule {rule!r}") from None
        memo = self._memo
        known = {k: _clean_field(memo, k, fields.pop(k)) for k in _FINDING_FIELDS.intersection(fields)}
        known.setdefault("why", r.why)
        known.setdefault("remediation", r.remediation)
        disp = self.display(path) if path is not None else ""
        rel = self.relative(path) if path is not None else ""  # raw: waivers and fingerprints match on it
        # the one hygiene step for what gates report: messages quote names from inputs. Secrets and
        # control characters go; PII shapes are the gate's to redact (a signer's e-mail identity
        # is the point of a signature finding), and evidence is always redacted
        f = Finding(
            gate=self.gate.name, rule=rule, severity=Severity.parse(severity or r.severity),
            message=memo.name(message), path=disp, rel_path=rel, blocking=blocking, key=key,
            extra=memo.value(fields), **known,
        )
        self.findings.append(f)
        return f

    def error(self, message: str, path: Path | str | None = None) -> None:
        """The gate could not check ``path``: the gate ends in ``error`` (fail closed)."""
        self.errors.append(GateError(message=clean_name(message), path=self.display(path) if path is not None else ""))

    def scanned(self, path: Path | str, items: int = 0) -> None:
        """``path`` was read (``items``: rows, tensors, metrics...). Also published as an event
        for ``--verbose`` and the progress bar."""
        shown = self.display(path)
        self.files.append(ScannedFile(shown, items))
        _events.emit(_events.Event(_events.FILE, self.gate.name, shown, items))

    def component(self, kind: str, name: str, version: str | None = None, path: Path | str | None = None, **fields: Any) -> Component:
        """Report a component this gate saw (a model, a dataset file, a dependency) for the run's
        inventory (the CycloneDX report). ``fields`` are the other :class:`Component` fields.
        Inventory never changes a verdict; strings must already be cleaned."""
        c = Component(kind=kind, name=name, version=version, path=self.display(path) if path is not None else "", **fields)
        self.inventory.append(c)
        return c

    def note(self, text: str) -> None:
        """Context for the report (e.g. the advisory database date). Cleaned like every message."""
        self.notes.append(clean_name(text))


#: Finding fields a gate may pass to ``ctx.add`` by name; the rest are the context's to set
_FINDING_FIELDS = frozenset(f.name for f in dataclasses.fields(Finding)) - {
    "gate", "rule", "severity", "message", "path", "rel_path", "blocking", "key", "extra", "waived", "waiver_reason",
}


#: shown paths a context remembers before it starts over
_PATHS_LIMIT = 4096


def _clean_field(memo: Memo, name: str, value: Any) -> Any:
    """Evidence is text (PII shapes redacted too); member, column and entity are names. (Strings
    in a finding's extra fields, names, versions and ids read from inputs, are cleaned like
    names by :meth:`Memo.value`: containers item by item, numbers and flags as they are.)"""
    if not isinstance(value, str) or name in ("why", "remediation", "fingerprint"):
        return value
    return memo.text(value) if name == "evidence" else memo.name(value)

