""""Did you mean" for names a person typed: policy keys, metric names (difflib, no extra dependency)."""

from __future__ import annotations

from typing import Iterable

from .hygiene import clean_name


def did_you_mean(word: str, known: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` naming the closest of ``known``, or ``""`` when none is close.
    The suggestion is cleaned like any name: ``known`` may come from a scanned file."""
    import difflib  # on first use: only a typo needs it

    close = difflib.get_close_matches(word, sorted(set(known)), n=1, cutoff=cutoff)
    return f" (did you mean {clean_name(close[0])!r}?)" if close else ""
