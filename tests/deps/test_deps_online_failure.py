"""Honest answers when the advisory source is weak: an old offline database (max_db_age_days)
and a missing one point at ``mlsec-gates deps db update``. (The PyPI-unreachable cases run the
real pip-audit through loopback servers in test_deps_pip_audit.py.)"""

from __future__ import annotations

from test_deps_gate import run_json, vulns

POLICY = "version: 1\ngates:\n  deps:\n    source: local\n    database: {db}\n    max_db_age_days: {days}\n{extra}"


def test_old_offline_database_is_a_warning(cli, tmp_path, reqfile, osv_db):
    # the shared PyPA snapshot's newest record is from 2024-10-10: older than 30 days
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("requests==2.19.0\n"),
                      policy=POLICY.format(db=osv_db, days=30, extra=""))
    assert r.code == 1 and vulns(rep)  # the audit still runs and still blocks on the advisory
    [old] = [f for f in rep["findings"] if f["rule"] == "DEPS008"]
    assert old["blocking"] is False and old["database_age_days"] > 30 and "deps db update" in old["message"]
    assert rep["gates"]["deps"]["errors"] == []


def test_old_offline_database_is_an_error_when_configured(cli, tmp_path, reqfile, osv_db):
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n"),
                      policy=POLICY.format(db=osv_db, days=30, extra="    stale_database: error\n"))
    assert r.code == 2
    [err] = rep["gates"]["deps"]["errors"]
    assert "days old" in err["message"] and "max_db_age_days: 30" in err["message"] and "deps db update" in err["message"]


def test_fresh_enough_database_gives_no_warning(cli, tmp_path, reqfile, osv_db):
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n"),
                      policy=POLICY.format(db=osv_db, days=100000, extra=""))
    assert r.code == 0 and not [f for f in rep["findings"] if f["rule"] == "DEPS008"]
    assert "1 of 1 pinned dependencies audited" in " ".join(rep["gates"]["deps"]["notes"])


def test_local_source_without_database_points_to_db_update(cli, tmp_path, reqfile):
    r, rep = run_json(cli, tmp_path, "--requirements", reqfile("six==1.16.0\n"), "--source", "local")
    assert r.code == 2 and "mlsec-gates deps db update" in rep["gates"]["deps"]["errors"][0]["message"]


def test_partial_skip_names_internal_packages_only_for_the_missing_name(tmp_path):
    """The service answered for one pin and not the other: the missing name is likely private,
    so that error (and only that one) mentions internal_packages; the note counts 1 of 2."""
    from pathlib import Path

    from gates.core.gate import GateContext
    from gates.deps import AuditReport, Dependency, DepsGate, PackageResult

    ctx = GateContext(DepsGate(), tmp_path, {"internal_packages": []}, {})
    pub = Dependency("requests", "2.31.0", Path("requirements.txt"), line=1)
    priv = Dependency("acme-models", "1.0", Path("requirements.txt"), line=2)
    report = AuditReport("pip-audit (pypi)", (PackageResult(pub), PackageResult(priv, skip_reason="Dependency not found on PyPI")))
    results = DepsGate._audited(ctx, report, [pub, priv], set())
    assert ctx.errors == [] and "1 of 2 pinned dependencies audited" in ctx.notes[-1]
    from gates.deps.report import report_result

    for res in results:
        report_result(ctx, res, [], set(), None)
    [err] = ctx.errors
    assert "acme-models" in err.message and "internal_packages" in err.message


def test_all_skipped_is_one_error_without_internal_packages_advice(tmp_path):
    from pathlib import Path

    from gates.core.gate import GateContext
    from gates.deps import AuditReport, Dependency, DepsGate, PackageResult

    ctx = GateContext(DepsGate(), tmp_path, {"internal_packages": []}, {})
    deps = [Dependency(n, "1.0", Path("requirements.txt"), line=i) for i, n in enumerate(("torch", "requests", "numpy"), 1)]
    report = AuditReport("pip-audit (pypi)", tuple(PackageResult(d, skip_reason="Dependency not found on PyPI") for d in deps))
    assert DepsGate._audited(ctx, report, deps, set()) == ()
    [err] = ctx.errors
    assert "0 of 3 pinned dependencies audited" in err.message and "internal_packages" not in err.message
    assert "source: local" in err.message and "0 of 3" in ctx.notes[-1]
