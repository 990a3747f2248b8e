"""Fixtures for the pipeline tests (helpers live in pipelines_support)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipelines_support import ACTION, DEMO, REPO, run_json, write_clean_demo


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory) -> dict[str, Path]:
    """JSON reports of the failing demo and of the clean copy."""
    d = tmp_path_factory.mktemp("demo-reports")
    code_fail, _ = run_json(DEMO, d / "fail.json", cwd=REPO)
    code_pass, _ = run_json(write_clean_demo(d / "clean"), d / "pass.json", cwd=d)
    assert (code_fail, code_pass) == (1, 0)
    return {"fail": d / "fail.json", "pass": d / "pass.json"}



@pytest.fixture(scope="session")
def action_fail(tmp_path_factory):
    """The whole action, install step included (from this checkout), on the failing demo."""
    from pipelines_harness import run_action

    base = tmp_path_factory.mktemp("action-fail")
    ws = base / "ws"
    shutil.copytree(DEMO, ws / "examples" / "demo")
    (base / "temp").mkdir()
    return run_action(ACTION, {"path": "examples/demo"}, ws, {}, base / "temp")


@pytest.fixture
def run_installed(action_fail, tmp_path):
    """Run the action again reusing the install step's venv; returns (workspace, runner)."""
    from pipelines_harness import run_action

    install = action_fail.step("install")
    assert install.code == 0, install.stderr[-2000:]
    ws, temp = tmp_path / "ws", tmp_path / "temp"
    ws.mkdir(), temp.mkdir()

    def run(inputs: dict[str, str], env: dict[str, str] | None = None, **kw):
        return run_action(ACTION, inputs, ws, env or {}, temp, preset={"install": install.outputs}, **kw)

    return ws, run
