"""Ending a command-line process without the interpreter's teardown (issue 18: start-up budget).

Once ``mlsec-gates`` has written its reports and knows its exit code, the interpreter still tears
down every module and object, and pyarrow's C++ runtime its thread pools: ~25-45 ms of CPU for a
pii run, a tenth of a small scan. :func:`exit_process` does what the interpreter's own shutdown
does that can matter to anyone — waits for non-daemon threads (and runs ``concurrent.futures``'
exit hooks), runs the ``atexit`` handlers (multiprocessing clean-up, ``weakref.finalize`` such
as temporary directories, coverage), flushes stdout and stderr — then ends the process with
``os._exit``. Exit codes are unchanged. A failed flush (a closed pipe), an interactive session or
a tracer or profiler (a debugger, ``python -m cProfile``, coverage: they write their results at
teardown) fall back to the ordinary ``SystemExit``, which then behaves exactly as before.

Only process entry points use it (``python -m gates``, ``python -m gates.pii`` and the
``mlsec-gates`` console script through :func:`gates.core.cli.console_main`): a library caller of
``main()`` gets its return value, never an exit, and a program that runs a ``__main__`` module
with :mod:`runpy` still gets a ``SystemExit`` it can catch (:func:`launched_as`).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def _flush() -> bool:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            return False
    return True


def launched_as(module: str) -> bool:
    """Whether this process is ``python [options] -m module …`` (not a program that runs the
    module with :mod:`runpy` and may catch its ``SystemExit``)."""
    argv = list(getattr(sys, "orig_argv", None) or ())
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "-m":
            return i + 1 < len(argv) and argv[i + 1] == module
        if arg.startswith("-m"):
            return arg[2:] == module
        if arg.startswith("-c") or not arg.startswith("-") or arg == "-":
            return False  # a command, a script or stdin: not our module
        i += 2 if arg in ("-X", "-W", "--check-hash-based-pycs") else 1  # options with a separate value
    return False


def exit_process(code: int, module: str | None = None) -> NoReturn:
    """End the process with ``code``, skipping only the interpreter's object and module teardown.
    With ``module`` (a ``__main__`` module's package), only when the process was started as
    ``python -m module``; otherwise this is ``raise SystemExit(code)``."""
    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if (shutdown is None or run_exitfuncs is None or sys.flags.inspect or hasattr(sys, "ps1")
            or (module is not None and not launched_as(module))
            or sys.gettrace() is not None or sys.getprofile() is not None  # a debugger, cProfile, coverage
            or threading.current_thread() is not threading.main_thread() or not _flush()):
        raise SystemExit(code)
    shutdown()  # what Py_Finalize does first: threading's exit hooks, then join non-daemon threads
    run_exitfuncs()
    if not _flush():
        raise SystemExit(code)  # the ordinary exit reports a broken pipe as before
    os._exit(code)
