"""The pii gate: PII and secrets in datasets, column by column, with redacted evidence only.

Reads CSV/TSV, JSON, JSON Lines, YAML, Parquet, Arrow IPC/Feather, ORC and plain text (plain or
gzip/bz2/xz/zstd), prefilters each column with RE2 inside pyarrow, validates candidates with
checksums and structural rules, and decides per column from the policy. No NLP model, no network.
Raw values never leave the scanner: findings carry a mask and a salted hash.

The gate class is in :mod:`.gate`, its rules in :mod:`.rules`, its flags in :mod:`.options` and
its policy section in :mod:`.config`; :mod:`.readers` turns files into column chunks,
:mod:`.engine` and :mod:`.scanner` scan them and :mod:`.decide` turns counts into findings.
"""

from __future__ import annotations

from .arrowload import import_pyarrow

import_pyarrow()  # before any module of the gate imports pyarrow: without numpy when it can (see there)

from .gate import GATE, PiiGate  # noqa: E402
from .rules import RULES  # noqa: E402

__all__ = ["GATE", "PiiGate", "RULES"]
