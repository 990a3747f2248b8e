"""Threshold, regression, slice and required-metric semantics of the eval gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml


def gate(cli, tmp_path: Path, results: dict, metrics: dict, baseline: dict | None = None, extra: dict | None = None):
    (tmp_path / "results.json").write_text(json.dumps(results))
    ev: dict = {"results": "results.json", "metrics": metrics, **(extra or {})}
    if baseline is not None:
        (tmp_path / "baseline.json").write_text(json.dumps(baseline))
        ev["baseline"] = "baseline.json"
    (tmp_path / ".mlsec-gates.yml").write_text(yaml.safe_dump({"version": 1, "gates": {"eval": ev}}))
    out = tmp_path / "out.json"
    r = cli("eval", "--format", "json", "--output", out, cwd=tmp_path)
    rep = json.loads(out.read_text())
    return r.code, rep, [(f["rule"], f.get("metric"), f["blocking"]) for f in rep["findings"]]


def test_min_and_max(cli, tmp_path):
    code, rep, fs = gate(cli, tmp_path, {"acc": 0.6, "tox": 0.3, "ok": 0.9}, {"acc": {"min": 0.7}, "tox": {"max": 0.1}, "ok": {"min": 0.5, "max": 1}})
    assert code == 1
    assert sorted(fs) == [("EVAL001", "acc", True), ("EVAL002", "tox", True)]
    f = next(f for f in rep["findings"] if f["rule"] == "EVAL001")
    assert f["value"] == 0.6 and f["bound"] == 0.7 and f["delta"] == pytest.approx(-0.1)
    assert "acc" in f["message"] and f["line"] == 1


def test_exact_bound_passes(cli, tmp_path):
    code, _, fs = gate(cli, tmp_path, {"acc": 0.7}, {"acc": {"min": 0.7, "max": 0.7}})
    assert code == 0 and fs == []


def test_absolute_and_relative_regression(cli, tmp_path):
    code, rep, fs = gate(cli, tmp_path, {"a": 0.80, "b": 0.90, "c": 0.95},
                         {"a": {"max_regression": 0.01}, "b": {"max_relative_regression": 0.02}, "c": {"max_regression": 0.01}},
                         baseline={"a": 0.82, "b": 0.93, "c": 0.90})
    assert code == 1
    assert sorted(fs) == [("EVAL003", "a", True), ("EVAL004", "b", True)]
    f = next(f for f in rep["findings"] if f["rule"] == "EVAL003")
    assert f["baseline"] == 0.82 and f["delta"] == pytest.approx(-0.02)


def test_lower_is_better(cli, tmp_path):
    code, _, fs = gate(cli, tmp_path, {"loss": 0.50, "wer": 0.10}, {"loss": {"max_regression": 0.05, "greater_is_better": False},
                                                                   "wer": {"max_regression": 0.0, "greater_is_better": False}},
                       baseline={"loss": 0.40, "wer": 0.2})
    assert code == 1 and fs == [("EVAL003", "loss", True)]


def test_required_metric_missing_fails_and_optional_warns(cli, tmp_path):
    code, _, fs = gate(cli, tmp_path, {"acc": 0.9}, {"mmlu": {"min": 0.5, "required": True}, "other": {"min": 0.1}})
    assert code == 1
    assert sorted(fs) == [("EVAL005", "mmlu", True), ("EVAL010", "other", False)]


def test_slices_min_and_gap(cli, tmp_path):
    res = {"subgroup": {"a": {"accuracy": 0.90}, "b": {"accuracy": 0.84}, "c": {"accuracy": 0.88}}}
    code, rep, fs = gate(cli, tmp_path, res, {"subgroup.*.accuracy": {"min": 0.8, "max_gap": 0.05}})
    assert code == 1 and fs == [("EVAL006", "subgroup.*.accuracy", True)]
    f = rep["findings"][0]
    assert f["worst"] == "subgroup.b.accuracy" and f["best"] == "subgroup.a.accuracy" and f["value"] == pytest.approx(0.06)


def test_glob_matching_nothing_required(cli, tmp_path):
    code, _, fs = gate(cli, tmp_path, {"acc": 0.9}, {"slice/*/acc": {"min": 0.5, "required": True}})
    assert code == 1 and fs == [("EVAL005", "slice/*/acc", True)]


def test_nan_fails(cli, tmp_path):
    (tmp_path / "results.json").write_text('{"acc": NaN}')
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: results.json\n    metrics:\n      acc: {min: 0.5}\n")
    r = cli("eval", "--format", "json", cwd=tmp_path)
    assert r.code == 1 and json.loads(r.out)["findings"][0]["rule"] == "EVAL008"


def test_baseline_missing_metric_warns(cli, tmp_path):
    code, _, fs = gate(cli, tmp_path, {"acc": 0.9}, {"acc": {"max_regression": 0.01}}, baseline={"other": 1.0})
    assert code == 0 and fs == [("EVAL007", "acc", False)]


def test_regression_rule_without_baseline_is_a_config_error(cli, tmp_path):
    code, rep, _ = gate(cli, tmp_path, {"acc": 0.9}, {"acc": {"max_regression": 0.01}})
    assert code == 2 and "baseline is not set" in rep["gates"]["eval"]["errors"][0]["message"]


def test_conflicting_values_across_files(cli, tmp_path):
    (tmp_path / "r1.json").write_text('{"acc": 0.9}')
    (tmp_path / "r2.json").write_text('{"acc": 0.5}')
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: 'r*.json'\n    metrics:\n      acc: {min: 0.1}\n")
    r = cli("eval", "--format", "json", cwd=tmp_path)
    assert r.code == 1 and [f["rule"] for f in json.loads(r.out)["findings"]] == ["EVAL009"]


def test_results_glob_matching_nothing_is_an_error(cli, tmp_path):
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: 'eval/results_*.json'\n    metrics:\n      acc: {min: 0.1}\n")
    r = cli("eval", "--format", "json", cwd=tmp_path)
    assert r.code == 2 and "no results file matches" in json.loads(r.out)["gates"]["eval"]["errors"][0]["message"]


def test_policy_path_cannot_climb_out_of_the_root(cli, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "outside.json").write_text('{"acc": 0.9}')
    (root / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: ../outside.json\n    metrics:\n      acc: {min: 0.1}\n")
    r = cli("eval", "--format", "json", cwd=root)
    assert r.code == 2 and "escapes the scanned root" in r.out


def test_explicit_results_path_and_baseline_flag(cli, tmp_path):
    (tmp_path / "cand.json").write_text('{"acc": 0.80}')
    (tmp_path / "base.json").write_text('{"acc": 0.85}')
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    metrics:\n      acc: {max_regression: 0.01}\n")
    r = cli("eval", "cand.json", "--baseline", "base.json", "--format", "json", cwd=tmp_path)
    assert r.code == 1 and json.loads(r.out)["findings"][0]["rule"] == "EVAL003"


def test_demo_fails_then_passes_when_fixed(cli, tmp_path):
    import shutil

    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    root = tmp_path / "demo"
    shutil.copytree(demo, root)
    r = cli("run", root, "--gate", "eval", "--format", "json", cwd=tmp_path)
    assert r.code == 1
    # fix the model: better hellaswag and a better-served 65+ subgroup
    res = root / "eval" / "results_2026-11-20T10-00-00.json"
    data = json.loads(res.read_text())
    data["results"]["hellaswag"]["acc_norm,none"] = 0.7100
    res.write_text(json.dumps(data))
    (root / "eval" / "slices.csv").write_text("subgroup,accuracy\na,0.86\nb,0.87\nc,0.85\nd,0.83\n")
    r = cli("run", root, "--gate", "eval", "--format", "json", cwd=tmp_path)
    assert r.code == 0, r.out


def test_a_results_glob_never_reads_through_a_symlink_out_of_the_root(cli, tmp_path):
    """A plain `results:` path that escapes the root is an error; a glob match must be too."""
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"acc": 0.99}))
    root = tmp_path / "repo"
    (root / "eval").mkdir(parents=True)
    (root / "eval" / "results.json").symlink_to(outside)
    (root / ".mlsec-gates.yml").write_text('version: 1\ngates:\n  eval:\n    results: "eval/*.json"\n    metrics:\n      acc: {min: 0.9}\n')
    out = tmp_path / "r.json"
    r = cli("run", root, "--gate", "eval", "-q", "--format", "json", "--output", out)
    rep = json.loads(out.read_text())
    assert r.code == 2 and rep["gates"]["eval"]["status"] == "error"
    assert "outside the scanned root" in rep["gates"]["eval"]["errors"][0]["message"]
    assert rep["gates"]["eval"]["files"] == []
