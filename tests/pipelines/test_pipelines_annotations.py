"""`mlsec-gates annotations`: capped, worst first, escaped."""

from __future__ import annotations

import json

from gates.ci.annotate import render


def report(blocking: int, warnings: int, waived: int, gate_errors: int) -> dict:
    sev = ["low", "critical", "medium", "high"]
    fs = []
    for i in range(blocking):
        fs.append({"gate": "eval", "rule": f"EVAL{i:03}", "severity": sev[i % 4], "blocking": True, "waived": False,
                   "message": f"blocking {i}", "path": f"b{i}.json", "line": i + 1, "fingerprint": f"b{i}"})
    for i in range(warnings):
        fs.append({"gate": "eval", "rule": "EVAL010", "severity": sev[i % 4], "blocking": False, "waived": False,
                   "message": f"warning {i}", "path": "w.json", "row": 3, "fingerprint": f"w{i}"})
    for i in range(waived):
        fs.append({"gate": "eval", "rule": "EVAL001", "severity": "high", "blocking": False, "waived": True,
                   "message": f"waived {i}", "path": "v.json", "fingerprint": f"v{i}"})
    errors = [{"path": f"broken{i}.json", "message": "not JSON"} for i in range(gate_errors)]
    return {"schema_version": 1, "gates": {"eval": {"errors": errors}}, "findings": fs}


def test_caps_at_ten_each_worst_first_then_one_notice():
    lines = render(report(blocking=25, warnings=15, waived=3, gate_errors=1))
    errors = [x for x in lines if x.startswith("::error ")]
    warnings = [x for x in lines if x.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 10 and len(lines) == 21
    assert errors[0].startswith("::error file=broken0.json,title=mlsec-gates eval%3A error::")  # could not check: worst
    assert all("(critical%2C eval)" in e for e in errors[1:7]) and "(high%2C eval)" in errors[7]  # 6 critical, then high
    # 15 warnings: 4 critical, 3 high, 4 medium, 4 low; the 10 shown stop inside the mediums
    assert "(critical%2C eval)" in warnings[0] and "(medium%2C eval)" in warnings[-1]
    assert not any("(low%2C eval)" in w for w in warnings)
    assert lines[-1] == ("::notice title=mlsec-gates::21 more not annotated (16 errors, 5 warnings): "
                         "see the job summary or the JSON/SARIF report")
    assert not any("waived" in x for x in lines)


def test_no_notice_when_everything_fits_and_row_stands_in_for_line():
    lines = render(report(blocking=2, warnings=1, waived=0, gate_errors=0))
    assert len(lines) == 3 and not any(x.startswith("::notice") for x in lines)
    assert lines[2].startswith("::warning file=w.json,line=3,")


def test_values_are_escaped_so_nothing_injects_a_command():
    r = report(blocking=1, warnings=0, waived=0, gate_errors=0)
    r["findings"][0].update(message="100% bad\n::error::forged", path="a,b:c.json", remediation="fix\r\nit")
    [line] = render(r)
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=a%2Cb%3Ac.json,line=1,")
    assert "100%25 bad%0A::error::forged%0AFix: fix%0D%0Ait" in line


def test_cli_reads_a_report_file(cli, tmp_path):
    p = tmp_path / "r.json"
    p.write_text(json.dumps(report(blocking=3, warnings=0, waived=0, gate_errors=0)))
    r = cli("annotations", "--report", p, "--max-errors", "2")
    assert r.code == 0 and r.out.count("::error ") == 2 and "1 more not annotated" in r.out
