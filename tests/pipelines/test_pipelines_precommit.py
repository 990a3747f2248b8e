"""pre-commit itself runs this repository's hooks in a scratch git repository whose policy
excludes a path and disables a gate: the hooks must decide as `mlsec-gates run` would.

The hooks are taken from `.pre-commit-hooks.yaml` (id, entry, files, serial) and declared as
`repo: local` hooks with `language: system`, so pre-commit selects and passes the files for real
while `mlsec-gates` comes from this environment (no per-hook virtualenv to build)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gates.core.registry import gate_names
from pipelines_support import REPO

PICKLE_RUNS_A_SHELL = b"cos\nsystem\n(S'echo pwned'\ntR."  # opcodes only: never loaded


def hooks_as_local() -> list[dict]:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    keep = ("id", "name", "entry", "files", "pass_filenames", "always_run", "require_serial")
    return [{**{k: h[k] for k in keep if k in h}, "language": "system"} for h in hooks]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=t@example.invalid", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


@pytest.fixture
def scratch(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if not {"pii", "model"} <= set(gate_names()):
        pytest.skip("the pii and model gates are needed")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks_as_local()}]}))
    (repo / ".mlsec-gates.yml").write_text(yaml.safe_dump({
        "version": 1,
        "gates": {
            "pii": {"paths": ["**/*.csv"], "exclude": ["fixtures/**"]},
            "model": {"enabled": False},
        },
    }))
    people = "name,email\n" + "".join(f"User {i},user{i}.name@corp-mail.example.org\n" for i in range(40))
    (repo / "fixtures").mkdir()
    (repo / "fixtures" / "people.csv").write_text(people)  # excluded by the policy
    (repo / "package.json").write_text('{"name": "x", "author": "Jane Roe <jane.roe@corp-mail.example.org>"}\n')  # not in paths
    (repo / "models").mkdir()
    (repo / "models" / "evil.pkl").write_bytes(PICKLE_RUNS_A_SHELL)  # the model gate is disabled
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PYTHONPATH": str(REPO),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}

    def pre_commit(*hook_ids: str) -> subprocess.CompletedProcess:
        git(repo, "add", "-A")
        out = []
        for hook in hook_ids:
            out.append(subprocess.run([sys.executable, "-m", "pre_commit", "run", hook, "--all-files", "--verbose", "--color", "never"],
                                      cwd=repo, env=env, capture_output=True, text=True, timeout=300))
        return out

    return repo, people, pre_commit


def test_hooks_honour_the_policys_exclude_paths_and_disabled_gates(scratch):
    repo, people, pre_commit = scratch
    pii, model = pre_commit("mlsec-gates-pii", "mlsec-gates-model")
    # pre-commit handed the hook every matching file, the policy kept none of them
    assert pii.returncode == 0, pii.stdout + pii.stderr
    assert "none of the 2 file(s) is in the pii gate's paths" in pii.stdout  # fixtures/people.csv and package.json
    assert model.returncode == 0 and "model gate is disabled by the policy" in model.stdout, model.stdout

    (repo / "data").mkdir()
    (repo / "data" / "people.csv").write_text(people)  # the same rows where the policy does look
    (pii,) = pre_commit("mlsec-gates-pii")
    assert pii.returncode == 1, pii.stdout + pii.stderr
    assert "data/people.csv" in pii.stdout and "fixtures/people.csv" not in pii.stdout
    assert "jane.roe" not in pii.stdout and "user1.name@" not in pii.stdout  # evidence stays redacted


def test_the_run_hook_applies_the_policy_to_the_whole_tree(scratch):
    repo, people, pre_commit = scratch
    (repo / "data").mkdir()
    (repo / "data" / "scores.csv").write_text("run,score\n1,0.5\n2,0.7\n")  # a pii path that matches something clean
    (run,) = pre_commit("mlsec-gates")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "fixtures/people.csv" not in run.stdout and "models/evil.pkl" not in run.stdout
    (repo / "data" / "people.csv").write_text(people)
    (run,) = pre_commit("mlsec-gates")
    assert run.returncode == 1 and "data/people.csv" in run.stdout
