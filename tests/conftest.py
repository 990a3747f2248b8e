"""Shared fixtures: the CLI run in-process, and the read-only ../shared/ test data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from gates.core.cli import main

REPO = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    """``../shared`` beside the checkout (CI), or ``$MLSEC_GATES_SHARED`` (worktrees)."""
    env = os.environ.get("MLSEC_GATES_SHARED")
    return Path(env) if env else REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_root()
    if not (root / "testdata").is_dir():
        pytest.skip(f"shared test data not found at {root} (set MLSEC_GATES_SHARED)")
    return root / "testdata"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``mlsec-gates ARGS`` in-process; ``cwd=`` changes directory for the call."""

    def run(*args: str, cwd: Path | str | None = None) -> CliResult:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def deny_listing(monkeypatch):
    """``deny_listing("name")``: listing any directory whose path ends in ``name`` fails with EACCES
    (chmod cannot do this when the tests run as root)."""
    real = os.scandir

    def deny(suffix: str) -> None:
        def scandir(path="."):
            if os.fspath(path).endswith(suffix):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path)

        monkeypatch.setattr(os, "scandir", scandir)

    return deny
