"""Finds the installed gates through the ``mlsec_gates.gates`` entry point group.

The core never imports a gate by name: a sixth gate (in this package or another distribution)
plugs in by declaring an entry point ``name = "module:GateClass"``. Gates are listed from the
entry-point metadata alone and imported one at a time, when a command needs that gate: printing
``--help`` or running the eval gate must not pay for pyarrow or sigstore.

A gate whose third-party dependencies are not installed (``pip install mlsec-gates`` without
the gate's extra) is :class:`GateUnavailable`: the command that needs it fails closed with the
exact ``pip install`` line.
"""

from __future__ import annotations

import functools
from importlib import metadata

from typing import TYPE_CHECKING

from .errors import GatesError

if TYPE_CHECKING:
    from .gate import Gate

ENTRY_POINT_GROUP = "mlsec_gates.gates"


class GateUnavailable(GatesError):
    """An installed gate cannot be imported because a dependency of its extra is missing."""

    def __init__(self, name: str, module: str, install: str) -> None:
        self.name = name
        self.module = module
        self.install = install
        super().__init__(f"the {name} gate needs {module!r}, which is not installed: run {install}")


@functools.lru_cache(maxsize=1)
def _all_entry_points() -> metadata.EntryPoints:
    """Every installed distribution's entry points, read once per process: the CLI asks for two
    groups (gates and extra commands) on every invocation, and each separate query reads every
    distribution's metadata again."""
    eps = metadata.entry_points()
    if isinstance(eps, dict):  # Python < 3.12: a (deprecated) dict of group -> EntryPoints
        return metadata.EntryPoints(ep for group in dict.values(eps) for ep in group)
    return eps


def command_entry_points(group: str) -> list[metadata.EntryPoint]:
    """The entry points of ``group``, sorted by name (nothing is imported)."""
    return sorted(_all_entry_points().select(group=group), key=lambda e: e.name)


@functools.lru_cache(maxsize=1)
def installed() -> dict[str, metadata.EntryPoint]:
    """Entry points by gate name, in a stable order (first one wins, e.g. when an editable
    install and a wheel are both visible). Nothing is imported."""
    out: dict[str, metadata.EntryPoint] = {}
    for ep in command_entry_points(ENTRY_POINT_GROUP):
        out.setdefault(ep.name, ep)
    if not out:
        raise GatesError("no gates are installed (is mlsec-gates installed with 'pip install .'?)")
    return out


def gate_names() -> list[str]:
    return list(installed())


@functools.lru_cache(maxsize=None)
def load_gate(name: str) -> Gate:
    """Import and instantiate one gate. A missing third-party module raises
    :class:`GateUnavailable`; any other failure is a :class:`GatesError` (a broken gate must
    not be silently dropped)."""
    eps = installed()
    if name not in eps:
        raise GatesError(f"unknown gate {name!r} (installed: {', '.join(eps)})")
    ep = eps[name]
    try:
        cls = ep.load()
    except ModuleNotFoundError as exc:
        unavailable = missing_dependency(name, exc)
        if unavailable is not None:
            raise unavailable from exc
        raise GatesError(f"gate {name!r} could not be loaded from {ep.value}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise GatesError(f"gate {name!r} could not be loaded from {ep.value}: {type(exc).__name__}: {exc}") from exc
    from .gate import Gate  # here, not at the top: listing gates (``--help``) imports no gate machinery

    inst = cls() if isinstance(cls, type) else cls
    if not isinstance(inst, Gate):
        raise GatesError(f"entry point {name!r} ({ep.value}) is not a Gate")
    return inst


def missing_dependency(name: str, exc: ModuleNotFoundError) -> GateUnavailable | None:
    """``exc`` as "the gate's extra is not installed", when the missing module is a third-party
    one (not a module of the gate's own package: that is a broken install, not a missing extra).
    Gates import heavy libraries on first use, so this also applies to errors raised by ``run``."""
    eps = installed()
    missing = (exc.name or "").split(".")[0]
    ep = eps.get(name)
    if ep is None or not missing or missing == ep.value.split(".")[0]:
        return None
    return GateUnavailable(name, missing, install_hint(ep))


def install_hint(ep: metadata.EntryPoint) -> str:
    """``pip install 'DIST[GATE]'`` when the distribution declares an extra named like the gate."""
    dist = ep.dist
    name = dist.metadata["Name"] if dist is not None else "mlsec-gates"
    extras = set(dist.metadata.get_all("Provides-Extra") or []) if dist is not None else set()
    return f"pip install '{name}[{ep.name}]'" if ep.name in extras else f"pip install '{name}'"


def load_gates(names: list[str] | None = None) -> tuple[dict[str, Gate], dict[str, GateUnavailable]]:
    """The named (default: all installed) gates that can be imported, and those that cannot."""
    gates: dict[str, Gate] = {}
    missing: dict[str, GateUnavailable] = {}
    for name in names if names is not None else gate_names():
        try:
            gates[name] = load_gate(name)
        except GateUnavailable as exc:
            missing[name] = exc
    return gates, missing


def available_gates() -> dict[str, Gate]:
    """Every installed gate, imported (fails when one cannot be): for tests and tools that
    need them all."""
    return {name: load_gate(name) for name in gate_names()}
