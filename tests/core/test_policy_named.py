"""Say which policy ran (issue 13, item 6): the console and the JSON report name the policy file
(or the built-in default) and what it extends; a misspelt policy file name is an error, not a
silent built-in default."""

from __future__ import annotations

import json

import pytest

RESULTS = '{"accuracy": 0.9}'
EVAL = "gates:\n  eval:\n    results: results.json\n    metrics: {accuracy: {min: 0.5}}\n"


def tree(tmp_path, policy_name: str | None = ".mlsec-gates.yml", extends: bool = False):
    (tmp_path / "results.json").write_text(RESULTS)
    if policy_name:
        head = "version: 1\n" + ("extends: [org.yml]\n" if extends else "")
        (tmp_path / policy_name).write_text(head + EVAL)
    if extends:
        (tmp_path / "org.yml").write_text("version: 1\ndefaults: {fail_on: medium}\n")
    return tmp_path


def test_console_names_the_built_in_default(tmp_path, cli):
    (tmp_path / "results.json").write_text(RESULTS)
    r = cli("run", ".", "--gate", "eval", cwd=tmp_path)
    assert r.out.splitlines()[0] == "policy: built-in default"


def test_console_and_json_name_the_policy_file_and_its_chain(tmp_path, cli):
    tree(tmp_path, extends=True)
    r = cli("run", ".", "--gate", "eval", cwd=tmp_path)
    assert r.code == 0, r.err
    assert r.out.splitlines()[0] == "policy: .mlsec-gates.yml (merged: org.yml)"
    r = cli("run", ".", "--gate", "eval", "--format", "json", cwd=tmp_path)
    pol = json.loads(r.out)["policy"]
    assert pol["path"] == ".mlsec-gates.yml" and [c["source"] for c in pol["chain"]] == ["org.yml", ".mlsec-gates.yml"]


@pytest.mark.parametrize("name", ["mlsec-gates.yml", ".mlsec_gates.yaml", ".mlsec-gate.yml", ".mlsec-gates.YML", ".mlsecgates.yaml"])
def test_a_misspelt_policy_file_is_an_error_not_the_built_in_default(tmp_path, cli, name):
    tree(tmp_path, name)
    r = cli("run", ".", "--gate", "eval", cwd=tmp_path)
    assert r.code == 2
    assert f"{name}: looks like a misspelt policy file name, and there is no .mlsec-gates.yml" in r.err
    assert cli("run", ".", "--gate", "eval", "--policy", name, cwd=tmp_path).code == 0  # --policy still works


def test_a_near_miss_beside_the_real_file_is_ignored(tmp_path, cli):
    tree(tmp_path)
    (tmp_path / "mlsec-gates.yml").write_text("version: 1\n")
    assert cli("run", ".", "--gate", "eval", cwd=tmp_path).code == 0


def test_unrelated_yaml_files_are_not_near_misses(tmp_path, cli):
    tree(tmp_path, None)
    for name in (".mlsec-gates-waivers.yml", ".pre-commit-config.yaml", ".gitlab-ci.yml", "mkdocs.yml"):
        (tmp_path / name).write_text("x: 1\n" if name != ".mlsec-gates-waivers.yml" else "version: 1\nwaivers: []\n")
    r = cli("run", ".", "--gate", "eval", cwd=tmp_path)
    assert "misspelt" not in r.err
    assert r.out.splitlines()[0] == "policy: built-in default (merged: .mlsec-gates-waivers.yml)"  # the waiver file is read
