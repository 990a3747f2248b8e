"""``mlsec-gates sign`` then ``mlsec-gates signature``: key and certificate round trips, shard
serialization, interop with the model_signing library in both directions, and the symlink and
ignore_paths rules on directories we build."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sigtest_helpers import findings, make_model, rules, write_key, write_pki


def verify(cli, tmp_path, *args):
    out = tmp_path / "verify.json"
    r = cli("signature", *args, "--format", "json", "--output", out, "-q")
    return r, out


def test_key_round_trip(cli, tmp_path):
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    r = cli("sign", model, "--method", "key", "--key", priv)
    assert r.code == 0, r.err
    assert "signed 4 file(s)" in r.out and (model / "model.sig").is_file()
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 0, r.out
    (v,) = findings(out)
    assert v["rule"] == "SIG010" and v["files"] == 4 and v["method"] == "key"


@pytest.mark.parametrize("curve", ["P-384", "P-521"])
def test_key_round_trip_other_curves(cli, tmp_path, curve):
    from cryptography.hazmat.primitives.asymmetric import ec

    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path, curve={"P-384": ec.SECP384R1(), "P-521": ec.SECP521R1()}[curve])
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    assert verify(cli, tmp_path, model, "--public-key", pub)[0].code == 0


def test_key_round_trip_then_tamper(cli, tmp_path):
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    (model / "weights.safetensors").write_bytes(b"\x00" * 4096 + b"X")
    (model / "tokenizer" / "vocab.txt").unlink()
    (model / "inject.py").write_text("print('hi')\n")
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1
    got = {(f["rule"], Path(f["path"]).name) for f in findings(out)}
    assert got == {("SIG002", "weights.safetensors"), ("SIG003", "vocab.txt"), ("SIG004", "inject.py")}


def test_certificate_round_trip(cli, tmp_path):
    model = make_model(tmp_path / "model")
    pki = write_pki(tmp_path)
    r = cli("sign", model, "--method", "certificate", "--key", pki["leaf-key"], "--certificate", pki["leaf"], "--cert-chain", pki["intermediate"])
    assert r.code == 0, r.err
    r, out = verify(cli, tmp_path, model, "--ca-cert", pki["ca"])
    assert r.code == 0, r.out
    (v,) = findings(out)
    assert v["method"] == "certificate" and "corp release signer" in v["signer"]
    # another CA does not vouch for it
    other = write_pki(tmp_path, "other")
    r, out = verify(cli, tmp_path, model, "--ca-cert", other["ca"])
    assert r.code == 1 and rules(out) == ["SIG005"]


def test_certificate_without_signing_usage_is_invalid(cli, tmp_path):
    model = make_model(tmp_path / "model")
    pki = write_pki(tmp_path, code_signing=False)
    assert cli("sign", model, "--method", "certificate", "--key", pki["leaf-key"], "--certificate", pki["leaf"], "--cert-chain", pki["intermediate"]).code == 0
    r, out = verify(cli, tmp_path, model, "--ca-cert", pki["ca"])
    assert r.code == 1 and rules(out) == ["SIG006"]


def test_certificate_must_match_key(cli, tmp_path):
    model = make_model(tmp_path / "model")
    pki = write_pki(tmp_path)
    priv, _ = write_key(tmp_path)
    r = cli("sign", model, "--method", "certificate", "--key", priv, "--certificate", pki["leaf"])
    assert r.code == 2 and "does not belong" in r.err


def test_shard_serialization_round_trip(cli, tmp_path):
    model = make_model(tmp_path / "model", {"big.bin": os.urandom(10_000), "small.json": b"{}", "empty.txt": b""})
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv, "--shard-size", "4096").code == 0
    st = _statement(model / "model.sig")
    assert st["predicate"]["serialization"]["method"] == "shards"
    names = [r["name"] for r in st["predicate"]["resources"]]
    assert "big.bin:0:4096" in names and "big.bin:8192:10000" in names
    assert verify(cli, tmp_path, model, "--public-key", pub)[0].code == 0
    data = bytearray((model / "big.bin").read_bytes())
    data[9000] ^= 0xFF
    (model / "big.bin").write_bytes(bytes(data))
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1 and rules(out) == ["SIG002"]
    (model / "big.bin").write_bytes(bytes(data) + b"more")  # size changed: shard layout differs
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1 and rules(out) == ["SIG002"]


def test_blake2_round_trip(cli, tmp_path):
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv, "--hash", "blake2").code == 0
    assert _statement(model / "model.sig")["predicate"]["serialization"]["hash_type"] == "blake2"
    assert verify(cli, tmp_path, model, "--public-key", pub)[0].code == 0


def _statement(sig: Path) -> dict:
    import base64

    return json.loads(base64.b64decode(json.loads(sig.read_text())["dsseEnvelope"]["payload"]))


def test_ignore_paths_recorded_and_hidden_required_file_blocks(cli, tmp_path):
    model = make_model(tmp_path / "model")
    (model / "notes").mkdir()
    (model / "notes" / "draft.md").write_text("x")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv, "--ignore-paths", "notes", "config.json").code == 0
    assert {"notes", "config.json", "model.sig"} <= set(_statement(model / "model.sig")["predicate"]["serialization"]["ignore_paths"])
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1  # config.json (required by default) was left out by the signer
    got = {(f["rule"], Path(f["path"]).name) for f in findings(out)}
    assert got == {("SIG008", "config.json"), ("SIG009", "draft.md")}
    # the verifier may accept it explicitly
    r, out = verify(cli, tmp_path, model, "--public-key", pub, "--ignore-paths", "config.json", "notes")
    assert r.code == 0 and rules(out) == ["SIG010"]


def test_sign_refuses_symlinks(cli, tmp_path):
    model = make_model(tmp_path / "model")
    (model / "link.bin").symlink_to("/etc/hostname")
    priv, _ = write_key(tmp_path)
    r = cli("sign", model, "--method", "key", "--key", priv)
    assert r.code == 2 and "symlink" in r.err


def test_symlink_added_after_signing_blocks(cli, tmp_path):
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    (model / "tokenizer" / "escape").symlink_to("/etc")
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1 and rules(out) == ["SIG007"]


def test_signature_elsewhere(cli, tmp_path):
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    sig = tmp_path / "sigs" / "model.sig"
    sig.parent.mkdir()
    assert cli("sign", model, "--method", "key", "--key", priv, "--signature", sig).code == 0
    assert not (model / "model.sig").exists()
    assert verify(cli, tmp_path, model, "--public-key", pub, "--signature", sig)[0].code == 0
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1 and rules(out) == ["SIG001"]


def test_encrypted_key_password_from_env(cli, tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    kp = tmp_path / "enc.key"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret")))
    pub = tmp_path / "enc.pub"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    model = make_model(tmp_path / "model")
    r = cli("sign", model, "--method", "key", "--key", kp)
    assert r.code == 2 and "password" in r.err
    monkeypatch.setenv("RELEASE_KEY_PASSWORD", "s3cret")
    assert cli("sign", model, "--method", "key", "--key", kp, "--key-password-env", "RELEASE_KEY_PASSWORD").code == 0
    assert verify(cli, tmp_path, model, "--public-key", pub)[0].code == 0


def test_sign_file_needs_sigstore(cli, tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"1")
    priv, _ = write_key(tmp_path)
    r = cli("sign", f, "--method", "key", "--key", priv)
    assert r.code == 2 and "sigstore" in r.err


def test_keyless_signing_without_token_fails_cleanly(cli, tmp_path, monkeypatch):
    """Keyless signing needs an OIDC token; without one (and with the network refused) the
    command ends in exit 2 with a message, never a traceback or an unsigned success."""
    import socket

    def refuse(*a, **k):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    for var in ("SIGSTORE_ID_TOKEN", "GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "GITLAB_CI", "HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    model = make_model(tmp_path / "model")
    r = cli("sign", model, "--method", "sigstore", "--staging")
    assert r.code == 2
    assert not (model / "model.sig").exists()


# ---- interop with the model_signing library (the format the model_signing CLI writes) ---------------------
def test_model_signing_verifies_our_key_signature(cli, tmp_path):
    model_signing = pytest.importorskip("model_signing")
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    cfg = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub)
    cfg.verify(model, model / "model.sig")  # raises on failure


def test_model_signing_verifies_our_certificate_signature(cli, tmp_path):
    model_signing = pytest.importorskip("model_signing")
    model = make_model(tmp_path / "model")
    pki = write_pki(tmp_path)
    assert cli("sign", model, "--method", "certificate", "--key", pki["leaf-key"], "--certificate", pki["leaf"], "--cert-chain", pki["intermediate"]).code == 0
    cfg = model_signing.verifying.Config().use_certificate_verifier(certificate_chain=[pki["ca"]])
    cfg.verify(model, model / "model.sig")


def test_we_verify_model_signing_key_and_shard_signatures(cli, tmp_path):
    model_signing = pytest.importorskip("model_signing")
    priv, pub = write_key(tmp_path)
    for shard in (False, True):
        model = make_model(tmp_path / f"model-{shard}", {"a.bin": os.urandom(5000), "b/c.json": b"{}"})
        hcfg = model_signing.hashing.Config()
        if shard:
            hcfg.use_shard_serialization(shard_size=2048)
        model_signing.signing.Config().use_elliptic_key_signer(private_key=priv).set_hashing_config(hcfg).sign(model, model / "model.sig")
        r, out = verify(cli, tmp_path, model, "--public-key", pub)
        assert r.code == 0, (shard, r.out)
        (model / "a.bin").write_bytes(b"changed")
        r, out = verify(cli, tmp_path, model, "--public-key", pub)
        assert r.code == 1 and rules(out) == ["SIG002"]


def test_model_signing_import_works():
    """model-signing 1.1.1 imports OpenSSL without declaring it: the test extra declares pyOpenSSL."""
    import model_signing  # noqa: F401
    from model_signing._signing import sign_certificate  # noqa: F401 - the module that imports OpenSSL


@pytest.mark.network
def test_keyless_sigstore_round_trip(cli, tmp_path):  # pragma: no cover - needs network and an OIDC token
    """Opt in with ``-m network`` and SIGSTORE_ID_TOKEN set (staging)."""
    if not os.environ.get("SIGSTORE_ID_TOKEN"):
        pytest.skip("needs SIGSTORE_ID_TOKEN for staging")
    model = make_model(tmp_path / "model")
    assert cli("sign", model, "--method", "sigstore", "--staging").code == 0
    r, out = verify(cli, tmp_path, model, "--identity-regex", ".+", "--issuer", os.environ.get("SIGSTORE_ISSUER", "https://oauth2.sigstage.dev/auth"), "--staging")
    assert r.code == 0


def test_per_file_needs_sigstore(cli, tmp_path):
    model = make_model(tmp_path / "model")
    priv, _ = write_key(tmp_path)
    r = cli("sign", model, "--method", "key", "--key", priv, "--per-file")
    assert r.code == 2 and "Sigstore" in r.err


def test_git_and_signature_names_are_ignored_only_at_the_top_of_the_directory(cli, tmp_path):
    """model-signing ignores .git*, .github and model.sig at the model root; deeper down they are files."""
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    (model / ".gitignore").write_text("*.tmp\n")  # still fine at the top
    (model / "tokenizer" / ".github").mkdir()
    (model / "tokenizer" / ".github" / "evil.pkl").write_bytes(b"\x80\x04N.")
    (model / "tokenizer" / "model.sig").write_bytes(b"\x80\x04N.")
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1, r.out
    got = {(f["rule"], f["path"].split("model/", 1)[1]) for f in findings(out)}
    assert got == {("SIG004", "tokenizer/.github/evil.pkl"), ("SIG004", "tokenizer/model.sig")}


def test_a_subdirectory_that_cannot_be_listed_is_an_error(cli, tmp_path, deny_listing):
    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    deny_listing("tokenizer")
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    rep = json.loads(out.read_text())
    assert r.code == 2 and rep["gates"]["signature"]["errors"][0]["message"] == "cannot read: Permission denied"


def test_every_signed_byte_is_read_once(cli, tmp_path, monkeypatch):
    """Verification hashes each signed file exactly once (prehash during the signature check,
    no second pass in the comparison) and still finds a changed file."""
    from gates.signature import hashing

    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    (model / "weights.safetensors").write_bytes(b"\x01" * 4096)
    reads: list[str] = []
    real = hashing.digest_range
    monkeypatch.setattr(hashing, "digest_range", lambda p, *a, **k: reads.append(Path(p).name) or real(p, *a, **k))
    r, out = verify(cli, tmp_path, model, "--public-key", pub)
    assert r.code == 1
    assert [f["rule"] for f in findings(out)] == ["SIG002"]
    assert sorted(reads) == sorted(set(reads)) and len(reads) == 4


def test_invalid_signature_abandons_prehash(cli, tmp_path):
    """A signature that fails verification is reported; the background reads do not leak."""
    import threading

    model = make_model(tmp_path / "model")
    priv, pub = write_key(tmp_path)
    _, other = write_key(tmp_path, "other")
    assert cli("sign", model, "--method", "key", "--key", priv).code == 0
    r, out = verify(cli, tmp_path, model, "--public-key", other)
    assert r.code == 1
    assert {f["rule"] for f in findings(out)} <= {"SIG005", "SIG006"}
    for t in threading.enumerate():
        if t.name.startswith("prehash"):
            t.join(5)
            assert not t.is_alive()
