"""The pii gate: PII and secrets in datasets, column by column, with redacted evidence only.

Reads CSV/TSV, JSON, JSON Lines, Parquet and plain text (plain or gzip/bz2/xz/zstd), prefilters
each column with RE2 inside pyarrow, validates candidates with checksums and structural rules
(Luhn and issuer table, IBAN mod-97, SSN/ITIN rules, ABA checksum, base58check/bech32/EIP-55,
vendor token shapes, entropy), and decides per column from the policy. No NLP model, no network.
Raw values never leave the scanner: findings carry a mask and a salted hash.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gates.core import files as _files
from gates.core.errors import InputError
from gates.core.findings import Rule, Severity
from gates.core.gate import Gate, GateContext

from . import config as _config
from .decide import report_file
from .engine import Pool, scan_chunks
from .readers import FORMATS, Binary, read

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("PII001", "Personal data in dataset", Severity.HIGH,
             "The dataset holds personal data (cards, SSNs, IBANs, emails, phone numbers...). Training or shipping it can leak it "
             "through the model or the artifact and breaks data-protection rules.",
             "Remove or pseudonymise the column (tokenise, hash with a secret key, or generalise), or exclude the file from the "
             "dataset. If the values are synthetic, allowlist them (gates.pii.allow) or waive the finding with a reason."),
        Rule("PII002", "Secret or credential in dataset", Severity.CRITICAL,
             "A credential (private key, cloud or vendor token, JWT, password) is in the data: anyone with the dataset or a model "
             "trained on it can use it.",
             "Revoke and rotate the credential now, then remove it from the data and from the history of wherever it was stored."),
        Rule("PII003", "Known test value", Severity.INFO,
             "The value is a published test or documentation value (e.g. card 4111 1111 1111 1111, AKIAIOSFODNN7EXAMPLE); it is "
             "reported so you know it is there, never blocking.",
             "Nothing to do, unless test fixtures should not be in this dataset at all."),
        Rule("PII004", "Custom entity in dataset", Severity.HIGH,
             "A value matches a custom entity defined in the policy (gates.pii.custom).",
             "Remove or pseudonymise the values, or change the custom entity's action."),
        Rule("PII005", "File not scanned: binary content", Severity.LOW,
             "The file holds binary data the gate does not read (not CSV/TSV, JSON, JSONL, Parquet or text), so it was not checked.",
             "Exclude the file from gates.pii.paths, or convert the data to a supported format."),
    )
}


class PiiGate(Gate):
    name = "pii"
    per_file = True  # each file is judged on its own: --shard splits its files
    title = "PII and secrets in datasets"
    description = "PII and secrets in datasets (CSV/TSV, JSON, JSONL, Parquet, text; compressed too), per column, with redacted evidence."
    rules = RULES
    default_paths = _config.DEFAULT_PATHS
    options_schema = _config.OPTIONS_SCHEMA
    default_options = _config.DEFAULT_OPTIONS
    epilog = """examples:
  mlsec-gates pii data/                                   # every dataset file under data/
  mlsec-gates pii users.csv.gz --format json --output pii.json
  mlsec-gates pii train.parquet --policy .mlsec-gates.yml --workers 2

rules: PII001 personal data, PII002 secret, PII003 known test value (info), PII004 custom entity,
PII005 binary file not scanned. Evidence is always masked; value_hash is a salted hash.
"""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--input-format", choices=FORMATS, help="force the input format (default: detect)")
        parser.add_argument("--workers", type=int, metavar="N", help="worker processes for large files (0: one per CPU, 1: none)")
        parser.add_argument("--no-sampling", action="store_true", help="validate every candidate, also for fraction rules")

    def options_from_args(self, args: argparse.Namespace) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if getattr(args, "input_format", None):
            out["format"] = args.input_format
        if getattr(args, "workers", None) is not None:
            out["workers"] = args.workers
        if getattr(args, "no_sampling", False):
            out["sampling"] = {"enabled": False}
        return out

    def run(self, ctx: GateContext) -> None:
        opts = ctx.options
        cfg, limits = _config.build(opts)
        allow_paths = list((opts.get("allow") or {}).get("paths") or [])
        workers = int(opts.get("workers", 0)) or (os.cpu_count() or 1)
        min_parallel = int(float(opts.get("parallel_min_mb", 24)) * (1 << 20))
        pool = Pool(cfg, workers) if workers > 1 else None
        fmt = opts.get("format", "auto")
        skipped = 0
        try:
            files = []
            for path in ctx.discover():
                if allow_paths and _files.any_match(ctx.relative(path), allow_paths):
                    skipped += 1
                    continue
                files.append((path, _size(path)))
            for path, size in files:
                self._scan(ctx, path, cfg, limits, fmt, pool if size >= min_parallel else None)
        finally:
            if pool is not None:
                pool.close()
        if skipped:
            ctx.note(f"{skipped} file(s) skipped by gates.pii.allow.paths")
        if cfg.salt == "mlsec-gates/pii/v1":
            ctx.note("value hashes use the public default salt; set MLSEC_GATES_PII_SALT to a secret for unguessable hashes")

    def _scan(self, ctx: GateContext, path: Path, cfg: Any, limits: Any, fmt: str, pool: Pool | None) -> None:
        try:
            info, chunks = read(path, limits, fmt, inline=pool is None)
            columns = scan_chunks(chunks, cfg, pool)
        except Binary:
            ctx.add("PII005", "binary file: not scanned for PII", path, blocking=False, key="binary")
            return
        except InputError as exc:
            ctx.error(exc.reason, path)
            return
        except (OSError, EOFError) as exc:
            ctx.error(f"cannot read: {type(exc).__name__}", path)
            return
        except Exception as exc:  # noqa: BLE001 - decompressors raise their own types; never echo their text
            ctx.error(f"cannot read ({type(exc).__name__})", path)
            return
        ctx.scanned(path, info.rows)
        for n in info.notes:
            ctx.note(f"{ctx.display(path)}: {n}")
        for p in info.problems:
            ctx.error(p, path)
        report_file(ctx, path, info, columns, cfg)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported by the reader, which names the file


GATE = PiiGate
