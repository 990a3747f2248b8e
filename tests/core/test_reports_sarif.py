"""SARIF that GitHub shows truthfully (issue 15, item 3), on the realistic repository: each result
at its own severity band, a region wherever a line exists, helpUri on every rule, core rules
tagged, waived findings left out unless asked for. Validated with the official schema and with
Microsoft's SARIF multitool using GitHub's upload rules (installed by ``.ci/setup-tools``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest

import realistic_repo
from gates.core.reports.sarif import SECURITY_SEVERITY
from gates.core.findings import Severity

REPO = Path(__file__).resolve().parents[2]
MULTITOOL_DIR = REPO / ".ci" / "node" / "node_modules" / "@microsoft"
PLATFORM = {"linux": "linux", "darwin": "darwin", "win32": "win32"}


@pytest.fixture(scope="module")
def realistic(tmp_path_factory, shared):
    base = tmp_path_factory.mktemp("realistic-sarif")
    root, outs = realistic_repo.build_with_reports(base, shared, "json", "sarif", "codequality")
    with_supp = base / "with-suppressions.sarif"
    assert realistic_repo.run(root, "-q", "--format", "sarif", "--output", str(with_supp), "--sarif-suppressions") == 1
    return {"json": json.loads(outs["json"].read_text()), "sarif": json.loads(outs["sarif"].read_text()),
            "sarif_path": outs["sarif"], "codequality": json.loads(outs["codequality"].read_text()), "suppressed": json.loads(with_supp.read_text()), "suppressed_path": with_supp}


def _run(sarif: dict) -> dict:
    return sarif["runs"][0]


def test_valid_against_the_official_schema(realistic, shared):
    schema = json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text())
    for key in ("sarif", "suppressed"):
        jsonschema.Draft4Validator(schema).validate(realistic[key])


def test_each_result_is_reported_under_a_rule_of_its_own_severity(realistic):
    run = _run(realistic["sarif"])
    rules = run["tool"]["driver"]["rules"]
    bands = {v: k for k, v in SECURITY_SEVERITY.items()}
    for res in run["results"]:
        rule = rules[res["ruleIndex"]]
        assert rule["id"] == res["ruleId"]
        assert bands[rule["properties"]["security-severity"]].value == res["properties"]["severity"], res["ruleId"]
    ids = {r["ruleId"] for r in run["results"]}
    # the phone column (warn, low) is not shown at PII001's high; medium advisories not at high
    assert {"PII001", "PII001/low", "DEPS001", "DEPS001/medium", "MODEL001", "EVAL001"} <= ids
    low = next(r for r in rules if r["id"] == "PII001/low")
    assert low["properties"]["security-severity"] == SECURITY_SEVERITY[Severity.LOW]
    assert {r["ruleId"] for r in run["results"] if r["properties"]["rule"] == "PII001"} == {"PII001", "PII001/low"}


def test_a_region_wherever_a_line_exists(realistic):
    run = _run(realistic["sarif"])
    by_fp = {f["fingerprint"]: f for f in realistic["json"]["findings"]}
    for res in run["results"]:
        f = by_fp[res["partialFingerprints"]["mlsecGates/v1"]]
        region = res["locations"][0]["physicalLocation"].get("region", {})
        if f["line"]:
            assert region["startLine"] == f["line"]
        elif f["row"] and f["path"].endswith(".csv"):
            assert region["startLine"] == f["row"] + 1  # header is line 1
        elif f["offset"] is not None:
            assert region["byteOffset"] == f["offset"]
    csv = [r for r in run["results"] if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".csv")]
    assert csv and all("startLine" in r["locations"][0]["physicalLocation"]["region"] for r in csv)


def test_code_quality_puts_csv_rows_on_their_lines_too(realistic):
    by_fp = {f["fingerprint"]: f for f in realistic["json"]["findings"]}
    rows = [(i, by_fp[i["fingerprint"]]) for i in realistic["codequality"] if i["fingerprint"] in by_fp
            and i["location"]["path"].endswith(".csv")]
    assert rows and all(i["location"]["lines"]["begin"] == f["row"] + 1 for i, f in rows)


def test_rules_carry_help_uri_and_core_rules_are_tagged(realistic):
    rules = _run(realistic["sarif"])["tool"]["driver"]["rules"]
    for r in rules:
        gate = r["properties"]["tags"][-1]
        page = "policy" if gate == "core" else gate
        assert r["helpUri"].endswith(f"/docs/{page}.md#{r['id'].split('/')[0].lower()}"), r["helpUri"]
    core = [r for r in rules if r["id"].startswith("CORE")]
    assert core and all("core" in r["properties"]["tags"] for r in core)
    assert not [r for r in rules if not r["id"].startswith("CORE") and "core" in r["properties"]["tags"]]


def test_waived_findings_are_left_out_unless_asked(realistic):
    waived = {f["fingerprint"] for f in realistic["json"]["findings"] if f["waived"]}
    assert len(waived) == 3
    plain = {r["partialFingerprints"]["mlsecGates/v1"] for r in _run(realistic["sarif"])["results"]}
    assert not plain & waived and not any("suppressions" in r for r in _run(realistic["sarif"])["results"])
    kept = [r for r in _run(realistic["suppressed"])["results"] if r.get("suppressions")]
    assert {r["partialFingerprints"]["mlsecGates/v1"] for r in kept} == waived
    assert all(r["suppressions"][0]["status"] == "accepted" and "reviewed" in r["suppressions"][0]["justification"] for r in kept)


# -- Microsoft's SARIF multitool with GitHub's rules -----------------------------------------------

def multitool() -> Path | None:
    import sys

    plat = PLATFORM.get(sys.platform)
    exe = MULTITOOL_DIR / f"sarif-multitool-{plat}" / ("Sarif.Multitool.exe" if plat == "win32" else "Sarif.Multitool")
    return exe if exe.is_file() else None


@pytest.fixture(scope="module")
def validator():
    exe = multitool()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"SARIF multitool missing under {MULTITOOL_DIR}: CI must run .ci/setup-tools")
        pytest.skip(f"SARIF multitool (npm @microsoft/sarif-multitool) not found under {MULTITOOL_DIR}; run .ci/setup-tools")

    def validate(path: Path, kinds: str, tmp: Path) -> list[dict]:
        out = tmp / f"{path.stem}.{kinds}.validation.sarif"
        # the binary itself, not the npm wrapper (which runs through a shell): no word splitting
        p = subprocess.run([str(exe), "validate", str(path), "--rule-kind", kinds, "--output", str(out),
                            "--log", "ForceOverwrite", "--quiet"], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"})
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        return json.loads(out.read_text(encoding="utf-8-sig"))["runs"][0].get("results", [])

    return validate


def test_github_upload_rules_pass(realistic, validator, tmp_path):
    for key in ("sarif_path", "suppressed_path"):
        problems = validator(realistic[key], "Gh", tmp_path)
        assert problems == [], [(p["ruleId"], p["message"].get("arguments")) for p in problems]


def test_the_validator_catches_what_github_rejects(realistic, validator, tmp_path):
    """Guard: the GitHub rule set really runs (a result without a message or a location fails)."""
    sarif = json.loads(realistic["sarif_path"].read_text())
    res = _run(sarif)["results"][0]
    del res["locations"]
    res["message"] = {"id": "nope"}
    bad = tmp_path / "bad.sarif"
    bad.write_text(json.dumps(sarif))
    assert {p["ruleId"] for p in validator(bad, "Gh", tmp_path)} >= {"GH1015"}


def test_sarif_rules_raise_no_error(realistic, validator, tmp_path):
    problems = validator(realistic["sarif_path"], "Sarif", tmp_path)
    errors = [(p["ruleId"], p["message"].get("arguments")) for p in problems if p.get("level") == "error"]
    assert errors == []
    # results that lack a region are only those without any line or offset (whole binary files)
    missing = [p for p in problems if p["ruleId"] == "SARIF2017"]
    results = _run(realistic["sarif"])["results"]
    no_region = [r for r in results if "region" not in r["locations"][0]["physicalLocation"]]
    assert len(missing) == len(no_region)
