"""Remote references as the scanned PATH (``oci://``, ``hf://``, ``s3://``, other fsspec URLs).

Why a mirror: every gate reads real files through ``ctx.discover()``. A resolver (found through
the ``mlsec_gates.resolvers`` entry point group, imported only when a PATH has a scheme, so the
core imports no network code) materialises the artifact as a sparse local directory in which
the bytes the gates read are real and the bytes they never read (tensor data) are holes. The run
then goes through the usual runner, and :func:`relabel` turns every reported path back into the
remote reference (``oci://…@sha256:…!model.pkl``) so a finding leads to what was scanned.
Fingerprints stay on the mirror-relative path, which is the path inside the artifact.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .errors import GatesError, UsageError
from .findings import Component, GateError, ScannedFile, Status
from .gate import GateContext
from .hygiene import clean_name
from .runner import RunResult

RESOLVERS_GROUP = "mlsec_gates.resolvers"
#: a URL scheme as RFC 3986 spells it, followed by ``://`` (``C:\\`` is a Windows drive, not a scheme)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]{1,31})://")
#: the resolver that takes any scheme fsspec knows
FALLBACK = "fsspec"
INSTALL = "pip install 'mlsec-gates[remote]'"


@dataclass
class Resolved:
    """A remote artifact materialised under ``root``.

    ``paths`` maps each mirror-relative file (posix) to the reference a report shows for it;
    ``digests`` the files whose content digest the source vouches for (``("SHA-256", hex)``);
    ``fetched``/``total`` are bytes read over the network against the artifact's size."""

    root: Path
    reference: str
    paths: dict[str, str] = field(default_factory=dict)
    digests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    #: files only partly fetched (holes where the gates read nothing): a hash of the mirror is wrong
    partial: set[str] = field(default_factory=set)
    fetched: int = 0
    total: int = 0
    notes: list[str] = field(default_factory=list)
    #: files created at their full size but not fetched yet: ``fill`` fetches them when a gate
    #: discovers them (a shard fetches only its own files), and reports how many bytes it took
    pending: dict[str, Callable[[], int]] = field(default_factory=dict)

    def fill(self, rels: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """Fetch the pending files among ``rels`` (None: all). Returns (rel, why) for each file
        that could not be fetched: the gate reports it as an error for that file."""
        failed = []
        for rel in list(self.pending) if rels is None else [r for r in rels if r in self.pending]:
            job = self.pending.pop(rel)
            try:
                self.fetched = job()
            except Exception as exc:  # noqa: BLE001 - a network or parse failure fails that file, closed
                failed.append((rel, clean_name(str(exc)) if isinstance(exc, GatesError) else type(exc).__name__))
        return failed


Resolver = Callable[[str, Path], Resolved]


def scheme_of(path: str) -> str | None:
    m = _SCHEME.match(path or "")
    return m.group(1).lower() if m else None


def resolver_for(scheme: str) -> Resolver:
    """The resolver registered for ``scheme``, else the fsspec one (which refuses schemes fsspec
    does not know). Imported here, on first use."""
    eps = {ep.name: ep for ep in metadata.entry_points(group=RESOLVERS_GROUP)}
    ep = eps.get(scheme) or eps.get(FALLBACK)
    if ep is None:
        raise UsageError(f"{scheme}:// references need the remote extra: {INSTALL}")
    try:
        fn = ep.load()
    except ModuleNotFoundError as exc:
        raise UsageError(f"{scheme}:// references need {exc.name!r}: {INSTALL}") from None
    return fn


def resolve(reference: str, workdir: Path) -> Resolved:
    scheme = scheme_of(reference)
    if scheme is None:
        raise UsageError(f"{clean_name(reference)}: not a remote reference")
    return resolver_for(scheme)(reference, workdir)


def fetched_note(res: Resolved) -> str:
    share = f" ({100 * res.fetched / res.total:.2f}%)" if res.total else ""
    return f"remote: fetched {res.fetched:,} of {res.total:,} bytes{share} from {clean_name(res.reference)}"


def preparer(res: Resolved) -> Callable[[GateContext, Sequence[Path] | None], list[Path]]:
    """The hook a run hands the gates' contexts: fetch what a gate is about to read. A per-file
    gate's discovered files (this shard's) are fetched as discovered; any other gate gets every
    file first (it may read files it does not discover, such as a policy-named eval result)."""
    def prepare(ctx: GateContext, paths: Sequence[Path] | None) -> list[Path]:
        rels = None if paths is None else [ctx.relative(p) for p in paths]
        failed = dict(res.fill(rels))
        for rel, why in failed.items():
            ctx.error(f"cannot fetch: {why}", res.root / rel)
        return [p for p, r in zip(paths or [], rels or []) if r not in failed]
    return prepare


def relabel(run: RunResult, res: Resolved) -> RunResult:
    """Reported paths (relative to the mirror) back to the remote references, a note on bytes
    fetched for every gate that ran, and the source's digests on the inventory."""
    def where(p: str) -> str:
        if not p:
            return p
        key = p.rstrip("/")
        if key in res.paths:
            return res.paths[key]
        return res.reference if key in (".", "") else f"{res.reference.rstrip('/')}/{key}"

    note = fetched_note(res)
    results = []
    for r in run.results:
        changes: dict = {
            "findings": tuple(f.replace(path=where(f.path)) for f in r.findings),
            "files": tuple(ScannedFile(where(s.path), s.items) for s in r.files),
            "errors": tuple(GateError(message=e.message, path=where(e.path)) for e in r.errors),
            "inventory": tuple(_component(c, res, where) for c in r.inventory),
        }
        if r.status is not Status.SKIPPED:
            changes["notes"] = (*r.notes, note, *res.notes)
        results.append(dataclasses.replace(r, **changes))
    return dataclasses.replace(run, results=results, display_root=res.reference)


def _component(c: Component, res: Resolved, where: Callable[[str], str]) -> Component:
    key = posixpath.normpath(c.path) if c.path else ""
    name = c.name
    if posixpath.normpath(name or ".") in (key, "."):
        name = where(key) if key and key != "." else res.reference  # a file's name is its path: the remote one
    hashes = c.hashes
    props = c.properties
    if key in res.digests:
        # a sparse mirror hashes to the wrong value: the source's digest is the true one
        hashes = tuple(res.digests[key])
    elif key in res.partial:
        hashes = ()
    if key in res.sources:
        props = (*props, ("mlsec-gates:remote:source", res.sources[key]))
    return dataclasses.replace(c, name=name, path=where(key) if c.path else "", hashes=hashes, properties=props,
                               parts=tuple(_component(p, res, where) for p in c.parts))

