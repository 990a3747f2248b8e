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
``main()`` gets its return value, never an exit.
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


def exit_process(code: int) -> NoReturn:
    """End the process with ``code``, skipping only the interpreter's object and module teardown."""
    shutdown = getattr(threading, "_shutdown", None)
    run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
    if (shutdown is None or run_exitfuncs is None or sys.flags.inspect or hasattr(sys, "ps1")
            or sys.gettrace() is not None or sys.getprofile() is not None  # a debugger, cProfile, coverage
            or threading.current_thread() is not threading.main_thread() or not _flush()):
        raise SystemExit(code)
    shutdown()  # what Py_Finalize does first: threading's exit hooks, then join non-daemon threads
    run_exitfuncs()
    if not _flush():
        raise SystemExit(code)  # the ordinary exit reports a broken pipe as before
    os._exit(code)
