"""Fixtures for the pii gate tests: run the gate through the real CLI and read its JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def pii(cli, tmp_path):
    """``pii(*paths, policy=None, extra=())`` → (exit code, report dict, CliResult)."""

    def run(*paths: Path | str, policy: str | None = None, extra: tuple[str, ...] = ()):
        out = tmp_path / "pii-report.json"
        args = ["pii", *map(str, paths), "--root", str(tmp_path), "--format", "json", "--output", str(out), "-q", *extra]
        if policy is not None:
            pf = tmp_path / "policy.yml"
            pf.write_text(policy, encoding="utf-8")
            args += ["--policy", str(pf)]
        r = cli(*args)
        report = json.loads(out.read_text()) if out.exists() else {}
        return r.code, report, r

    return run
