"""The composite action run step by step as the runner would (see pipelines_harness)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from pipelines_support import ACTION, write_clean_demo
from gates.core.reports.markdown import MARKER
from pipelines_forge import READ_TOKEN, WRITE_TOKEN, Forge
from pipelines_harness import Context, parse_file_commands, run_action


def fingerprints(report_path: str | Path) -> set[str]:
    return {f["fingerprint"] for f in json.loads(Path(report_path).read_text())["findings"]}


def pr_env(ws: Path, forge: Forge, number: int) -> dict[str, str]:
    """The environment of a pull_request run whose API is the local forge."""
    event = ws.parent / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number}}))
    return {"GITHUB_REPOSITORY": "acme/models", "GITHUB_EVENT_PATH": str(event), "GITHUB_API_URL": forge.url + "/api/v3"}


def test_action_fails_on_the_demo_with_reports_summary_and_annotations(action_fail, demo_reports, shared):
    run = action_fail
    assert run.step("install").code == 0 and "mlsec-gates 0.1.0" in run.step("install").stdout
    assert run.failed and run.steps[-1].name == "Verdict" and run.steps[-1].code == 1
    assert run.step("gates").code == 0  # the gates step reports; only the verdict step fails
    # the same verdict and findings as `mlsec-gates run examples/demo` itself (whichever gates exist)
    direct = json.loads(demo_reports["fail"].read_text())
    blocking = direct["summary"]["blocking"]
    assert blocking >= 4  # the eval demo alone blocks four times
    out = run.outputs
    assert (out["status"], out["findings"], out["blocking"]) == ("fail", str(len(direct["findings"])), str(blocking))
    assert fingerprints(out["report-json"]) == {f["fingerprint"] for f in direct["findings"]}
    assert Path(out["report-markdown"]).read_text() == run.step("gates").summary
    assert run.summary.startswith(MARKER) and f"{blocking} blocking findings" in run.summary
    errors = [line for line in run.step("gates").stdout.splitlines() if line.startswith("::error ")]
    failing = sorted(g for g, v in direct["gates"].items() if v["status"] in ("fail", "error"))
    assert len(errors) == 10 or not failing
    # one annotation per problem, every failing gate before any gate gets a second
    assert sorted(re.search(r"title=[^:]*?%2C ([a-z]+)\)::", e)[1] for e in errors[:len(failing)]) == failing
    assert any(re.match(r"::error file=examples/demo/eval/[^,]+,line=\d+,title=EVAL00\d", e) for e in errors)
    sarif = json.loads(Path(out["sarif-file"]).read_text())
    jsonschema.validate(sarif, json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text()))
    # waived findings are left out of SARIF (code scanning may show a suppression as open)
    assert sum(len(r["results"]) for r in sarif["runs"]) == len([f for f in direct["findings"] if not f["waived"]])
    upload = next(s for s in run.steps if s.uses and "upload-sarif" in s.uses)
    assert upload.wanted and upload.with_["sarif_file"] == out["sarif-file"] and upload.with_["category"] == "mlsec-gates"
    comment = next(s for s in run.steps if s.name.startswith("Comment"))
    assert not comment.wanted  # a push: no pull request to comment on


def test_action_passes_on_the_fixed_demo_and_comments_once(run_installed):
    ws, run = run_installed
    write_clean_demo(ws / "demo")
    with Forge() as forge:
        env = pr_env(ws, forge, 7)
        first = run({"path": "demo", "comment": "always", "gates": "eval", "sarif": "false"}, env, event_name="pull_request", token=WRITE_TOKEN)
        second = run({"path": "demo", "comment": "always", "gates": "eval", "sarif": "false"}, env, event_name="pull_request", token=WRITE_TOKEN)
        methods = [m for m, _, _ in forge.state.requests if m != "GET"]
        comments = forge.state.comments["acme/models/7"]
    assert not first.failed and first.steps[-1].code == 0
    assert (first.outputs["status"], first.outputs["blocking"], first.outputs["sarif-file"]) == ("pass", "0", "")
    assert "all gates passed" in first.summary
    assert not next(s for s in first.steps if s.uses and "upload-sarif" in s.uses).wanted
    assert methods == ["POST", "PATCH"] and len(comments) == 1 and comments[0]["body"].startswith(MARKER)
    assert WRITE_TOKEN not in first.log + second.log


def test_action_fork_token_warns_and_the_verdict_stands(run_installed):
    ws, run = run_installed
    write_clean_demo(ws / "demo")
    with Forge() as forge:
        env = pr_env(ws, forge, 8)
        r = run({"path": "demo", "comment": "always"}, env, event_name="pull_request", token=READ_TOKEN)
        assert forge.state.comments.get("acme/models/8") is None
    assert not r.failed
    comment = next(s for s in r.steps if s.name.startswith("Comment"))
    assert comment.code == 0 and "::warning title=mlsec-gates comment::" in comment.stdout
    assert "read-only token" in comment.summary
    assert READ_TOKEN not in r.log


def test_action_inputs_never_reach_the_shell_as_code(run_installed):
    ws, run = run_installed
    r = run({"path": 'x"; touch pwned; echo "$(touch pwned2)', "fail-on": "$(touch pwned3)"})
    assert not any((ws / n).exists() for n in ("pwned", "pwned2", "pwned3"))
    assert r.failed and r.outputs["status"] == "error"  # a usage error fails closed (exit 2)
    assert "exit code 2" in r.steps[-1].stdout
    opt = run({"path": "--version", "policy": "--help"})  # an input that looks like a flag stays a value
    assert opt.failed and opt.outputs["status"] == "error"
    assert "--version: not a directory" in opt.step("gates").stderr and "usage:" not in opt.step("gates").stdout


def test_action_selects_gates_and_names_the_sarif_category(run_installed):
    ws, run = run_installed
    write_clean_demo(ws / "demo")
    r = run({"path": "demo", "gates": " eval ", "fail-on": "none"})
    assert not r.failed and r.step("gates").outputs["sarif-category"] == "mlsec-gates-eval"
    bad = run({"path": "demo", "gates": "eval,nope"})
    assert bad.failed and "unknown gate 'nope'" in bad.step("gates").stderr


@pytest.mark.parametrize("inputs, message", [({"comment": "sometimes"}, "comment must be"), ({"sarif": "yes"}, "sarif must be")])
def test_action_rejects_bad_choice_inputs(run_installed, inputs, message):
    _, run = run_installed
    r = run(inputs)
    assert r.failed and r.step("gates").code == 2 and message in r.step("gates").stdout
    assert r.steps[-1].ran is False  # nothing after a failed step runs


def test_action_sets_up_the_requested_python(run_installed):
    ws, run = run_installed
    write_clean_demo(ws / "demo")
    r = run({"path": "demo", "python-version": "3.12"})
    setup = r.steps[0]
    assert setup.uses.startswith("actions/setup-python@") and setup.wanted and setup.with_ == {"python-version": "3.12"}
    assert not run_installed[1]({"path": "demo"}).steps[0].wanted  # default: the runner's python3


def test_action_refuses_an_old_python(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    for name in ("python3", "python"):  # both are tried (Windows runners have `python`)
        (fake / name).write_text("#!/bin/sh\nexit 1\n")  # answers the version check like Python 3.8 would
        (fake / name).chmod(0o755)
    r = run_action(ACTION, {}, tmp_path, {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}, tmp_path)
    assert r.failed and r.step("plan").code == 2 and "Python 3.10 or newer" in r.step("plan").stdout
    assert not r.step("install").ran


def test_action_rejects_a_version_that_is_not_one(tmp_path):
    r = run_action(ACTION, {"version": "1.0; curl evil"}, tmp_path, {}, tmp_path)
    assert r.failed and r.step("plan").code == 2 and "version must be" in r.step("plan").stdout
    assert not r.step("install").ran and not (tmp_path / "mlsec-gates-cache").exists()


def test_action_definition_is_injection_safe_and_runner_compatible():
    spec = yaml.safe_load(ACTION.read_text())
    for step in spec["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]
        if "run" in step:
            assert step["shell"] == "bash"
        if "uses" in step:
            assert re.fullmatch(r"[\w./-]+@[0-9a-f]{40}", step["uses"]), "pin actions by full commit SHA"
    for name, inp in spec["inputs"].items():
        assert isinstance(inp["default"], str), name  # the runner passes strings
    assert set(spec["inputs"]) == {"policy", "path", "gates", "fail-on", "shard", "version", "python-version", "comment", "sarif", "cache", "token"}
    assert set(spec["outputs"]) == {"status", "findings", "blocking", "report-json", "report-markdown", "sarif-file"}


def test_harness_parses_the_documented_file_command_forms():
    assert parse_file_commands("a=1\nmulti<<EOF_X\nline 1\nline=2\nEOF_X\nb=x=y\n") == {"a": "1", "multi": "line 1\nline=2", "b": "x=y"}
    with pytest.raises(ValueError):
        parse_file_commands("m<<EOF\nno end\n")
    ctx = Context({"comment": "never", "sarif": "true"}, {"github.event_name": "pull_request"}, {"gates": {"sarif-file": "f"}})
    assert ctx.evaluate("inputs.comment != 'never' && github.event_name == 'pull_request'") is False
    assert ctx.evaluate("inputs.sarif == 'true' && steps.gates.outputs.sarif-file != ''") is True
    assert ctx.evaluate("!(inputs.comment == 'always') || failure()") is True
    with pytest.raises(ValueError):
        ctx.evaluate("contains(inputs.comment, 'x')")
    with pytest.raises(ValueError):
        run_action(ACTION, {"no-such-input": "x"}, Path("/nonexistent"), {}, Path("/nonexistent"))
