"""The pii gate's driver: discover dataset files, read each into column chunks, scan, decide.

Reading is :mod:`.readers`, scanning :mod:`.engine` and :mod:`.scanner`, deciding per column
:mod:`.decide`; this module only walks the files, shares one worker pool and one set of compiled
scanners between them, and turns reader failures into error findings naming the file (fail
closed: a file that could not be read is never a silent pass).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from pathlib import Path
from typing import Any, Iterator

from gates.core import files as _files
from gates.core.gate import Gate, GateContext

from . import archives as _archives
from . import config as _config
from . import discovery as _discovery
from . import options as _options
from .datasets import POOL_FILES, Datasets, Parts, file_size, members
from .decide import report_file
from .engine import _worker_read_scan, read_scan_many, scan_chunks
from .pool import Pool
from .readers import Failure, NotScanned, failure_of, read
from .rules import RULES


class PiiGate(Gate):
    name = "pii"
    per_file = True  # each file is judged on its own: --shard splits its files
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
        with _few_collections():
            self._run(ctx)

    def _run(self, ctx: GateContext) -> None:
        opts = ctx.options
        cfg, limits = _config.build(opts)
        allow_paths = list((opts.get("allow") or {}).get("paths") or [])
        workers = int(opts.get("workers", 0)) or (os.cpu_count() or 1)
        min_parallel = int(float(opts.get("parallel_min_mb", 128)) * (1 << 20))
        pool = Pool(cfg, workers) if workers > 1 else None
        fmt = opts.get("format", "auto")
        skipped = 0
        files = []
        for path in self._discover(ctx, limits):
            if allow_paths and _files.any_match(ctx.relative(path), allow_paths):
                skipped += 1
                continue
            files.append((path, file_size(path)))
        progress = Progress(len(files), sum(size for _, size in files))
        small = [f for f in files if _small(f[1], pool, min_parallel)]
        parts = self._parts(ctx, files, allow_paths) if small else {}
        # many small files: batches small enough to keep every worker busy, sent to the pool
        per_batch = BATCH_FILES if pool is None or len(small) < POOL_MIN_FILES else \
            max(16, min(BATCH_FILES, len(small) // (4 * workers) + 1))
        batches = _Batches(self, ctx, cfg, limits, fmt, pool if len(small) >= POOL_MIN_FILES else None, progress, parts)
        batch: list[tuple[Path, int]] = []
        try:
            for path, size in files:
                if _small(size, pool, min_parallel):
                    batch.append((path, size))
                    if len(batch) >= per_batch or sum(n for _, n in batch) >= BATCH_BYTES:
                        batches.add(batch)
                        batch = []
                    continue
                if batch:
                    batches.add(batch)
                    batch = []
                batches.drain()  # keep the report in discovery order
                self._scan(ctx, path, cfg, limits, fmt, pool if size >= min_parallel else None)
                progress.done(1, size)
            if batch:
                batches.add(batch)
            batches.drain()
        finally:
            progress.close()
            if pool is not None:
                pool.close()
        if skipped:
            ctx.note(f"{skipped} file(s) skipped by gates.pii.allow.paths")
        if cfg.salt == "mlsec-gates/pii/v1":
            ctx.note("value hashes use the public default salt; set MLSEC_GATES_PII_SALT to a secret for unguessable hashes")

    @staticmethod
    def _discover(ctx: GateContext, limits: Any) -> list[Path]:
        """The files to read: those the paths name and, with the default paths, every other
        file whose content is a dataset (:mod:`.discovery`). Each shard looks at its own
        files; :attr:`GateContext.discovered` (every shard's, for :mod:`.datasets`) is kept to
        the same files. Not for a remote reference's mirror: its files are fetched as they are
        discovered, and looking at all of them would fetch the weights too."""
        if "paths" in ctx.configured or ctx.prepare is not None:
            return ctx.discover()
        names = list(ctx.options.get("paths") or _config.DEFAULT_PATHS)
        explicit = set(ctx.targets)
        seen: dict[Path, bool] = {}

        def keep(p: Path) -> bool:
            got = seen.get(p)
            if got is None:
                got = seen[p] = (p in explicit or _files.any_match(ctx.relative(p), names)
                                 or _discovery.is_dataset(p, limits))
            return got

        found = [p for p in ctx.discover(("**/*",)) if keep(p)]
        if ctx.discovered is not None:
            ctx.discovered = [p for p in ctx.discovered if keep(p)]
        extra = sum(1 for p in found if p not in explicit and not _files.any_match(ctx.relative(p), names))
        if extra:
            ctx.note(f"{extra} file(s) not named as datasets read by content (a table, JSON or columnar data under "
                     "another name)")
        return found

    @staticmethod
    def _parts(ctx: GateContext, files: list[tuple[Path, int]], allow_paths: list[str]) -> dict[str, Parts]:
        """Per directory, the small files whose rows decide its tables' columns
        (:mod:`.datasets`): chosen among every file discovered, so every shard chooses alike."""
        sizes = dict(files)

        def small(p: Path) -> int | None:
            if allow_paths and _files.any_match(ctx.relative(p), allow_paths):
                return None
            size = sizes.get(p)
            size = size if size is not None else file_size(p)
            return size if size < SMALL_FILE else None

        return members(ctx.discovered or [p for p, _ in files], small)

    def _scan(self, ctx: GateContext, path: Path, cfg: Any, limits: Any, fmt: str, pool: Pool | None) -> None:
        try:
            info, chunks = read(path, limits, fmt, inline=pool is None)
            columns = scan_chunks(chunks, cfg, pool)
        except NotScanned as exc:
            _unscanned(ctx, path, failure_of(exc), cfg, limits)
            return
        except Exception as exc:  # noqa: BLE001 - every reader failure becomes a finding or an error naming the file
            _failed(ctx, path, exc)
            return
        _report(ctx, path, info, columns, cfg)


class _Batches:
    """Batches of small files, read and scanned together (one prefilter pass for all of them:
    :func:`engine.read_scan_many`) in this process or, for many files, on the worker pool, which
    then reads them too (this process only reports, in discovery order, while the workers read
    and scan the next batches); each file is still reported on its own."""

    def __init__(self, gate: PiiGate, ctx: GateContext, cfg: Any, limits: Any, fmt: str, pool: Pool | None,
                 progress: "Progress", parts: dict[str, Parts]) -> None:
        self.ctx, self.cfg, self.limits, self.fmt, self.pool, self.progress = ctx, cfg, limits, fmt, pool, progress
        self.parts = parts
        self.datasets: Datasets | None = None  # this process's table decisions, made on first use
        self.pending: list[tuple[list[tuple[Path, int]], Any]] = []

    def _parts_of(self, batch: list[tuple[Path, int]]) -> dict[str, Parts]:
        """The sampled parts of the batch's directories (what a worker needs of :attr:`parts`)."""
        dirs = {str(p.parent) for p, _ in batch}
        return {d: self.parts[d] for d in dirs if d in self.parts}

    def add(self, batch: list[tuple[Path, int]]) -> None:
        ex = self.pool.wait() if self.pool is not None else None
        fut = None
        if ex is not None:
            try:
                fut = ex.submit(_worker_read_scan, [p for p, _ in batch], self.limits, self.fmt, self._parts_of(batch))
            except Exception:  # noqa: BLE001 - a broken pool: read and scan here
                fut = None
        self.pending.append((batch, fut))
        workers = self.pool.workers if self.pool is not None else 0
        while len(self.pending) > (2 * workers if fut is not None else 0):
            self._finish(*self.pending.pop(0))

    def drain(self) -> None:
        while self.pending:
            self._finish(*self.pending.pop(0))

    def _finish(self, batch: list[tuple[Path, int]], fut: Any) -> None:
        results: list[Any] | None = None
        if fut is not None:
            try:
                results = fut.result()
            except Exception:  # noqa: BLE001 - a worker that died or could not send its answer: again, here
                results = None
        if results is None:
            if self.datasets is None:
                self.datasets = Datasets(self.cfg, lambda p: read(p, self.limits, self.fmt, inline=True))
            results = read_scan_many([p for p, _ in batch], self.limits, self.fmt, self.cfg, self._parts_of(batch),
                                     self.datasets)
        for (path, _), (info, columns, failure) in zip(batch, results):
            if failure is not None:
                _unscanned(self.ctx, path, failure, self.cfg, self.limits)
            else:
                _report(self.ctx, path, info, columns, self.cfg)
        self.progress.done(len(batch), sum(n for _, n in batch))


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """The cyclic garbage collector, tuned for a scan: objects alive before it (modules, policy,
    compiled patterns) are left out of collections, and collections start after 20,000
    allocations instead of 700. Many small files allocate millions of short-lived objects; with
    the defaults the collector ran ~830 times and took 0.45 s of a 592-file run (0.2 s now).
    Restored afterwards, for a caller that goes on."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _small(size: int, pool: Pool | None, min_parallel: int) -> bool:
    return size < SMALL_FILE and (pool is None or size < min_parallel)


#: with this many small files, their batches go to the worker pool
POOL_MIN_FILES = 64
#: files below this size are scanned in batches (their set-up would cost more than their bytes)
SMALL_FILE = 1 << 20
BATCH_FILES = 256
BATCH_BYTES = 16 << 20


def _failed(ctx: GateContext, path: Path, exc: Exception) -> None:
    _report_failure(ctx, path, failure_of(exc))


def _unscanned(ctx: GateContext, path: Path, failure: Failure, cfg: Any, limits: Any) -> None:
    """A file the readers handed back: an archive's members are read here (:func:`_archive`),
    anything else is reported as it is (:func:`_report_failure`)."""
    if failure.kind == "format" and _archives.is_archive(failure.detail or "", path):
        _archive(ctx, path, failure.detail or "", cfg, limits)
    else:
        _report_failure(ctx, path, failure)


def _archive(ctx: GateContext, path: Path, kind: str, cfg: Any, limits: Any) -> None:
    """Each member of a ZIP or TAR archive that the gate's paths match (as files of a directory:
    ``data/train.csv``, not ``bin/tool`` or the images of a WebDataset shard) read and reported
    as a file of its own, its findings carrying ``member`` (:mod:`.archives`); small members in
    batches, as small files are (one shared prefilter). Matched members of binary content are
    one PII005 for the archive; an encrypted member or a nested archive is a PII006; a member
    that cannot be parsed, a corrupt archive or a broken bound is an error (fail closed)."""
    included = list(ctx.options.get("paths") or _config.DEFAULT_PATHS)
    excluded = list(ctx.options.get("exclude") or [])

    def wanted(name: str) -> bool:  # members are chosen as the files of a directory are
        return _files.any_match(name, included) and not (excluded and _files.any_match(name, excluded))

    scan = _ArchiveScan(ctx, path, cfg, limits)
    try:
        with _archives.workdir() as tmp:  # kept until the last batch is read
            scan.run(_archives.members(path, kind, limits, tmp, wanted, by_content="paths" not in ctx.configured))
    except Exception as exc:  # noqa: BLE001 - the archive itself: corrupt, or over a bound
        _failed(ctx, path, exc)
    if scan.read:  # an archive none of whose members was read counts as nothing scanned (a lone one fails the run)
        ctx.scanned(path, scan.rows)
    if scan.unmatched:
        ctx.note(f"{ctx.display(path)}: {scan.unmatched} archive member(s) not matched by gates.pii.paths were not read")
    if scan.binary:
        ctx.add("PII005", f"{scan.binary} archive member(s) of binary content: not scanned for PII", path, blocking=False,
                key="binary-members")


class _ArchiveScan:
    """Reads and reports an archive's members (see :func:`_archive`), counting what it did not
    read. Small members wait in a batch, read together as small files are; the small members
    of one directory of the archive are the parts of its tables, as the small files of a
    directory are (:mod:`.datasets`): without that, a table split into parts too small to
    classify passed once it was archived. The parts are those copied so far (a TAR has no
    index to list them first): the first batch, 256 members or 16 MiB, holds a table's first
    parts, and their copies are kept until the archive is done, for the table's later batches."""

    def __init__(self, ctx: GateContext, path: Path, cfg: Any, limits: Any) -> None:
        self.ctx, self.path, self.cfg, self.limits = ctx, path, cfg, limits
        self.rows = self.read = self.unmatched = self.binary = self.bytes = 0
        self.batch: list[_archives.Member] = []
        self.first: dict[str, list[str]] = {}  # per directory of copies: its first small members
        self.count: dict[str, int] = {}
        self.size: dict[str, int] = {}
        self.datasets = Datasets(cfg, lambda p: read(p, limits, "auto", inline=True))

    def run(self, members: Iterator[_archives.Member]) -> None:
        try:
            for m in members:
                self._one(m)
        finally:
            self._flush()  # also when the archive turns out corrupt or over a bound: what was copied is read

    def _one(self, m: _archives.Member) -> None:
        if m.skipped == "unmatched":
            self.unmatched += 1
        elif m.skipped == "binary":
            self.binary += 1
        elif m.path is None:
            what = "encrypted archive member" if m.skipped == "encrypted" else f"archive member {m.name}: {m.skipped} file"
            self.ctx.add("PII006", f"{what}: not scanned for PII", self.path, blocking=False, member=m.name,
                         key=f"format:{m.skipped}")
        elif (size := file_size(m.path)) < SMALL_FILE:
            self.batch.append(m)
            self.bytes += size
            d = str(m.path.parent)
            self.count[d] = self.count.get(d, 0) + 1
            self.size[d] = self.size.get(d, 0) + size
            first = self.first.setdefault(d, [])
            if len(first) < POOL_FILES:
                first.append(str(m.path))
            if len(self.batch) >= BATCH_FILES or self.bytes >= BATCH_BYTES:
                self._flush()
        else:
            self._flush()  # findings stay in archive order
            try:
                info, chunks = read(m.path, self.limits, "auto", inline=True)
                columns = scan_chunks(chunks, self.cfg, None)
            except Exception as exc:  # noqa: BLE001 - as for a file: a finding or an error naming the archive and member
                _report_failure(self.ctx, self.path, failure_of(exc), m.name)
                return
            finally:
                m.path.unlink(missing_ok=True)
            self._done(m, info, columns)

    def _flush(self) -> None:
        batch, self.batch, self.bytes = self.batch, [], 0
        parts = {d: Parts(tuple(first), self.size[d]) for d, first in self.first.items() if self.count[d] > 1}
        results = read_scan_many([m.path for m in batch], self.limits, "auto", self.cfg, parts,
                                 self.datasets) if batch else []
        sampled = {p for first in self.first.values() for p in first}
        for m, (info, columns, failure) in zip(batch, results):
            assert m.path is not None
            if str(m.path) not in sampled:  # a table's first parts stay for its later batches
                m.path.unlink(missing_ok=True)
            if failure is not None:
                _report_failure(self.ctx, self.path, failure, m.name)
            else:
                self._done(m, info, columns)

    def _done(self, m: _archives.Member, info: Any, columns: Any) -> None:
        info.member = m.name
        self.read += 1
        self.rows += info.rows
        _report(self.ctx, self.path, info, columns, self.cfg)


def _report_failure(ctx: GateContext, path: Path, failure: Failure, member: str | None = None) -> None:
    """A file the gate could not scan: a PII005/PII006 finding for formats it does not read, an
    error (the gate ends in error: fail closed) for everything else. Never the exception's text:
    decompressors and parsers may quote the input. ``member``: the archive member it was."""
    where = f"archive member {member}: " if member is not None else ""
    if failure.kind == "binary":
        ctx.add("PII005", f"{where}binary file: not scanned for PII", path, blocking=False, key="binary", member=member)
    elif failure.kind == "format":
        ctx.add("PII006", f"{where}{failure.detail} file: not scanned for PII", path, blocking=False,
                key=f"format:{failure.detail}", member=member)
    elif failure.kind == "input":
        ctx.error(f"{where}{failure.detail}", path)
    elif failure.kind == "os":
        ctx.error(f"{where}cannot read: {failure.detail}", path)
    else:
        ctx.error(f"{where}cannot read ({failure.detail})", path)


def _report(ctx: GateContext, path: Path, info: Any, columns: Any, cfg: Any) -> None:
    """A file's (or an archive member's: ``info.member``) notes, problems and findings."""
    where = f"archive member {info.member}: " if info.member is not None else ""
    if info.member is None:
        ctx.scanned(path, info.rows)
    for n in info.notes:
        ctx.note(f"{ctx.display(path)}: {where}{n}")
    for p in info.problems:
        ctx.error(f"{where}{p}", path)
    report_file(ctx, path, info, columns, cfg)


class Progress:
    """Files and bytes done, on stderr, only when stderr is a terminal (CI logs and JSON output
    stay clean) and the run is large enough to be worth it."""

    def __init__(self, files: int, total: int) -> None:
        self.bar: Any = None
        if total < (64 << 20) and files < 200:
            return
        if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()) or os.environ.get("CI"):
            return
        try:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            self.bar = Bar(TextColumn("pii"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[files]}"),
                           TimeRemainingColumn(), console=Console(stderr=True), transient=True)
            self.task = self.bar.add_task("pii", total=total, files=f"0/{files} files")
            self.files, self.seen = files, 0
            self.bar.start()
        except Exception:  # noqa: BLE001 - progress is a convenience; never fail the scan for it
            self.bar = None

    def done(self, files: int, size: int) -> None:
        if self.bar is not None:
            self.seen += files
            self.bar.update(self.task, advance=size, files=f"{self.seen}/{self.files} files")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


GATE = PiiGate
