"""Test-time key material for the signature gate: EC keys and a small CA, generated fresh."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def write_key(dirpath: Path, name: str = "release", curve: ec.EllipticCurve | None = None) -> tuple[Path, Path]:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    priv = dirpath / f"{name}.key"
    pub = dirpath / f"{name}.pub"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def _cert(subject: str, key, issuer_name: str, issuer_key, ca: bool, code_signing: bool = True) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer_key is not key:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(code_signing, False, False, False, False, False, False, False, False), critical=True)
        if code_signing:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def write_pki(dirpath: Path, name: str = "corp", code_signing: bool = True) -> dict[str, Path]:
    """Root CA → intermediate → leaf; returns the PEM paths."""
    root_key = ec.generate_private_key(ec.SECP384R1())
    int_key = ec.generate_private_key(ec.SECP384R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(f"{name} root", root_key, f"{name} root", root_key, ca=True)
    inter = _cert(f"{name} intermediate", int_key, f"{name} root", root_key, ca=True)
    leaf = _cert(f"{name} release signer", leaf_key, f"{name} intermediate", int_key, ca=False, code_signing=code_signing)
    out = {k: dirpath / f"{name}-{k}.pem" for k in ("ca", "intermediate", "leaf", "leaf-key")}
    out["ca"].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    out["intermediate"].write_bytes(inter.public_bytes(serialization.Encoding.PEM))
    out["leaf"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    out["leaf-key"].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return out


def make_model(root: Path, files: dict[str, bytes] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in (files or {"config.json": b'{"layers": 2}\n', "weights.safetensors": b"\x00" * 4096 + b"w",
                                "tokenizer/vocab.txt": b"a\nb\n", "README.md": b"# demo\n"}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def findings(report: Path) -> list[dict]:
    return json.loads(report.read_text())["findings"]


def rules(report: Path) -> list[str]:
    return sorted(f["rule"] for f in findings(report))
