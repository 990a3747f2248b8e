"""Certificate-method signers held to identity constraints, and leftover signatures that must
fail closed: an orphan bundle, a bundle for a file that is not there, two bundles for one file."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from sigtest_helpers import findings, make_model, rules, write_pki


def _policy(root: Path, body: str) -> None:
    (root / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  signature:\n" + body)


def _signed_by_certificate(cli, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    root = tmp_path / "repo"
    model = make_model(root / "model")
    pki = write_pki(tmp_path, "corp")
    r = cli("sign", model, "--method", "certificate", "--key", pki["leaf-key"], "--certificate", pki["leaf"],
            "--cert-chain", pki["intermediate"])
    assert r.code == 0, r.err
    return root, pki


def _run(cli, root: Path) -> tuple[int, list[str], list[dict]]:
    out = root.parent / "out.json"
    r = cli("run", root, "--gate", "signature", "--format", "json", "--output", out, "-q")
    return r.code, rules(out), findings(out)


def _root_fp(pki: dict[str, Path]) -> str:
    return x509.load_pem_x509_certificate(pki["ca"].read_bytes()).fingerprint(hashes.SHA256()).hex()


def test_certificate_signer_constraints_allow_the_named_signer(cli, tmp_path):
    root, pki = _signed_by_certificate(cli, tmp_path)
    _policy(root, f"""    artifacts: [{{path: model}}]
    ca_certs: [{pki['ca']}]
    certificate_signers:
      - {{subject: "CN=corp release signer", issuer: "CN=corp intermediate", root_sha256: "{_root_fp(pki)}"}}
""")
    code, got, _ = _run(cli, root)
    assert (code, got) == (0, ["SIG010"])


def test_certificate_signer_constraints_refuse_anyone_else_under_the_same_ca(cli, tmp_path):
    root, pki = _signed_by_certificate(cli, tmp_path)
    _policy(root, f"""    artifacts: [{{path: model}}]
    ca_certs: [{pki['ca']}]
    certificate_signers:
      - {{subject_regex: "CN=ml-team .*"}}
      - {{subject: "CN=corp release signer", root_sha256: "{'0' * 64}"}}
""")
    code, got, fs = _run(cli, root)
    assert (code, got) == (1, ["SIG005"])
    assert "certificate_signers" in fs[0]["message"] and "CN=corp release signer" in fs[0]["message"]


def test_bad_certificate_signer_regex_is_a_policy_error(cli, tmp_path):
    root, pki = _signed_by_certificate(cli, tmp_path)
    _policy(root, f"""    artifacts: [{{path: model}}]
    ca_certs: [{pki['ca']}]
    certificate_signers: [{{subject_regex: "("}}]
""")
    code, _, _ = _run(cli, root)
    assert code == 2


def _bundle_dir(tmp_path: Path, shared: Path) -> Path:
    root = tmp_path / "repo"
    (root / "data").mkdir(parents=True)
    shutil.copy(shared / "sigstore/bundle_v3.txt", root / "data/bundle_v3.txt")
    shutil.copy(shared / "sigstore/bundle_v3.txt.sigstore", root / "data/bundle_v3.txt.sigstore")
    _policy(root, """    artifacts: [{path: data, format: bundle}]
    signers: [{issuer: "https://github.com/login/oauth", identity: william@yossarian.net}]
    trust: {instance: staging}
""")
    return root


def test_bundle_directory_baseline_verifies(cli, tmp_path, shared):
    code, got, _ = _run(cli, _bundle_dir(tmp_path, shared))
    assert (code, got) == (0, ["SIG010"])


def test_orphan_bundle_is_an_error(cli, tmp_path, shared):
    root = _bundle_dir(tmp_path, shared)
    shutil.copy(root / "data/bundle_v3.txt.sigstore", root / "data/removed.bin.sigstore.json")
    out = root.parent / "out.json"
    r = cli("run", root, "--gate", "signature", "--format", "json", "--output", out, "-q")
    assert r.code == 2
    errs = json.loads(out.read_text())["gates"]["signature"]["errors"]
    assert any("orphan" in e["message"] and "removed.bin" in e["message"] for e in errs)


def test_two_bundles_for_one_file_is_an_error(cli, tmp_path, shared):
    root = _bundle_dir(tmp_path, shared)
    shutil.copy(root / "data/bundle_v3.txt.sigstore", root / "data/bundle_v3.txt.sigstore.json")
    out = root.parent / "out.json"
    r = cli("run", root, "--gate", "signature", "--format", "json", "--output", out, "-q")
    assert r.code == 2
    errs = json.loads(out.read_text())["gates"]["signature"]["errors"]
    assert any("two signatures for one file" in e["message"] for e in errs)


def test_single_file_signed_with_a_key_by_model_signing_layout(cli, tmp_path):
    """A single file with an OMS ``model.sig`` (model_signing's ``sign key FILE``) is verified as
    a one-resource manifest with --public-key, not taken for a Sigstore bundle."""
    from gates.signature import oms
    from gates.signature.sign import load_private_key, sign_key
    from sigtest_helpers import write_key

    priv, pub = write_key(tmp_path)
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"\x01" * 5000)
    # build the one-resource manifest model_signing writes for a file and sign it with the key
    manifest = oms.Manifest("w.bin", oms.Serialization(), ((oms.SINGLE_FILE, hashlib.sha256(weights.read_bytes()).hexdigest()),))
    (tmp_path / "model.sig").write_text(json.dumps(sign_key(manifest, load_private_key(priv, None))))
    out = tmp_path / "out.json"
    r = cli("signature", weights, "--public-key", pub, "-q", "--format", "json", "--output", out)
    assert (r.code, rules(out)) == (0, ["SIG010"])
    weights.write_bytes(b"\x02" * 5000)
    r = cli("signature", weights, "--public-key", pub, "-q", "--format", "json", "--output", out)
    assert (r.code, rules(out)) == (1, ["SIG002"])
