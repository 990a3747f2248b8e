"""Every report format, checked against its schema or parsed by a real parser."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


@pytest.fixture
def demo_reports(tmp_path, cli):
    """The demo run (failing) with every format written to files."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    outs = {fmt: tmp_path / f"report.{fmt}" for fmt in ("json", "markdown", "sarif", "junit", "codequality", "text")}
    args = ["run", "demo", "--gate", "eval"]
    for fmt, out in outs.items():
        args += ["--format", fmt, "--output", str(out)]
    r = cli(*args, cwd=tmp_path)
    assert r.code == 1, r.err
    return {fmt: out.read_text() for fmt, out in outs.items()}


def test_json_report_keys(demo_reports):
    rep = json.loads(demo_reports["json"])
    schema = json.loads((Path(__file__).resolve().parents[2] / "gates/core/reports/report_schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(rep)
    assert {"schema_version", "status", "gates", "findings", "tool"} <= set(rep)
    assert rep["schema_version"] == 1 and rep["tool"]["name"] == "mlsec-gates"
    assert rep["status"] == "fail" and rep["gates"]["eval"]["status"] == "fail"
    for f in rep["findings"]:
        for key in ("gate", "rule", "severity", "blocking", "waived", "message", "path", "member", "line", "row", "column",
                    "offset", "entity", "remediation", "fingerprint", "waiver_reason", "why"):
            assert key in f, key
        assert f["path"].startswith("demo/eval/")
    blocking = [f for f in rep["findings"] if f["blocking"]]
    assert {f["metric"] for f in blocking} == {"hellaswag/acc_norm", "subgroup/age_65_plus/accuracy", "subgroup/*/accuracy"}
    assert all(f["metric"] in f["message"] for f in blocking)


def test_sarif_validates_against_the_official_schema(demo_reports, shared):
    schema = json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text())
    sarif = json.loads(demo_reports["sarif"])
    jsonschema.Draft4Validator(schema).validate(sarif)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["partialFingerprints"]["mlsecGates/v1"]
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
    assert any(r.get("suppressions") for r in run["results"])  # the waived finding
    assert all(r["help"]["text"] for r in rules)
    assert run["invocations"][0]["executionSuccessful"] is True


def test_junit_parses_with_junitparser(demo_reports, tmp_path):
    p = tmp_path / "j.xml"
    p.write_text(demo_reports["junit"])
    xml = JUnitXml.fromfile(str(p))
    suites = {s.name: s for s in xml}
    assert set(suites) >= {"eval"}
    ev = suites["eval"]
    failures = [c for c in ev if any(isinstance(r, Failure) for r in c.result)]
    assert {c.name.split()[0] for c in failures} == {"EVAL001", "EVAL003", "EVAL006"}
    assert ev.failures == len(failures) and ev.tests >= len(failures)


def test_codequality_fields(demo_reports):
    issues = json.loads(demo_reports["codequality"])
    assert issues, "blocking findings must appear"
    fps = [i["fingerprint"] for i in issues]
    assert len(fps) == len(set(fps))
    for i in issues:
        assert i["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert i["description"] and i["check_name"].startswith("mlsec-gates/eval/")
        assert i["location"]["path"].startswith("demo/eval/")
        assert isinstance(i["location"]["lines"]["begin"], int) and i["location"]["lines"]["begin"] >= 1


def test_markdown_for_pr_comment(demo_reports):
    md = demo_reports["markdown"]
    assert md.startswith("<!-- mlsec-gates -->\n")
    assert "| **eval**" in md and "❌ fail" in md
    assert "### Blocking problems" in md and "| 🟧 high | eval | [EVAL" in md
    assert "```yaml\n- {rule: EVAL" in md  # a waiver snippet to copy
    assert "<details><summary>Why it matters" in md and "**Fix:**" in md


def test_markdown_truncates_under_the_comment_limit(tmp_path, cli):
    (tmp_path / "r.json").write_text(json.dumps({f"m{i}": 0.1 for i in range(3000)}))
    (tmp_path / ".mlsec-gates.yml").write_text('version: 1\ngates:\n  eval:\n    results: r.json\n    metrics:\n      "m*": {min: 0.5}\n')
    out = tmp_path / "r.md"
    r = cli("run", tmp_path, "--gate", "eval", "--format", "markdown", "--output", out, "-q")
    assert r.code == 1
    md = out.read_text()
    assert len(md) <= 65_000
    assert re.search(r"\d+ more problems not shown \(comment size limit\)", md)
    assert md.count("<details") == md.count("</details>")


def test_text_report_summarises(demo_reports):
    text = demo_reports["text"]
    assert "Result: FAIL" in text and "EVAL003" in text and "exit code 1" in text


def test_gate_errors_reach_every_format(tmp_path, cli, shared):
    (tmp_path / "r.json").write_text("[1, 2")
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: r.json\n")
    args = ["run", ".", "--gate", "eval", "-q"]
    for fmt in ("json", "sarif", "junit", "markdown", "codequality"):
        args += ["--format", fmt, "--output", f"out.{fmt}"]
    assert cli(*args, cwd=tmp_path).code == 2
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    jsonschema.Draft4Validator(json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text())).validate(sarif)
    inv = sarif["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False and "not valid JSON" in inv["toolExecutionNotifications"][0]["message"]["text"]
    xml = JUnitXml.fromfile(str(tmp_path / "out.junit"))
    assert any(isinstance(r, Error) for s in xml for c in s for r in c.result)
    assert "⛔" in (tmp_path / "out.markdown").read_text()
    (issue,) = json.loads((tmp_path / "out.codequality").read_text())  # the GitLab MR widget shows the failure too
    assert issue["check_name"] == "mlsec-gates/eval/error" and issue["severity"] == "blocker"
    assert issue["location"]["path"] == "r.json" and "not valid JSON" in issue["description"]


def test_skipped_gate_in_junit(tmp_path, cli):
    r = cli("run", ".", "--gate", "eval", "--format", "junit", cwd=tmp_path)  # no results configured
    assert r.code == 2 and "nothing was scanned" in r.err  # the only gate skipped: not a pass
    root = ET.fromstring(r.out.split("\n", 1)[1])
    assert root.find("testsuite/testcase/skipped") is not None
    p = tmp_path / "j.xml"
    p.write_text(r.out)
    assert any(isinstance(x, Skipped) for s in JUnitXml.fromfile(str(p)) for c in s for x in c.result)
