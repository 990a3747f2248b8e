"""Waivers (active, expired, stale) and the exit-code contract, through the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest


def repo(tmp_path: Path, waivers: str = "", acc: float = 0.6) -> Path:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "results.json").write_text(json.dumps({"accuracy": acc, "loss": 0.3}))
    (tmp_path / ".mlsec-gates.yml").write_text(
        textwrap.dedent("""\
        version: 1
        gates:
          eval:
            results: eval/results.json
            metrics:
              accuracy: {min: 0.7}
        """) + waivers
    )
    return tmp_path


def run_json(cli, root: Path, *extra: str) -> tuple[int, dict]:
    out = root / "report.json"
    out.unlink(missing_ok=True)
    r = cli("run", root, "--gate", "eval", "--format", "json", "--output", out, *extra)
    assert out.exists(), f"no report (exit {r.code}): {r.err}"
    return r.code, json.loads(out.read_text())


def test_violation_exits_1_and_pass_exits_0(tmp_path, cli):
    code, rep = run_json(cli, repo(tmp_path))
    assert code == 1 and rep["status"] == "fail" and rep["exit_code"] == 1
    (tmp_path / "eval" / "results.json").write_text(json.dumps({"accuracy": 0.9}))
    code, rep = run_json(cli, tmp_path)
    assert code == 0 and rep["status"] == "pass" and rep["findings"] == []


def test_active_waiver_reports_but_does_not_block(tmp_path, cli):
    future = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    code, rep = run_json(cli, repo(tmp_path, f"waivers:\n  - rule: EVAL001\n    path: eval/*.json\n    reason: known\n    expires: {future}\n"))
    assert code == 0
    [f] = rep["findings"]
    assert f["waived"] is True and f["blocking"] is False and "known" in f["waiver_reason"]


def test_expired_waiver_blocks_and_says_so(tmp_path, cli):
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    code, rep = run_json(cli, repo(tmp_path, f"waivers:\n  - rule: EVAL001\n    reason: old\n    expires: {past}\n"))
    assert code == 1
    [f] = rep["findings"]
    assert f["blocking"] is True and f["waived"] is False
    assert f"waiver expired {past}" in f["message"]
    assert "expired" in f["waiver_reason"]


def test_waiver_by_fingerprint_only_matches_that_finding(tmp_path, cli):
    code, rep = run_json(cli, repo(tmp_path))
    fp = rep["findings"][0]["fingerprint"]
    future = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    zeros = "0" * 16
    (tmp_path / ".mlsec-gates.yml").write_text((tmp_path / ".mlsec-gates.yml").read_text()
                                               + f"waivers:\n  - rule: EVAL001\n    fingerprint: {fp}\n    reason: accepted\n    expires: {future}\n"
                                               + f"  - rule: EVAL001\n    fingerprint: '{zeros}'\n    reason: other\n    expires: {future}\n")
    code, rep = run_json(cli, tmp_path)
    assert code == 0
    waived = [f for f in rep["findings"] if f["gate"] == "eval"]
    assert waived[0]["waived"] and waived[0]["fingerprint"] == fp
    stale = [f for f in rep["findings"] if f["rule"] == "CORE002"]
    assert len(stale) == 1 and stale[0]["blocking"] is False
    assert stale[0]["path"].endswith(".mlsec-gates.yml") and stale[0]["line"] == 12


def test_fingerprint_is_stable_across_line_shifts_and_values(tmp_path, cli):
    _, a = run_json(cli, repo(tmp_path, acc=0.6))
    (tmp_path / "eval" / "results.json").write_text("\n\n" + json.dumps({"loss": 0.1, "accuracy": 0.5}, indent=4))
    _, b = run_json(cli, tmp_path)
    assert a["findings"][0]["fingerprint"] == b["findings"][0]["fingerprint"]


def test_unreadable_input_is_an_error_exit_2(tmp_path, cli):
    repo(tmp_path)
    (tmp_path / "eval" / "results.json").write_text("{not json")
    code, rep = run_json(cli, tmp_path)
    assert code == 2 and rep["status"] == "error"
    err = rep["gates"]["eval"]["errors"][0]
    assert err["path"].endswith("eval/results.json") and "not valid JSON" in err["message"]


def test_on_error_warn_downgrades_errors(tmp_path, cli):
    repo(tmp_path)
    (tmp_path / "eval" / "results.json").write_text("{not json")
    p = tmp_path / ".mlsec-gates.yml"
    p.write_text(p.read_text().replace("  eval:\n", "  eval:\n    on_error: warn\n"))
    code, rep = run_json(cli, tmp_path)
    assert code == 0 and rep["gates"]["eval"]["counts"]["errors"] == 1


def test_gate_crash_fails_closed(tmp_path, cli, monkeypatch):
    from gates.eval import EvalGate

    def boom(self, ctx):
        raise RuntimeError("secret-value-123 must not be printed")

    monkeypatch.setattr(EvalGate, "run", boom)
    code, rep = run_json(cli, repo(tmp_path))
    assert code == 2
    msg = rep["gates"]["eval"]["errors"][0]["message"]
    assert "gate crashed: RuntimeError" in msg and "secret-value-123" not in json.dumps(rep)


def test_fail_on_override(tmp_path, cli):
    code, _ = run_json(cli, repo(tmp_path), "--fail-on", "critical")
    assert code == 0
    code, _ = run_json(cli, tmp_path, "--fail-on", "low")
    assert code == 1


@pytest.mark.parametrize("args", [["--output", "x.json"], ["--format", "json", "--format", "sarif"], ["--format", "yaml"], ["--gate", "nope"]])
def test_usage_errors_exit_2(tmp_path, cli, args):
    r = cli("run", repo(tmp_path), *args, cwd=tmp_path)
    assert r.code == 2


def test_unknown_command_exits_2(cli):
    assert cli("frobnicate").code == 2


def test_disabled_gate_is_skipped(tmp_path, cli):
    repo(tmp_path)
    p = tmp_path / ".mlsec-gates.yml"
    p.write_text(p.read_text().replace("  eval:\n", "  eval:\n    enabled: false\n"))
    out = tmp_path / "all.json"
    r = cli("run", tmp_path, "--format", "json", "--output", out)
    assert json.loads(out.read_text())["gates"]["eval"]["status"] == "skipped", r.err


def test_gate_named_with_gate_flag_runs_even_when_disabled(tmp_path, cli):
    """`run --gate eval` is an explicit request: a policy switching eval off must not make it pass."""
    repo(tmp_path)
    p = tmp_path / ".mlsec-gates.yml"
    p.write_text(p.read_text().replace("  eval:\n", "  eval:\n    enabled: false\n"))
    code, rep = run_json(cli, tmp_path)
    assert code == 1 and rep["gates"]["eval"]["status"] == "fail"
