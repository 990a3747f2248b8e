"""Which dependency inputs a run reads, and the :class:`Dependency` records they declare.

Inputs come from PATH arguments, the policy's ``sources`` (or ``--requirements``/``--installed``)
or discovery under the root. An input that cannot be read is an error naming it, and the other
inputs are still read, so one broken file never hides the rest.
"""

from __future__ import annotations

from pathlib import Path

from gates.core import files as _files
from gates.core.errors import InputError
from gates.core.gate import GateContext
from gates.core.hygiene import clean

from . import inputs
from .records import Dependency


def collect(ctx: GateContext) -> tuple[list[Dependency], list[Path]]:
    """Every declared dependency (deduplicated by file, line, name, version and kind) and the
    requirements files among the inputs (for pip-audit's ``resolve`` mode)."""
    srcs, skipped = _sources(ctx)
    for p in skipped:
        ctx.note(f"{ctx.display(p)} not audited: a lock file beside it says what is installed")
    if not srcs:
        ctx.note(f"no dependency files found ({inputs.DESCRIPTION})")
    deps: dict[tuple, Dependency] = {}
    scanned: set[Path] = set()
    for src in srcs:
        src.root = ctx.root
        try:
            got = src.collect()
        except InputError as exc:
            ctx.error(clean(exc.reason), exc.path)  # reasons may quote input keys (a table or category name)
            continue
        for f in src.files():
            if f.resolve() not in scanned:
                scanned.add(f.resolve())
                ctx.scanned(f, len([d for d in got if d.path == f]))
        for note in src.notes:
            ctx.note(clean(note))
        for d in got:
            # a file both discovered and included with -r is read twice: count its lines once
            deps.setdefault((d.path.resolve(), d.line, d.canonical_name, d.version, d.kind), d)
    return list(deps.values()), [src.path for src in srcs if src.format == "requirements"]


def _sources(ctx: GateContext) -> tuple[list[inputs.DependencySource], list[Path]]:
    if ctx.targets and not ctx.options.get("_cli_sources") or not ctx.options.get("sources"):
        return inputs.discovered_sources(ctx.discover())
    specs: list[tuple[Path, str | None]] = []
    if ctx.targets:
        specs.extend((p, None) for p in ctx.discover())
    for s in ctx.options["sources"]:
        path, fmt = (s, None) if isinstance(s, str) else (s["path"], s.get("format"))
        try:
            p = ctx.resolve(path)
        except ValueError as exc:
            ctx.error(str(exc), ctx.root)
            continue
        if not p.exists():
            ctx.error("dependency source not found", p)
            continue
        if p.is_dir() and fmt != "installed":
            found, _ = inputs.discovered_sources(walk(ctx, p))
            specs.extend((src.path, src.format) for src in found)
        else:
            specs.append((p, fmt))
    return [inputs.source_for(p, f) for p, f in specs], []


def walk(ctx: GateContext, directory: Path) -> list[Path]:
    """Dependency files under ``directory`` by the discovery globs (and the policy's excludes)."""
    found = _files.walk(directory, tuple(inputs.DISCOVERY_GLOBS), tuple(ctx.options.get("exclude") or ()))
    for p, reason in found.unreadable:
        ctx.error(f"cannot list directory: {reason}", p)
    return list(found.files)
