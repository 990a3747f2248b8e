"""Tool directories (venv, node_modules, caches) are skipped only when git does not track them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gates.core.files import walk


def _names(root: Path) -> set[str]:
    return {p.relative_to(root.resolve()).as_posix() for p in walk(root, ["**/*.pkl"], []).files}


def test_a_committed_file_in_a_directory_named_venv_is_scanned(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for rel in ("models/venv/evil.pkl", "node_modules/evil.pkl", ".venv/made_by_ci.pkl", ".cache/pip/made_by_ci.pkl", "ok.pkl"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "models/venv/evil.pkl", "node_modules/evil.pkl", "ok.pkl"], check=True)
    # what the pull request commits is scanned; the untracked virtualenv CI made is not
    assert _names(tmp_path) == {"models/venv/evil.pkl", "node_modules/evil.pkl", "ok.pkl"}


def test_outside_a_git_repository_tool_directories_are_still_skipped(tmp_path):
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "x.pkl").write_bytes(b"x")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "y.pkl").write_bytes(b"x")
    (tmp_path / ".cache" / "pip").mkdir(parents=True)  # the GitLab template's PIP_CACHE_DIR
    (tmp_path / ".cache" / "pip" / "z.pkl").write_bytes(b"x")
    (tmp_path / "ok.pkl").write_bytes(b"x")
    assert _names(tmp_path) == {"ok.pkl"}


def test_a_directory_that_cannot_be_listed_puts_the_gate_in_error(tmp_path, deny_listing):
    """os.walk drops unreadable directories silently; their files would go unscanned."""
    from gates.core.findings import Status
    from gates.core.gate import Gate
    from gates.core.loader import load_policy
    from gates.core.runner import run_gates

    class Lister(Gate):
        name = "lister"
        title = "Lists files"

        def run(self, ctx) -> None:
            for p in ctx.discover():
                ctx.scanned(p)

    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "model.pkl").write_bytes(b"x")
    (tmp_path / "ok.pkl").write_bytes(b"x")
    deny_listing("locked")
    gates = {"lister": Lister()}
    (res,) = run_gates(gates, load_policy(None, gates), tmp_path).results
    assert res.status is Status.ERROR
    assert res.errors[0].message == "cannot list directory: Permission denied" and res.errors[0].path.endswith("locked")


def test_git_is_asked_once_per_work_tree_not_once_per_tool_directory(tmp_path, monkeypatch):
    """A tree after a test run has a __pycache__ in every package: one ``git ls-files`` each cost
    seconds on large trees. The index is listed once; a later ``git add`` is seen."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    for i in range(20):
        (tmp_path / f"pkg{i}" / "__pycache__").mkdir(parents=True)
        (tmp_path / f"pkg{i}" / "__pycache__" / "m.pkl").write_bytes(b"x")
    (tmp_path / "pkg3" / "__pycache__" / "tracked.pkl").write_bytes(b"x")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "pkg3/__pycache__/tracked.pkl"], check=True)
    calls = []
    real = subprocess.run

    def counting(cmd, *a, **k):
        calls.append(cmd)
        return real(cmd, *a, **k)

    monkeypatch.setattr(subprocess, "run", counting)
    assert _names(tmp_path) == {"pkg3/__pycache__/m.pkl", "pkg3/__pycache__/tracked.pkl"}
    assert len([c for c in calls if "ls-files" in c]) == 1
    real(["git", "-C", str(tmp_path), "add", "-f", "pkg7/__pycache__/m.pkl"], check=True)
    assert _names(tmp_path) == {"pkg3/__pycache__/m.pkl", "pkg3/__pycache__/tracked.pkl", "pkg7/__pycache__/m.pkl"}
