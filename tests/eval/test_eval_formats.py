"""Each results format read from a real sample file, through the gate."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from gates.core.errors import InputError
from gates.eval.readers import read_results

LM_EVAL = {
    "results": {
        "hellaswag": {"alias": "hellaswag", "acc,none": 0.5712, "acc_stderr,none": 0.0049, "acc_norm,none": 0.7512},
        "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.21, "exact_match,flexible-extract": 0.33,
                  "exact_match_stderr,strict-match": "N/A"},
    },
    "groups": {"mmlu": {"alias": "mmlu", "acc,none": 0.61}},
    "configs": {}, "versions": {"hellaswag": 1.0}, "n-shot": {"hellaswag": 0},
}


def names(metrics) -> dict[str, float]:
    return {m.name: m.value for m in metrics}


def test_lm_eval_harness_names(tmp_path):
    p = tmp_path / "results_2026-01-01T00-00-00.json"
    p.write_text(json.dumps(LM_EVAL, indent=2))
    ms = names(read_results(p))
    assert ms["hellaswag/acc_norm"] == 0.7512
    assert ms["gsm8k/exact_match,strict-match"] == 0.21
    assert ms["gsm8k/exact_match,flexible-extract"] == 0.33
    assert ms["mmlu/acc"] == 0.61
    assert "gsm8k/exact_match_stderr,strict-match" not in ms  # "N/A" is not a number
    line = next(m.line for m in read_results(p) if m.name == "hellaswag/acc_norm")
    assert '"acc_norm,none"' in p.read_text().splitlines()[line - 1]


def test_mlflow_run_directory_takes_the_latest_step(tmp_path):
    run = tmp_path / "mlruns" / "0" / "abc123"
    (run / "metrics" / "subgroup" / "a").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: abc123\n")
    (run / "metrics" / "accuracy").write_text("1700000000000 0.70 0\n1700000001000 0.81 2\n1700000000500 0.99 1\n")
    (run / "metrics" / "subgroup" / "a" / "f1").write_text("1700000000000 0.5 0\n")
    ms = read_results(run)
    assert names(ms) == {"accuracy": 0.81, "subgroup/a/f1": 0.5}
    assert next(m for m in ms if m.name == "accuracy").line == 2


def test_mlflow_describe_and_rest_exports(tmp_path):
    describe = {"info": {"run_id": "r1", "status": "FINISHED"}, "data": {"metrics": {"accuracy": 0.9, "loss": 0.2}, "params": {}, "tags": {}}}
    p = tmp_path / "run.json"
    p.write_text(json.dumps(describe))
    assert names(read_results(p)) == {"accuracy": 0.9, "loss": 0.2}
    rest = {"run": {"info": {"run_id": "r1"}, "data": {"metrics": [
        {"key": "accuracy", "value": 0.5, "timestamp": 1, "step": 0},
        {"key": "accuracy", "value": 0.8, "timestamp": 2, "step": 3},
        {"key": "loss", "value": 0.3, "timestamp": 1, "step": 0}]}}}
    p.write_text(json.dumps(rest))
    assert names(read_results(p)) == {"accuracy": 0.8, "loss": 0.3}


def test_plain_json_flattens_dotted(tmp_path):
    p = tmp_path / "metrics.json"
    p.write_text(json.dumps({"eval": {"accuracy": 0.9, "per_class": [{"f1": 0.7}, {"f1": 0.8}]}, "model": "x", "ok": True}))
    assert names(read_results(p)) == {"eval.accuracy": 0.9, "eval.per_class[0].f1": 0.7, "eval.per_class[1].f1": 0.8}


def test_csv_long_form_with_label_columns(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text('task,metric,value\nhellaswag,acc,0.57\n"gsm8k",exact_match,0.3\n')
    ms = read_results(p)
    assert names(ms) == {"hellaswag/acc": 0.57, "gsm8k/exact_match": 0.3}
    assert [m.row for m in ms] == [1, 2]


def test_csv_wide_form_one_row_per_slice_and_tsv(tmp_path):
    p = tmp_path / "slices.tsv"
    p.write_text("subgroup\taccuracy\tf1\nfemale\t0.85\t0.8\nmale\t0.9\t0.85\n")
    assert names(read_results(p)) == {"subgroup/female/accuracy": 0.85, "subgroup/female/f1": 0.8,
                                      "subgroup/male/accuracy": 0.9, "subgroup/male/f1": 0.85}
    q = tmp_path / "single.csv"
    q.write_text("accuracy,f1\n0.9,0.8\n")
    assert names(read_results(q)) == {"accuracy": 0.9, "f1": 0.8}


@pytest.mark.parametrize("name,content,reason", [
    ("bad.json", "{", "not valid JSON"),
    ("empty.json", "{}", "no numeric values"),
    ("deep.json", "[" * 100000 + "]" * 100000, "nested too deeply"),
    ("ragged.csv", "metric,value\nacc,0.5,extra\n", "fields"),
    ("text.csv", "metric,value\nacc,high\n", "not a number"),
    ("bin.json", b"\xff\xfe\x00garbage", "not UTF-8"),
])
def test_unparseable_inputs_raise(tmp_path, name, content, reason):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InputError) as exc:
        read_results(p)
    assert reason in exc.value.reason


def test_size_cap(tmp_path):
    p = tmp_path / "big.json"
    p.write_text(json.dumps({"a": 1.0}) + " " * 2048)
    with pytest.raises(InputError, match="limit"):
        read_results(p, max_bytes=1024)


def test_python_dash_m_gates_eval_matches_cli(tmp_path):
    (tmp_path / "r.json").write_text(json.dumps({"accuracy": 0.4}))
    (tmp_path / ".mlsec-gates.yml").write_text(textwrap.dedent("""\
        version: 1
        gates:
          eval:
            results: r.json
            metrics:
              accuracy: {min: 0.5}
        """))
    a = subprocess.run([sys.executable, "-m", "gates.eval", "--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    b = subprocess.run([sys.executable, "-m", "gates", "eval", "--format", "json"], cwd=tmp_path, capture_output=True, text=True)
    assert a.returncode == b.returncode == 1, a.stderr
    fa, fb = json.loads(a.stdout)["findings"], json.loads(b.stdout)["findings"]
    assert [f["fingerprint"] for f in fa] == [f["fingerprint"] for f in fb] and fa[0]["rule"] == "EVAL001"


def test_mlflow_metric_file_that_is_a_symlink_is_not_followed(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.write_text("1700000000000 0.99 0\n")
    run = tmp_path / "mlruns" / "0" / "abc"
    (run / "metrics").mkdir(parents=True)
    (run / "metrics" / "accuracy").symlink_to(outside)
    with pytest.raises(InputError, match="symlink"):
        read_results(run)
