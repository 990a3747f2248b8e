"""The eval gate: evaluation results held to absolute thresholds and to a baseline.

The gate class is in :mod:`.gate`, its rules in :mod:`.rules`, its options in :mod:`.options`
and the results readers in :mod:`.readers`.
"""

from __future__ import annotations

from .gate import EvalGate
from .rules import RULES

__all__ = ["EvalGate", "RULES"]
