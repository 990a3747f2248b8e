"""The pii gate's driver: discover dataset files, read each into column chunks, scan, decide.

Reading is :mod:`.readers`, scanning :mod:`.engine` and :mod:`.scanner`, deciding per column
:mod:`.decide`; this module only walks the files, shares one worker pool and one set of compiled
scanners between them, and turns reader failures into error findings naming the file (fail
closed: a file that could not be read is never a silent pass).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gates.core import files as _files
from gates.core.errors import InputError
from gates.core.gate import Gate, GateContext

from . import config as _config
from . import options as _options
from .decide import report_file
from .engine import Pool, scan_chunks
from .readers import Binary, NotScanned, read
from .rules import RULES


class PiiGate(Gate):
    name = "pii"
    title = "PII and secrets in datasets"
    description = ("PII and secrets in datasets (CSV/TSV, JSON, JSONL, YAML, Parquet, Arrow/Feather, ORC, text; compressed too), "
                   "per column, with redacted evidence.")
    rules = RULES
    default_paths = _config.DEFAULT_PATHS
    options_schema = _config.OPTIONS_SCHEMA
    default_options = _config.DEFAULT_OPTIONS
    epilog = _options.EPILOG

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _options.add_arguments(parser)

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        return _options.options_from_args(args)

    def run(self, ctx: GateContext) -> None:
        opts = ctx.options
        cfg, limits = _config.build(opts)
        allow_paths = list((opts.get("allow") or {}).get("paths") or [])
        workers = int(opts.get("workers", 0)) or (os.cpu_count() or 1)
        min_parallel = int(float(opts.get("parallel_min_mb", 24)) * (1 << 20))
        pool = Pool(cfg, workers) if workers > 1 else None
        fmt = opts.get("format", "auto")
        skipped = 0
        try:
            files = []
            for path in ctx.discover():
                if allow_paths and _files.any_match(ctx.relative(path), allow_paths):
                    skipped += 1
                    continue
                files.append((path, _size(path)))
            for path, size in files:
                self._scan(ctx, path, cfg, limits, fmt, pool if size >= min_parallel else None)
        finally:
            if pool is not None:
                pool.close()
        if skipped:
            ctx.note(f"{skipped} file(s) skipped by gates.pii.allow.paths")
        if cfg.salt == "mlsec-gates/pii/v1":
            ctx.note("value hashes use the public default salt; set MLSEC_GATES_PII_SALT to a secret for unguessable hashes")

    def _scan(self, ctx: GateContext, path: Path, cfg: Any, limits: Any, fmt: str, pool: Pool | None) -> None:
        try:
            info, chunks = read(path, limits, fmt, inline=pool is None)
            columns = scan_chunks(chunks, cfg, pool)
        except Binary:
            ctx.add("PII005", "binary file: not scanned for PII", path, blocking=False, key="binary")
            return
        except NotScanned as exc:
            ctx.add("PII006", f"{exc.kind} file: not scanned for PII", path, blocking=False, key=f"format:{exc.kind}")
            return
        except InputError as exc:
            ctx.error(exc.reason, path)
            return
        except (OSError, EOFError) as exc:
            ctx.error(f"cannot read: {type(exc).__name__}", path)
            return
        except Exception as exc:  # noqa: BLE001 - decompressors raise their own types; never echo their text
            ctx.error(f"cannot read ({type(exc).__name__})", path)
            return
        ctx.scanned(path, info.rows)
        for n in info.notes:
            ctx.note(f"{ctx.display(path)}: {n}")
        for p in info.problems:
            ctx.error(p, path)
        report_file(ctx, path, info, columns, cfg)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported by the reader, which names the file


GATE = PiiGate
