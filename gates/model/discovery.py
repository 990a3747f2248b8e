"""Which discovered files the scanner must read: every file that *could* be a model, by content.

Loaders do not care about names (``torch.load("weights.dat")``, ``pickle.load(open("x.pkl5"))``),
so neither may discovery. Every regular file under a scanned path is kept when its name is a
model name, or else when its first bytes sniff as anything but plain text or unknown bytes.
Sniffing reads at most :data:`HEAD` bytes per file, in the parent process, so a tree of
thousands of source files costs one short read each and never reaches the scanner pool.
Protocol-0 pickles are text: text that starts with a pickle opcode sniffs as ``pickle?`` and is
walked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gates.core import files as _files

from .sniff import MODEL_GLOBS, sniff

HEAD = 1024
#: names that always go to the scanner whatever their content (extended by format handlers that
#: judge text: chat templates beside a model)
ALWAYS_SCAN: tuple[str, ...] = (*MODEL_GLOBS, "**/*.jinja", "**/*.json")
#: sniffed kinds that are not a model by themselves (unless the name says a loader will read it)
NOT_A_MODEL = frozenset({"text", "unknown"})


def model_named(rel: str) -> bool:
    """True when the root-relative path is named like a model file (or a file a handler reads)."""
    return _files.any_match(rel, ALWAYS_SCAN)


def read_head(path: Path, n: int = HEAD) -> bytes | None:
    """The first ``n`` bytes of a regular file, never blocking on a FIFO or device that replaced
    it after discovery; None when it cannot be read (the scanner then reports why)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, n)
    except OSError:
        return None
    finally:
        os.close(fd)


def worth_scanning(path: Path, rel: str) -> bool:
    """Model-named files, and any file whose content sniffs as a format we judge (or that cannot
    be read here: the scanner turns that into a finding)."""
    if model_named(rel):
        return True
    head = read_head(path)
    if head is None:
        return True
    return sniff(head, path.name) not in NOT_A_MODEL
