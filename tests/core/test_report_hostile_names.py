"""Reports stay well-formed and inert when the scanned input names things hostilely.

A file name (and a metric name inside a results file) is attacker-controlled in a pull request:
it may hold backticks, ``|``, HTML, newlines, control characters or GitHub workflow commands.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from gates.core.hygiene import clean_name

HOSTILE = "r`x\x01|<b>\n::error::pwn #%.json"


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / HOSTILE).write_text(json.dumps({"::stop-commands::tok": 0.1}))
    (tmp_path / ".mlsec-gates.yml").write_text(
        'version: 1\ngates:\n  eval:\n    results: "eval/*.json"\n    metrics:\n      "::stop-commands::tok": {min: 0.9}\n'
    )
    return tmp_path


def _report(cli, root: Path, fmt: str, gate: str = "eval") -> str:
    out = root.parent / f"out.{fmt}"
    r = cli("run", ".", "--gate", gate, "-q", "--format", fmt, "--output", out, cwd=root)
    assert r.code == 1, r.err
    return out.read_text(encoding="utf-8")


def test_junit_is_well_formed_xml_with_control_characters_in_names(hostile_repo, cli):
    text = _report(cli, hostile_repo, "junit")
    root = ET.fromstring(text.encode("utf-8"))
    failures = root.findall(".//failure")
    assert failures and "EVAL001" in failures[0].get("type", "")


def test_markdown_code_spans_hold_backticks_and_the_waiver_snippet_reads_back(hostile_repo, cli):
    from markdown_it import MarkdownIt

    text = _report(cli, hostile_repo, "markdown")
    shown = clean_name(HOSTILE)  # control characters shown as escapes (issue 13: one hygiene layer)
    row = next(line for line in text.splitlines() if line.startswith("| ") and "[EVAL001]" in line)
    # a fence longer than the name's own backtick run, so the name cannot close the span early; and
    # the cell's pipe escaped, so the name cannot end the table cell (GFM)
    assert "``eval/" + shown.replace("|", "\\|") + ":1``" in row
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert f"<code>eval/{html_escape(shown)}:1</code>" in html
    snippet = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    waiver = yaml.safe_load(snippet)[0]
    assert waiver["path"] == f"eval/{HOSTILE}" and waiver["rule"] == "EVAL001"


def html_escape(s: str) -> str:
    import html

    return html.escape(s, quote=False).replace('"', "&quot;")


@pytest.mark.parametrize("fmt", ["text", "markdown", "junit"])
def test_stdout_never_carries_a_workflow_command_from_the_input(hostile_repo, cli, fmt):
    """GitHub Actions runs ``::stop-commands::`` & co. from any output line: names must stay inert."""
    r = cli("run", ".", "--gate", "eval", "--format", fmt, cwd=hostile_repo)
    assert r.code == 1, r.err
    lines = re.split(r"\r\n|\r|\n", r.out)
    assert "::stop-commands::tok" in r.out  # still shown, just not at the start of a line
    assert not [line for line in lines if line.lstrip().startswith("::")]


def test_policy_errors_on_stderr_cannot_issue_workflow_commands(tmp_path, cli):
    (tmp_path / ".mlsec-gates.yml").write_text('version: 1\ngates:\n  "eval\\n::error::injected": {}\n')
    r = cli("policy", "validate", tmp_path / ".mlsec-gates.yml")
    assert r.code == 2 and "injected" in r.err
    assert not [line for line in re.split(r"\r\n|\r|\n", r.err) if line.lstrip().startswith("::")]


def test_markdown_never_renders_a_link_or_image_from_a_metric_name(tmp_path, cli):
    from markdown_it import MarkdownIt

    name = "![x](https://evil.example/p.png)[verified by security](https://evil.example)"
    (tmp_path / "r.json").write_text(json.dumps({name: 0.1}))
    (tmp_path / ".mlsec-gates.yml").write_text('version: 1\ngates:\n  eval:\n    results: r.json\n    metrics:\n      "*": {min: 0.9}\n')
    text = _report(cli, tmp_path, "markdown")
    assert "verified by security" in text
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<img" not in html and 'href="https://evil' not in html


def test_a_credential_in_a_file_name_gives_a_fingerprint_only_waiver_that_works(tmp_path, cli):
    """Issue 13: the snippet must not print a token from a file name, and what it prints instead
    must still waive exactly that finding when pasted into the policy."""
    token = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / f"w_{token}.pkl").write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")
    policy = 'version: 1\ngates:\n  model:\n    paths: ["models/**"]\n'
    (tmp_path / ".mlsec-gates.yml").write_text(policy)
    text = _report(cli, tmp_path, "markdown", gate="model")
    assert token not in text
    snippets = [s for s in re.findall(r"```yaml\n(.*?)```", text, re.S) if "MODEL001" in s]
    assert snippets
    waiver = yaml.safe_load(snippets[0])[0]
    assert "path" not in waiver and len(waiver["fingerprint"]) == 16
    waiver["reason"] = "reviewed: a test fixture"
    (tmp_path / ".mlsec-gates.yml").write_text(policy + yaml.safe_dump({"waivers": [waiver]}))
    r = cli("run", ".", "--gate", "model", "--format", "json", cwd=tmp_path)
    rep = json.loads(r.out)
    assert r.code == 0, r.out
    assert [f["waived"] for f in rep["findings"] if f["rule"] == "MODEL001"] == [True]
