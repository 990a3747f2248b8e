"""The worker processes of a gate run: started once, shared by all its files.

Why a module of its own: how the workers come up decides how long a run of many small files
waits before its first batch is scanned, and whether it is safe. They are forked from the gate's
process when nothing else runs in it (:func:`one_thread`), and come from a fork server
otherwise; :mod:`.engine` only hands them work.
"""

from __future__ import annotations

import os
from typing import Any

from .engine import WORKER_PRELOAD, ScanConfig, worker_init


def _worker_ready() -> None:
    """A no-op task: getting its answer means a worker process is up."""


class Pool:
    """A lazily started process pool shared by all files of one gate run.

    The workers are forked from this process when it runs a single thread (:func:`one_thread`):
    they are up in milliseconds and share what it has imported. Otherwise (a read-ahead or
    pyarrow thread is running, and forking a threaded process can deadlock on a lock another
    thread held) they come from a fork server, brought up in a background thread (about 0.2 s:
    the server imports pyarrow before it can fork), so the caller can scan the first chunks
    itself meanwhile instead of waiting; :meth:`ready` hands out the executor once they are up.
    On 592 small files, where the parent waited for them, the fork server cost ~0.15 s of a
    1.3 s run."""

    def __init__(self, cfg: ScanConfig, workers: int) -> None:
        self.cfg, self.workers, self._ex = cfg, workers, None
        self._starting: Any = None
        self._started = False
        self._failed = False

    def executor(self, fork: bool = False) -> Any:
        if self._ex is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # the fork server preloads this module, and what classification loads on first
            # use (stdnum, phonenumbers and its default regions' metadata), once for all
            # workers: 592 small files, machine CPU 7.6 -> 7.4 s (a missing one is skipped)
            try:
                if fork:
                    mp = multiprocessing.get_context("fork")
                else:
                    mp = multiprocessing.get_context("forkserver")
                    mp.set_forkserver_preload(["gates.pii.engine", "gates.pii.pool", *WORKER_PRELOAD])
            except ValueError:  # no fork server (Windows)
                mp = multiprocessing.get_context("spawn")
            self._ex = ProcessPoolExecutor(self.workers, mp_context=mp, initializer=worker_init, initargs=(self.cfg,))
        return self._ex

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        if one_thread():
            # forked here, now (the first task forks every worker in this thread, before the
            # executor starts its own threads); nothing to wait for
            self._warm(fork=True, wait=False)
            return
        import threading

        self._starting = threading.Thread(target=self._warm, name="pii-pool-start", daemon=True)
        self._starting.start()

    def _warm(self, fork: bool = False, wait: bool = True) -> None:
        import warnings

        try:
            ex = self.executor(fork)
            with warnings.catch_warnings():
                # Python 3.12+ warns on any fork from a process the kernel lists more than one
                # thread for: here the other is jemalloc's, checked fork-safe (one_thread)
                warnings.filterwarnings("ignore", r"This process .* is multi-threaded", DeprecationWarning)
                ready = [ex.submit(_worker_ready) for _ in range(self.workers)]
            if wait:
                for f in ready:
                    f.result()
        except Exception:  # noqa: BLE001 - no workers: the caller scans everything itself
            self._failed = True

    def wait(self) -> Any:
        """The executor once its workers are up (waiting for them); None if they could not start."""
        self.start()
        if self._starting is not None:
            self._starting.join()
        return self._up()

    def ready(self) -> Any:
        """The executor once its workers are up; None while they start (or if they could not)."""
        return self._up()

    def _up(self) -> Any:
        if not self._started or self._failed or (self._starting is not None and self._starting.is_alive()):
            return None
        return self._ex

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        if self._ex is not None:
            self._ex.shutdown(cancel_futures=True)
            self._ex = None


#: native threads forking is safe beside: jemalloc's background thread (pyarrow starts it on
#: import), whose allocator takes all its locks around ``fork`` and restarts it in the child
FORK_SAFE_THREADS = frozenset({"jemalloc_bg_thd"})


def one_thread() -> bool:
    """Whether this process runs no other thread than this one, counted by the kernel (pyarrow's
    and other native threads too, which :mod:`threading` does not see), apart from
    :data:`FORK_SAFE_THREADS`: the one case where forking is safe. False where that cannot be
    told (not Linux) and where ``fork`` is not available."""
    import threading

    if threading.active_count() != 1 or not hasattr(os, "fork"):
        return False
    me = str(threading.get_native_id())
    try:
        for tid in os.listdir("/proc/self/task"):
            if tid != me:
                with open(f"/proc/self/task/{tid}/comm", encoding="utf-8", errors="replace") as f:
                    if f.read().strip() not in FORK_SAFE_THREADS:
                        return False
    except OSError:
        return False
    return True
