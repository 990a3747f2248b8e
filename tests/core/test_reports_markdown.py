"""The PR comment a reviewer reads in ten seconds (issue 15, item 1), on a realistic repository
(see ``realistic_repo``), rendered by a GFM renderer (markdown-it-py with tables) and checked by
its structure: the headline, one problem row per problem, and where the links go."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gates.ci.report import markdown as comment_markdown
from gates.core.reports.links import Links

import realistic_repo

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (the test extra) renders the comment")

# as long as real ones: a 40-hex commit, a run id of 11 digits
BLOB = "https://github.com/acme-corp/support-assistant/blob/" + "0123456789abcdef0123456789abcdef01234567"
JOB = "https://github.com/acme-corp/support-assistant/actions/runs/12345678901"
LINKS = Links(blob=BLOB, job=JOB)
BUDGET = 15_000

#: the realistic repository's blocking problems, one per package, PII column, model file, metric
EXPECTED = {
    "deps": {"requests", "urllib3", "jinja2", "pyyaml", "certifi", "idna", "setuptools"},
    "pii": {"body", "email", "card_number", "name"},
    "model": {"models/legacy/classifier.pkl"},
    "eval": {"hellaswag/acc_norm", "mmlu/acc"},
}


@pytest.fixture(scope="module")
def report(tmp_path_factory, shared) -> dict:
    _, outs = realistic_repo.build_with_reports(tmp_path_factory.mktemp("realistic"), shared, "json")
    return json.loads(outs["json"].read_text())


def parse(text: str):
    md = markdown_it.MarkdownIt("commonmark").enable("table")
    return md.parse(text), md.render(text)


def tables(tokens) -> list[list[list[str]]]:
    """Every table as rows of cell contents (inline source), header row first."""
    out, rows, row, cell = [], None, None, False
    for t in tokens:
        if t.type == "table_open":
            rows = []
        elif t.type == "table_close":
            out.append(rows)
        elif t.type == "tr_open":
            row = []
        elif t.type == "tr_close":
            rows.append(row)
        elif t.type in ("td_open", "th_open"):
            cell = True
        elif t.type == "inline" and cell:
            row.append(t)
            cell = False
    return out


def problem_table(tokens):
    heading = next(i for i, t in enumerate(tokens) if t.type == "inline" and t.content == "Blocking problems")
    return tables(tokens[heading:])[0]


def hrefs(inline) -> list[str]:
    return [c.attrs["href"] for c in inline.children or [] if c.type == "link_open"]


def text_of(inline) -> str:
    return "".join(c.content for c in inline.children or [] if c.type in ("text", "code_inline"))


def test_the_comment_fits_the_budget_and_says_the_verdict_first(report):
    text = comment_markdown(report, max_chars=BUDGET, links=LINKS)
    assert len(text) <= BUDGET, len(text)
    tokens, html = parse(text)
    h2 = next(tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2")
    blocking = sum(1 for f in report["findings"] if f["blocking"])
    assert h2 == f"❌ mlsec-gates: 14 problems to fix ({blocking} blocking findings)"
    assert "policy <code>.mlsec-gates.yml</code>" in html
    # nothing had to be cut from a realistic repository's comment
    assert "Not shown" not in text and "not shown" not in text
    for section in ("Why it matters", "⚠️ 2 warnings", "✔️ 3 waived findings", "Waive a problem", "Gate notes"):
        assert f"<details><summary>{section}" in text, section


def test_one_row_per_problem_worst_first_across_gates(report):
    tokens, _ = parse(comment_markdown(report, max_chars=BUDGET, links=LINKS))
    head, *rows = problem_table(tokens)
    assert [c.content for c in head] == ["Severity", "Gate", "Problem", "Where", "Fix"]
    assert len(rows) == sum(len(v) for v in EXPECTED.values()) == 14
    ranks = {"critical": 4, "high": 3, "medium": 2, "low": 1, "info": 0}
    sev = [ranks[text_of(r[0]).split()[-1]] for r in rows]
    assert sev == sorted(sev, reverse=True) and sev[0] == 4
    assert text_of(rows[0][1]) == "model" and "os.system" in text_of(rows[0][2])
    by_gate: dict[str, list] = {}
    for r in rows:
        by_gate.setdefault(text_of(r[1]), []).append(r)
    assert {g: len(rs) for g, rs in by_gate.items()} == {g: len(v) for g, v in EXPECTED.items()}
    # each problem named once: packages, columns, metrics, files
    problems = " ".join(text_of(r[2]) + " " + text_of(r[3]) for r in rows)
    for names in EXPECTED.values():
        for name in names:
            assert name in problems, name


def test_dependencies_are_grouped_per_package_with_advisory_links(report):
    tokens, _ = parse(comment_markdown(report, max_chars=BUDGET, links=LINKS))
    rows = [r for r in problem_table(tokens)[1:] if text_of(r[1]) == "deps"]
    requests = next(r for r in rows if "requests" in text_of(r[2]))
    assert "requests 2.19.0 → 2.31.0 fixes 2 advisories, 2 high" in text_of(requests[2])
    assert set(hrefs(requests[2])) >= {"https://osv.dev/vulnerability/PYSEC-2018-28", "https://osv.dev/vulnerability/PYSEC-2023-74"}
    assert text_of(requests[4]) == "upgrade to 2.31.0"
    urllib3 = next(r for r in rows if "urllib3" in text_of(r[2]))
    # seven advisories (two of them medium, below fail_on) are one upgrade: one row
    assert "fixes 7 advisories, 5 high" in text_of(urllib3[2])
    advisory_links = [h for h in hrefs(urllib3[2]) if "osv.dev" in h]
    assert len(advisory_links) == 4 and "+3" in text_of(urllib3[2])


def test_links_go_to_the_rule_docs_and_the_line_on_the_forge(report):
    tokens, _ = parse(comment_markdown(report, max_chars=BUDGET, links=LINKS))
    rows = problem_table(tokens)[1:]
    for r in rows:
        gate = text_of(r[1])
        rule_links = [h for h in hrefs(r[2]) if "/docs/" in h]
        assert rule_links and all(re.search(rf"/docs/{gate}\.md#{gate}\d{{3}}$", h) for h in rule_links), rule_links
        [where] = hrefs(r[3])
        assert where.startswith(BLOB + "/")
    where = {text_of(r[3]): hrefs(r[3])[0] for r in rows}
    assert where["requirements.txt:1"] == f"{BLOB}/requirements.txt#L1"
    # a CSV data row points at its line: header is line 1, the first data row line 2
    assert where["data/customers.csv:2"] == f"{BLOB}/data/customers.csv#L2"
    assert f"{BLOB}/models/legacy/classifier.pkl" in where.values()


def test_why_and_fix_appear_once_per_rule(report):
    text = comment_markdown(report, max_chars=BUDGET, links=LINKS)
    whys = {f["rule"]: f["why"] for f in report["findings"] if not f["waived"]}
    for rule, why in whys.items():
        assert text.count(why) == 1, rule
    glossary = text[text.index("<summary>Why it matters"):]
    glossary = glossary[:glossary.index("</details>")]
    assert sorted(re.findall(r"^- \*\*\[(\w+)\]\*\*", glossary, re.M)) == sorted(whys)


def test_warnings_waivers_and_snippets_are_collapsed(report):
    text = comment_markdown(report, max_chars=BUDGET, links=LINKS)
    table_end = text.index("\n\n", text.index("### Blocking problems") + 30)
    after = text[table_end:]
    assert "```yaml" not in text[:table_end] and "waived" not in text[text.index("### Blocking"):table_end]
    for summary in ("⚠️ 2 warnings", "✔️ 3 waived findings", "Waive a problem"):
        start = after.index(f"<summary>{summary}")
        assert after.rfind("<details>", 0, start) == start - len("<details>")
    assert text.count("<details") == text.count("</details>")


def test_snippets_are_valid_waivers(report):
    import yaml

    text = comment_markdown(report, max_chars=BUDGET, links=LINKS)
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    waivers = [w for b in blocks for w in yaml.safe_load(b)]
    assert waivers and all(set(w) >= {"rule", "reason", "expires"} for w in waivers)
    fingerprints = {f["fingerprint"] for f in report["findings"] if f["blocking"]}
    assert all(w["fingerprint"] in fingerprints for w in waivers if "fingerprint" in w)
    # the only PII problem in support_tickets.csv is waived by rule and path: one line, not ten
    assert {"rule": "PII001", "path": "data/support_tickets.csv"}.items() <= next(
        w for w in waivers if w.get("path") == "data/support_tickets.csv").items()
    assert all(w["reason"] == "" for w in waivers)  # a paste fails validation until explained


@pytest.mark.parametrize("limit", [4_000, 8_000])
def test_a_small_budget_cuts_by_section_then_rows_and_points_to_the_job(report, limit):
    text = comment_markdown(report, max_chars=limit, links=LINKS)
    assert len(text) <= limit
    assert text.count("<details") == text.count("</details>")
    assert JOB in text and "comment size limit" in text
    tokens, _ = parse(text)
    rows = problem_table(tokens)
    assert all(len(r) == 5 for r in rows)  # every row whole
    if limit == 4_000:
        assert re.search(r"\d+ more problems not shown \(comment size limit\)", text)


def test_the_job_summary_and_the_comment_agree(report):
    """``run --format markdown`` (the job summary, 65,000 characters) and ``comment`` (15,000, from
    the JSON report) show the same problems."""
    from gates.ci.report import to_run
    from gates.core.reports import markdown as md

    def rows(text: str) -> list[list[str]]:
        return [[text_of(c) for c in r] for r in problem_table(parse(text)[0])]

    assert rows(md.render(to_run(report), links=LINKS)) == rows(comment_markdown(report, max_chars=BUDGET, links=LINKS))


def test_without_a_forge_paths_are_plain_text(report):
    tokens, _ = parse(comment_markdown(report, max_chars=BUDGET, links=Links()))
    for r in problem_table(tokens)[1:]:
        assert hrefs(r[3]) == []


def test_links_from_the_ci_environment():
    gh = Links.from_env({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "s1", "GITHUB_RUN_ID": "7",
                         "GITHUB_SERVER_URL": "https://ghe.example"})
    assert (gh.blob, gh.job) == ("https://ghe.example/o/r/blob/s1", "https://ghe.example/o/r/actions/runs/7")
    gl = Links.from_env({"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gl.example/g/p", "CI_COMMIT_SHA": "s2",
                         "CI_JOB_URL": "https://gl.example/g/p/-/jobs/9"})
    assert (gl.blob, gl.job) == ("https://gl.example/g/p/-/blob/s2", "https://gl.example/g/p/-/jobs/9")
    assert Links.from_env({}).blob is None


def test_advisory_urls():
    from gates.core.reports.links import advisory_url

    assert advisory_url("GHSA-j8r2-6x86-q33q") == "https://github.com/advisories/GHSA-j8r2-6x86-q33q"
    assert advisory_url("PYSEC-2023-74") == "https://osv.dev/vulnerability/PYSEC-2023-74"
    assert advisory_url("CVE-2023-32681") == "https://osv.dev/vulnerability/CVE-2023-32681"
    assert advisory_url("x](https://evil)") is None and advisory_url("") is None


def test_a_file_name_with_a_token_is_never_linked(tmp_path):
    from gates.core.findings import Finding

    token = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    f = Finding("model", "MODEL001", "critical", "m", path="models/w_….pkl", rel_path=f"models/w_{token}.pkl")
    assert LINKS.source(f) is None
    ok = Finding("model", "MODEL001", "critical", "m", path="models/a b.pkl", rel_path="models/a b.pkl", line=3)
    assert LINKS.source(ok) == f"{BLOB}/models/a%20b.pkl#L3"


def test_annotations_cover_every_failing_gate_of_the_realistic_repository(report):
    """Issue 15: the ten error slots went to deps and eval, no PII finding was annotated."""
    from gates.ci.annotate import render

    lines = render(report)
    errors = [x for x in lines if x.startswith("::error ")]
    assert len(errors) == 10
    failing = {g for g, v in report["gates"].items() if v["status"] == "fail"}
    assert {x.split("%2C ")[1].split(")")[0] for x in errors[:len(failing)]} == failing == {"deps", "eval", "model", "pii"}
    pii = [x for x in errors if "pii)" in x]
    assert any(x.startswith("::error file=data/") and ",line=2," in x for x in pii)  # row 1 = line 2: the first data row, not the header
    # 14 blocking problems, 2 warnings: 4 left for the notice (findings, not problems, would be 46)
    assert lines[-1] == "::notice title=mlsec-gates::4 more not annotated (4 errors, 0 warnings): see the job summary or the JSON/SARIF report"


def test_every_documented_rule_has_the_anchor_reports_link_to():
    """Reports link a rule id to ``docs/<gate>.md#<id>``: a gate's reference page, once it exists,
    carries an anchor for each of its rules (core rules: docs/policy.md)."""
    from gates.core.registry import available_gates
    from gates.core.rules import CORE_RULES

    docs = Path(__file__).resolve().parents[2] / "docs"
    pages = {"policy": set(CORE_RULES)} | {name: set(g.rules) for name, g in available_gates().items()}
    checked = 0
    for page, rules in pages.items():
        path = docs / f"{page}.md"
        if not path.is_file():
            continue  # the gate is still documented in the README only
        text = path.read_text("utf-8")
        missing = sorted(r for r in rules if f'id="{r.lower()}"' not in text)
        assert missing == [], f"{path.name}: no anchor for {missing}"
        checked += 1
    assert checked >= 4  # policy, deps, signature, provenance


def test_problems_group_by_package_version_column_metric_or_file():
    from gates.core.findings import Finding
    from gates.core.reports.problems import dependency_summary, group

    def dep(adv: str, version: str, sev: str, path: str = "requirements.txt") -> Finding:
        return Finding("deps", "DEPS001", sev, f"requests {version}: {adv}", path=path, blocking=sev != "medium",
                       extra={"package": "requests", "version": version, "advisory": adv, "safe_version": "2.31.0"})

    fs = [dep("A", "2.19.0", "high"), dep("B", "2.19.0", "medium"), dep("A", "2.25.0", "high", "constraints.txt"),
          Finding("pii", "PII001", "high", "e", path="d.csv", column="email", row=1, blocking=True),
          Finding("pii", "PII001", "high", "e", path="d.csv", column="email", row=4, blocking=True),
          Finding("pii", "PII001", "low", "p", path="d.csv", column="phone", row=1, blocking=False),
          Finding("model", "MODEL002", "high", "g1", path="m.pt", offset=3, blocking=True),
          Finding("model", "MODEL002", "high", "g2", path="m.pt", offset=9, blocking=True),
          Finding("eval", "EVAL001", "critical", "m", path="r.json", line=2, blocking=True, extra={"metric": "acc"})]
    problems = group(fs)
    assert [(p.gate, p.subject, len(p.findings)) for p in problems] == [
        ("eval", "acc", 1), ("model", "m.pt", 2), ("pii", "email", 2), ("deps", "requests", 2), ("deps", "requests", 1),
        ("pii", "phone", 1)]
    assert dependency_summary(problems[3]) == "requests 2.19.0 → 2.31.0 fixes 2 advisories, 1 high"
    assert dependency_summary(problems[4]) == "requests 2.25.0 → 2.31.0 fixes 1 advisory, 1 high"
    assert [p.blocking != [] for p in problems] == [True] * 5 + [False]
