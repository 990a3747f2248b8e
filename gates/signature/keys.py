"""EC key helpers shared by signing and verification (model-signing's key conventions).

Kept free of sigstore imports so that loading the gate (which every ``mlsec-gates`` command
does) stays fast.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

CURVES = ("secp256r1", "secp384r1", "secp521r1")


def check_curve(key: Any) -> ec.EllipticCurvePublicKey:
    """Only the curves Sigstore's specs (and model-signing) allow."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in CURVES:
        raise ValueError("only EC P-256, P-384 and P-521 keys are supported (as in model-signing)")
    return key


def hash_for(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    """The digest paired with each curve (SHA-256/384/512), as model-signing signs."""
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """model-signing's key identifier: SHA-256 of the PEM SubjectPublicKeyInfo."""
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """A PEM public key, or the key of a PEM certificate."""
    data = path.read_bytes()
    try:
        return check_curve(serialization.load_pem_public_key(data))
    except ValueError:
        return check_curve(x509.load_pem_x509_certificate(data).public_key())
