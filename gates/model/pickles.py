"""The pickle handler: walk every pickle stream in a file and judge each global it imports.

A stream is followed opcode by opcode (``pickle_engine``); each global the unpickler would import
must be allowed by the scan's allowlist. Nested payloads a global would unpickle again
(``torch.load(BytesIO(b"..."))``-style sinks) are scanned with :meth:`Scan.descend`.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any, Callable

from .allowlists import UNKNOWN, danger_of
from .dtypes import joblib_array_info
from .explain import MAX_FICKLING_BYTES, Explained, PickleExplanation, TracingWalker
from .names import pickle_named
from .pickle_engine import Broken, GlobalRef, Nested, WalkResult, Walker, is_joblib_wrapper
from .scan import Scan
from .stream import Source

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
SECOND_OPINION_MAX = 8 << 20


def scan_pickle(scan: Scan, f: Any, src: Source, member: str | None, depth: int, name: str, size: int | None) -> str:
    """Registry handler for a stream that starts with a protocol 2+ header."""
    return scan_pickle_stream(scan, src, member, depth, name=name)


def scan_pickle_tentative(scan: Scan, f: Any, src: Source, member: str | None, depth: int, name: str, size: int | None) -> str:
    """Registry handler for a stream whose first byte is a protocol 0/1 opcode: it may be text."""
    return scan_pickle_stream(scan, src, member, depth, tentative=True, name=name)


# ---- pickle ----------------------------------------------------------------------------------------
def importable(g: GlobalRef) -> bool:
    """Whether ``find_class`` could import this global from an installed module: every part of
    the module and the name must be Python identifiers. (A module file named ``"mport os.py"``
    would have to be planted on the loader's path, which is already code execution.)"""
    return all(p.isidentifier() for p in g.raw_module.split(".")) and all(p.isidentifier() for p in g.raw_name.split("."))


def inert_text(res: WalkResult) -> bool:
    """A protocol-0/1 guess that is really text: the walk did not reach STOP, or the first global
    it would import cannot be imported, so ``pickle.load`` raises before any import or call.
    (Globals are recorded in stream order; calls need a global, so none ran before the first.)"""
    if res.globals:
        return not importable(res.globals[0])
    return not res.stopped


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
        walker = walker_for(scan)(src, max_memo=lim.max_memo, on_build=hook, explain=not_allowed(scan))
        res = walker.walk()
        scan.report.items += res.opcodes
        if first and tentative and not pickle_named(name) and inert_text(res):
            return "text"  # text that merely starts with an opcode byte: the unpickler fails before importing anything
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


def not_allowed(scan: Scan) -> Callable[[GlobalRef], bool]:
    allow = scan.cfg.allowlist
    return lambda g: any(not allow.allows(f"{m}.{n}") for m, n in g.candidates())


def report_walk(scan: Scan, res: WalkResult, member: str | None, depth: int, src: Source | None,
                walker: Walker | None = None) -> None:
    cfg = scan.cfg
    seen: dict[str, int] = {}
    explained = PickleExplanation(member, res.start, res.end, res.opcodes) if cfg.explain else None
    for g in res.globals:
        bad = None
        for module, name in g.candidates():
            dotted = f"{module}.{name}"
            if not cfg.allowlist.allows(dotted):
                bad = dotted
                break
        if bad is None:
            continue
        if bad in seen:
            seen[bad] += 1
            continue
        seen[bad] = 1
        d = danger_of(bad)
        alias = f"{g.raw_module}.{g.raw_name}" if g.aliased else None
        known = d is not UNKNOWN
        rule = "MODEL001" if known else "MODEL002"
        blocking = True if (known or cfg.unknown_globals_block) else False
        what = f"pickle imports `{bad}`"
        if alias:
            what += f" (written as `{alias}`, rewritten by fix_imports)"
        extra: dict[str, Any] = {"global": bad, "opcode": g.opcode, "opcode_index": g.opindex, "protocol": g.proto}
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
        scan.descend_bytes(n.data, label, depth + 1, name="nested.pkl")
        return
    if n.ref is not None and src is not None:
        region = src.region(n.ref.offset, n.ref.length)
        if region is not None:
            scan.descend(region._f, label, depth + 1, "nested.pkl", n.ref.length, base=n.ref.abs_offset)
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
        info = joblib_array_info(state)
        if info is None:
            raise _broken("joblib NumpyArrayWrapper state cannot be followed (needed to find the next opcode)")
        nbytes, is_object, aligned = info
        if is_object:
            sub = walker_for(self.scan)(src, max_memo=self.scan.cfg.limits.max_memo, on_build=self, explain=not_allowed(self.scan))
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
