"""The provenance gate: where each model came from, on what terms it may be used, and whether
loading it runs the repository's own Python.

It groups the scanned files into models (:mod:`.grouping`), reads what each model's files declare
(:mod:`.collect`), follows local adapter -> base chains, applies the policy (:mod:`.checks`) and
reports every model, with the SHA-256 of each of its files, to the run's inventory (the CycloneDX
report). A provenance file that cannot be parsed is an error for that file: the gate fails closed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from gates.core.findings import Component
from gates.core.gate import Gate, GateContext
from gates.core.hygiene import clean, clean_name

from . import checks
from .collect import collect, is_marker
from .facts import Fact, Kind, ModelFacts, ReadError
from .grouping import group
from .licenses import symbols
from .metadata import sniff, source_id
from .options import DEFAULT_OPTIONS, OPTIONS_SCHEMA, Options
from .rules import RULES

_CHUNK = 1 << 20


class ProvenanceGate(Gate):
    name = "provenance"
    title = "Model provenance"
    description = "Model licences, sources and custom code from model cards, configs, Kitfiles and weights metadata."
    rules = RULES
    options_schema = OPTIONS_SCHEMA
    default_options = DEFAULT_OPTIONS
    default_paths = ("**/*",)
    epilog = """examples:
  mlsec-gates provenance models/                      # every model folder and weights file under models/
  mlsec-gates provenance . --policy .mlsec-gates.yml --format json --output provenance.json
  mlsec-gates run . --format cyclonedx --output bom.cdx.json   # the ML-BOM of every gate's inventory
"""

    def run(self, ctx: GateContext) -> None:
        opts = Options.parse(ctx.options)
        fmt = functools.lru_cache(maxsize=None)(sniff)
        models = group(ctx.discover(), is_marker, fmt)
        errors: list[ReadError] = []
        facts = [collect(m, fmt, opts.max_metadata, errors) for m in models]
        for e in errors:
            ctx.error(clean(e.reason), e.path)
        by_root = {m.model.root.resolve(): m for m in facts if m.model.kind != "file"}
        for m in facts:
            hashes = self._hashes(ctx, m, opts)
            chain = self._chain(ctx, m, by_root)
            self._check(ctx, m, chain, hashes, opts)
            self._inventory(ctx, m, chain, hashes)
            ctx.scanned(m.model.root, len(m.model.files))
        if not facts:
            ctx.note("no models found (model folders, Kitfiles, MLmodel files or weights files)")

    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _check(ctx: GateContext, m: ModelFacts, chain: list[tuple[Fact, str]], hashes: dict[Path, str], opts: Options) -> None:
        found = (checks.check_licenses(m, opts) + checks.check_sources(m, chain, opts)
                 + checks.check_code(m, hashes, opts, ctx.display) + checks.check_required(m, bool(chain), opts))
        model_key = ctx.relative(m.model.root)
        for v in found:
            ctx.add(v.rule, v.message, v.path, line=v.line, key=f"{model_key}|{v.key}", blocking=v.blocking,
                    model=clean_name(ctx.display(m.model.root)))

    @staticmethod
    def _chain(ctx: GateContext, m: ModelFacts, by_root: dict[Path, ModelFacts]) -> list[tuple[Fact, str]]:
        """Origin and base-model facts of ``m`` and of every local base it leads to (adapter ->
        base -> ...), each with how it was reached."""
        out: list[tuple[Fact, str]] = []
        seen: set[Path] = set()
        todo: list[tuple[ModelFacts, str]] = [(m, "")]
        while todo:
            cur, via = todo.pop(0)
            root = cur.model.root.resolve()
            if root in seen:
                continue
            seen.add(root)
            out.extend((f, via) for f in cur.of(Kind.ORIGIN, Kind.BASE))
            for lb in cur.of(Kind.LOCAL_BASE):
                target = _local(lb, ctx.root, by_root)
                if target is None:
                    ctx.note(f"{clean_name(ctx.display(lb.file))}: the local base model it names is not among the scanned models; "
                             "its source was not checked")
                    continue
                todo.append((target, f"{via}, via local base {clean_name(ctx.display(target.model.root))}"))
        return out

    @staticmethod
    def _hashes(ctx: GateContext, m: ModelFacts, opts: Options) -> dict[Path, str]:
        if opts.hash_files:
            files: tuple[Path, ...] = m.model.files
        else:  # custom code is always hashed: it is allowed by SHA-256
            targets = {f.file.parent / (f.value.rsplit(".", 1)[0].replace(".", "/") + ".py") for f in m.of(Kind.CODE)}
            files = tuple(dict.fromkeys([*m.code_files, *(f for f in m.model.files if f in targets)]))
        out: dict[Path, str] = {}
        for f in files:
            try:
                if not stat.S_ISREG(os.stat(f).st_mode):
                    ctx.error("not a regular file (FIFO, device or socket); not read", f)
                    continue
                out[f] = _sha256(f)
            except OSError as exc:
                ctx.error(f"cannot read: {exc.strerror or type(exc).__name__}", f)
        return out

    @staticmethod
    def _inventory(ctx: GateContext, m: ModelFacts, chain: list[tuple[Fact, str]], hashes: dict[Path, str]) -> None:
        names = m.of(Kind.NAME)
        versions = m.of(Kind.VERSION)
        name = clean_name(names[0].value) if names else clean_name(ctx.relative(m.model.root))
        licenses = []
        for f in m.of(Kind.LICENSE):
            if clean_name(f.value) not in licenses:
                licenses.append(clean_name(f.value))
        # display/relative paths resolve the working directory on every call: derive the files'
        # paths from the model root's instead (thousands of files per run)
        root_disp, root_rel = ctx.display(m.model.root), ctx.relative(m.model.root)
        parts = tuple(
            Component(kind="file", name=clean_name(f"{root_rel}/{sub}"), path=clean_name(f"{root_disp}/{sub}"),
                      hashes=(("SHA-256", hashes[f]),) if f in hashes else ())
            for f in m.model.files
            for sub in (f.relative_to(m.model.root).as_posix(),)
        )
        details: dict[str, Any] = {
            "format": m.model.kind,
            "datasets": _values(m, Kind.DATASET),
            "task": (_values(m, Kind.TASK) or [None])[0],
            "library": (_values(m, Kind.LIBRARY) or [None])[0],
            "base_models": sorted({clean_name(source_id(f.value)) for f, _ in chain if f.kind is Kind.BASE}),
            "origin": sorted({clean_name(source_id(f.value)) for f, _ in chain if f.kind is Kind.ORIGIN}),
            "license_ids": sorted({clean_name(s) for lic in m.of(Kind.LICENSE) for s in symbols(lic.value)}),
            "custom_code": bool(m.of(Kind.CODE) or m.code_files),
            "card": clean_name(ctx.display(m.card)) if m.card else None,
        }
        single = m.model.kind == "file" and m.model.root in hashes
        ctx.component(
            "machine-learning-model", name, clean_name(versions[0].value) if versions else None, m.model.root,
            hashes=(("SHA-256", hashes[m.model.root]),) if single else (),
            licenses=tuple(licenses), parts=() if single else parts, details=details,
        )


def _values(m: ModelFacts, kind: Kind) -> list[str]:
    out: list[str] = []
    for f in m.of(kind):
        v = clean(f.value)  # free text (dataset ids, task): PII shapes redacted too
        if v not in out:
            out.append(v)
    return out


def _local(f: Fact, root: Path, by_root: dict[Path, ModelFacts]) -> ModelFacts | None:
    value = os.path.expanduser(f.value)
    for base in (f.file.parent, root):
        try:
            cand = (base / value).resolve()
        except (OSError, RuntimeError):
            continue
        if cand in by_root:
            return by_root[cand]
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()
