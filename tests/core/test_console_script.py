"""The installed ``mlsec-gates`` console script runs the demo as the README says."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gates import __version__

REPO = Path(__file__).resolve().parents[2]


def script() -> str:
    exe = Path(sys.executable).with_name("mlsec-gates")
    found = str(exe) if exe.exists() else shutil.which("mlsec-gates")
    if not found:
        pytest.fail("mlsec-gates console script is not installed next to this Python")
    return found


def test_version_and_help():
    out = subprocess.run([script(), "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"mlsec-gates {__version__}"
    h = subprocess.run([script(), "run", "--help"], capture_output=True, text=True)
    assert h.returncode == 0 and "examples:" in h.stdout and "exit codes" in h.stdout


def test_readme_demo_command_fails_with_a_report(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.run([script(), "run", "examples/demo", "--gate", "eval", "--format", "json", "--output", str(out)],
                       cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert "Result: FAIL" in p.stdout
    rep = json.loads(out.read_text())
    assert rep["status"] == "fail" and any(f["blocking"] for f in rep["findings"])
