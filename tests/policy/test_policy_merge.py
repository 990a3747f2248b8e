"""Merge semantics (maps deep-merge, lists replace, +key / merge: append append, waivers
accumulate), provenance in `policy show --explain`, and the published schema."""

from __future__ import annotations

import json
import re

import yaml

ORG = """\
version: 1
defaults:
  fail_on: medium
gates:
  fmt:
    paths: ["models/**"]
    allowed_formats: [safetensors, onnx]
    max_mb: 10
waivers:
  - rule: FMT001
    path: legacy/**
    reason: org-wide legacy exception
    expires: 2099-01-01
"""


def setup(tmp_path, write, repo_body: str):
    root = tmp_path / "r"
    write(root / "org.yml", ORG)
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n" + repo_body)
    return root


def effective(cli, root) -> dict:
    r = cli("policy", "show", root)
    assert r.code == 0, r.err
    return yaml.safe_load(r.out)


def test_maps_merge_lists_replace_waivers_accumulate(cli, tmp_path, write):
    root = setup(tmp_path, write, """\
gates:
  fmt:
    allowed_formats: [safetensors]
waivers:
  - rule: FMT001
    path: tmp/**
    reason: scratch space
    expires: 2099-01-01
""")
    fmt = effective(cli, root)["gates"]["fmt"]
    assert fmt["allowed_formats"] == ["safetensors"]  # replaced
    assert fmt["max_mb"] == 10 and fmt["paths"] == ["models/**"]  # siblings kept from the org
    pol = effective(cli, root)
    assert [w["path"] for w in pol["waivers"]] == ["legacy/**", "tmp/**"]
    assert pol["defaults"] == {"fail_on": "medium", "on_error": "fail"}


def test_plus_key_appends(cli, tmp_path, write):
    root = setup(tmp_path, write, "gates:\n  fmt:\n    +paths: [\"weights/**\"]\n")
    assert effective(cli, root)["gates"]["fmt"]["paths"] == ["models/**", "weights/**"]


def test_plus_key_on_a_scalar_form_and_on_an_unset_key(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\ngates:\n  eval:\n    results: a.json\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\ngates:\n  eval:\n    +results: [b.json]\n    +exclude: [x/**]\n")
    ev = effective(cli, root)["gates"]["eval"]
    assert ev["results"] == ["a.json", "b.json"]
    assert ev["exclude"] == ["x/**"]


def test_merge_append_document_wide(cli, tmp_path, write):
    root = setup(tmp_path, write, "merge: append\ngates:\n  fmt:\n    paths: [\"weights/**\"]\n    allowed_formats: [gguf]\n")
    fmt = effective(cli, root)["gates"]["fmt"]
    assert fmt["paths"] == ["models/**", "weights/**"]
    assert fmt["allowed_formats"] == ["safetensors", "onnx", "gguf"]


def test_key_and_plus_key_together_is_an_error(cli, tmp_path, write):
    root = setup(tmp_path, write, "gates:\n  fmt:\n    paths: [a]\n    +paths: [b]\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and ".mlsec-gates.yml:6: gates.fmt.paths: both 'paths' and '+paths' are set" in r.err


def test_plus_only_for_lists(cli, tmp_path, write):
    root = setup(tmp_path, write, "gates:\n  fmt:\n    +max_mb: 3\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and "gates.fmt.+max_mb: unknown key" in r.err


def test_explain_attributes_every_key(cli, tmp_path, write):
    root = setup(tmp_path, write, "defaults:\n  fail_on: low\ngates:\n  fmt:\n    +paths: [\"weights/**\"]\n")
    write(root / ".mlsec-gates-waivers.yml", "version: 1\nwaivers:\n  - rule: FMT001\n    path: x/**\n    reason: kept\n    expires: 2099-01-01\n")
    r = cli("policy", "show", root, "--explain")
    assert r.code == 0, r.err
    rows = [ln for ln in r.out.splitlines() if not ln.startswith("#")]
    keys = {}
    for ln in rows:
        m = re.match(r"^(\S+): (.*?)\s+# (.+)$", ln)
        assert m, f"unattributed line: {ln!r}"
        keys[m.group(1)] = m.group(3)
    org, repo, wf = str(root / "org.yml"), ".mlsec-gates.yml", str(root / ".mlsec-gates-waivers.yml")
    assert keys["version"].endswith(f"{repo}:1")
    assert keys["defaults.fail_on"].endswith(f"{repo}:4")
    assert keys["defaults.on_error"] == "(built-in default)"
    assert keys["gates.fmt.max_mb"] == f"{org}:8"
    assert keys["gates.fmt.paths"] == f"{org}:6 + {root / repo}:7"
    assert keys["gates.fmt.strict"] == "(built-in default)"
    assert keys["waivers[0].path"] == f"{org}:11"
    assert keys["waivers[1].rule"] == f"{wf}:3"
    # every effective leaf is listed: compare with the plain show output
    flat = _leaves(effective(cli, root))
    assert len(flat) == len(rows)
    assert "sha256:" in r.out and "(built-in defaults)" in r.out


def _leaves(value, path=""):
    if isinstance(value, dict) and value:
        return [x for k, v in value.items() for x in _leaves(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        return [x for i, v in enumerate(value) for x in _leaves(v, f"{path}[{i}]")]
    return [path]


def test_explain_lists_locks(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\nlocks:\n  only_stricter: [defaults.fail_on]\n  waivers:\n    max_days: 60\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n")
    r = cli("policy", "show", root, "--explain")
    assert "#   only_stricter defaults.fail_on (floor: defaults.fail_on=\"high\"" in r.out
    assert f"#   waivers.max_days: 60  # {root / 'org.yml'}:5" in r.out


def test_schema_is_versioned_and_describes_org_keys(cli):
    r = cli("policy", "schema")
    schema = json.loads(r.out)
    assert schema["$id"] == "urn:mlsec-gates:policy:v1"
    assert {"extends", "locks", "merge"} <= set(schema["properties"])
    assert set(schema["properties"]["locks"]["properties"]) == {
        "locked", "only_stricter", "only_shrink", "only_grow", "only_increase", "only_decrease", "only_true", "waivers"}
    ev = schema["properties"]["gates"]["properties"]["eval"]["properties"]
    assert "+paths" in ev and "+exclude" in ev and "+results" in ev and "+fail_on" not in ev
    assert cli("policy", "schema").out == r.out  # stable


def test_meta_keys_do_not_enter_the_effective_policy(cli, tmp_path, write):
    root = setup(tmp_path, write, "merge: replace\nlocks:\n  locked: [gates.fmt.max_mb]\n")
    pol = effective(cli, root)
    assert not {"extends", "locks", "merge"} & set(pol)


def test_alias_expansion_is_bounded(cli, tmp_path, write):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    p = write(tmp_path / "bomb.yml", "version: 1\nx-bomb:\n" + "".join(f"  {ln}\n" for ln in levels))
    r = cli("policy", "validate", p)
    assert r.code == 2 and "more than 200000 YAML nodes" in r.err


def test_duplicate_keys_in_a_fetched_style_document_are_rejected(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\ndefaults:\n  fail_on: high\n  fail_on: none\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and "org.yml:4: defaults.fail_on: duplicate key (first defined on line 3)" in r.err
