"""How long the CI commands take on big reports: load a JSON report, render the PR comment
(capped at 65,000 characters) and the capped annotations.

    python bench/bench_ci_report.py [N ...]      # default 1000 10000 100000 findings
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from gates.ci import annotate, report


def make_report(n: int) -> dict:
    sev = ["critical", "high", "medium", "low", "info"]
    findings = [{
        "gate": "eval", "rule": f"EVAL{i % 10:03}", "severity": sev[i % 5], "blocking": i % 5 < 2, "waived": False,
        "waiver_reason": None, "message": f"metric m{i} = 0.{i % 97:02} is below the minimum 0.9",
        "why": "below the bar", "remediation": "improve the model", "path": f"eval/r{i % 50}.json", "member": None,
        "line": i % 400 + 1, "row": None, "column": None, "offset": None, "entity": None, "evidence": None,
        "fingerprint": f"{i:016x}",
    } for i in range(n)]
    return {"schema_version": 1, "status": "fail", "exit_code": 1, "root": ".", "duration": 1.0,
            "summary": {"findings": n}, "gates": {"eval": {"status": "fail", "title": "Evaluation thresholds",
                                                            "files": [], "errors": [], "notes": []}},
            "findings": findings}


def main(sizes: list[int]) -> None:
    print("| findings | report MB | load s | comment s | comment chars | annotations s | lines |")
    print("|--:|--:|--:|--:|--:|--:|--:|")
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            p = Path(d) / f"r{n}.json"
            p.write_text(json.dumps(make_report(n)))
            t0 = time.perf_counter()
            data = report.load_json(p)
            t1 = time.perf_counter()
            md = report.markdown(data)
            t2 = time.perf_counter()
            lines = annotate.render(data)
            t3 = time.perf_counter()
            print(f"| {n} | {p.stat().st_size / 1e6:.1f} | {t1 - t0:.3f} | {t2 - t1:.3f} | {len(md)} | {t3 - t2:.3f} | {len(lines)} |")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000])
