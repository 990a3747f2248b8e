"""The policy JSON Schema published at ``schema/mlsec-gates.schema.json`` (for editors, through the
``yaml-language-server`` modeline) is exactly what ``mlsec-gates policy schema`` prints, and carries
the built-in defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from gates.core.registry import load_gates
from gates.core.schema import build_schema

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "schema" / "mlsec-gates.schema.json"
REGENERATE = "mlsec-gates policy schema > schema/mlsec-gates.schema.json"


@pytest.fixture(scope="module")
def generated() -> dict:
    gates, missing = load_gates()
    if missing:
        pytest.skip(f"gates not importable here ({', '.join(missing)}): the published schema covers every gate")
    return build_schema(gates)


def test_published_schema_is_the_generated_one(generated, cli):
    committed = json.loads(PUBLISHED.read_text("utf-8"))
    assert committed == generated, f"{PUBLISHED.relative_to(REPO)} is stale; regenerate it with: {REGENERATE}"
    r = cli("policy", "schema")
    assert r.code == 0 and r.out == PUBLISHED.read_text("utf-8"), f"byte-for-byte differs; regenerate it with: {REGENERATE}"


def test_published_schema_carries_the_defaults(generated):
    props = generated["properties"]
    assert props["defaults"]["properties"]["fail_on"]["default"] == "high"
    assert props["defaults"]["properties"]["on_error"]["default"] == "fail"
    for name, section in props["gates"]["properties"].items():
        assert section["properties"]["enabled"]["default"] is True, name
        assert isinstance(section["properties"]["paths"]["default"], list), name
        assert "default" not in section["properties"]["fail_on"], name  # inherits defaults.fail_on
    assert props["gates"]["properties"]["eval"]["properties"]["format"]["default"] == "auto"


def test_an_editor_with_the_published_schema_accepts_the_demo_and_catches_a_typo(generated):
    demo = REPO / "examples" / "demo" / ".mlsec-gates.yml"
    modeline = demo.read_text().splitlines()[0]
    m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", modeline)
    assert m and (demo.parent / m.group(1)).resolve() == PUBLISHED
    validator = jsonschema.Draft202012Validator(json.loads(PUBLISHED.read_text()))
    policy = json.loads(json.dumps(yaml.safe_load(demo.read_text()), default=str))  # dates stay text, as an editor sees them
    assert list(validator.iter_errors(policy)) == []
    policy["gates"]["eval"]["enabeld"] = True
    assert any("enabeld" in e.message for e in validator.iter_errors(policy))
