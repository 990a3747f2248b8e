"""Scan one file: sniff its format, walk containers, and judge every pickle stream inside.

``scan_path`` is what a worker process runs. It returns a :class:`FileReport` of raw hits; it
never raises for bad input (a file it cannot follow is an *inconclusive* hit, which blocks).
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import os
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

from . import containers, formats
from .allowlists import UNKNOWN, danger_of, profiles_covering
from .config import FileReport, Hit, ScanConfig, printable
from .explain import MAX_FICKLING_BYTES, Explained, PickleExplanation, TracingWalker
from .pickle_engine import Broken, GlobalRef, Nested, WalkResult, Walker, is_joblib_wrapper
from .sniff import sniff
from .stream import OverLimit, Source, Truncated, file_size

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
UNRECOGNISED = ("unknown", "text")  # content that matched no format we analyse
SECOND_OPINION_MAX = 8 << 20
# names whose content must be a model: unknown content there is inconclusive, not "not a model"
PICKLE_EXTS = {".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib", ".dill", ".p", ".sav", ".npy", ".safetensors", ".gguf", ".onnx", ".keras", ".h5", ".hdf5"}
# ``.bin`` is too generic to pin (ONNX external data and raw tensor dumps use it), but these names
# are what PyTorch, transformers, PEFT and accelerate write with ``torch.save``: a loader will
# ``torch.load`` them, so content we cannot recognise there must not pass silently.
WEIGHT_NAME_GLOBS = (
    "pytorch_model*.bin", "adapter_model*.bin", "training_args.bin", "optimizer*.bin", "scheduler*.bin",
    "scaler*.bin", "rng_state*.bin", "rng_state*.pth", "*.pt.bin", "*.pth.bin", "*.ckpt.bin",
)

@dataclass
class Scan:
    """State of one file's scan: config, where we are, what we found."""

    cfg: ScanConfig
    report: FileReport
    path: str

    def hit(self, rule: str, message: str, member: str | None = None, offset: int | None = None, **kw: Any) -> None:
        # names come from the file: escape control characters so a report cannot be used to
        # drive a terminal or forge lines
        if kw.get("evidence"):
            kw["evidence"] = printable(kw["evidence"])
        if kw.get("extra"):
            kw["extra"] = {k: printable(v) if isinstance(v, str) else v for k, v in kw["extra"].items()}
        self.report.hits.append(Hit(rule, printable(message, 600), member=printable(member) if member else None, offset=offset, **kw))

    def inconclusive(self, message: str, member: str | None = None, offset: int | None = None, key: str = "", **extra: Any) -> None:
        self.hit("MODEL003", message, member, offset, blocking=True, key=key or message.split(":")[0], extra=extra)

    def fmt(self, name: str) -> None:
        self.report.formats.append(name)


def scan_path(path: str, cfg: ScanConfig) -> FileReport:
    """Scan the file at ``path`` (worker entry point)."""
    report = FileReport(path=path)
    scan = Scan(cfg, report, path)
    try:
        size = os.path.getsize(path)
        if cfg.limits.max_file_bytes and size > cfg.limits.max_file_bytes:
            scan.hit("MODEL015", f"file is {size} bytes, over the policy's max_file_mb", blocking=True, key="size",
                     extra={"size": size})
            return report
        with open(path, "rb") as f:
            kind = scan_stream(scan, f, member=None, depth=0, name=path, size=size)
        if kind in UNRECOGNISED and pickle_named(path):
            scan.inconclusive("the file is named like a pickle but its content is not a recognisable model format", offset=0, key="unrecognised")
        elif kind in UNRECOGNISED and weights_named(path):
            scan.inconclusive("the file is named like PyTorch weights (loaded with torch.load) but its content is not a recognisable "
                              "model format", offset=0, key="unrecognised")
    except OSError as exc:
        scan.inconclusive(f"cannot read the file ({exc.strerror or type(exc).__name__})", key="unreadable")
    except RecursionError:
        scan.inconclusive("structure nested too deeply to follow", key="recursion")
    return report


def safe_scan(path: str, cfg: ScanConfig) -> FileReport:
    """``scan_path`` that turns a scanner bug into a blocking finding instead of a pass."""
    try:
        return scan_path(path, cfg)
    except Exception as exc:  # noqa: BLE001 - fail closed; the type only (the text may quote input)
        report = FileReport(path=path)
        report.hits.append(Hit("MODEL003", f"the scanner failed on this file ({type(exc).__name__})", blocking=True, key="crash"))
        return report


def pickle_named(name: str) -> bool:
    return os.path.splitext(name.lower())[1] in PICKLE_EXTS


def weights_named(name: str) -> bool:
    base = os.path.basename(name).lower()
    return any(fnmatch.fnmatchcase(base, g) for g in WEIGHT_NAME_GLOBS)


def scan_bytes(scan: Scan, data: bytes, member: str | None, depth: int, name: str = "") -> None:
    scan_stream(scan, io.BytesIO(data), member=member, depth=depth, name=name, size=len(data))


def scan_stream(scan: Scan, f: BinaryIO, member: str | None, depth: int, name: str, size: int | None, base: int = 0,
                limit: int | None = None) -> str:
    """Sniff ``f`` and dispatch. Returns the format name."""
    if depth > scan.cfg.limits.max_depth:
        scan.inconclusive(f"nesting deeper than {scan.cfg.limits.max_depth} levels (archive or nested pickle)", member, key="depth")
        return "unknown"
    try:
        return _dispatch(scan, f, member, depth, name, size, base, limit)
    except (Truncated, OverLimit) as exc:
        scan.inconclusive(f"stream cannot be read to the end: {exc}", member, None, key="stream")
        return "unknown"


def _dispatch(scan: Scan, f: BinaryIO, member: str | None, depth: int, name: str, size: int | None, base: int, limit: int | None) -> str:
    if size is None:
        size = file_size(f)
    src = Source(f, size=size, base=base, limit=limit)
    head = src.peek(1024)
    kind = sniff(head, name)
    if kind == "pickle?":
        kind = "pickle"
        tentative = True
    else:
        tentative = False
    idx = len(scan.report.formats)
    scan.fmt(kind)  # reserved first: nested content appends after its container
    if kind == "pickle":
        kind = scan_pickle_stream(scan, src, member, depth, tentative=tentative, name=name)
        scan.report.formats[idx] = kind
        return kind
    handler = _HANDLERS.get(kind)
    if handler is not None:
        handler(scan, f, src, member, depth, name, size)
    return kind


# ---- pickle ----------------------------------------------------------------------------------------
def scan_pickle_stream(scan: Scan, src: Source, member: str | None, depth: int, *, tentative: bool = False, name: str = "") -> str:
    """Walk every pickle stacked in ``src`` (a loader may call ``load()`` again) and judge them.

    Returns ``pickle``, ``joblib``, ``pytorch-legacy`` or ``text``/``unknown`` for a tentative
    protocol-0 guess that turned out not to be a pickle."""
    lim = scan.cfg.limits
    src.limit = lim.max_pickle_bytes if src.limit is None else src.limit
    hits_before = len(scan.report.hits)
    start_pos = src.pos
    kind = _walk_stacked(scan, src, member, depth, tentative, name)
    if scan.cfg.second_opinion and src.pos - start_pos <= SECOND_OPINION_MAX:
        flagged = [h for h in scan.report.hits[hits_before:] if h.rule in ("MODEL001", "MODEL002") and h.member == member]
        if flagged:
            region = src.region(start_pos, src.pos - start_pos)
            if region is not None:
                opinion = fickling_opinion(region.read(src.pos - start_pos))
                if opinion:
                    for h in flagged:
                        h.extra["fickling"] = opinion
    return kind


def _walk_stacked(scan: Scan, src: Source, member: str | None, depth: int, tentative: bool, name: str) -> str:
    lim = scan.cfg.limits
    kind = "pickle"
    legacy_left: int | None = None  # pickles still to read in a legacy torch file
    hook = _JoblibHook(scan, member, depth)
    first = True
    while True:
        start = src.offset
        walker = walker_for(scan)(src, max_memo=lim.max_memo, on_build=hook, explain=_not_allowed(scan))
        res = walker.walk()
        scan.report.items += res.opcodes
        if first and tentative and not res.stopped and not res.globals and res.opcodes <= 3 and not pickle_named(name):
            return "unknown"  # text that merely starts with an opcode byte
        if not first and not res.stopped and not res.globals and not res.nested:
            scan.hit("MODEL018", "data after the pickle's STOP is not another pickle (ignored by pickle.load)", member, start,
                     severity="low", key="trailing")
            return kind
        if first and res.stopped and res.first_value == LEGACY_TORCH_MAGIC:
            kind, legacy_left = "pytorch-legacy", 5
        if hook.used and kind == "pickle":
            kind = "joblib"
        report_walk(scan, res, member, depth, src, walker)
        if res.issues:
            return kind
        if legacy_left is not None:
            legacy_left -= 1
            if legacy_left == 0:
                return kind  # the rest is raw storage data, which torch reads without unpickling
        if src.at_eof():
            if legacy_left:
                scan.inconclusive("legacy PyTorch file ends before all of its pickles", member, src.offset, key="legacy-short")
            return kind
        first = False


def walker_for(scan: Scan) -> type[Walker]:
    """The plain walker, or the tracing one when ``--explain`` asked for opcode traces."""
    return TracingWalker if scan.cfg.explain else Walker


def _not_allowed(scan: Scan) -> Callable[[GlobalRef], bool]:
    allow = scan.cfg.allowlist
    return lambda g: any(not allow.allows(m, n) for m, n in g.candidates())


def report_walk(scan: Scan, res: WalkResult, member: str | None, depth: int, src: Source | None,
                walker: Walker | None = None) -> None:
    cfg = scan.cfg
    seen: dict[str, int] = {}
    explained = PickleExplanation(member, res.start, res.end, res.opcodes) if cfg.explain else None
    for g in res.globals:
        bad = None
        for module, name in g.candidates():
            if not cfg.allowlist.allows(module, name):
                bad, bad_pair = f"{module}.{name}", (module, name)
                break
        if bad is None:
            continue
        if bad in seen:
            seen[bad] += 1
            continue
        seen[bad] = 1
        d = danger_of(*bad_pair)
        alias = f"{g.raw_module}.{g.raw_name}" if g.aliased else None
        known = d is not UNKNOWN
        rule = "MODEL001" if known else "MODEL002"
        blocking = True if (known or cfg.unknown_globals_block) else False
        what = f"pickle imports `{bad}`"
        if alias:
            what += f" (written as `{alias}`, rewritten by fix_imports)"
        covering = profiles_covering(*bad_pair, cfg.allowlist.profiles)
        extra: dict[str, Any] = {"global": bad, "opcode": g.opcode, "opcode_index": g.opindex, "protocol": g.proto}
        if covering:
            what += f" (in the `{'`, `'.join(covering)}` profile{'s' if len(covering) > 1 else ''}, not enabled: add `--profile {covering[0]}`)"
            extra["profile"] = covering[0]
        if alias:
            extra["alias"] = alias
        if id(g) in res.chains:
            extra["call"] = res.chains[id(g)]
        scan.hit(rule, f"{what}: {d.reason}", member, g.offset, severity=d.severity if known else "high",
                 blocking=blocking, key=bad, extra=extra)
        if explained is not None and blocking:
            windows = getattr(walker, "windows", {})
            explained.items.append(Explained(rule, d.severity if known else "high", bad, d.reason, g.opcode, g.opindex, g.offset,
                                             g.proto, extra.get("call"), windows.get(id(g))))
    if explained is not None and explained.items:
        _add_explanation(scan, explained, src)
    for issue in res.issues:
        scan.inconclusive(f"pickle cannot be followed: {issue.message}", member, issue.offset, key=f"pickle:{issue.code}",
                          opcode_index=issue.opindex, reason=issue.code)
    for n in res.nested:
        scan_nested(scan, n, member, depth, src)


def _add_explanation(scan: Scan, explained: PickleExplanation, src: Source | None) -> None:
    """Render one pickle's explanation now, while its bytes can still be re-read."""
    data, why = None, ""
    length = explained.end - explained.start
    if src is None:
        why = "the stream cannot be re-read here"
    elif length > MAX_FICKLING_BYTES:
        why = f"the pickle is over {MAX_FICKLING_BYTES >> 20} MB"
    else:
        region = src.region(explained.start - src.base, length)
        if region is None:
            why = "the pickle is inside a compressed stream that cannot be re-read"
        else:
            data = region.read(length)
    scan.report.explanations.append(explained.lines(data, why))


def scan_nested(scan: Scan, n: Nested, member: str | None, depth: int, src: Source | None) -> None:
    sink = f"{n.sink.module}.{n.sink.name}"
    label = f"{member + '>' if member else ''}{sink}@{n.offset}"
    if n.data is not None:
        scan_bytes(scan, n.data, label, depth + 1, name="nested.pkl")
        return
    if n.ref is not None and src is not None:
        region = src.region(n.ref.offset, n.ref.length)
        if region is not None:
            scan_stream(scan, region._f, label, depth + 1, name="nested.pkl", size=n.ref.length, base=n.ref.abs_offset)
            return
    what = "a payload that cannot be re-read here" if n.ref is not None else "an argument that is not a constant"
    scan.hit("MODEL007", f"`{sink}` is handed {what}, so what it unpickles cannot be checked",
             member, n.offset, blocking=True, key=f"nested:{sink}", extra={"global": sink, "opcode_index": n.opindex})


class _JoblibHook:
    """joblib writes each numpy array's raw bytes right after its ``NumpyArrayWrapper`` BUILD.

    We skip exactly ``prod(shape) * itemsize`` bytes (plus the alignment padding) like joblib's
    reader does, and walk object-dtype arrays, which joblib stores as a nested pickle inline.
    """

    def __init__(self, scan: Scan, member: str | None, depth: int) -> None:
        self.scan, self.member, self.depth = scan, member, depth
        self.used = False

    def __call__(self, walker: Walker, inst: Any, state: Any) -> None:
        if not is_joblib_wrapper(inst):
            return
        self.used = True
        src = walker.src
        info = containers.joblib_array_info(state)
        if info is None:
            raise _broken("joblib NumpyArrayWrapper state cannot be followed (needed to find the next opcode)")
        nbytes, is_object, aligned = info
        if is_object:
            sub = walker_for(self.scan)(src, max_memo=self.scan.cfg.limits.max_memo, on_build=self, explain=_not_allowed(self.scan))
            res = sub.walk()
            self.scan.report.items += res.opcodes
            report_walk(self.scan, res, self.member, self.depth, src, sub)
            if res.issues:
                raise _broken("object array pickle inside the joblib file is broken")
            return
        if aligned:
            pad = src.read(1)[0]
            src.skip(pad)
        src.skip(nbytes)


def _broken(msg: str) -> Exception:
    return Broken("joblib", msg)


# ---- second opinion ------------------------------------------------------------------------------
def fickling_opinion(data: bytes) -> str | None:
    """fickling's verdict on a pickle (recorded, never decisive), or None when unavailable."""
    try:
        from fickling.analysis import check_safety
        from fickling.fickle import Pickled
    except Exception:  # noqa: BLE001 - optional second opinion
        return None
    try:
        # fickling prints warnings that can quote the file to stderr: they must not reach the console
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            result = check_safety(Pickled.load(data))
        sev = getattr(result, "severity", None)
        return getattr(sev, "name", str(sev))
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


# ---- dispatch table ------------------------------------------------------------------------------
_HANDLERS = {
    "zip": containers.scan_zip,
    "tar": containers.scan_tar,
    "gzip": containers.scan_compressed,
    "bz2": containers.scan_compressed,
    "xz": containers.scan_compressed,
    "lzma": containers.scan_compressed,
    "zlib": containers.scan_compressed,
    "lz4": containers.scan_compressed,
    "zstd": containers.scan_compressed,
    "7z": containers.scan_unsupported,
    "numpy": containers.scan_npy,
    "git-lfs-pointer": containers.scan_lfs,
    "safetensors": formats.scan_safetensors,
    "gguf": formats.scan_gguf,
    "onnx": formats.scan_onnx,
    "hdf5": formats.scan_hdf5,
    "savedmodel": formats.scan_savedmodel,
    "unknown": None,
    "text": None,
    "json": formats.scan_json,
}
