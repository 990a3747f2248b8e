"""JSON reports keep their values while the C encoder writes them (issue 18).

``json.dumps(..., indent=2)`` is Python's pure-Python encoder; the JSON, SARIF and Code Quality
writers now indent the outline and put each list item (a finding, a result, an issue) on one line.
The parsed value must be the one ``json.dumps(..., indent=2)`` gave, and the text must stay
deterministic and line-oriented.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gates.core.reports import codequality, json_report, sarif
from gates.core.reports.jsontext import dumps

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"

VALUES = [
    {}, [], "", 0, None, True, 1.5, float("inf"), "\x1b[31m\u202e\U0001f600 \"q\" \\",
    {"a": [], "b": {}, "c": [{}], "d": [[]], "e": [1, [2, [3, {"x": "y"}]]], "f": {"g": {"h": [None, False]}}},
    {7: "int key", 2.5: "float key", True: "bool key", None: "null key", "s": ("tu", "ple")},
    [{"gate": "pii", "examples": [{"row": 1, "evidence": "1****5"}], "fraction_ci": None}] * 3,
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_parses_to_what_json_dumps_gives(value):
    text = dumps(value)
    assert json.loads(text) == json.loads(json.dumps(value, indent=2))
    assert text == dumps(value)


def test_dumps_indents_the_outline_and_writes_each_list_item_on_one_line():
    text = dumps({"summary": {"findings": 2}, "findings": [{"a": 1, "b": [1, 2]}, {"a": 2, "b": []}], "empty": []})
    assert text == ('{\n  "summary": {\n    "findings": 2\n  },\n  "findings": [\n    {"a": 1, "b": [1, 2]},\n'
                    '    {"a": 2, "b": []}\n  ],\n  "empty": []\n}')


def test_dumps_refuses_keys_json_refuses():
    with pytest.raises(TypeError):
        dumps({("a", "b"): 1})
    assert json.loads(dumps({"x": object()}, default=lambda o: "obj")) == {"x": "obj"}


@pytest.fixture
def demo_run(tmp_path, cli, monkeypatch):
    """The demo run as the writers got it."""
    shutil.copytree(DEMO, tmp_path / "demo")
    seen = []
    real = json_report.render
    monkeypatch.setattr(json_report, "render", lambda run: seen.append(run) or real(run))
    r = cli("run", "demo", "--gate", "eval", "--gate", "pii", "--format", "json", cwd=tmp_path)
    assert r.code == 1 and seen, r.err
    return seen[0], r.out


def test_every_json_writer_gives_the_values_of_json_dumps(demo_run):
    run, out = demo_run
    assert out == json_report.render(run) == json_report.render(run)  # deterministic
    assert json.loads(out) == json.loads(json.dumps(json_report.to_dict(run), indent=2, default=str))
    assert json.loads(sarif.render(run)) == json.loads(json.dumps(sarif.to_dict(run), indent=2))
    assert json.loads(codequality.render(run)) == json.loads(json.dumps(codequality.to_list(run), indent=2))


def test_the_json_report_has_one_finding_per_line(demo_run):
    run, out = demo_run
    lines = out.splitlines()
    rep = json.loads(out)
    assert len(rep["findings"]) >= 3
    start = lines.index('  "findings": [')
    shown = lines[start + 1: start + 1 + len(rep["findings"])]
    assert [json.loads(line.strip().rstrip(",")) for line in shown] == rep["findings"]
    assert all(line.startswith('    {"gate": ') for line in shown)
    assert lines[0] == "{" and '  "schema_version": 1,' in lines and '  "summary": {' in lines
