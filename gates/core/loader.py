"""Building the effective policy from a chain of documents.

The repository's policy and everything it ``extends`` (recursively) are put in one order — each
document after the documents it extends, in the order listed, a document reached twice merged
once — and merged over the built-in defaults. Locks declared by a document bind every document
merged after it; the waiver file next to the policy is merged last. Every document is validated
against the schema on its own, with its own file name (a URL for a fetched one) in messages.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from . import waiverfile
from .errors import PolicyError
from .gate import Gate
from .matching import is_catch_all_path, is_glob
from .locks import LockSet, check, check_waivers, declare, merge_locksets, view_source
from .merge import Layer, Merged, builtin_layer, merge_layer
from .policy import ChainEntry, Policy, find_policy_file
from .registry import gate_names, load_gates
from .rules import CORE_RULES
from .schema import build_schema, check_gate_options, default_policy, validate_document
from .yamlsrc import SourcedYaml, load_yaml_file, load_yaml_text

if TYPE_CHECKING:
    from . import extends as ext

MAX_CHAIN_DEPTH = 8


@dataclass
class Doc:
    resolved: ext.Resolved
    src: SourcedYaml
    digest: str
    how: str


def load_policy(path: str | Path | None, gates: Mapping[str, Gate], *, allow_unpinned: bool = False,
                root: Path | None = None, unloaded: Iterable[str] = ()) -> Policy:
    """Load, validate and merge the user's policy (and what it ``extends``) over the built-in
    default, enforcing locks.

    ``path`` None means the built-in default alone (plus a waiver file in ``root``). A given path
    that does not exist is an error: a typo in ``--policy`` must not fall back to defaults.
    ``unloaded`` names installed gates that were not imported (see :func:`~gates.core.schema.build_schema`).
    """
    return load_chain(Path(path) if path is not None else None, gates, allow_unpinned=allow_unpinned, root=root,
                      unloaded=unloaded)


def policy_for_root(root: Path, explicit: str | None, allow_unpinned: bool = False, *,
                    gates: Mapping[str, Gate] | None = None) -> Policy:
    """The policy a command uses for ``root``: ``explicit`` (``--policy``) or the policy file in
    the root, over the built-in default. ``gates`` are the gates the command imported (default:
    every gate that can be imported); the other installed gates are validated by their common
    options only."""
    if gates is None:
        gates, _missing = load_gates()
    path = Path(explicit) if explicit else find_policy_file(root)
    unloaded = [n for n in gate_names() if n not in gates]
    return load_policy(path, gates, allow_unpinned=allow_unpinned, root=root, unloaded=unloaded)


def load_chain(path: Path | None, gates: Mapping[str, Gate], *, allow_unpinned: bool = False,
               root: Path | None = None, today: _dt.date | None = None, unloaded: Iterable[str] = ()) -> Policy:
    """The effective :class:`~gates.core.policy.Policy` for ``path`` (None: built-in defaults,
    plus the waiver file in ``root`` if there is one)."""
    today = today or _dt.date.today()
    unloaded = tuple(unloaded)
    docs: list[Doc] = []
    digest = None
    if path is None:
        check_gate_options(gates)  # no document to validate: the schema (a few ms to build) is not needed
    else:
        import hashlib

        from . import extends as ext  # only a policy file can extend: the built-in one runs without it

        schema = build_schema(gates, unloaded)
        p = Path(path)
        if not p.is_file():
            raise PolicyError(f"{p}: policy file not found")
        src = load_yaml_file(p)
        validate_document(src, schema)
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        top = ext.Resolved("file", str(p.resolve()), str(p), None)
        _linearize(Doc(top, src, digest, "read"), [], {}, docs, schema, allow_unpinned)

    _check_required(docs)
    state = builtin_layer(default_policy(gates, unloaded))
    rules = (*CORE_RULES, *(r for g in gates.values() for r in getattr(g, "rules", {})))
    locks = LockSet()
    for doc in docs:
        layer = Layer(doc.src.data, doc.src.file, doc.src.line_of)
        state, locks = _fold(state, locks, layer, inline=True, today=today, rules=rules)
        locks = merge_locksets([locks, declare(doc.src.data.get("locks"), layer.where, state)])

    sources = [d.src for d in docs]
    chain = [ChainEntry(d.resolved.display, d.digest, d.how) for d in docs]
    wf = waiverfile.find(Path(path).parent if path is not None else (root or Path(".")))
    if wf is not None:
        import hashlib

        wsrc = waiverfile.load(wf)
        state, locks = _fold(state, locks, Layer({"waivers": wsrc.data.get("waivers") or []}, wsrc.file, wsrc.line_of), inline=False, today=today, rules=rules)
        sources.append(wsrc)
        chain.append(ChainEntry(wsrc.file, hashlib.sha256(wf.read_bytes()).hexdigest(), "read"))
    return Policy(data=state.data, path=str(path) if path is not None else None, sources=sources, digest=digest,
                  provenance=state.provenance, locks=locks, chain=chain)


def _check_required(docs: list[Doc]) -> None:
    """``MLSEC_GATES_REQUIRE_POLICY=<sha256>[,…]``, set by a CI template the platform team owns,
    makes dropping the org policy from ``extends:`` an error rather than a quiet opt-out."""
    required = [d.strip().lower() for d in os.environ.get("MLSEC_GATES_REQUIRE_POLICY", "").split(",") if d.strip()]
    have = {d.digest for d in docs}
    missing = [d for d in required if d not in have]
    if missing:
        top = docs[-1].src.file if docs else "the built-in default policy"
        raise PolicyError(f"{top}: MLSEC_GATES_REQUIRE_POLICY requires a policy with sha256 {', '.join(missing)} "
                          "in the extends chain, and it is not there")


def _fold(state: Merged, locks: LockSet, layer: Layer, inline: bool, today: _dt.date, rules: tuple[str, ...] = ()) -> tuple[Merged, LockSet]:
    new, added = merge_layer(state, layer)
    problems = check(locks, new.data, lambda kp: view_source(new.provenance, kp))
    waivers = new.data.get("waivers") or []
    problems += check_waivers(locks, [waivers[i] for i in added], [new.provenance.get(("waivers", i), layer.file) for i in added], inline, today, rules)
    if problems:
        raise PolicyError(f"{layer.file}: breaks a lock set by a parent policy", problems)
    blanket = [f"{new.provenance.get(('waivers', i), layer.file)}: waiver for rule {waivers[i]['rule']!r}: the rule is a glob and "
               + (f"its path {waivers[i]['path']!r} matches files of every kind in every directory"
                  if waivers[i].get("path") else "it names no path")
               + " (and no fingerprint), so it would waive every finding of every matching rule; add a narrower path: or fingerprint:"
               for i in added if _blanket(waivers[i])]
    if blanket:
        raise PolicyError(f"{layer.file}: waiver too broad", blanket)
    return new, locks


def _blanket(w: Mapping[str, Any]) -> bool:
    """A waiver whose rule is a glob (``*``, ``EVAL*``), with no fingerprint, and whose path is
    a catch-all by what it matches (``**/*.*`` as much as ``**``)."""
    return is_glob(str(w.get("rule", ""))) and not w.get("fingerprint") and is_catch_all_path(w.get("path"))


def _linearize(doc: Doc, stack: list[str], seen: dict[str, str], out: list[Doc], schema: Mapping[str, Any], allow_unpinned: bool) -> None:
    """Depth-first: a document's parents first, in order, then the document itself."""
    from . import extends as ext

    stack = [*stack, doc.resolved.ident]
    for i, entry in enumerate((doc.src.data or {}).get("extends") or []):
        where = f"{doc.src.file}:{doc.src.line_of(('extends', i))}"
        res = ext.resolve(ext.parse_spec(entry, where), doc.resolved)
        if res.ident in stack:
            names = [*stack[stack.index(res.ident):], res.ident]
            raise PolicyError(f"{where}: extends cycle: {' -> '.join(_short(n) for n in names)}")
        if res.ident in seen:
            if res.sha256 and res.sha256 != seen[res.ident]:
                raise PolicyError(f"{where}: extends: {res.display}: sha256 digest mismatch: pinned {res.sha256}, "
                                  f"but it was already merged with {seen[res.ident]}")
            continue
        if len(stack) >= MAX_CHAIN_DEPTH:
            raise PolicyError(f"{where}: extends: chain deeper than {MAX_CHAIN_DEPTH} documents")
        fetched = ext.load(res, where, allow_unpinned)
        if res.kind == "url" and res.sha256 is None:
            print(f"mlsec-gates: warning: {res.display} is not pinned; pin it with sha256: {fetched.digest}", file=sys.stderr)
        try:
            text = fetched.data.decode("utf-8")
        except UnicodeDecodeError:
            raise PolicyError(f"{res.display}: policy is not UTF-8") from None
        src = load_yaml_text(text, res.display)
        validate_document(src, schema)
        _linearize(Doc(res, src, fetched.digest, fetched.how), stack, seen, out, schema, allow_unpinned)
    seen[doc.resolved.ident] = doc.digest
    out.append(doc)


def _short(ident: str) -> str:
    from . import extends as ext

    return ext.redact_url(ident) if "://" in ident else ident
