"""The model gate: an allowlist-first static scanner for model files (see ``gate.py``).

Layout: ``gate`` (the :class:`ModelGate` CLI face) -> ``scanner`` (one file: sniff, dispatch) ->
``registry`` (format -> handler) -> handlers (``pickles``, ``containers``, ``formats``) ->
``scan`` (the per-file state every handler reports to).
"""

from __future__ import annotations

from .gate import ModelGate

__all__ = ["ModelGate"]
