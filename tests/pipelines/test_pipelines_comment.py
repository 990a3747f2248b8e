"""`mlsec-gates comment github|gitlab` against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest

from gates.core.reports.markdown import MARKER
from pipelines_forge import READ_TOKEN, WRITE_TOKEN, Forge

GH_THREAD = "acme/models/7"
GL_THREAD = "42/3"


@pytest.fixture
def forge():
    with Forge() as f:
        yield f


@pytest.fixture
def github_env(monkeypatch, forge, tmp_path):
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    for k, v in {"GITHUB_TOKEN": WRITE_TOKEN, "GITHUB_REPOSITORY": "acme/models", "GITHUB_EVENT_PATH": str(event),
                 "GITHUB_API_URL": forge.url + "/api/v3", "GITHUB_SERVER_URL": "https://github.example",
                 "GITHUB_RUN_ID": "99", "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}.items():
        monkeypatch.setenv(k, v)
    return tmp_path


@pytest.fixture
def gitlab_env(monkeypatch, forge):
    for k, v in {"MLSEC_GATES_GITLAB_TOKEN": WRITE_TOKEN, "CI_API_V4_URL": forge.url + "/api/v4", "CI_PROJECT_ID": "42",
                 "CI_MERGE_REQUEST_IID": "3", "CI_JOB_URL": "https://gitlab.example/acme/models/-/jobs/5"}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def marked(forge, thread):
    return [c for c in forge.state.comments.get(thread, []) if c["body"].startswith(MARKER)]


def writes(forge):
    return [(m, p) for m, p, _ in forge.state.requests if m != "GET"]


def no_token(r):
    assert WRITE_TOKEN not in r.out + r.err and READ_TOKEN not in r.out + r.err


def test_github_second_run_edits_the_first_comment(cli, forge, github_env, demo_reports):
    # five unrelated comments: with pages of two, the marker search must follow the Link headers
    forge.state.seed(GH_THREAD, [f"review comment {i}" for i in range(5)])
    r1 = cli("comment", "github", "--report", demo_reports["fail"])
    assert r1.code == 0, r1.err
    assert writes(forge) == [("POST", "/api/v3/repos/acme/models/issues/7/comments")]
    [c] = marked(forge, GH_THREAD)
    blocking = json.loads(demo_reports["fail"].read_text())["summary"]["blocking"]
    assert f"{blocking} blocking findings" in c["body"] and "https://github.example/acme/models/actions/runs/99" in c["body"]
    forge.state.requests.clear()
    r2 = cli("comment", "github", "--report", demo_reports["pass"])
    assert r2.code == 0, r2.err
    assert writes(forge) == [("PATCH", f"/api/v3/repos/acme/models/issues/comments/{c['id']}")]
    # 6 comments, pages of 2, and /user once to tell whose the marked comment is
    assert [p for m, p, _ in forge.state.requests if m == "GET"].count("/api/v3/repos/acme/models/issues/7/comments") == 3
    [c2] = marked(forge, GH_THREAD)
    assert c2["id"] == c["id"] and "all gates passed" in c2["body"]
    assert [x["body"] for x in forge.state.comments[GH_THREAD][:5]] == [f"review comment {i}" for i in range(5)]
    assert {tok for _, _, tok in forge.state.requests} == {WRITE_TOKEN}
    no_token(r1), no_token(r2)


def test_github_on_failure_posts_nothing_for_a_pass_but_updates_an_old_failure(cli, forge, github_env, demo_reports):
    r = cli("comment", "github", "--report", demo_reports["pass"], "--when", "on-failure")
    assert r.code == 0 and "no comment" in r.out and writes(forge) == []
    assert cli("comment", "github", "--report", demo_reports["fail"], "--when", "on-failure").code == 0
    assert cli("comment", "github", "--report", demo_reports["pass"], "--when", "on-failure").code == 0
    [c] = marked(forge, GH_THREAD)
    assert "all gates passed" in c["body"]
    assert [m for m, _ in writes(forge)] == ["POST", "PATCH"]


def test_github_fork_token_degrades_to_a_warning(cli, forge, github_env, demo_reports, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", READ_TOKEN)
    r = cli("comment", "github", "--report", demo_reports["fail"])
    assert r.code == 0
    assert r.out.startswith("::warning ") and "Resource not accessible by integration" in r.out
    assert "read-only token" in (github_env / "summary.md").read_text()
    assert marked(forge, GH_THREAD) == []
    no_token(r)


def test_github_too_long_body_is_shortened_after_422(cli, forge, github_env, demo_reports, tmp_path):
    data = json.loads(demo_reports["fail"].read_text())
    base = next(f for f in data["findings"] if f["gate"] == "eval" and f["blocking"])
    data["findings"] = [dict(base, fingerprint=f"{i:016x}", metric=f"m{i}", message=f"finding {i} " + "x" * 200) for i in range(600)]
    big = tmp_path / "big.json"
    big.write_text(json.dumps(data))
    forge.state.max_body = 10_000
    r = cli("comment", "github", "--report", big)
    assert r.code == 0, r.err
    assert [m for m, _ in writes(forge)] == ["POST", "POST"]  # 15k rejected; 4k accepted
    [c] = marked(forge, GH_THREAD)
    assert len(c["body"]) <= 4_200 and "not shown (comment size limit)" in c["body"]


def test_github_rate_limit_is_retried(cli, forge, github_env, demo_reports):
    forge.state.rate_limit_next = 2
    r = cli("comment", "github", "--report", demo_reports["fail"])
    assert r.code == 0, r.err
    assert len(marked(forge, GH_THREAD)) == 1


def test_a_next_link_to_another_host_never_gets_the_token(cli, forge, github_env, demo_reports):
    forge.state.seed(GH_THREAD, ["a", "b", "c"])
    forge.state.foreign_next = True
    r = cli("comment", "github", "--report", demo_reports["fail"])
    assert r.code == 2 and "refusing to send the token to another origin (collector.invalid)" in r.err
    assert writes(forge) == []


def test_github_missing_token_or_pr_is_a_usage_error(cli, forge, github_env, demo_reports, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    r = cli("comment", "github", "--report", demo_reports["fail"])
    assert r.code == 2 and "GITHUB_TOKEN" in r.err and forge.state.requests == []
    monkeypatch.setenv("GITHUB_TOKEN", WRITE_TOKEN)
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    r = cli("comment", "github", "--report", demo_reports["fail"])
    assert r.code == 2 and "no pull request" in r.err


def test_bad_token_is_an_error_without_leaking_it(cli, forge, github_env, demo_reports, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_not_a_valid_token_123")
    r = cli("comment", "github", "--report", demo_reports["fail"])
    # 401 degrades like 403 (the verdict is the gates'), and the token is never echoed
    assert r.code == 0 and "Bad credentials" in r.out
    assert "ghp_not_a_valid_token_123" not in r.out + r.err


def test_not_a_report_is_a_usage_error(cli, forge, github_env, tmp_path):
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    r = cli("comment", "github", "--report", p)
    assert r.code == 2 and "not an mlsec-gates JSON report" in r.err and forge.state.requests == []


def test_gitlab_note_is_created_then_edited(cli, forge, gitlab_env, demo_reports):
    # a system note quoting the marker must not be mistaken for ours
    forge.state.seed(GL_THREAD, [MARKER + " moved from another MR"], system=True)
    forge.state.seed(GL_THREAD, ["LGTM", "please add tests"])
    assert cli("comment", "gitlab", "--report", demo_reports["fail"]).code == 0
    assert cli("comment", "gitlab", "--report", demo_reports["fail"]).code == 0
    assert writes(forge) == [("POST", "/api/v4/projects/42/merge_requests/3/notes"),
                             ("PUT", f"/api/v4/projects/42/merge_requests/3/notes/{forge.state.next_id}")]
    mine = [c for c in marked(forge, GL_THREAD) if not c["system"]]
    assert len(mine) == 1 and "https://gitlab.example/acme/models/-/jobs/5" in mine[0]["body"]
    assert {tok for _, _, tok in forge.state.requests} == {WRITE_TOKEN}


def test_gitlab_without_permission_warns(cli, forge, gitlab_env, demo_reports, monkeypatch):
    monkeypatch.setenv("MLSEC_GATES_GITLAB_TOKEN", READ_TOKEN)
    r = cli("comment", "gitlab", "--report", demo_reports["fail"])
    assert r.code == 0 and "warning" in r.err and "403" in r.err
    assert marked(forge, GL_THREAD) == []
    no_token(r)


def test_gitlab_outside_a_merge_request_is_a_usage_error(cli, forge, gitlab_env, demo_reports, monkeypatch):
    monkeypatch.delenv("CI_MERGE_REQUEST_IID")
    r = cli("comment", "gitlab", "--report", demo_reports["fail"])
    assert r.code == 2 and "merge request" in r.err and forge.state.requests == []


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_a_marked_comment_by_someone_else_is_never_taken_over(cli, forge, github_env, gitlab_env, demo_reports, platform):
    """Anyone can post a comment starting with the marker; the report must not land in (or be
    blocked by) their comment, which they could edit afterwards to show a pass."""
    thread = GH_THREAD if platform == "github" else GL_THREAD
    forge.state.seed(thread, [MARKER + "\n## ✅ mlsec-gates: all gates passed"])
    fake = forge.state.comments[thread][0]
    r = cli("comment", platform, "--report", demo_reports["fail"])
    assert r.code == 0, r.out + r.err
    assert [m for m, _ in writes(forge)] == ["POST"]
    assert fake["body"].endswith("all gates passed") and len(marked(forge, thread)) == 2
    assert cli("comment", platform, "--report", demo_reports["pass"]).code == 0  # the next run edits its own
    assert [m for m, _ in writes(forge)] == ["POST", "PATCH" if platform == "github" else "PUT"]
    assert "all gates passed" in marked(forge, thread)[1]["body"] and marked(forge, thread)[0] is fake
