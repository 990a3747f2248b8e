"""The deps gate's rules: ids, default severities, why and remediation, as data."""

from __future__ import annotations

from gates.core.findings import Rule, Severity

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("DEPS001", "Dependency with a known vulnerability", Severity.HIGH,
             "An installed version is affected by a published advisory; the severity is the advisory's (CVSS base score, else GHSA's rating, else the policy's `unknown_severity`).",
             "Upgrade to the version in `safe_version` (the smallest release that clears every advisory for the package), or add a policy ignore with a reason and an expiry."),
        Rule("DEPS002", "Requirement not pinned to one version", Severity.HIGH,
             "An unpinned, URL, VCS, editable or path requirement cannot be audited by version, and what gets installed can change between builds.",
             "Pin an exact version (`name==X.Y.Z`) from a lock file or `pip-compile`; depend on published releases instead of URLs."),
        Rule("DEPS003", "Requirement without a hash", Severity.HIGH,
             "The policy requires hashes (`require_hashes`): without one, a replaced or tampered artifact would install unnoticed.",
             "Generate hashes (`pip-compile --generate-hashes`, `uv pip compile --generate-hashes`) and install with `--require-hashes`."),
        Rule("DEPS004", "Advisory ignore expired", Severity.HIGH,
             "The policy ignore's expiry date has passed, so the advisory it covered blocks again and the exception needs a fresh decision.",
             "Upgrade the package, or renew the ignore with a new `expires` date and an updated reason after review."),
        Rule("DEPS005", "Advisory ignore matches nothing", Severity.LOW,
             "The policy ignores an advisory no audited dependency has (fixed, removed or mistyped): dead exceptions hide future mistakes.",
             "Delete the ignore from the policy."),
        Rule("DEPS006", "Dependency not audited", Severity.LOW,
             "The requirement is not pinned to one version (and `require_pins` is off), so no advisory lookup was possible for it.",
             "Pin it, or audit the lock file or installed environment instead of the loose requirement."),
        Rule("DEPS007", "Advisory ignored by policy", Severity.INFO,
             "The advisory affects the dependency but a current policy ignore covers it; listed so the exception stays visible.",
             "Remove the ignore once the package is upgraded."),
        Rule("DEPS008", "Offline advisory database is old", Severity.MEDIUM,
             "The OSV database on disk is older than the policy's `max_db_age_days`: advisories published since are not checked, so a vulnerable pin can pass.",
             "Refresh it with `mlsec-gates deps db update --dest DIR` (for example in a scheduled CI job) and point `gates.deps.database` at it."),
    )
}
