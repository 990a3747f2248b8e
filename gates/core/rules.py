"""Rules the core itself reports, whatever the gate."""

from __future__ import annotations

from .findings import Rule, Severity

CORE_RULES: dict[str, Rule] = {
    "CORE002": Rule(
        "CORE002", "Stale waiver", Severity.LOW,
        "A waiver that matches nothing hides nothing today but could silently hide a future finding.",
        "Delete the waiver from the policy, or fix its rule/path/fingerprint.",
    ),
    "CORE003": Rule(
        "CORE003", "Symlink escapes the scanned root", Severity.HIGH,
        "A symlink can make the gate read (or a later step ship) files from outside the repository.",
        "Replace the symlink with the file itself, or exclude it in the policy.",
    ),
}
