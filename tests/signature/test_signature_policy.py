"""The signature gate under a policy file: artifacts, signers, trust pinning, methods, and the
policy errors that must fail closed (exit 2)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sigtest_helpers import findings, make_model, rules, write_key

IBM_ID, IBM_ISS = "stefanb@us.ibm.com", "https://sigstore.verify.ibm.com/oauth2"


def setup_repo(tmp_path: Path, shared: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(shared / "model-signing/v1.1.0-sigstore", root / "models/ibm")
    shutil.copy(shared / "sigstore/production.trustconfig.json", root / "trust.json")
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    return root


def write_policy(root: Path, body: str) -> Path:
    p = root / ".mlsec-gates.yml"
    p.write_text("version: 1\ngates:\n  signature:\n" + body)
    return p


def run_gate(cli, root: Path, *args):
    out = root.parent / "out.json"
    r = cli("run", root, "--gate", "signature", "--format", "json", "--output", out, "-q", *args)
    return r, out


def pin(root: Path) -> str:
    return hashlib.sha256((root / "trust.json").read_bytes()).hexdigest()


def test_policy_offline_with_pinned_trust_config_verifies(cli, tmp_path, shared, monkeypatch):
    import socket

    def refuse(*a, **k):
        raise AssertionError("offline mode tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"""    artifacts: [{{path: models/ibm}}]
    ignore_paths: [ignore-me]
    signers:
      - {{issuer: "{IBM_ISS}", identity: "{IBM_ID}"}}
    trust: {{offline: true, trust_config: trust.json, trust_config_sha256: {pin(root)}}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 0, r.err
    assert rules(out) == ["SIG010"]


def test_any_one_signer_suffices(cli, tmp_path, shared):
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"""    artifacts: [{{path: models/ibm}}]
    signers:
      - {{issuer: https://token.actions.githubusercontent.com, github: {{repository: org/repo}}}}
      - {{issuer: "{IBM_ISS}", identity_regex: '.*@us\\.ibm\\.com'}}
    trust: {{offline: true, trust_config: trust.json, trust_config_sha256: {pin(root)}}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 0, r.out


def test_pin_mismatch_is_an_error(cli, tmp_path, shared):
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"""    artifacts: [{{path: models/ibm}}]
    signers: [{{issuer: "{IBM_ISS}", identity: "{IBM_ID}"}}]
    trust: {{offline: true, trust_config: trust.json, trust_config_sha256: '{'0' * 64}'}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 2
    assert "pins" in json.dumps(json.loads(out.read_text())["gates"]["signature"]["errors"])


def test_offline_without_pinned_trust_config_is_a_policy_error(cli, tmp_path, shared):
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"""    artifacts: [{{path: models/ibm}}]
    signers: [{{issuer: "{IBM_ISS}", identity: "{IBM_ID}"}}]
    trust: {{offline: true}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 2
    write_policy(root, f"""    artifacts: [{{path: models/ibm}}]
    signers: [{{issuer: "{IBM_ISS}", identity: "{IBM_ID}"}}]
    trust: {{trust_config: trust.json}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 2
    assert "trust_config_sha256" in json.dumps(json.loads(out.read_text())["gates"]["signature"]["errors"])


def test_empty_signer_list_is_a_policy_error(cli, tmp_path, shared):
    root = setup_repo(tmp_path, shared)
    write_policy(root, "    artifacts: [{path: models/ibm}]\n    signers: []\n")
    r = cli("policy", "validate", root / ".mlsec-gates.yml")
    assert r.code == 2 and "signers" in r.err
    r, _ = run_gate(cli, root)
    assert r.code == 2


@pytest.mark.parametrize("signer", [
    "{issuer: https://x}",                                    # no identity at all
    "{identity: a@b.c}",                                      # no issuer
    "{issuer: https://x, github: {branch: main}}",            # unknown claim
])
def test_bad_signer_entries_are_policy_errors(cli, tmp_path, shared, signer):
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"    artifacts: [{{path: models/ibm}}]\n    signers: [{signer}]\n")
    assert cli("policy", "validate", root / ".mlsec-gates.yml").code == 2


def test_bad_regex_is_an_error(cli, tmp_path, shared):
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"""    artifacts: [{{path: models/ibm}}]
    signers: [{{issuer: x, identity_regex: "("}}]
    trust: {{trust_config: trust.json, trust_config_sha256: {pin(root)}}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 2


def test_no_trust_material_is_an_error(cli, tmp_path):
    model = make_model(tmp_path / "m")
    out = tmp_path / "o.json"
    r = cli("signature", model, "--format", "json", "--output", out, "-q")
    assert r.code == 2


def test_identity_without_issuer_is_a_usage_error(cli, tmp_path):
    model = make_model(tmp_path / "m")
    r = cli("signature", model, "--identity", "a@b.c")
    assert r.code == 2 and "--issuer" in r.err


def test_methods_restrict_what_is_accepted(cli, tmp_path):
    root = tmp_path / "repo"
    model = make_model(root / "models/m")
    priv, pub = write_key(root)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    write_policy(root, "    artifacts: [{path: models/m, methods: [certificate]}]\n    public_keys: [release.pub]\n")
    r, out = run_gate(cli, root)
    assert r.code == 1 and rules(out) == ["SIG005"]
    write_policy(root, "    artifacts: [{path: models/m}]\n    public_keys: [release.pub]\n")
    r, out = run_gate(cli, root)
    assert r.code == 0 and rules(out) == ["SIG010"]


def test_artifact_globs_and_unsigned_model(cli, tmp_path):
    root = tmp_path / "repo"
    a = make_model(root / "models/a")
    make_model(root / "models/b")
    priv, pub = write_key(root)
    assert cli("sign", a, "--method", "key", "--key", priv).code == 0
    write_policy(root, "    artifacts: [{path: 'models/*'}]\n    public_keys: [release.pub]\n")
    r, out = run_gate(cli, root)
    assert r.code == 1
    got = {(f["rule"], f["path"].split("/")[-1]) for f in findings(out)}
    assert got == {("SIG010", "a"), ("SIG001", "b")}


def test_missing_artifact_is_an_error(cli, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    write_key(root)
    write_policy(root, "    artifacts: [{path: models/nothing}]\n    public_keys: [release.pub]\n")
    r, _ = run_gate(cli, root)
    assert r.code == 2


def test_no_artifacts_skips(cli, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    write_policy(root, "    enabled: true\n")
    r, out = run_gate(cli, root)
    assert r.code == 2  # the only gate skipped: nothing was scanned (issue 13)
    assert json.loads(out.read_text())["gates"]["signature"]["status"] == "skipped"


def test_bundle_format_over_a_dataset_directory(cli, tmp_path, shared):
    """format: bundle on a directory needs one Sigstore bundle per file."""
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    shutil.copy(shared / "sigstore/bundle_v3.txt", root / "data/bundle_v3.txt")
    shutil.copy(shared / "sigstore/bundle_v3.txt.sigstore", root / "data/bundle_v3.txt.sigstore")
    (root / "data/unsigned.csv").write_text("a,b\n")
    write_policy(root, """    artifacts: [{path: data, format: bundle}]
    signers: [{issuer: "https://github.com/login/oauth", identity: william@yossarian.net}]
    trust: {instance: staging}
""")
    r, out = run_gate(cli, root)
    assert r.code == 1
    got = {(f["rule"], f["path"].split("/")[-1]) for f in findings(out)}
    assert got == {("SIG010", "bundle_v3.txt"), ("SIG001", "unsigned.csv")}


def test_per_artifact_signers_override(cli, tmp_path, shared):
    root = setup_repo(tmp_path, shared)
    write_policy(root, f"""    artifacts:
      - path: models/ibm
        signers: [{{issuer: "{IBM_ISS}", identity: someone-else@us.ibm.com}}]
    signers: [{{issuer: "{IBM_ISS}", identity: "{IBM_ID}"}}]
    trust: {{trust_config: trust.json, trust_config_sha256: {pin(root)}}}
""")
    r, out = run_gate(cli, root)
    assert r.code == 1 and rules(out) == ["SIG005"]


def test_python_dash_m_entry_point(tmp_path, shared):
    model = make_model(tmp_path / "m")
    priv, pub = write_key(tmp_path)
    env_py = sys.executable
    assert subprocess.run([env_py, "-m", "gates", "sign", str(model), "--method", "key", "--key", str(priv)], capture_output=True).returncode == 0
    r = subprocess.run([env_py, "-m", "gates.signature", str(model), "--public-key", str(pub)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    (model / "config.json").write_text("{}")
    r = subprocess.run([env_py, "-m", "gates.signature", str(model), "--public-key", str(pub)], capture_output=True, text=True)
    assert r.returncode == 1 and "SIG002" in r.stdout


def test_demo_shows_the_tampered_model(cli, tmp_path):
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    out = tmp_path / "demo.json"
    r = cli("run", demo, "--gate", "signature", "--format", "json", "--output", out, "-q")
    assert r.code == 1
    sig = [f for f in findings(out) if f["gate"] == "signature"]
    assert [(f["rule"], Path(f["path"]).name) for f in sig] == [("SIG002", "labels.txt")]


def test_artifact_glob_may_not_climb_out(cli, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    make_model(tmp_path / "outside")
    write_key(root)
    write_policy(root, "    artifacts: [{path: '../out*'}]\n    public_keys: [release.pub]\n")
    r, out = run_gate(cli, root)
    assert r.code == 2
    assert "inside the root" in json.dumps(json.loads(out.read_text())["gates"]["signature"]["errors"])
