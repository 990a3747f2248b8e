"""Locks declared by a parent policy: each kind, the messages (parent and child FILE:LINE), and
command-line overrides that may tighten but never loosen."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

ORG = """\
version: 1
defaults:
  fail_on: high
gates:
  fmt:
    allowed_formats: [safetensors, onnx]
    blocked_entities: [EMAIL, PHONE]
    max_mb: 50
locks:
  only_stricter: [defaults.fail_on]
  only_shrink: [gates.fmt.allowed_formats]
  only_grow: [gates.fmt.blocked_entities]
  only_decrease: [gates.fmt.max_mb]
  only_true: ["gates.*.enabled"]
  locked: [gates.fmt.strict]
"""


@pytest.fixture
def org(tmp_path, write) -> Path:
    root = tmp_path / "repo"
    write(root / "org" / "org.yml", ORG)
    write(root / "model.onnx", "x")
    return root


def child(root: Path, write, body: str) -> Path:
    return write(root / ".mlsec-gates.yml", "version: 1\nextends: [org/org.yml]\n" + body)


LOOSENINGS = [
    ("defaults:\n  fail_on: critical\n", "defaults.fail_on", "only_stricter", 10, "looser than the floor"),
    ("gates:\n  fmt:\n    fail_on: none\n", "gates.fmt.fail_on", "only_stricter", 10, "looser than the floor"),
    ("gates:\n  fmt:\n    +allowed_formats: [pkl]\n", "gates.fmt.allowed_formats", "only_shrink", 11, 'adds "pkl"'),
    ("gates:\n  fmt:\n    allowed_formats: [safetensors, pkl]\n", "gates.fmt.allowed_formats", "only_shrink", 11, 'adds "pkl"'),
    ("gates:\n  fmt:\n    blocked_entities: [EMAIL]\n", "gates.fmt.blocked_entities", "only_grow", 12, 'drops "PHONE"'),
    ("gates:\n  fmt:\n    max_mb: 500\n", "gates.fmt.max_mb", "only_decrease", 13, "above the floor 50"),
    ("gates:\n  eval:\n    enabled: false\n", "gates.eval.enabled", "only_true", 14, "may not be turned off"),
    ("gates:\n  fmt:\n    strict: false\n", "gates.fmt.strict", "locked", 15, "is locked at true"),
]


@pytest.mark.parametrize("body,key,kind,lock_line,why", LOOSENINGS, ids=[f"{k}-{x[1]}" for x in LOOSENINGS for k in [x[2]]])
def test_loosening_a_lock_exits_2_naming_both_lines(cli, org, write, body, key, kind, lock_line, why):
    p = child(org, write, body)
    child_line = len(body.splitlines()) + 2  # the last line of the body holds the value
    r = cli("run", org, "--gate", "fmt")
    assert r.code == 2, r.out
    assert "breaks a lock set by a parent policy" in r.err
    assert f"{p}:{child_line}: {key} " in r.err
    assert why in r.err
    assert f"{kind} lock set by {org / 'org' / 'org.yml'}:{lock_line}" in r.err


TIGHTENINGS = [
    "defaults:\n  fail_on: medium\n",
    "gates:\n  fmt:\n    fail_on: low\n",
    "gates:\n  fmt:\n    allowed_formats: [safetensors]\n",
    "gates:\n  fmt:\n    +blocked_entities: [SSN]\n",
    "gates:\n  fmt:\n    max_mb: 10\n    strict: true\n",
]


@pytest.mark.parametrize("body", TIGHTENINGS)
def test_tightening_is_allowed(cli, org, write, body):
    child(org, write, body)
    r = cli("policy", "show", org)
    assert r.code == 0, r.err


def test_locks_bind_grandchildren_and_later_siblings(cli, org, write):
    write(org / "team.yml", "version: 1\nextends: [org/org.yml]\ndefaults:\n  fail_on: medium\n")
    write(org / ".mlsec-gates.yml", "version: 1\nextends: [team.yml]\ndefaults:\n  fail_on: high\n")
    assert cli("run", org, "--gate", "fmt").code == 0  # the team tightened but did not lock: back to the org floor is fine
    write(org / ".mlsec-gates.yml", "version: 1\nextends: [team.yml]\ndefaults:\n  fail_on: none\n")
    r = cli("run", org, "--gate", "fmt")
    assert r.code == 2 and "org.yml:10" in r.err
    write(org / "loose.yml", "version: 1\ngates:\n  fmt:\n    +allowed_formats: [pkl]\n")
    write(org / ".mlsec-gates.yml", "version: 1\nextends: [org/org.yml, loose.yml]\n")
    r = cli("run", org, "--gate", "fmt")
    assert r.code == 2 and "loose.yml:4: gates.fmt.allowed_formats" in r.err


def test_cli_fail_on_may_tighten_not_loosen(cli, org, write):
    child(org, write, "")
    write(org / "model.pkl", "x")
    r = cli("run", org, "--gate", "fmt", "--fail-on", "none")
    assert r.code == 2
    assert "--fail-on none: defaults.fail_on" in r.err and "org.yml:10" in r.err
    assert "gates.eval.fail_on" not in r.err  # inherited from the default: reported once
    r = cli("fmt", "--root", org, "--fail-on", "critical")
    assert r.code == 2 and "looser than the floor" in r.err
    r = cli("run", org, "--gate", "fmt", "--fail-on", "low")
    assert r.code == 1, r.err


def test_gate_flags_obey_locks(cli, org, write):
    child(org, write, "")
    r = cli("fmt", "--root", org, "--allow", "pkl")
    assert r.code == 2 and "mlsec-gates fmt flags" in r.err and 'adds "pkl"' in r.err


def test_without_locks_overrides_loosen_freely(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / ".mlsec-gates.yml", "version: 1\ndefaults:\n  fail_on: high\n")
    write(root / "model.bin", "x")
    assert cli("run", root, "--gate", "fmt").code == 1
    assert cli("run", root, "--gate", "fmt", "--fail-on", "none").code == 0


def test_a_document_is_not_bound_by_its_own_locks(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / ".mlsec-gates.yml", "version: 1\ndefaults:\n  fail_on: none\nlocks:\n  only_stricter: [defaults.fail_on]\n")
    assert cli("policy", "validate", root / ".mlsec-gates.yml").code == 0


@pytest.mark.parametrize("locks,message", [
    ("  only_shrink: [gates.fmt.alowed_formats]\n", "locks.only_shrink: gates.fmt.alowed_formats matches no setting"),
    ("  only_stricter: [gates.fmt.max_mb]\n", "locks.only_stricter: gates.fmt.max_mb is 100: only_stricter applies to severity thresholds and on_error"),
    ("  only_shrink: [defaults.fail_on]\n", "locks.only_shrink: defaults.fail_on is not a list or map"),
    ("  only_true: [gates.fmt.max_mb]\n", "locks.only_true: gates.fmt.max_mb is not true/false"),
    ("  only_increase: [gates.fmt.strict]\n", "locks.only_increase: gates.fmt.strict is not a number"),
])
def test_bad_locks_are_errors_at_their_line(cli, tmp_path, write, locks, message):
    p = write(tmp_path / "p.yml", "version: 1\nlocks:\n" + locks)
    r = cli("policy", "validate", p)
    assert r.code == 2 and f"{p}:3: {message}" in r.err


def test_lock_path_as_segments_for_keys_with_dots(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\ngates:\n  eval:\n    metrics:\n      acc.v2: {min: 0.8}\n"
                            "locks:\n  only_increase: [[gates, eval, metrics, acc.v2, min]]\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\ngates:\n  eval:\n    metrics:\n      acc.v2: {min: 0.5}\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and 'gates.eval.metrics["acc.v2"].min is 0.5, below the floor 0.8' in r.err


WAIVER_LOCKS = """\
version: 1
locks:
  waivers:
    max_days: 30
    forbid_rules: ["FMT9*"]
    require_fields: [ticket]
"""


def waiver(rule="FMT001", days=10, ticket="SEC-1"):
    expires = (_dt.date.today() + _dt.timedelta(days=days)).isoformat()
    t = f"\n    ticket: {ticket}" if ticket else ""
    return f"waivers:\n  - rule: {rule}\n    reason: accepted for now\n    expires: {expires}{t}\n"


@pytest.mark.parametrize("kw,message", [
    ({"days": 90}, "expires in 90 days, more than the 30-day maximum — max_days set by {org}:4"),
    ({"rule": "FMT901"}, "rules matching 'FMT9*' may not be waived — forbid_rules set by {org}:5"),
    ({"rule": "FMT*"}, "rules matching 'FMT9*' may not be waived"),
    ({"ticket": None}, "the field 'ticket' is required — require_fields set by {org}:6"),
])
def test_waiver_governance(cli, tmp_path, write, kw, message):
    root = tmp_path / "r"
    org = write(root / "org.yml", WAIVER_LOCKS)
    p = write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n" + waiver(**kw))
    r = cli("policy", "show", root)
    assert r.code == 2
    assert f"{p}:4: waiver for {kw.get('rule', 'FMT001')}: " + message.format(org=org) in r.err
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n" + waiver())
    assert cli("policy", "show", root).code == 0


@pytest.mark.parametrize("rule", ["?MT001", "[F]MT001", "[EF]MT00[1]"])
def test_forbid_rules_cannot_be_dodged_by_another_glob_for_the_same_rule(cli, tmp_path, write, rule):
    """`?MT001` matches FMT001 without matching `FMT00*` as text: the lock must still hold."""
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\nlocks:\n  waivers:\n    forbid_rules: ['FMT00*']\n")
    p = write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n" + waiver(rule=f"'{rule}'") + "    path: model.bin\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and f"{p}:4: waiver for {rule}: rules matching 'FMT00*' may not be waived" in r.err


def test_org_can_require_waivers_in_the_waiver_file(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\nlocks:\n  waivers:\n    allow_inline: false\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n" + waiver())
    r = cli("policy", "show", root)
    assert r.code == 2 and "waivers must live in the waiver file" in r.err and "org.yml:4" in r.err
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n")
    write(root / ".mlsec-gates-waivers.yml", "version: 1\n" + waiver())
    assert cli("policy", "show", root).code == 0


def test_waiver_file_is_governed_too(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", WAIVER_LOCKS)
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\n")
    w = write(root / ".mlsec-gates-waivers.yml", "version: 1\n" + waiver(days=400))
    r = cli("run", root, "--gate", "fmt")
    assert r.code == 2 and f"{w}:3: waiver for FMT001: expires in 400 days" in r.err
