"""Finds the installed gates through the ``mlsec_gates.gates`` entry point group.

The core never imports a gate by name: a sixth gate (in this package or another distribution)
plugs in by declaring an entry point ``name = "module:GateClass"``.
"""

from __future__ import annotations

import functools
from importlib import metadata

from .errors import GatesError
from .gate import Gate

ENTRY_POINT_GROUP = "mlsec_gates.gates"


@functools.lru_cache(maxsize=1)
def available_gates() -> dict[str, Gate]:
    """Gate instances by name, in a stable order (entry point name)."""
    gates: dict[str, Gate] = {}
    eps = sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    for ep in eps:
        if ep.name in gates:
            continue  # first one wins (e.g. an editable install and a wheel both visible)
        try:
            cls = ep.load()
        except Exception as exc:  # a broken gate must not be silently dropped
            raise GatesError(f"gate {ep.name!r} could not be loaded from {ep.value}: {type(exc).__name__}: {exc}") from exc
        inst = cls() if isinstance(cls, type) else cls
        if not isinstance(inst, Gate):
            raise GatesError(f"entry point {ep.name!r} ({ep.value}) is not a Gate")
        gates[inst.name] = inst
    if not gates:
        raise GatesError("no gates are installed (is mlsec-gates installed with 'pip install .'?)")
    return gates
