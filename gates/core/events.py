"""What the run is doing, as it happens: gates starting and ending, files scanned.

Gates already tell the context each file they scanned (``ctx.scanned``); the context and the
runner also publish that here, so the command line can list files (``--verbose``) or show a
progress bar without gates knowing either exists. Listeners are process-wide (a gate may report
from a worker thread, where context variables would not follow) and must be quick; an exception
in a listener is swallowed: feedback must never change a verdict.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

GATE_START, FILE, GATE_END, RUN_END = "gate-start", "file", "gate-end", "run-end"


@dataclass(frozen=True)
class Event:
    """One step of a run. ``path`` is the display path (already cleaned) for ``file`` events;
    ``index``/``total`` place a ``gate-start`` among the gates the run will try."""

    kind: str
    gate: str = ""
    path: str = ""
    items: int = 0
    index: int = 0
    total: int = 0


Listener = Callable[[Event], None]

_lock = threading.Lock()
_listeners: list[Listener] = []


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call ``listener`` with every event published while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.remove(listener)


def emit(event: Event) -> None:
    """Publish ``event`` to every listener (no listener: nothing happens, at no cost)."""
    if not _listeners:
        return
    with _lock:
        current = list(_listeners)
    for listener in current:
        try:
            listener(event)
        except Exception:  # noqa: BLE001 - a progress display must not fail a gate
            pass
