"""Policy loading: schema validation with FILE:LINE messages, duplicate keys, defaults."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from gates.core.errors import PolicyError
from gates.core.loader import load_policy
from gates.core.schema import build_schema
from gates.core.registry import available_gates


def write(tmp_path: Path, text: str, name: str = ".mlsec-gates.yml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_invalid_enabled_value_exits_2_with_file_and_line(tmp_path, cli):
    p = write(tmp_path, """\
        version: 1
        gates:
          eval:
            enabled: maybe
        """)
    r = cli("policy", "validate", p)
    assert r.code == 2
    assert f"{p}:4: gates.eval.enabled:" in r.err
    assert "boolean" in r.err


def test_run_with_invalid_policy_exits_2(tmp_path, cli):
    write(tmp_path, "version: 1\ngates:\n  eval:\n    enabled: maybe\n")
    r = cli("run", tmp_path)
    assert r.code == 2
    assert "gates.eval.enabled" in r.err


def test_every_problem_is_listed_with_its_line(tmp_path):
    p = write(tmp_path, """\
        version: 1
        defaults:
          fail_on: severe
        gates:
          eval:
            enabeld: true
        waivers:
          - rule: EVAL001
            expires: 2026-13-01
        """)
    with pytest.raises(PolicyError) as exc:
        load_policy(p, available_gates())
    problems = exc.value.problems
    assert any(s.startswith(f"{p}:3: defaults.fail_on:") for s in problems), problems
    assert any(s.startswith(f"{p}:6: gates.eval.enabeld: unknown key") for s in problems), problems
    assert any(f"{p}:8: waivers[0]:" in s and "reason" in s for s in problems), problems
    assert any(f"{p}:9: waivers[0].expires:" in s for s in problems), problems


def test_duplicate_keys_are_rejected(tmp_path):
    p = write(tmp_path, "version: 1\ndefaults:\n  fail_on: high\n  fail_on: none\n")
    with pytest.raises(PolicyError) as exc:
        load_policy(p, available_gates())
    assert any(":4: defaults.fail_on: duplicate key (first defined on line 3)" in s for s in exc.value.problems)


def test_yaml_syntax_error_names_file_and_line(tmp_path, cli):
    p = write(tmp_path, "version: 1\ngates: [unclosed\n")
    r = cli("policy", "validate", p)
    assert r.code == 2
    assert str(p) in r.err and "invalid YAML" in r.err


def test_unsafe_yaml_tags_are_not_constructed(tmp_path):
    p = write(tmp_path, "version: 1\nx: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(PolicyError):
        load_policy(p, available_gates())


def test_missing_policy_file_is_an_error_not_a_fallback(tmp_path, cli):
    r = cli("run", tmp_path, "--policy", tmp_path / "nope.yml")
    assert r.code == 2
    assert "nope.yml: policy file not found" in r.err


def test_defaults_merge_and_show(tmp_path, cli):
    write(tmp_path, "version: 1\ndefaults:\n  fail_on: medium\ngates:\n  eval:\n    results: r.json\n")
    r = cli("policy", "show", tmp_path)
    assert r.code == 0
    shown = yaml.safe_load(r.out)
    assert shown["defaults"] == {"fail_on": "medium", "on_error": "fail"}
    assert shown["gates"]["eval"]["results"] == "r.json"
    assert shown["gates"]["eval"]["enabled"] is True  # from the built-in default


def test_schema_command_prints_a_valid_draft_2020_12_schema(cli):
    r = cli("policy", "schema")
    assert r.code == 0
    schema = json.loads(r.out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "eval" in schema["properties"]["gates"]["properties"]


def test_demo_policy_is_valid(cli):
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo" / ".mlsec-gates.yml"
    r = cli("policy", "validate", demo)
    assert r.code == 0, r.err


def test_built_in_schema_accepts_the_built_in_default():
    from gates.core.schema import default_policy

    gates = available_gates()
    jsonschema.Draft202012Validator(build_schema(gates)).validate(default_policy(gates))
