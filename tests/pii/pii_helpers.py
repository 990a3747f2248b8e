"""Helpers shared by the pii gate tests: fake (generated) identifiers and report queries."""

from __future__ import annotations

import random
import string


def luhn_complete(body: str) -> str:
    """``body`` plus the Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def fake_card(prefix: str, length: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return luhn_complete(prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1)))


def fake_iban(country: str, bban: str) -> str:
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - num % 97:02d}{bban}"


def found(report: dict, entity: str | None = None, rule: str | None = None) -> list[dict]:
    return [f for f in report.get("findings", []) if (entity is None or f["entity"] == entity) and (rule is None or f["rule"] == rule)]


def example_rows(findings: list[dict]) -> list[tuple[int, str | None]]:
    """(row, column) of every listed example of ``findings`` (one finding per column and entity)."""
    return sorted((e["row"], f["column"]) for f in findings for e in f.get("examples", []))
