"""The signature gate against real signatures from sigstore-python and model-transparency
(../shared/testdata): production and staging Sigstore, DSSE, broken bundles, key and
certificate OMS signatures, and tampering with copies of the signed directories."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path

import pytest

from sigtest_helpers import findings, rules

IBM_ID, IBM_ISS = "stefanb@us.ibm.com", "https://sigstore.verify.ibm.com/oauth2"
WW_ID, WW_ISS = "william@yossarian.net", "https://github.com/login/oauth"
BEACON = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
GH_ISS = "https://token.actions.githubusercontent.com"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test here runs offline: any connection attempt fails the test loudly."""

    def refuse(*a, **k):
        raise AssertionError("network access attempted during an offline verification")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def prod_trust(shared) -> Path:
    return shared / "sigstore" / "production.trustconfig.json"


def copy_dir(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for p in [dst, *dst.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)  # shared is read-only; the copy must be editable
    return dst


def run(cli, tmp_path, *args):
    out = tmp_path / "report.json"
    r = cli("signature", *args, "--format", "json", "--output", out, "-q")
    return r, out


def oms_prod(cli, tmp_path, path, prod_trust, identity=IBM_ID, issuer=IBM_ISS, *extra):
    return run(cli, tmp_path, path, "--identity", identity, "--issuer", issuer, "--trust-config", prod_trust, *extra)


# ---- production OMS (Sigstore) ---------------------------------------------------------------------
def test_production_oms_verifies_offline_for_its_signer(cli, tmp_path, shared, prod_trust):
    r, out = oms_prod(cli, tmp_path, shared / "model-signing/v1.1.0-sigstore", prod_trust, IBM_ID, IBM_ISS, "--ignore-paths", "ignore-me")
    assert r.code == 0, r.err
    (v,) = findings(out)
    assert v["rule"] == "SIG010" and not v["blocking"]
    assert v["signer"] == IBM_ID and v["issuer"] == IBM_ISS and v["method"] == "sigstore"
    assert v["tlog_index"] == 598151086 and v["integrated_time"].startswith("2025-10-10T02:12:20")
    assert v["files"] == 2


def test_production_oms_ignore_me_is_reported_but_not_blocking(cli, tmp_path, shared, prod_trust):
    r, out = oms_prod(cli, tmp_path, shared / "model-signing/v1.1.0-sigstore", prod_trust)
    assert r.code == 0
    assert rules(out) == ["SIG009", "SIG010"]


@pytest.mark.parametrize("identity,issuer", [
    ("someone@example.com", IBM_ISS),
    (IBM_ID, "https://accounts.google.com"),
    ("stefanb@us.ibm.co", IBM_ISS),
])
def test_production_oms_fails_for_any_other_identity(cli, tmp_path, shared, prod_trust, identity, issuer):
    r, out = oms_prod(cli, tmp_path, shared / "model-signing/v1.1.0-sigstore", prod_trust, identity, issuer)
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG005" and f["blocking"]
    assert IBM_ID in f["found"] and IBM_ISS in f["found"]  # the identity that was found is reported


def test_identity_regex_is_anchored(cli, tmp_path, shared, prod_trust):
    path = shared / "model-signing/v1.1.0-sigstore"
    r, _ = run(cli, tmp_path, path, "--identity-regex", r"[a-z]+@us\.ibm\.com", "--issuer", IBM_ISS, "--trust-config", prod_trust)
    assert r.code == 0
    r, out = run(cli, tmp_path, path, "--identity-regex", r"stefanb", "--issuer", IBM_ISS, "--trust-config", prod_trust)
    assert r.code == 1 and rules(out) == ["SIG005"]  # a substring is not a match


def test_production_oms_against_staging_is_wrong_instance(cli, tmp_path, shared):
    r, out = run(cli, tmp_path, shared / "model-signing/v1.1.0-sigstore", "--identity", IBM_ID, "--issuer", IBM_ISS, "--staging")
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG006" and "instance" in f["message"]


@pytest.mark.parametrize("change", ["tamper", "extra", "missing", "extra_code", "symlink"])
def test_tampered_copies_block(cli, tmp_path, shared, prod_trust, change):
    d = copy_dir(shared / "model-signing/v1.1.0-sigstore", tmp_path / "model")
    expect = {"tamper": "SIG002", "extra": "SIG004", "missing": "SIG003", "extra_code": "SIG004", "symlink": "SIG007"}[change]
    if change == "tamper":
        (d / "signme-1").write_bytes(b"evil\n")
    elif change == "extra":
        (d / "new-weights.bin").write_bytes(b"\x01\x02")
    elif change == "missing":
        (d / "signme-2").unlink()
    elif change == "extra_code":
        (d / "sub").mkdir()
        (d / "sub" / "modeling.py").write_text("import os\n")
    else:
        (d / "link").symlink_to(d / "signme-1")
    r, out = oms_prod(cli, tmp_path, d, prod_trust, IBM_ID, IBM_ISS, "--ignore-paths", "ignore-me")
    assert r.code == 1, r.out
    fs = [f for f in findings(out) if f["blocking"]]
    assert [f["rule"] for f in fs] == [expect]
    assert "SIG010" not in rules(out)
    if change == "tamper":
        (f,) = fs
        assert f["path"].endswith("signme-1") and f["expected"] == "f6310066c7320497ea554260c32c43660bff648cb2a61194832cc086077085e1"
        assert f["actual"] != f["expected"] and f["signer"] == IBM_ID  # the signature itself was fine


def test_per_file_diff_lists_every_problem(cli, tmp_path, shared, prod_trust):
    d = copy_dir(shared / "model-signing/v1.1.0-sigstore", tmp_path / "model")
    (d / "signme-1").write_bytes(b"x")
    (d / "signme-2").unlink()
    (d / "extra.json").write_text("{}")
    r, out = oms_prod(cli, tmp_path, d, prod_trust, IBM_ID, IBM_ISS, "--ignore-paths", "ignore-me")
    assert r.code == 1
    got = {(f["rule"], Path(f["path"]).name) for f in findings(out)}
    assert got == {("SIG002", "signme-1"), ("SIG003", "signme-2"), ("SIG004", "extra.json")}


def test_hidden_required_file_blocks(cli, tmp_path, shared, prod_trust):
    """The signature ignores `ignore-me`; if that name is a file the policy requires signed, it blocks."""
    d = copy_dir(shared / "model-signing/v1.1.0-sigstore", tmp_path / "model")
    pol = tmp_path / "p.yml"
    pol.write_text("version: 1\ngates:\n  signature:\n    require_signed: ['ignore-*']\n")
    r, out = oms_prod(cli, tmp_path, d, prod_trust, IBM_ID, IBM_ISS, "--policy", pol)
    assert r.code == 1
    assert rules(out) == ["SIG008"]


def test_missing_signature_file(cli, tmp_path, shared, prod_trust):
    d = copy_dir(shared / "model-signing/v1.1.0-sigstore", tmp_path / "model")
    (d / "model.sig").unlink()
    r, out = oms_prod(cli, tmp_path, d, prod_trust)
    assert r.code == 1 and rules(out) == ["SIG001"]


def test_corrupted_signature_is_invalid(cli, tmp_path, shared, prod_trust):
    d = copy_dir(shared / "model-signing/v1.1.0-sigstore", tmp_path / "model")
    b = json.loads((d / "model.sig").read_text())
    env = b["dsseEnvelope"]
    sig = bytearray(__import__("base64").b64decode(env["signatures"][0]["sig"]))
    sig[-1] ^= 1
    env["signatures"][0]["sig"] = __import__("base64").b64encode(bytes(sig)).decode()
    (d / "model.sig").write_text(json.dumps(b))
    r, out = oms_prod(cli, tmp_path, d, prod_trust)
    assert r.code == 1 and rules(out) == ["SIG006"]
    (d / "model.sig").write_text("{not json")
    r, out = oms_prod(cli, tmp_path, d, prod_trust)
    assert r.code == 1 and rules(out) == ["SIG006"]


# ---- Sigstore bundles next to files (staging) --------------------------------------------------------
def test_staging_bundle_verifies_against_staging(cli, tmp_path, shared):
    r, out = run(cli, tmp_path, shared / "sigstore/bundle_v3.txt", "--identity", WW_ID, "--issuer", WW_ISS, "--staging")
    assert r.code == 0, r.err
    (v,) = findings(out)
    assert v["rule"] == "SIG010" and v["signer"] == WW_ID and v["tlog_index"] == 25915956


def test_staging_bundle_against_production_fails(cli, tmp_path, shared, prod_trust):
    r, out = run(cli, tmp_path, shared / "sigstore/bundle_v3.txt", "--identity", WW_ID, "--issuer", WW_ISS, "--trust-config", prod_trust)
    assert r.code == 1 and rules(out) == ["SIG006"]


def test_staging_bundle_wrong_identity(cli, tmp_path, shared):
    r, out = run(cli, tmp_path, shared / "sigstore/bundle_v3.txt", "--identity", "mallory@example.com", "--issuer", WW_ISS, "--staging")
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG005" and WW_ID in f["found"]


def f_path_bytes(tmp_path: Path) -> bytes:
    return (tmp_path / "bundle_v3.txt").read_bytes()


def test_tampered_file_with_bundle(cli, tmp_path, shared):
    f = tmp_path / "bundle_v3.txt"
    f.write_bytes((shared / "sigstore/bundle_v3.txt").read_bytes() + b"!")
    shutil.copy(shared / "sigstore/bundle_v3.txt.sigstore", tmp_path / "bundle_v3.txt.sigstore")
    r, out = run(cli, tmp_path, f, "--identity", WW_ID, "--issuer", WW_ISS, "--staging")
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG002"  # the bundle's signed digest is not the file's
    assert f["expected"] == hashlib.sha256((shared / "sigstore/bundle_v3.txt").read_bytes()).hexdigest()
    assert f["actual"] == hashlib.sha256(f_path_bytes(tmp_path)).hexdigest()


@pytest.mark.parametrize("name", ["bundle_cve_2022_36056.txt", "bundle_no_log_entry.txt"])
def test_broken_bundles_fail(cli, tmp_path, shared, name):
    r, out = run(cli, tmp_path, shared / "sigstore" / name, "--identity", WW_ID, "--issuer", WW_ISS, "--staging")
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG006" and f["blocking"]


def test_cve_2022_36056_message_names_the_log_inconsistency(cli, tmp_path, shared):
    r, out = run(cli, tmp_path, shared / "sigstore/bundle_cve_2022_36056.txt", "--identity-regex", ".*", "--issuer", WW_ISS, "--staging")
    assert r.code == 1
    assert "inconsistent" in findings(out)[0]["message"]


def test_no_bundle_next_to_file(cli, tmp_path):
    f = tmp_path / "weights.bin"
    f.write_bytes(b"1")
    r, out = run(cli, tmp_path, f, "--identity", WW_ID, "--issuer", WW_ISS, "--staging")
    assert r.code == 1 and rules(out) == ["SIG001"]


# ---- DSSE bundle with GitHub workflow claims --------------------------------------------------------------
def _dsse_policy(tmp_path: Path, github: dict) -> Path:
    pol = tmp_path / "dsse.yml"
    claims = "".join(f"\n          {k}: {json.dumps(v)}" for k, v in github.items())
    pol.write_text(f"version: 1\ngates:\n  signature:\n    trust: {{instance: staging}}\n    signers:\n      - issuer: {GH_ISS}\n        github:{claims}\n")
    return pol


def test_dsse_bundle_workflow_claims_allowed_but_subject_differs(cli, tmp_path, shared):
    """Claims match, so the signer is allowed; the statement's subject is for another file
    (``a.txt``), so the artifact still fails with a digest mismatch, not an identity error."""
    pol = _dsse_policy(tmp_path, {"repository": "sigstore-conformance/extremely-dangerous-public-oidc-beacon",
                                  "ref": "refs/heads/main", "trigger": "workflow_dispatch",
                                  "workflow": "Extremely dangerous OIDC beacon", "runner_environment": "github-hosted"})
    r, out = run(cli, tmp_path, shared / "sigstore/a.dsse.staging-rekor-v2.txt", "--policy", pol)
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG002" and f["signer"] == BEACON and f["tlog_index"] == 4026478
    assert "a.txt sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf" in f["expected"]
    assert f["integrated_time"].startswith("2026-05-13")  # Rekor v2: the verified RFC 3161 timestamp
    assert f["claims"]["repository"] == "sigstore-conformance/extremely-dangerous-public-oidc-beacon"


@pytest.mark.parametrize("claim,value", [
    ("repository", "sigstore-conformance/other"), ("ref", "refs/heads/dev"), ("trigger", "push"),
    ("runner_environment", "self-hosted"), ("workflow", "Release"),
])
def test_dsse_bundle_wrong_workflow_claim_not_allowed(cli, tmp_path, shared, claim, value):
    pol = _dsse_policy(tmp_path, {"repository": "sigstore-conformance/extremely-dangerous-public-oidc-beacon", claim: value})
    r, out = run(cli, tmp_path, shared / "sigstore/a.dsse.staging-rekor-v2.txt", "--policy", pol)
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG005" and "extremely-dangerous-oidc-beacon.yml" in f["found"]


def test_dsse_bundle_exact_identity_accepted_subject_mismatch(cli, tmp_path, shared):
    """The exact workflow SAN is accepted as identity; the subject mismatch still blocks."""
    r, out = run(cli, tmp_path, shared / "sigstore/a.dsse.staging-rekor-v2.txt", "--identity", BEACON, "--issuer", GH_ISS, "--staging")
    assert rules(out) == ["SIG002"]  # identity accepted, subject mismatch remains


# ---- key and certificate OMS -------------------------------------------------------------------------
def test_key_oms_verifies(cli, tmp_path, shared):
    r, out = run(cli, tmp_path, shared / "model-signing/v1.1.0-elliptic-key", "--public-key",
                 shared / "model-signing/keys/certificate/signing-key-pub.pem", "--ignore-paths", "ignore-me")
    assert r.code == 0
    (v,) = findings(out)
    assert v["rule"] == "SIG010" and v["method"] == "key" and "e8450dec4eb99dae" in v["signer"]


def test_certificate_oms_verifies(cli, tmp_path, shared):
    r, out = run(cli, tmp_path, shared / "model-signing/v1.1.0-certificate", "--ca-cert",
                 shared / "model-signing/keys/certificate/ca-cert.pem", "--ignore-paths", "ignore-me")
    assert r.code == 0
    (v,) = findings(out)
    assert v["rule"] == "SIG010" and v["method"] == "certificate" and "CN=intermediate-ca" in v["signer"]


def test_key_oms_with_another_key_is_not_allowed(cli, tmp_path, shared):
    from sigtest_helpers import write_key

    _, pub = write_key(tmp_path)
    r, out = run(cli, tmp_path, shared / "model-signing/v1.1.0-elliptic-key", "--public-key", pub)
    assert r.code == 1
    (f,) = findings(out)
    assert f["rule"] == "SIG005" and f["found"].startswith("e8450dec4eb99dae")


def test_certificate_oms_with_another_ca_is_not_allowed(cli, tmp_path, shared):
    from sigtest_helpers import write_pki

    pki = write_pki(tmp_path)
    r, out = run(cli, tmp_path, shared / "model-signing/v1.1.0-certificate", "--ca-cert", pki["ca"])
    assert r.code == 1 and rules(out) == ["SIG005"]


def test_key_signature_needs_a_key_not_an_identity(cli, tmp_path, shared, prod_trust):
    r, out = oms_prod(cli, tmp_path, shared / "model-signing/v1.1.0-elliptic-key", prod_trust)
    assert r.code == 1 and rules(out) == ["SIG005"]


def test_tampered_key_oms(cli, tmp_path, shared):
    d = copy_dir(shared / "model-signing/v1.1.0-elliptic-key", tmp_path / "m")
    (d / "signme-2").write_bytes(b"changed")
    r, out = run(cli, tmp_path, d, "--public-key", shared / "model-signing/keys/certificate/signing-key-pub.pem", "--ignore-paths", "ignore-me")
    assert r.code == 1 and rules(out) == ["SIG002"]


# ---- trust, cache and network -----------------------------------------------------------------------
def test_no_cache_needed(cli, tmp_path, shared, prod_trust, monkeypatch):
    """With HOME and XDG_* pointing at an empty directory, offline verification still works and
    nothing is written there (no sigstore/TUF cache is read or populated)."""
    home = tmp_path / "home"
    home.mkdir()
    for var in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home))
    r, _ = oms_prod(cli, tmp_path, shared / "model-signing/v1.1.0-sigstore", prod_trust)
    assert r.code == 0
    r, _ = run(cli, tmp_path, shared / "sigstore/bundle_v3.txt", "--identity", WW_ID, "--issuer", WW_ISS, "--staging")
    assert r.code == 0
    assert list(home.rglob("*")) == []


def test_network_guard_trips_for_online_trust(cli, tmp_path, shared, monkeypatch):
    """The guard is real: the default (online TUF) trust root tries the network and the gate
    ends in error (exit 2) instead of passing."""
    for var in ("HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "home"))
    r, out = run(cli, tmp_path, shared / "model-signing/v1.1.0-sigstore", "--identity", IBM_ID, "--issuer", IBM_ISS)
    assert r.code == 2
    rep = json.loads(out.read_text())
    assert "trust root" in json.dumps(rep["gates"]["signature"]["errors"])


def test_ignore_paths_before_path_and_repeated(cli, tmp_path, shared, prod_trust):
    """``--ignore-paths`` takes several values and may be repeated; a PATH written right after it
    (a signed directory) is still the PATH."""
    base = ("--identity", IBM_ID, "--issuer", IBM_ISS, "--trust-config", prod_trust, "--format", "json", "-q")
    out = tmp_path / "r.json"
    r = cli("signature", *base, "--output", out, "--ignore-paths", "nothing", "ignore-me", shared / "model-signing/v1.1.0-sigstore")
    assert r.code == 0 and rules(out) == ["SIG010"]
    r = cli("signature", shared / "model-signing/v1.1.0-sigstore", *base, "--output", out, "--ignore-paths", "x", "--ignore-paths", "ignore-me")
    assert r.code == 0 and rules(out) == ["SIG010"]
