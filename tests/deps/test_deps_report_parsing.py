"""How the gate reads pip-audit's JSON report: everything pip-audit lets pass must not pass here.

The real pip-audit runs in test_deps_pip_audit.py; these cases (a report that leaves out a
dependency, or is malformed) cannot be provoked from the real tool, so its parser is fed
report entries directly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.deps.records import Advisory, Dependency
from gates.deps.services import PipAuditService, ServiceError, _safe_from_fixes


def batch(*pins):
    return {(n, v): [Dependency(n, v, Path("requirements.txt"), line=i + 1)] for i, (n, v) in enumerate(pins)}


def test_dependency_missing_from_report_is_an_error():
    svc = PipAuditService("osv")
    with pytest.raises(ServiceError, match="does not mention 1"):
        svc._results([{"name": "six", "version": "1.16.0", "vulns": []}], batch(("six", "1.16.0"), ("py", "1.11.0")), "pip-audit")


@pytest.mark.parametrize("entries", [[{"version": "1"}], ["six"], [{"name": "six", "version": "1.16.0", "vulns": [{"fix_versions": []}]}]])
def test_malformed_entries_are_errors(entries):
    with pytest.raises(ServiceError, match="malformed"):
        PipAuditService("osv")._results(entries, batch(("six", "1.16.0")), "pip-audit")


def test_skipped_entry_keeps_its_reason_and_location():
    res = PipAuditService("pypi")._results([{"name": "Six", "skip_reason": "Dependency not found on PyPI"}], batch(("six", "1.16.0")), "pip-audit")
    assert res[0].skip_reason == "Dependency not found on PyPI" and res[0].dependency.line == 1


def test_unexpected_dependency_in_report_is_an_error():
    with pytest.raises(ServiceError, match="not audited"):
        PipAuditService("osv")._results([{"name": "six", "version": "9.9", "vulns": []}], batch(("six", "1.16.0")), "pip-audit")


def test_safe_version_from_fix_lists():
    adv = [Advisory("A", fixed_versions=("1.26.17", "2.0.6")), Advisory("B", fixed_versions=("1.24.2",))]
    assert _safe_from_fixes("1.24.1", adv) == "1.26.17"
    assert _safe_from_fixes("1.24.1", [*adv, Advisory("C")]) is None  # one advisory has no fix
