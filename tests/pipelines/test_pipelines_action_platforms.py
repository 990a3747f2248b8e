"""The action on every runner: a Windows virtual environment (``Scripts/*.exe``), a runner temp
directory with spaces, only the extras the selected gates need, and the installation cached with
actions/cache (restored before, saved right after the install, reused when the key matches).

A stand-in ``python3`` makes the venv Windows-shaped and records what pip is asked to install
(nothing is downloaded); everything else runs for real, so the gates step runs
``Scripts/mlsec-gates.exe`` on the demo.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from pipelines_harness import run_action
from pipelines_support import ACTION, write_clean_demo

REAL = sys.executable

FAKE_PYTHON = """#!{real}
# python3 on PATH: `-m venv DIR` makes a Windows-shaped venv; anything else is the real Python
import os, sys
args = sys.argv[1:]
if args[:2] == ["-m", "venv"]:
    scripts = os.path.join(args[2], "Scripts")
    os.makedirs(scripts)
    shim = os.path.join(scripts, "python.exe")
    with open(shim, "w") as f:
        f.write({shim!r})
    os.chmod(shim, 0o755)
    sys.exit(0)
os.execv({real!r}, [{real!r}, *args])
"""

VENV_PYTHON = """#!{real}
# Scripts/python.exe: `-m pip ...` is recorded and "installs" Scripts/mlsec-gates.exe
import json, os, sys
args = sys.argv[1:]
if args[:2] == ["-m", "pip"]:
    with open({log!r}, "a") as f:
        f.write(json.dumps({{"args": args[2:], "pip_cache": os.environ.get("PIP_CACHE_DIR", "")}}) + "\\n")
    exe = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlsec-gates.exe")
    with open(exe, "w") as f:
        f.write("#!{real}\\nimport sys\\nfrom gates.core.cli import main\\nsys.exit(main())\\n")
    os.chmod(exe, 0o755)
    sys.exit(0)
os.execv({real!r}, [{real!r}, *args])
"""


@pytest.fixture
def windows_like(tmp_path):
    """(run, pip_log): run the whole action with the stand-in Python and a runner temp directory
    named like Windows' (spaces, a drive-like component)."""
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    log = tmp_path / "pip.log"
    shim = VENV_PYTHON.format(real=REAL, log=str(log))
    (fake / "python3").write_text(FAKE_PYTHON.format(real=REAL, shim=shim))
    (fake / "python3").chmod(0o755)
    ws = tmp_path / "ws"
    ws.mkdir()
    write_clean_demo(ws / "demo")
    temp = tmp_path / "D_" / "a" / "Runner Temp"
    temp.mkdir(parents=True)
    env = {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", "RUNNER_OS": "Windows"}

    def run(inputs: dict[str, str]):
        return run_action(ACTION, {"path": "demo", "sarif": "false", **inputs}, ws, env, temp)

    def pip_calls() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return run, pip_calls, temp


def test_windows_venv_layout_and_a_temp_dir_with_spaces(windows_like):
    run, pip_calls, temp = windows_like
    r = run({"gates": "eval"})
    assert not r.failed, r.log[-3000:]
    install = r.step("install")
    scripts = temp / "mlsec-gates-cache" / "venv" / "Scripts"
    assert install.outputs["bin"] == str(scripts / "mlsec-gates.exe")
    assert install.outputs["python"] == str(scripts / "python.exe")
    assert "mlsec-gates 0.1.0" in install.stdout
    # the gates step ran the .exe from Scripts/ and wrote its reports under the temp dir with spaces
    assert r.outputs["status"] == "pass" and Path(r.outputs["report-json"]).parent == temp / "mlsec-gates"
    [call] = pip_calls()
    assert call["args"][:1] == ["install"] and call["pip_cache"] == str(temp / "mlsec-gates-cache" / "pip")


@pytest.mark.parametrize("gates, extras", [
    ("eval", ""), ("", "[all]"), (" model, deps ", "[deps,model]"), ("pii,eval,pii", "[pii]"), ("provenance,signature", "[provenance,signature]"),
])
def test_installs_only_the_extras_the_selected_gates_need(windows_like, gates, extras):
    run, pip_calls, _ = windows_like
    r = run({"gates": gates, "cache": "false"})
    spec = r.step("plan").outputs["spec"]
    assert spec == f"{ACTION.parent}{extras}"
    assert pip_calls()[-1]["args"][-1] == spec
    pinned = run({"gates": gates, "version": "1.2.3", "cache": "false"})
    assert pinned.step("plan").outputs["spec"] == f"mlsec-gates{extras}==1.2.3"


def test_a_remote_path_adds_the_remote_extra(windows_like):
    run, _, _ = windows_like
    r = run({"gates": "model", "path": "hf://acme/model", "cache": "false"})
    assert r.step("plan").outputs["spec"] == f"{ACTION.parent}[model,remote]"
    assert run({"path": "oci://reg/kit:1", "cache": "false"}).step("plan").outputs["spec"] == f"{ACTION.parent}[all]"


def test_the_installation_is_cached_and_reused(windows_like):
    run, pip_calls, _ = windows_like
    first = run({"gates": "eval"})
    plan = first.step("plan").outputs
    restore, save = (next(s for s in first.steps if s.uses and s.uses.startswith(f"actions/cache/{k}@")) for k in ("restore", "save"))
    assert restore.wanted and restore.with_ == {"path": plan["cache-dir"], "key": plan["cache-key"], "restore-keys": plan["cache-prefix"]}
    assert plan["cache-key"].startswith(plan["cache-prefix"]) and plan["cache-prefix"].startswith("mlsec-gates-v1-Windows-")
    assert save.wanted and save.with_ == {"path": plan["cache-dir"], "key": plan["cache-key"]}
    assert first.step("install").outputs["reused"] == "false"

    second = run({"gates": "eval"})  # the same key: what the restored cache holds is reused, pip is not called
    assert not second.failed and "cached installation is reused" in second.step("install").stdout
    assert second.step("install").outputs["reused"] == "true" and len(pip_calls()) == 1
    assert not next(s for s in second.steps if s.uses and s.uses.startswith("actions/cache/save@")).wanted

    other = run({"gates": "eval,pii"})  # other extras: another key, a fresh venv (pip's cache kept)
    assert other.step("plan").outputs["cache-key"] != plan["cache-key"]
    assert other.step("install").outputs["reused"] == "false" and len(pip_calls()) == 2

    off = run({"gates": "eval", "cache": "false"})
    assert not any(s.wanted for s in off.steps if s.uses and s.uses.startswith("actions/cache/"))


def test_the_cache_key_follows_the_action_code(windows_like, tmp_path, monkeypatch):
    """A moving ref (a branch) must not reuse an installation of older code: the key hashes the
    action's pyproject.toml and gates/ when it installs its own checkout."""
    run, _, _ = windows_like
    key = run({"gates": "eval", "cache": "false"}).step("plan").outputs["cache-key"]
    assert run({"gates": "eval", "cache": "false"}).step("plan").outputs["cache-key"] == key  # stable
    copy = tmp_path / "action-copy"
    (copy / "gates").mkdir(parents=True)
    (copy / "pyproject.toml").write_text((ACTION.parent / "pyproject.toml").read_text())
    (copy / "action.yml").write_text(ACTION.read_text())
    (copy / "gates" / "x.py").write_text("a = 1\n")
    ws = tmp_path / "ws2"
    ws.mkdir()

    def key_of_copy() -> str:  # only the plan step matters: the install is preset (skipped)
        r = run_action(copy / "action.yml", {"cache": "false", "gates": "eval"}, ws, {}, tmp_path, preset={"install": {}})
        return r.step("plan").outputs["cache-key"]

    k1 = key_of_copy()
    (copy / "gates" / "x.py").write_text("a = 2\n")
    k2 = key_of_copy()
    assert k1 != k2 and k1.rsplit("-", 1)[0] == k2.rsplit("-", 1)[0]


def test_run_steps_keep_to_bash_3_2_for_macos_runners():
    """macOS runners' `shell: bash` is /bin/bash 3.2: no bash 4 builtins or expansions."""
    import re

    import yaml

    bash4 = re.compile(r"\b(mapfile|readarray|coproc)\b|declare -[AnlLu]|\$\{[^}]*(,,|\^\^)[^}]*\}|&>>|\|&|\$\{[^}]*@[QEPAa]\}")
    for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"]:
        script = step.get("run", "")
        shell_part = script.split("<<'PY'")[0] + script.split("\nPY\n")[-1] if "<<'PY'" in script else script
        assert not bash4.search(shell_part), (step["name"], bash4.search(shell_part).group(0))
