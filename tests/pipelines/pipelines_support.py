"""Helpers for the pipeline tests: the failing demo, a fixed ("clean") copy, tool lookup.

``require_tool`` is the one place that decides what a missing external tool means: a failure in
CI (``CI=true``: ``.ci/setup-tools`` must have installed it), a skip with the reason elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gates.core.registry import available_gates

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"
NODE_DIR = REPO / ".ci" / "node" / "node_modules"

# The demo with its failing results fixed by a policy whose bars they meet; every other installed
# gate is switched off so the copy passes whichever gates this installation has.
CLEAN_EVAL = {
    "results": ["eval/results_2026-11-20T10-00-00.json", "eval/slices.csv"],
    "baseline": "eval/baseline.json",
    "metrics": {
        "hellaswag/acc_norm": {"min": 0.60, "max_regression": 0.05},
        "mmlu/acc": {"min": 0.50, "required": True},
        "subgroup/*/accuracy": {"min": 0.75, "max_gap": 0.10},
    },
}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(path: Path | str | None, what: str) -> Path:
    """The tool's path; fail in CI when absent, else skip saying how to get it."""
    if path and Path(path).exists():
        return Path(path)
    msg = f"{what} not found ({path}); run .ci/setup-tools"
    if in_ci():
        pytest.fail(msg + " — CI must install it, not skip")
    pytest.skip(msg)


def node_bin(name: str) -> Path:
    return NODE_DIR / ".bin" / name


def write_clean_demo(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DEMO / "eval", dst / "eval")
    gates: dict = {"eval": CLEAN_EVAL}
    for name in available_gates():
        if name != "eval":
            gates[name] = {"enabled": False}
    (dst / ".mlsec-gates.yml").write_text(yaml.safe_dump({"version": 1, "defaults": {"fail_on": "high"}, "gates": gates}, sort_keys=False))
    return dst


def run_json(root: Path, out: Path, cwd: Path | None = None) -> tuple[int, dict]:
    """``mlsec-gates run ROOT --format json`` in a subprocess (the installed command, as CI runs it)."""
    r = subprocess.run([sys.executable, "-m", "gates", "run", str(root), "-q", "--format", "json", "--output", str(out)],
                       cwd=cwd, capture_output=True, text=True, timeout=120)
    return r.returncode, json.loads(out.read_text())


ACTION = REPO / "action.yml"
