"""The GitLab template and component run by a real local runner (gitlab-ci-local, shell executor)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml

from gates.core.reports.markdown import MARKER
from pipelines_forge import WRITE_TOKEN, Forge
from pipelines_support import DEMO, REPO, node_bin, require_tool, write_clean_demo

TEMPLATE = REPO / ".gitlab-ci-template.yml"
COMPONENT = REPO / "templates" / "mlsec-gates.yml"
ARTIFACTS = ("mlsec-gates.json", "mlsec-gates.md", "gl-code-quality-report.json", "mlsec-gates-junit.xml")


@pytest.fixture(scope="module")
def glcl() -> list[str]:
    node = require_tool(node_bin("node"), "Node 22 (npm package node)")
    tool = require_tool(node_bin("gitlab-ci-local"), "gitlab-ci-local")
    require_tool(shutil.which("rsync"), "rsync")
    require_tool(shutil.which("git"), "git")
    return [str(node), str(tool.resolve())]


def scratch_repo(path: Path, ci: dict, clean: bool = False, branch: str = "main") -> Path:
    """A git repo with a remote and origin/HEAD (gitlab-ci-local derives CI_DEFAULT_BRANCH from it)."""
    path.mkdir(parents=True)
    if clean:
        write_clean_demo(path / "examples" / "demo")
    else:
        shutil.copytree(DEMO, path / "examples" / "demo")
    shutil.copy(TEMPLATE, path / TEMPLATE.name)
    (path / "templates").mkdir()
    shutil.copy(COMPONENT, path / "templates" / COMPONENT.name)
    (path / ".gitlab-ci.yml").write_text(yaml.safe_dump(ci, sort_keys=False))
    git = ["git", "-C", str(path), "-c", "user.email=ci@example.invalid", "-c", "user.name=ci"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "demo"],
                 ["remote", "add", "origin", "https://gitlab.example.invalid/acme/models.git"],
                 ["update-ref", "refs/remotes/origin/main", "HEAD"],
                 ["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"]):
        subprocess.run(git + args, check=True, capture_output=True)
    if branch != "main":
        subprocess.run(git + ["checkout", "-q", "-b", branch], check=True)
    return path


def run_glcl(glcl: list[str], repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    path = os.pathsep.join([str(node_bin("node").parent), str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run([*glcl, "--force-shell-executor", "--shell-isolation", "--no-color", *args], cwd=repo,
                          env={**os.environ, "PATH": path, **(env or {})}, capture_output=True, text=True, timeout=300)


def artifacts(repo: Path, job: str) -> dict:
    d = repo / ".gitlab-ci-local" / "artifacts" / job
    for name in ARTIFACTS:
        assert (d / name).is_file(), f"{job}: {name} missing"
    return {
        "json": json.loads((d / "mlsec-gates.json").read_text()),
        "md": (d / "mlsec-gates.md").read_text(),
        "codequality": json.loads((d / "gl-code-quality-report.json").read_text()),
        "junit": JUnitXml.fromfile(str(d / "mlsec-gates-junit.xml")),
    }


def failures(junit) -> int:
    suites = [junit] if not hasattr(junit, "__iter__") or junit._tag == "testsuite" else list(junit)
    return sum(s.failures + s.errors for s in suites)


CI_TEMPLATE = {
    "include": [{"local": ".gitlab-ci-template.yml"}],
    "variables": {"MLSEC_GATES_PATH": "examples/demo"},  # a global variable reaches the ready job
    "demo-eval": {"extends": ".mlsec-gates-eval"},
}


def test_template_fails_on_the_demo_with_the_action_findings(glcl, tmp_path, action_fail):
    repo = scratch_repo(tmp_path / "repo", CI_TEMPLATE)
    r = run_glcl(glcl, repo, "mlsec-gates", "demo-eval")
    assert r.returncode != 0, r.stdout[-3000:]
    assert re.search(r"FAIL\s+mlsec-gates", r.stdout) and re.search(r"FAIL\s+demo-eval", r.stdout)
    action = json.loads(Path(action_fail.outputs["report-json"]).read_text())
    for job, gates in (("mlsec-gates", None), ("demo-eval", {"eval"})):  # every gate / the eval template
        a = artifacts(repo, job)
        expected = [f for f in action["findings"] if gates is None or f["gate"] in gates]
        assert a["json"]["status"] == "fail"
        assert a["json"]["summary"]["blocking"] == sum(f["blocking"] for f in expected) >= 4
        assert {f["fingerprint"] for f in a["json"]["findings"]} == {f["fingerprint"] for f in expected}
        assert a["md"].startswith(MARKER)
        assert {c["location"]["path"] for c in a["codequality"]} <= {f["path"] for f in a["json"]["findings"]}
        assert all(c["location"]["path"].startswith("examples/demo/") for c in a["codequality"]) and a["codequality"]
        assert failures(a["junit"]) >= 1


def test_template_passes_on_the_fixed_demo(glcl, tmp_path):
    repo = scratch_repo(tmp_path / "repo", CI_TEMPLATE, clean=True)
    r = run_glcl(glcl, repo, "mlsec-gates", "demo-eval")
    assert r.returncode == 0, r.stdout[-3000:]
    for job in ("mlsec-gates", "demo-eval"):
        a = artifacts(repo, job)
        assert a["json"]["status"] == "pass" and a["json"]["findings"] == [] and a["codequality"] == []
        assert failures(a["junit"]) == 0


def listed_jobs(glcl: list[str], repo: Path, *variables: str) -> set[str]:
    args = [a for v in variables for a in ("--variable", v)]
    r = run_glcl(glcl, repo, "--list", *args)
    assert r.returncode == 0, r.stderr
    return {line.split()[0] for line in r.stdout.splitlines()[1:] if line.strip() and not line.startswith(("parsing", "json"))}


MR = "CI_PIPELINE_SOURCE=merge_request_event"
OPEN_MR = "CI_OPEN_MERGE_REQUESTS=acme/models!3"


@pytest.mark.parametrize("ci, off", [
    (CI_TEMPLATE, "MLSEC_GATES_MR_PIPELINES=false"),  # the template: a CI/CD variable
    ({"include": [{"local": "templates/mlsec-gates.yml", "inputs": {"mr-pipelines": False}}]}, None),  # the component: an input
])
def test_mr_pipelines_or_branch_pipelines_like_ast_enable_mr_pipelines(glcl, tmp_path, ci, off):
    repo = scratch_repo(tmp_path / "repo", ci, branch="feature")
    if off is None:  # the component with mr-pipelines: false
        assert "mlsec-gates" in listed_jobs(glcl, repo, OPEN_MR)  # the branch pipeline runs it
        assert "mlsec-gates" not in listed_jobs(glcl, repo, MR)
        return
    # default: the merge request pipeline while one is open, the branch pipeline otherwise
    assert "mlsec-gates" in listed_jobs(glcl, repo)
    assert "mlsec-gates" in listed_jobs(glcl, repo, MR)
    assert "mlsec-gates" not in listed_jobs(glcl, repo, OPEN_MR)  # no second run in the branch pipeline
    # MLSEC_GATES_MR_PIPELINES=false: branch pipelines only, merge request or not
    assert "mlsec-gates" in listed_jobs(glcl, repo, OPEN_MR, off)
    assert "mlsec-gates" not in listed_jobs(glcl, repo, MR, off)
    assert "demo-eval" in listed_jobs(glcl, repo, MR, off)  # the hidden templates carry no rules: the user's job decides


def test_component_default_runs_in_merge_request_pipelines(glcl, tmp_path):
    repo = scratch_repo(tmp_path / "repo", {"include": [{"local": "templates/mlsec-gates.yml"}]}, branch="feature")
    assert "mlsec-gates" in listed_jobs(glcl, repo, MR)
    assert "mlsec-gates" not in listed_jobs(glcl, repo, OPEN_MR)


def test_template_installs_the_pinned_package_and_posts_the_mr_note(glcl, tmp_path):
    repo = scratch_repo(tmp_path / "repo", {
        "include": [{"local": ".gitlab-ci-template.yml"}],
        "demo-mr": {"extends": ".mlsec-gates", "variables": {"MLSEC_GATES_PATH": "examples/demo"}},
    })
    with Forge() as forge:
        env = {"MLSEC_GATES_GITLAB_TOKEN": WRITE_TOKEN}
        r = run_glcl(glcl, repo, "demo-mr", "--variable", f"MLSEC_GATES_INSTALL={REPO}",
                     "--variable", "CI_MERGE_REQUEST_IID=3", "--variable", "CI_PROJECT_ID=42",
                     "--variable", f"CI_API_V4_URL={forge.url}/api/v4", "--variable", "MLSEC_GATES_COMMENT=always",
                     env=env)
        notes = forge.state.comments.get("42/3", [])
    assert r.returncode != 0 and "mlsec-gates 0.1.0" in r.stdout
    assert "comment created" in r.stdout, r.stdout[-3000:]
    assert len(notes) == 1 and notes[0]["body"].startswith(MARKER)
    assert WRITE_TOKEN not in r.stdout + r.stderr


def test_component_with_inputs_fails_then_passes(glcl, tmp_path):
    ci = {"include": [{"local": "templates/mlsec-gates.yml",
                       "inputs": {"job-name": "gates-component", "path": "examples/demo", "gates": "eval", "comment": "never"}}]}
    check_inputs(ci)
    bad = scratch_repo(tmp_path / "bad", ci)
    r = run_glcl(glcl, bad, "gates-component")
    assert r.returncode != 0 and artifacts(bad, "gates-component")["json"]["summary"]["blocking"] == 4  # eval only
    good = scratch_repo(tmp_path / "good", ci, clean=True)
    r = run_glcl(glcl, good, "gates-component")
    assert r.returncode == 0, r.stdout[-3000:]
    assert artifacts(good, "gates-component")["json"]["status"] == "pass"


def spec_inputs() -> dict:
    spec, _ = yaml.safe_load_all(COMPONENT.read_text())
    return spec["spec"]["inputs"]


def check_inputs(ci: dict) -> None:
    """gitlab-ci-local accepts unknown input names and values outside `options`; GitLab does not."""
    declared = spec_inputs()
    for inc in ci["include"]:
        for name, value in (inc.get("inputs") or {}).items():
            assert name in declared, f"unknown component input {name!r}"
            opts = declared[name].get("options")
            assert opts is None or value in opts, f"{name}: {value!r} not in {opts}"


def test_unknown_component_inputs_are_caught():
    with pytest.raises(AssertionError, match="unknown component input 'paths'"):
        check_inputs({"include": [{"local": "templates/mlsec-gates.yml", "inputs": {"paths": "x"}}]})
    with pytest.raises(AssertionError, match="not in"):
        check_inputs({"include": [{"local": "templates/mlsec-gates.yml", "inputs": {"comment": "sometimes"}}]})
    used = set(re.findall(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", COMPONENT.read_text()))
    assert used == set(spec_inputs()), "every declared input is used and every used input declared"


def test_component_runs_the_same_script_as_the_template():
    template = yaml.safe_load(TEMPLATE.read_text())[".mlsec-gates"]
    _, body = yaml.safe_load_all(COMPONENT.read_text())
    [job] = body.values()
    assert job["script"] == template["script"] and job["artifacts"] == template["artifacts"]
    assert job["cache"] == template["cache"]
    assert job["rules"] == yaml.safe_load(TEMPLATE.read_text())[".mlsec-gates-rules"]["rules"]
    component_vars = {k: v for k, v in job["variables"].items() if not k.startswith("MLSEC_GATES_")}
    assert component_vars == template["variables"]  # pip's settings and cache directory


def run_install_part(tmp_path: Path, **variables: str) -> list[str]:
    """The template's script up to the install, with a stand-in python3 whose venv's pip records
    its arguments (and fails, which ends the script): what would be installed."""
    fake = tmp_path / "fake"
    fake.mkdir(exist_ok=True)
    log = tmp_path / "pip-args"
    (fake / "python3").write_text(f"""#!/bin/sh
[ "$1 $2" = "-m venv" ] || exit 3
mkdir -p "$3/bin"
printf '#!/bin/sh\\nprintf "%%s\\\\n" "$@" > {log}\\nexit 7\\n' > "$3/bin/pip"
chmod +x "$3/bin/pip"
""")
    (fake / "python3").chmod(0o755)
    script = yaml.safe_load(TEMPLATE.read_text())[".mlsec-gates"]["script"][0]
    env = {"PATH": f"{fake}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(tmp_path), **variables}
    r = subprocess.run(["sh", "-ec", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 7, r.stdout + r.stderr
    return log.read_text().splitlines()


@pytest.mark.parametrize("gates, requirement", [
    ("", "mlsec-gates[all]"), ("eval", "mlsec-gates"), ("pii, model,pii", "mlsec-gates[pii,model]"),
    ("deps", "mlsec-gates[deps]"), (",", "mlsec-gates[all]"),
])
def test_template_installs_only_the_extras_the_gates_need(tmp_path, gates, requirement):
    args = run_install_part(tmp_path, MLSEC_GATES_GATES=gates, MLSEC_GATES_VERSION="1.2.3")
    assert args == ["install", "--quiet", f"{requirement}==1.2.3"]
    assert run_install_part(tmp_path, MLSEC_GATES_GATES=gates, MLSEC_GATES_INSTALL="/x/y.whl")[-1] == "/x/y.whl"


def test_template_adds_the_remote_extra_for_a_remote_path(tmp_path):
    args = run_install_part(tmp_path, MLSEC_GATES_GATES="model", MLSEC_GATES_PATH="s3://bucket/models/")
    assert args[-1] == "mlsec-gates[model,remote]"
    assert run_install_part(tmp_path, MLSEC_GATES_PATH="hf://acme/model")[-1] == "mlsec-gates[all]"
    assert run_install_part(tmp_path, MLSEC_GATES_GATES="eval", MLSEC_GATES_PATH="oci://r/k:1")[-1] == "mlsec-gates[remote]"


def test_pip_cache_is_a_gitlab_cache_kept_on_failure():
    job = yaml.safe_load(TEMPLATE.read_text())[".mlsec-gates"]
    cache_dir = job["variables"]["PIP_CACHE_DIR"]
    assert cache_dir.startswith("$CI_PROJECT_DIR/")
    assert job["cache"]["paths"] == [cache_dir.removeprefix("$CI_PROJECT_DIR/")]
    assert job["cache"]["when"] == "always"  # a job that fails on findings still saves it
    assert "$MLSEC_GATES_VERSION" in job["cache"]["key"] and "$MLSEC_GATES_GATES" in job["cache"]["key"]
