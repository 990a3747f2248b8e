"""The deps gate: known vulnerabilities in the Python dependencies, failing closed.

The gate class lives in :mod:`.gate`; inputs in :mod:`.inputs` and the parsers it registers;
advisory services in :mod:`.services` and :mod:`.osv`; records in :mod:`.records`.
"""

from __future__ import annotations

from .gate import DepsGate
from .records import Advisory, AuditReport, Dependency, PackageResult
from .rules import RULES

__all__ = ["DepsGate", "RULES", "Advisory", "AuditReport", "Dependency", "PackageResult"]
