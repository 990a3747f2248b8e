"""Nothing scanned is never a pass (issue 13, item 1): a configured glob or a CLI target that
matches nothing is an error naming it, a gate with no inputs is ``skipped: no inputs``, and a run
in which no gate read any file exits 2."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_json(cli, root: Path, *args: str):
    r = cli(*args, "--format", "json", cwd=root)
    return r, json.loads(r.out)


def test_an_empty_tree_exits_2_nothing_was_scanned(tmp_path, cli):
    r, rep = run_json(cli, tmp_path, "run", ".")
    assert r.code == 2 and rep["status"] == "error"
    assert "nothing was scanned" in r.err
    assert all(g["status"] == "skipped" for g in rep["gates"].values())


def test_the_console_says_nothing_was_scanned(tmp_path, cli):
    r = cli("run", ".", cwd=tmp_path)
    assert r.code == 2 and "ERROR nothing was scanned" in r.out


def test_a_typo_in_paths_is_an_error_naming_the_glob(tmp_path, cli):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "users.csv").write_text("id,name\n1,a\n")
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  pii:\n    paths: ['dataset/**']\n")
    r, rep = run_json(cli, tmp_path, "pii")
    assert r.code == 2 and rep["gates"]["pii"]["status"] == "error"
    assert [e["message"] for e in rep["gates"]["pii"]["errors"]] == [
        "paths: 'dataset/**' matches no file under the scanned root (a typo?)"]


def test_one_glob_of_several_matching_nothing_is_still_an_error(tmp_path, cli):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "users.csv").write_text("id,name\n1,a\n")
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  pii:\n    paths: ['data/**', 'dataste/**']\n")
    r, rep = run_json(cli, tmp_path, "pii")
    assert r.code == 2
    assert [e["message"] for e in rep["gates"]["pii"]["errors"]] == [
        "paths: 'dataste/**' matches no file under the scanned root (a typo?)"]
    assert rep["gates"]["pii"]["files"]  # the glob that matched was still scanned


def test_a_cli_target_directory_matching_nothing_is_an_error(tmp_path, cli):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.md").write_text("hello\n")
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  pii:\n    paths: ['**/*.csv']\n")
    r, rep = run_json(cli, tmp_path, "pii", "docs")
    assert r.code == 2
    (err,) = rep["gates"]["pii"]["errors"]
    assert err["path"] == "docs" and "'**/*.csv'" in err["message"]


def test_default_globs_and_no_inputs_is_skipped_not_pass(tmp_path, cli):
    (tmp_path / "results.json").write_text('{"accuracy": 0.9}')
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: results.json\n"
                                             "    metrics: {accuracy: {min: 0.5}}\n")
    r, rep = run_json(cli, tmp_path, "run", ".", "--gate", "eval", "--gate", "model")
    assert rep["gates"]["model"]["status"] == "skipped" and rep["gates"]["model"]["skip_reason"] == "no inputs"
    assert rep["gates"]["eval"]["status"] == "pass" and r.code == 0


def test_the_demo_still_fails_with_exit_1(cli):
    r = cli("run", str(REPO / "examples" / "demo"), "--format", "json")
    assert r.code == 1, r.err
    assert json.loads(r.out)["status"] == "fail"
