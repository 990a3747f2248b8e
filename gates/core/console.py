"""How the command line talks to a person: width, colour, ``--verbose`` and the progress bar.

The console report must come out whatever the terminal says about itself: some pseudo-terminals
(``docker -t``, ``kubectl exec -t``, ``script``) report 0 columns, and a job log has no width at
all. So: ``COLUMNS`` wins when it is a positive number; a terminal that reports a width uses it;
anything else gets :data:`FALLBACK_WIDTH`, and off a terminal lines are never hard-wrapped (a CI
log viewer wraps them itself). Colour follows https://no-color.org and https://force-color.org
(``--no-color`` and ``NO_COLOR`` win over ``FORCE_COLOR``, which wins over "is it a terminal").

Feedback while scanning goes to stderr only, so stdout can carry a report: ``--verbose`` lists
every file as a gate reports it scanned; the progress bar appears on a terminal once a scan has
run for :data:`PROGRESS_DELAY` seconds, never in CI (``CI`` set) unless ``--progress always``.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import IO, Any, Mapping

from . import events

FALLBACK_WIDTH = 100
PROGRESS_DELAY = 2.0
PROGRESS_CHOICES = ("auto", "always", "never")


@dataclass(frozen=True)
class ConsoleSettings:
    """What rich needs to print the console report: a width it can trust, colour or not, and
    whether long lines may be hard-wrapped (only on a terminal)."""

    width: int
    color: bool
    soft_wrap: bool


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _positive(value: str | None) -> int | None:
    try:
        n = int(value or "")
    except ValueError:
        return None
    return n if n > 0 else None


def console_width(stream: IO[str], environ: Mapping[str, str] | None = None) -> int:
    """``COLUMNS`` if set to a positive number, else the terminal's width if it reports one,
    else :data:`FALLBACK_WIDTH` (a pipe, a file, or a terminal that says 0 columns)."""
    env = os.environ if environ is None else environ
    columns = _positive(env.get("COLUMNS"))
    if columns:
        return columns
    if _isatty(stream):
        try:
            reported = os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            reported = 0
        if reported > 0:
            return reported
    return FALLBACK_WIDTH


def use_color(stream: IO[str], no_color_flag: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    """``--no-color`` or a non-empty ``NO_COLOR``: never; a non-empty ``FORCE_COLOR``: always;
    else only on a terminal (and not ``TERM=dumb``)."""
    env = os.environ if environ is None else environ
    if no_color_flag or env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", ""):
        return True
    return _isatty(stream) and env.get("TERM", "") != "dumb"


def settings_for(stream: IO[str], no_color_flag: bool = False, environ: Mapping[str, str] | None = None) -> ConsoleSettings:
    return ConsoleSettings(width=console_width(stream, environ), color=use_color(stream, no_color_flag, environ),
                           soft_wrap=not _isatty(stream))


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def want_progress(mode: str, quiet: bool, stream: IO[str], environ: Mapping[str, str] | None = None) -> bool:
    """``always``: yes; ``never`` or ``--quiet``: no; ``auto``: on a terminal outside CI."""
    if mode == "always":
        return True
    if mode == "never" or quiet:
        return False
    return _isatty(stream) and not in_ci(environ)


class Feedback:
    """Listens to the run's events: prints ``--verbose`` lines and drives the progress bar.

    The bar only starts after ``delay`` seconds (a quick scan prints nothing extra), is transient
    (gone before the report prints) and stops at the run's end. Everything goes to ``stream``.
    """

    def __init__(self, *, verbose: bool, progress: bool, stream: IO[str] | None = None, delay: float = PROGRESS_DELAY,
                 force_terminal: bool = False) -> None:
        self.verbose = verbose
        self.progress_wanted = progress
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.force_terminal = force_terminal
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._bar: Any = None  # rich.progress.Progress, imported only when a bar is shown
        self._task: Any = None
        self._done = False
        self._gate, self._index, self._total, self._files, self._last = "", 0, 0, 0, ""

    # ---- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> "Feedback":
        if self.progress_wanted:
            self._timer = threading.Timer(self.delay, self._start_bar)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self._lock:
            self._done = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                self._bar = None

    # ---- events ---------------------------------------------------------------------------------
    def __call__(self, event: events.Event) -> None:
        with self._lock:
            if event.kind == events.GATE_START:
                self._gate, self._index, self._total, self._files, self._last = event.gate, event.index, event.total, 0, ""
                self._say(f"mlsec-gates: [{event.index}/{event.total}] {event.gate}")
            elif event.kind == events.FILE:
                self._files += 1
                self._last = event.path
                items = f" ({event.items} item{'s' if event.items != 1 else ''})" if event.items else ""
                self._say(f"  {event.gate}: {event.path}{items}")
            elif event.kind == events.RUN_END:
                self.stop()
                return
            self._refresh()

    def _say(self, line: str) -> None:
        if not self.verbose:
            return
        if self._bar is not None:
            self._bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=self.stream, flush=True)

    def _describe(self) -> str:
        where = f" · {self._last}" if self._last else ""
        return f"{self._gate} ({self._index}/{self._total}) · {self._files} files{where}"

    def _refresh(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=self._describe())

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._done or self._bar is not None:
                return
            console = Console(file=self.stream, force_terminal=True if self.force_terminal else None,
                              width=console_width(self.stream), highlight=False)
            bar = Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), TimeElapsedColumn(),
                           console=console, transient=True)
            self._task = bar.add_task(self._describe(), total=None)
            bar.start()
            self._bar = bar
