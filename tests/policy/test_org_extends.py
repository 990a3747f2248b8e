"""extends: sources, sha256 pins, the digest cache and bounded fetching, against a real HTTP
server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

ORG = """\
version: 1
defaults:
  fail_on: medium
gates:
  fmt:
    allowed_formats: [safetensors, onnx]
locks:
  only_stricter: [defaults.fail_on]
  only_shrink: [gates.fmt.allowed_formats]
"""


def repo_policy(url: str, sha: str | None, extra: str = "") -> str:
    pin = f", sha256: {sha}" if sha else ""
    return f"version: 1\nextends:\n  - {{source: \"{url}\"{pin}}}\n{extra}"


@pytest.fixture
def repo(tmp_path, write):
    root = tmp_path / "repo"
    write(root / "model.pkl", "not really a pickle")
    write(root / "model.safetensors", "x")
    return root


def test_pinned_org_policy_is_extended(cli, server, repo, write):
    sha = server.serve("/org.yml", ORG)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), sha))
    report = repo.parent / "r.json"
    r = cli("run", repo, "--gate", "fmt", "--format", "json", "--output", report)
    assert r.code == 1, r.err
    assert "FMT001" in r.out and "pkl" in r.out  # the org's allowed_formats applies
    chain = json.loads(report.read_text())["policy"]["chain"]
    assert chain[0] == {"source": server.url("/org.yml"), "sha256": sha}
    assert chain[1]["source"] == str(repo / ".mlsec-gates.yml")
    r = cli("policy", "show", repo, "--explain")
    assert r.code == 0, r.err
    line = next(ln for ln in r.out.splitlines() if ln.startswith("gates.fmt.allowed_formats:"))
    assert f"# {server.url('/org.yml')}:6" in line
    assert f"sha256:{sha}  (cache)" in r.out  # the run before cached it


def test_one_byte_tamper_exits_2_naming_the_digest_mismatch(cli, server, repo, write):
    sha = server.serve("/org.yml", ORG)
    tampered = ORG.replace("onnx]", "onnx ]")  # one added byte, still valid YAML
    assert len(tampered) == len(ORG) + 1
    server.serve("/org.yml", tampered)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), sha))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2
    assert "sha256 digest mismatch" in r.err and sha in r.err
    got = hashlib.sha256(tampered.encode()).hexdigest()
    assert got in r.err
    assert ".mlsec-gates.yml:3" in r.err  # names the extends entry


def test_remote_source_needs_a_pin_unless_allowed(cli, server, repo, write):
    sha = server.serve("/org.yml", ORG)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), None))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "needs a sha256 pin" in r.err
    r = cli("run", repo, "--gate", "fmt", "--allow-unpinned-policy")
    assert r.code == 1, r.err
    assert f"pin it with sha256: {sha}" in r.err


def test_cache_hit_works_offline(cli, server, repo, write, isolated_cache):
    sha = server.serve("/org.yml", ORG)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), sha))
    assert cli("run", repo, "--gate", "fmt").code == 1
    assert server.hits["/org.yml"] == 1
    assert (isolated_cache / f"{sha}.yml").read_text() == ORG
    server.stop()
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 1, r.err
    assert "FMT001" in r.out
    r = cli("policy", "show", repo, "--explain")
    assert f"sha256:{sha}  (cache)" in r.out


def test_corrupted_cache_entry_is_refetched(cli, server, repo, write, isolated_cache):
    sha = server.serve("/org.yml", ORG)
    isolated_cache.mkdir(parents=True)
    (isolated_cache / f"{sha}.yml").write_text(ORG.replace("medium", "none  "))
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), sha))
    assert cli("run", repo, "--gate", "fmt").code == 1
    assert server.hits["/org.yml"] == 1
    assert (isolated_cache / f"{sha}.yml").read_text() == ORG


def test_offline_without_cache_fails_closed(cli, server, repo, write):
    sha = server.serve("/org.yml", ORG)
    url = server.url("/org.yml")
    server.stop()
    write(repo / ".mlsec-gates.yml", repo_policy(url, sha))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2
    assert "cannot fetch after 3 attempts" in r.err and f"no cached copy of sha256 {sha}" in r.err


def test_slow_server_times_out(cli, server, repo, write, monkeypatch):
    monkeypatch.setenv("MLSEC_GATES_POLICY_TIMEOUT", "0.2")
    sha = server.serve("/slow.yml", ORG, delay=1.5)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/slow.yml"), sha))
    t0 = time.monotonic()
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2
    assert "timed out" in r.err and "3 attempts" in r.err
    assert server.hits["/slow.yml"] == 3
    assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "streamed"])
def test_huge_policy_hits_the_size_cap(cli, server, repo, write, length):
    body = ORG + "#" * (2 << 20) + "\n"
    sha = server.serve("/huge.yml", body, length=length)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/huge.yml"), sha))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2
    assert "larger than the 1048576-byte limit" in r.err
    assert server.hits["/huge.yml"] == 1  # not retried


def test_redirect_loop_is_cut(cli, server, repo, write):
    server.serve("/loop.yml", "", status=302, headers={"Location": "/loop.yml"})
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/loop.yml"), "a" * 64))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "more than 5 redirects" in r.err
    assert server.hits["/loop.yml"] == 6


def test_redirect_is_followed_and_each_hop_checked(cli, server, repo, write, isolated_cache):
    sha = server.serve("/org.yml", ORG)
    server.serve("/moved.yml", "", status=301, headers={"Location": "/org.yml"})
    server.serve("/away.yml", "", status=302, headers={"Location": "http://example.com/org.yml"})
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/moved.yml"), sha))
    assert cli("run", repo, "--gate", "fmt").code == 1
    (isolated_cache / f"{sha}.yml").unlink()
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/away.yml"), sha))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "only https:// sources are allowed" in r.err


def test_http_errors(cli, server, repo, write):
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/missing.yml"), "a" * 64))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "HTTP 404" in r.err
    assert server.hits["/missing.yml"] == 1
    server.serve("/flaky.yml", "oops", status=503)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/flaky.yml"), "a" * 64))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "HTTP 503" in r.err
    assert server.hits["/flaky.yml"] == 3


def test_plain_http_refused_except_loopback(cli, repo, write):
    write(repo / ".mlsec-gates.yml", repo_policy("http://example.com/org.yml", "a" * 64))
    r = cli("policy", "validate", repo / ".mlsec-gates.yml")
    assert r.code == 2 and "only https:// sources are allowed" in r.err


def test_url_credentials_and_query_are_not_shown(cli, server, repo, write):
    server.serve("/org.yml", ORG)
    url = server.url("/org.yml").replace("http://", "http://user:s3cret@") + "?token=t0ps3cret"
    write(repo / ".mlsec-gates.yml", repo_policy(url, "a" * 64))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "digest mismatch" in r.err
    assert "s3cret" not in r.err and "t0ps3cret" not in r.err


def test_fetched_policy_is_schema_validated_with_url_and_line(cli, server, repo, write):
    bad = "version: 1\ndefaults:\n  fail_on: medium\n  fial_on: high\n"
    sha = server.serve("/bad.yml", bad)
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/bad.yml"), sha))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2
    assert f"{server.url('/bad.yml')}:4: defaults.fial_on: unknown key" in r.err


def test_gh_shorthand_resolves_to_raw_url(cli, server, repo, write, monkeypatch):
    monkeypatch.setenv("MLSEC_GATES_GITHUB_RAW_URL", server.base)
    sha = server.serve("/acme/policies/v3/ml/baseline.yml", ORG)
    write(repo / ".mlsec-gates.yml", f"version: 1\nextends:\n  - {{source: 'gh:acme/policies/ml/baseline.yml@v3', sha256: {sha}}}\n")
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 1, r.err
    assert server.hits == {"/acme/policies/v3/ml/baseline.yml": 1}
    write(repo / ".mlsec-gates.yml", "version: 1\nextends: ['gh:acme/policies/ml/baseline.yml']\n")
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and "the ref is required" in r.err


def test_gh_default_host_is_raw_githubusercontent():
    from gates.core.extends import SourceSpec, resolve

    res = resolve(SourceSpec("gh:acme/policies/ml/base.yml@0123abc", "a" * 64, "x:1"), None)
    assert res.ident == "https://raw.githubusercontent.com/acme/policies/0123abc/ml/base.yml"
    assert res.auth_host == "raw.githubusercontent.com"


def test_pkg_resource_and_relative_extends_inside_it(cli, repo, write, tmp_path, monkeypatch):
    pkg = tmp_path / "site" / "acme_policies"
    write(pkg / "__init__.py", "")
    write(pkg / "ml" / "baseline.yaml", "version: 1\nextends: [common.yaml]\ngates:\n  fmt:\n    allowed_formats: [safetensors]\n")
    write(pkg / "ml" / "common.yaml", "version: 1\ndefaults:\n  fail_on: low\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    write(repo / ".mlsec-gates.yml", "version: 1\nextends: ['pkg:acme_policies/ml/baseline.yaml']\n")
    r = cli("policy", "show", repo, "--explain")
    assert r.code == 0, r.err
    assert any(ln.startswith("defaults.fail_on: \"low\"") and "# pkg:acme_policies/ml/common.yaml:3" in ln for ln in r.out.splitlines())
    write(repo / ".mlsec-gates.yml", "version: 1\nextends: ['pkg:acme_policies/../x.yaml']\n")
    assert "expected pkg:MODULE" in cli("policy", "show", repo).err
    write(repo / ".mlsec-gates.yml", "version: 1\nextends: ['pkg:no_such_pkg_xyz/a.yaml']\n")
    assert "is not installed" in cli("policy", "show", repo).err


def test_fetched_policy_cannot_extend_local_files(cli, server, repo, write):
    sha = server.serve("/org.yml", "version: 1\nextends: [/etc/passwd]\n")
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), sha))
    r = cli("run", repo)
    assert r.code == 2 and "cannot extend the local path" in r.err


def test_chain_local_relative_cycle_and_depth(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "policies" / "team.yml", "version: 1\nextends: [../org/org.yml]\ndefaults:\n  on_error: fail\n")
    write(root / "org" / "org.yml", "version: 1\ndefaults:\n  fail_on: low\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [policies/team.yml]\n")
    r = cli("policy", "show", root, "--explain", cwd=tmp_path)  # paths resolve against the file, not the cwd
    assert r.code == 0, r.err
    assert "org/org.yml:3" in next(ln for ln in r.out.splitlines() if ln.startswith("defaults.fail_on"))
    write(root / "org" / "org.yml", "version: 1\nextends: [../.mlsec-gates.yml]\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and "extends cycle" in r.err and "team.yml" in r.err
    for i in range(12):
        write(root / "deep" / f"p{i}.yml", f"version: 1\nextends: [p{i + 1}.yml]\n" if i < 11 else "version: 1\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [deep/p0.yml]\n")
    r = cli("policy", "show", root)
    assert r.code == 2 and "chain deeper than 8" in r.err


def test_diamond_is_merged_once(cli, tmp_path, write):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\ngates:\n  fmt:\n    +allowed_formats: [gguf]\n")
    write(root / "a.yml", "version: 1\nextends: [org.yml]\n")
    write(root / "b.yml", "version: 1\nextends: [org.yml]\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [a.yml, b.yml]\n")
    r = cli("policy", "show", root)
    assert r.code == 0, r.err
    assert r.out.count("- gguf") == 1


def test_done_criteria_over_http(cli, server, repo, write):
    """Pinned org policy over loopback HTTP: extended; lowering fail_on or re-allowing pickle
    exits 2 naming the lock's URL and line."""
    sha = server.serve("/org.yml", ORG)
    url = server.url("/org.yml")
    write(repo / ".mlsec-gates.yml", repo_policy(url, sha, "defaults:\n  fail_on: critical\n"))
    r = cli("run", repo)
    assert r.code == 2
    assert f"{repo / '.mlsec-gates.yml'}:5: defaults.fail_on is \"critical\", looser than the floor \"medium\"" in r.err
    assert f"only_stricter lock set by {url}:8" in r.err
    write(repo / ".mlsec-gates.yml", repo_policy(url, sha, "gates:\n  fmt:\n    +allowed_formats: [pickle]\n"))
    r = cli("run", repo)
    assert r.code == 2 and 'adds "pickle"' in r.err and f"only_shrink lock set by {url}:9" in r.err
    write(repo / ".mlsec-gates.yml", repo_policy(url, sha, "gates:\n  fmt:\n    allowed_formats: [safetensors]\n"))
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 1 and "FMT001" in r.out  # tightened: pkl blocks


def test_required_policy_digest(cli, server, repo, write, monkeypatch):
    sha = server.serve("/org.yml", ORG)
    monkeypatch.setenv("MLSEC_GATES_REQUIRE_POLICY", sha)
    write(repo / ".mlsec-gates.yml", "version: 1\n")
    r = cli("run", repo, "--gate", "fmt")
    assert r.code == 2 and f"requires a policy with sha256 {sha}" in r.err
    write(repo / ".mlsec-gates.yml", repo_policy(server.url("/org.yml"), sha))
    assert cli("run", repo, "--gate", "fmt").code == 1


def test_github_token_goes_only_to_the_gh_host_over_https(monkeypatch):
    from gates.core.extends import SourceSpec, request_headers, resolve

    monkeypatch.setenv("GITHUB_TOKEN", "ghs_example")
    gh = resolve(SourceSpec("gh:acme/policies/base.yml@v1", "a" * 64, "x:1"), None)
    assert request_headers(gh, gh.ident)["Authorization"] == "token ghs_example"
    assert "Authorization" not in request_headers(gh, "https://elsewhere.example/base.yml")  # a redirect elsewhere
    plain = resolve(SourceSpec("https://raw.githubusercontent.com/acme/policies/v1/base.yml", "a" * 64, "x:1"), None)
    assert "Authorization" not in request_headers(plain, plain.ident)  # only gh: sources opt in
    assert request_headers(gh, gh.ident)["Accept-Encoding"] == "identity"


def test_policy_errors_never_quote_url_credentials_or_queries(tmp_path, cli):
    """Schema messages quote the offending value; a URL in one may carry a token."""
    (tmp_path / "p.yml").write_text(
        "version: 1\n"
        "extends:\n  - {source: 'https://user:SECRET1@policies.example/p.yml?token=SECRET2', sha256: nope}\n"
        "gates:\n  deps:\n    database: ['https://user:SECRET3@osv.example/all.zip?sig=SECRET4']\n"
    )
    r = cli("policy", "validate", tmp_path / "p.yml")
    assert r.code == 2 and "gates.deps.database" in r.err and "osv.example/all.zip" in r.err
    assert "SECRET" not in r.err + r.out
