"""The pii gate's command-line options and how they map onto ``gates.pii`` policy options.

The policy section itself (JSON Schema, defaults, and the scan configuration built from it) is
in :mod:`.config`; this module only adds the flags and turns parsed flags into option overrides,
so the gate class stays a thin driver.
"""

from __future__ import annotations

import argparse
from typing import Any

from .readers import FORMATS

EPILOG = """examples:
  mlsec-gates pii data/                                   # every dataset file under data/
  mlsec-gates pii users.csv.gz --format json --output pii.json
  mlsec-gates pii train.parquet --policy .mlsec-gates.yml --workers 2

rules: PII001 personal data, PII002 secret, PII003 known test value (info), PII004 custom entity,
PII005 binary file not scanned, PII006 data file in a format the gate does not read.
Evidence is always masked; value_hash is a salted hash.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input-format", choices=FORMATS, help="force the input format (default: detect from content, then name)")
    parser.add_argument("--workers", type=int, metavar="N", help="worker processes for large files (0: one per CPU, 1: none)")
    parser.add_argument("--no-sampling", action="store_true", help="validate every candidate, also for fraction rules")


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Policy option overrides from the parsed flags (only the flags given)."""
    out: dict[str, Any] = {}
    if getattr(args, "input_format", None):
        out["format"] = args.input_format
    if getattr(args, "workers", None) is not None:
        out["workers"] = args.workers
    if getattr(args, "no_sampling", False):
        out["sampling"] = {"enabled": False}
    return out
