"""No credential, token, PII value or raw control character from any input reaches any output
(issue 13, item 5).

Canaries are planted in every kind of input the core and the eval gate read (file names, CSV
column names, metric names inside results files, policy values, waiver fields, a policy that
fails its schema) and every output is searched: each report format, the console, ``policy
show`` (plain and ``--explain``), ``waivers list`` (table and JSON) and the error stream.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
PASSWORD = "hunter2Secret"
URL = f"https://alice:{PASSWORD}@git.example.com/org/repo"
EMAIL = "jane.canary@example.org"
ESC = "\x1b"
CANARIES = (TOKEN, PASSWORD, EMAIL)

RESULTS_NAME = f"res{ESC}[31mults.json"
METRICS = {f"acc/{TOKEN}": 0.1, f"{EMAIL}/acc": 0.2, f"bad{ESC}[2Jname": 0.3, "plain": 0.95}
DAY = (_dt.date.today() + _dt.timedelta(days=20)).isoformat()


def policy() -> str:
    return f"""version: 1
gates:
  eval:
    results: ["eval/*.json", "eval/*.csv"]
    metrics:
      "*": {{min: 0.5}}
      "{TOKEN}": {{min: 0.5}}
waivers:
  - rule: EVAL001
    path: "eval/*.json"
    fingerprint: "0000000000000000"
    reason: "tracked in {URL} by {EMAIL} token {TOKEN}"
    owner: "{EMAIL}"
    ticket: "{URL}/issues/1"
    expires: {DAY}
  - rule: EVAL010
    reason: "see {URL}"
    owner: "{EMAIL}"
    ticket: "{TOKEN}"
    expires: {DAY}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / RESULTS_NAME).write_text(json.dumps(METRICS))
    (tmp_path / "eval" / "slices.csv").write_text(f"metric,value\nsub{ESC}[1m/acc,0.1\n{EMAIL},0.2\n")
    # the pii gate: a column named with an escape sequence, holding e-mail addresses
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "users.csv").write_text(f"id,na{ESC}[2Jme\n1,{EMAIL}\n2,bob@example.org\n")
    # the model gate: a file named with a token, holding a pickle that calls os.system (never loaded)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / f"w_{TOKEN}.pkl").write_bytes(b"cos\nsystem\n(S'echo " + EMAIL.encode() + b"'\ntR.")
    (tmp_path / ".mlsec-gates.yml").write_text(policy())
    return tmp_path


GATES = ["--gate", "eval", "--gate", "pii", "--gate", "model"]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def assert_clean(text: str, what: str, parsed: Any = None) -> None:
    for c in CANARIES:
        assert c not in text, f"{what}: leaks {c!r}"
    assert ESC not in text, f"{what}: raw escape character"
    for s in strings(parsed):  # JSON writes ESC as \\u001b: what a consumer prints is the parsed value
        assert ESC not in s and not any(c in s for c in CANARIES), f"{what}: leaks in {s!r}"


FORMATS = ["text", "json", "markdown", "sarif", "junit", "codequality"]
#: formats that still leak through code outside the core (remove the entry when its branch merges)
LEAKS_OUTSIDE_CORE: dict[str, str] = {}


@pytest.mark.parametrize("fmt", FORMATS)
def test_reports_carry_no_canary(repo, cli, fmt, request):
    if fmt in LEAKS_OUTSIDE_CORE:
        request.applymarker(pytest.mark.xfail(strict=True, reason=LEAKS_OUTSIDE_CORE[fmt]))
    r = cli("run", ".", *GATES, "--format", fmt, cwd=repo)
    assert r.code == 1, r.err
    parsed = json.loads(r.out) if fmt in ("json", "sarif", "codequality") else None
    assert_clean(r.out, fmt, parsed)
    assert_clean(r.err, f"{fmt} stderr")


def test_the_canaries_reach_the_gate(repo, cli):
    """Guard against a test that passes because nothing was read: the planted names are found."""
    r = cli("run", ".", *GATES, "--format", "json", cwd=repo)
    rep = json.loads(r.out)
    assert rep["gates"]["eval"]["counts"]["files"] == 2 and rep["gates"]["model"]["counts"]["files"] == 1
    assert "data/users.csv" in [f["path"] for f in rep["gates"]["pii"]["files"]]
    assert {f["rule"] for f in rep["findings"]} >= {"EVAL001", "PII001"} and any(f["gate"] == "model" for f in rep["findings"])
    msgs = " ".join(f["message"] for f in rep["findings"])
    assert "acc/…" in msgs and "…@…/acc" in msgs and "\\x1b" in msgs
    assert any(f["waived"] for f in rep["findings"])  # the waiver with the canary reason applied


@pytest.mark.parametrize("args", [["policy", "show"], ["policy", "show", "--explain"], ["waivers", "list"],
                                  ["waivers", "list", "--json"]])
def test_policy_and_waiver_commands_carry_no_canary(repo, cli, args):
    r = cli(*args, cwd=repo)
    assert r.code == 0, r.err
    assert_clean(r.out, " ".join(args), json.loads(r.out) if "--json" in args else None)
    assert_clean(r.err, " ".join(args) + " stderr")
    shown = json.dumps(json.loads(r.out), ensure_ascii=False) if "--json" in args else r.out
    assert "…" in shown  # the values are there, redacted


@pytest.mark.parametrize("bad", [
    f'defaults:\n  fail_on: "{URL} {TOKEN} {EMAIL}"\n',
    f'gates:\n  eval:\n    "{TOKEN}": 1\n',
    f'gates:\n  eval:\n    results: 7\n    baseline: ["{URL}"]\n    metrics: {{"x": {{min: "{EMAIL}"}}}}\n',
    f'waivers:\n  - rule: "{TOKEN}"\n    reason: ""\n    expires: "{EMAIL}"\n',
    f'extends: ["{URL}/policy.yml"]\n',
])
def test_policy_errors_carry_no_canary(tmp_path, cli, bad):
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\n" + bad)
    for args in (["policy", "validate", ".mlsec-gates.yml"], ["run", "."], ["policy", "show"]):
        r = cli(*args, cwd=tmp_path)
        assert r.code == 2, (args, r.out)
        assert_clean(r.err, " ".join(args))
        assert_clean(r.out, " ".join(args))


def test_a_policy_path_value_with_a_url_is_redacted_in_gate_errors(tmp_path, cli):
    (tmp_path / "r.json").write_text('{"a": 1}')
    (tmp_path / ".mlsec-gates.yml").write_text(f'version: 1\ngates:\n  eval:\n    results: r.json\n    baseline: "{URL}/b.json"\n'
                                               "    metrics: {a: {max_regression: 0.1}}\n")
    for fmt in FORMATS:
        r = cli("run", ".", "--gate", "eval", "--format", fmt, cwd=tmp_path)
        assert r.code == 2 and "baseline file not found" in r.out + r.err
        assert_clean(r.out, fmt)
