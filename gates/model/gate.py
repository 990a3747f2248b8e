"""The model gate: an allowlist-first static scanner for model files.

It never imports, unpickles or loads a model. Files are identified by content, containers are
walked, every pickle stream is followed opcode by opcode the way CPython's unpickler would, and
each global the stream would import must be in an allowlist profile or in the policy's
``allow_globals``. Anything the scanner cannot follow is an *inconclusive* finding that blocks:
a scanner that passes what it cannot parse is the bypass.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import hashlib
import multiprocessing
import os
import sys
from pathlib import Path
from typing import Any, Mapping

from gates.core import files as _files
from gates.core.findings import CORE_KEYS
from gates.core.gate import Gate, GateContext

from . import scanner
from .allowlists import PROFILES
from .discovery import worth_scanning
from .config import FileReport, Hit, config_from_options, printable
from .explain import file_block
from .options import DEFAULT_OPTIONS, OPTIONS_SCHEMA
from .registry import CONTAINERS, TRIVIAL
from .rules import RULES
from .scanner import UNRECOGNISED
from .sniff import EXPECTED, FORMATS, MODEL_GLOBS

#: names a hit's extra details may not use as they are: ctx.add's own parameters and finding fields
RESERVED_EXTRA = frozenset({"rule", "message", "path", "severity", "blocking", "key", "member", "offset", "evidence", "gate",
                            "rel_path", "waived", "waiver_reason", "fingerprint", "extra", "why", "remediation", "line",
                            "row", "column", "entity"}) | frozenset(CORE_KEYS)
PARALLEL_MIN_FILES = 2
PICKLE_RULES = {"MODEL001", "MODEL002"}  # what --explain explains
UNKNOWN_SHOWN = 5  # paths named in the "unknown format" note
MODEL_SUFFIXES = tuple(g.rsplit("*", 1)[1] for g in MODEL_GLOBS)  # ".pt", ".bin", ".pkl.gz"...


class ModelGate(Gate):
    name = "model"
    per_file = True  # each file is judged on its own: --shard splits its files
    title = "Model files"
    description = "Model files that could run code when loaded (pickle, PyTorch, joblib, Keras, TF, ONNX, GGUF...) or that break the policy."
    rules = RULES
    default_paths = ("**/*",)  # every file; ``discovery`` keeps those whose content could be a model
    options_schema = OPTIONS_SCHEMA
    default_options = DEFAULT_OPTIONS
    epilog = """examples:
  mlsec-gates model                                   # every model file under the current directory
  mlsec-gates model models/ ckpt.pt --format json --output model.json
  mlsec-gates model model.pkl --profile sklearn --allow-global mypkg.MyScaler
  mlsec-gates model suspicious.pt --explain            # why it blocks: opcode trace + decompiled view (stderr)
"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--profile", dest="model_profiles", action="append", choices=sorted(PROFILES),
                            help="allowlist profile (repeatable; replaces the policy's profiles)")
        parser.add_argument("--allow-global", dest="model_allow", action="append", metavar="NAME",
                            help="allow one more global, e.g. mypkg.layers.MyLayer (repeatable)")
        parser.add_argument("--allowed-format", dest="model_formats", action="append", choices=FORMATS, metavar="FMT",
                            help="only allow these formats (repeatable)")
        parser.add_argument("--workers", dest="model_workers", type=int, metavar="N", help="files scanned in parallel")
        parser.add_argument("--explain", dest="model_explain", action="store_true",
                            help="for each file with a blocking pickle global, print the opcodes around it and fickling's "
                                 "decompiled view to stderr (never into --format reports)")

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if getattr(args, "model_profiles", None):
            out["profiles"] = list(args.model_profiles)
        if getattr(args, "model_allow", None):
            out["allow_globals"] = list(args.model_allow)
        if getattr(args, "model_formats", None):
            out["allowed_formats"] = list(args.model_formats)
        if getattr(args, "model_workers", None):
            out["workers"] = args.model_workers
        return out

    # ------------------------------------------------------------------------------------------
    def run(self, ctx: GateContext) -> None:
        opts = ctx.options
        paths = ctx.discover()
        explicit = set(ctx.targets)
        jobs: list[tuple[Path, dict[str, Any]]] = []
        for p in paths:
            if p.is_symlink() and not _files.is_within(p, ctx.root) and opts.get("symlinks", "block") == "block":
                ctx.add("MODEL016", "symlink points outside the scanned root; it was not read", p, key="symlink", blocking=True)
                continue
            if not p.is_file():
                continue
            if p not in explicit and not worth_scanning(p, ctx.relative(p)):
                continue  # plain text or unknown bytes under a directory, not named like a model
            jobs.append((p, self._options_for(ctx, p)))
        explain = bool(getattr(ctx.args, "model_explain", False))
        reports = self._scan_all(ctx, jobs, explain)
        trusted = {h.lower() for h in opts.get("trusted_sha256") or []}
        explained: list[str] = []
        unknown: list[Path] = []
        others = 0
        for (p, fopts), rep in zip(jobs, reports):
            if rep.formats and _not_analysed(p, rep.formats[0]):
                unknown.append(p)
            if p not in explicit and _only_sniffed(rep):
                others += 1  # found under a directory and plainly not a model: not listed as scanned
                continue
            if self._report(ctx, p, fopts, rep, trusted) and rep.explanations:
                explained += file_block(ctx.display(p), rep.explanations)
        if unknown:
            ctx.note(_unknown_note(ctx, unknown))
        if others:
            ctx.note(f"{others} other file{'s' if others != 1 else ''} sniffed, not model formats (text, JSON or unknown bytes)")
        if explain:
            # the console only: stderr never mixes with a --format report written to stdout
            sys.stderr.write("\n".join(explained or ["mlsec-gates model --explain: no blocking pickle globals to explain"]) + "\n")

    def _options_for(self, ctx: GateContext, p: Path) -> dict[str, Any]:
        opts = dict(ctx.options)
        rel = ctx.relative(p)
        for ov in opts.get("overrides") or []:
            if _files.any_match(rel, ov.get("paths") or []):
                opts.update({k: v for k, v in ov.items() if k != "paths"})
                break
        return opts

    def _scan_all(self, ctx: GateContext, jobs: list[tuple[Path, dict[str, Any]]], explain: bool = False) -> list[FileReport]:
        cfgs = [dataclasses.replace(config_from_options(fopts), explain=explain) for _, fopts in jobs]
        workers = int(ctx.options.get("workers") or os.cpu_count() or 1)
        if len(jobs) < PARALLEL_MIN_FILES or workers <= 1:
            return [scanner.safe_scan(str(p), c) for (p, _), c in zip(jobs, cfgs)]
        try:
            return self._scan_pool(jobs, cfgs, workers)
        except (OSError, NotImplementedError) as exc:  # no process support here (sandbox, no /dev/shm)
            ctx.note(f"parallel scanning unavailable ({type(exc).__name__}); files were scanned one by one")
            return [scanner.safe_scan(str(p), c) for (p, _), c in zip(jobs, cfgs)]

    def _scan_pool(self, jobs: list[tuple[Path, dict[str, Any]]], cfgs: list[Any], workers: int) -> list[FileReport]:
        # processes, not threads: the opcode walk is pure Python and CPU-bound
        mp = multiprocessing.get_context("forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn")
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=mp) as pool:
            futures = [pool.submit(scanner.safe_scan, str(p), c) for (p, _), c in zip(jobs, cfgs)]
            out = []
            for (p, _), fut in zip(jobs, futures):
                try:
                    out.append(fut.result())
                except Exception as exc:  # noqa: BLE001 - a dead worker (e.g. out of memory) must not pass the file
                    rep = FileReport(path=str(p))
                    rep.hits.append(Hit("MODEL003", f"the scanner process failed on this file ({type(exc).__name__})", blocking=True, key="crash"))
                    out.append(rep)
            return out

    def _report(self, ctx: GateContext, p: Path, opts: Mapping[str, Any], rep: FileReport, trusted: set[str]) -> bool:
        """Turn the file's hits into findings; True when a pickle global in it blocks."""
        hits = list(rep.hits)
        top = rep.formats[0] if rep.formats else "unknown"
        hits += _policy_hits(p, opts, rep, top)
        digest = _sha256(p) if trusted and hits else None
        is_trusted = digest is not None and digest in trusted
        for h in hits:
            # a handler's detail named like a finding field (``path``, ``rule``...) must neither
            # crash the gate nor overwrite the finding: it is kept under ``detail_<name>``
            extra = {(f"detail_{k}" if k in RESERVED_EXTRA else k): v for k, v in h.extra.items()}
            extra.setdefault("format", top)
            blocking = h.blocking
            if is_trusted:
                blocking = False
                extra["trusted_sha256"] = digest
            ctx.add(h.rule, h.message, p, severity=h.severity, blocking=blocking, key=h.key, member=h.member,
                    offset=h.offset, evidence=h.evidence, **extra)
        if is_trusted:
            ctx.note(f"{ctx.display(p)}: findings do not block, its SHA-256 is listed in trusted_sha256")
        ctx.scanned(p, rep.items)
        return not is_trusted and any(h.blocking and h.rule in PICKLE_RULES for h in hits)


def _only_sniffed(rep: FileReport) -> bool:
    """A file whose content is text, JSON or unknown bytes and that raised nothing: it was looked
    at, but it is not a model, so it is not counted among the files the gate scanned."""
    return not rep.hits and bool(rep.formats) and all(f in TRIVIAL for f in rep.formats)


def _not_analysed(p: Path, top: str) -> bool:
    """Content no parser recognised in a file named like a model (``x.bin``). Every other file
    is sniffed by content; a README, labels.txt or image beside the weights is plainly not a
    model and is not counted."""
    return top in UNRECOGNISED and p.name.lower().endswith(MODEL_SUFFIXES)


def _unknown_note(ctx: GateContext, paths: list[Path]) -> str:
    """Say how many files were not analysed because no format matched: a reviewer must see that
    ``*.bin`` files passed because they are not models, not because they were checked."""
    shown = ", ".join(printable(ctx.display(p), 120) for p in paths[:UNKNOWN_SHOWN])
    more = f" and {len(paths) - UNKNOWN_SHOWN} more" if len(paths) > UNKNOWN_SHOWN else ""
    n = len(paths)
    return (f"{n} file{'s' if n != 1 else ''} of unknown format {'were' if n != 1 else 'was'} not analysed "
            f"(content matches no model format; files named like pickles or PyTorch weights block as MODEL003): {shown}{more}")


def _policy_hits(p: Path, opts: Mapping[str, Any], rep: FileReport, top: str) -> list[Hit]:
    out: list[Hit] = []
    if not rep.formats:
        return out  # not scanned (over a limit, unreadable): that finding is already there
    allowed = opts.get("allowed_formats")
    if allowed:
        check = [top] + ([f for f in rep.formats[1:] if f not in TRIVIAL] if top in CONTAINERS else [])
        for fmt in dict.fromkeys(check):
            if fmt not in allowed:
                out.append(Hit("MODEL005", f"format `{fmt}` is not in the policy's allowed_formats ({', '.join(allowed)})",
                               blocking=True, key=f"format:{fmt}"))
    if opts.get("extension_must_match", True):
        ext = p.suffix.lower()
        expected = EXPECTED.get(ext)
        if expected is not None and top not in expected:
            out.append(Hit("MODEL006", f"the file is named `{ext}` but its content is `{top}`", blocking=True, key=f"ext:{ext}:{top}"))
    return out


def _sha256(p: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()

