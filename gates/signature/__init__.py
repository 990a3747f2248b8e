"""The signature gate (see ``gate.py``): Sigstore bundles and OpenSSF Model Signing signatures,
verified against allowed identities, keys or CAs; ``mlsec-gates sign`` for release jobs."""

from .gate import SignatureGate
from .rules import RULES

__all__ = ["RULES", "SignatureGate"]
