"""JUnit XML: one testsuite per gate, one testcase per checked file and rule.

Blocking findings are failures, gate errors are errors, skipped gates are skipped testcases,
warnings and waived findings go to ``system-out`` of a passing testcase: CI test views then show
the same verdict as the exit code.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from ..findings import Finding, Status
from ..runner import RunResult
from .common import verdict


# characters XML 1.0 cannot carry at all (ElementTree would write them and break the file)
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(root: ET.Element) -> None:
    """File names and messages come from the scanned input (a PR can name a file ``a\x01.json``):
    replace what XML cannot represent, so CI test views can still parse the report."""
    for el in root.iter():
        if el.text:
            el.text = _NOT_XML.sub("\ufffd", el.text)
        for k, v in el.attrib.items():
            el.set(k, _NOT_XML.sub("\ufffd", v))


def _describe(fs: list[Finding]) -> str:
    lines = []
    for f in fs:
        lines.append(f"[{verdict(f)}] {f.severity.value} {f.rule} {f.location}: {f.message}")
        if f.evidence:
            lines.append(f"    evidence (redacted): {f.evidence}")
        if f.remediation:
            lines.append(f"    fix: {f.remediation}")
        if f.waiver_reason:
            lines.append(f"    waiver: {f.waiver_reason}")
    return "\n".join(lines)


def render(run: RunResult) -> str:
    suites = ET.Element("testsuites", name="mlsec-gates")
    tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in run.results:
        suite = ET.SubElement(suites, "testsuite", name=r.gate, timestamp=run.started_at[:19])
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if r.status is Status.SKIPPED:
            tc = ET.SubElement(suite, "testcase", classname=r.gate, name=f"{r.gate} (skipped)", time="0")
            ET.SubElement(tc, "skipped", message=r.skip_reason or "skipped")
            counts["tests"] += 1
            counts["skipped"] += 1
        groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for f in r.findings:
            groups[(f.path or ".", f.rule)].append(f)
        checked = {s.path for s in r.files}
        for path in sorted(checked - {p for p, _ in groups}):
            ET.SubElement(suite, "testcase", classname=f"{r.gate}.{path}", name=path, time="0")
            counts["tests"] += 1
        for (path, rule), fs in groups.items():
            tc = ET.SubElement(suite, "testcase", classname=f"{r.gate}.{path}", name=f"{rule} {path}", time="0")
            counts["tests"] += 1
            blocking = [f for f in fs if f.blocking]
            if blocking:
                ET.SubElement(tc, "failure", message=f"{len(blocking)} blocking: {blocking[0].message}"[:500], type=rule).text = _describe(fs)
                counts["failures"] += 1
            else:
                ET.SubElement(tc, "system-out").text = _describe(fs)
        for e in r.errors:
            tc = ET.SubElement(suite, "testcase", classname=f"{r.gate}.{e.path or 'gate'}", name=f"error {e.path or r.gate}", time="0")
            ET.SubElement(tc, "error", message=e.message[:500], type="GateError").text = e.message
            counts["tests"] += 1
            counts["errors"] += 1
        if counts["tests"] == 0:
            ET.SubElement(suite, "testcase", classname=r.gate, name=f"{r.gate} (nothing to check)", time="0")
            counts["tests"] += 1
        for k, v in counts.items():
            suite.set(k, str(v))
            tot[k] += v
        suite.set("time", f"{r.duration:.3f}")
    for k, v in tot.items():
        suites.set(k, str(v))
    suites.set("time", f"{run.duration:.3f}")
    _xml_safe(suites)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
