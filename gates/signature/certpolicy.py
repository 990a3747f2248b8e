"""Who may sign with the certificate method: identity constraints on the leaf and a pin on the CA.

A CA certificate alone says "anyone this CA issued a code-signing certificate to"; for a company
PKI that is every team. ``gates.signature.certificate_signers`` narrows it, as Sigstore identities
do for the sigstore method: each entry lists fields that must all match (the leaf's subject or a
SAN, exactly or by an anchored regular expression, the leaf's issuer, and the SHA-256 fingerprint
of the trust anchor the chain was built to); any one entry suffices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from .identity import sans

_str = {"type": "string", "minLength": 1}
CERTIFICATE_SIGNER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "description": "An allowed signer for the certificate method: every field given must match.",
    "properties": {
        "subject": {**_str, "description": "Leaf subject as an RFC 4514 string, exactly (e.g. 'CN=release,O=Example')."},
        "subject_regex": {**_str, "description": "Regular expression the whole RFC 4514 subject must match."},
        "san": {**_str, "description": "A subject alternative name (e-mail, URI or DNS) the leaf must carry, exactly."},
        "san_regex": {**_str, "description": "Regular expression one SAN must match in full."},
        "issuer": {**_str, "description": "The leaf's issuer as an RFC 4514 string, exactly."},
        "root_sha256": {"type": "string", "pattern": "^(sha256:)?[0-9a-fA-F:]{64,95}$",
                        "description": "SHA-256 fingerprint of the CA certificate the chain must end at."},
    },
}


def _fingerprint(value: str) -> str:
    return value.lower().removeprefix("sha256:").replace(":", "")


@dataclass(frozen=True)
class CertificateSigner:
    """One ``certificate_signers`` entry (see the module docstring)."""

    subject: str | None = None
    subject_regex: str | None = None
    san: str | None = None
    san_regex: str | None = None
    issuer: str | None = None
    root_sha256: str | None = None

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> "CertificateSigner":
        """Raises ``ValueError`` on a bad regular expression or fingerprint."""
        for key in ("subject_regex", "san_regex"):
            if m.get(key):
                try:
                    re.compile(m[key])
                except re.error as exc:
                    raise ValueError(f"{key} is not a valid regular expression ({exc})") from None
        root = m.get("root_sha256")
        if root is not None and len(_fingerprint(root)) != 64:
            raise ValueError("root_sha256 must be a SHA-256 fingerprint (64 hex digits)")
        return cls(subject=m.get("subject"), subject_regex=m.get("subject_regex"), san=m.get("san"),
                   san_regex=m.get("san_regex"), issuer=m.get("issuer"), root_sha256=_fingerprint(root) if root else None)

    def matches(self, leaf: x509.Certificate, anchor: x509.Certificate) -> bool:
        subject = leaf.subject.rfc4514_string()
        names = sans(leaf) + leaf_dns(leaf)
        checks = [
            self.subject is None or subject == self.subject,
            self.subject_regex is None or re.fullmatch(self.subject_regex, subject) is not None,
            self.san is None or self.san in names,
            self.san_regex is None or any(re.fullmatch(self.san_regex, n) for n in names),
            self.issuer is None or leaf.issuer.rfc4514_string() == self.issuer,
            self.root_sha256 is None or anchor.fingerprint(hashes.SHA256()).hex() == self.root_sha256,
        ]
        return all(checks)

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in vars(self).items() if v is not None]
        return "certificate " + ", ".join(parts)


def leaf_dns(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return list(ext.get_values_for_type(x509.DNSName))


def parse_certificate_signers(items: Sequence[Mapping[str, Any]] | None, where: str) -> list[CertificateSigner]:
    """Typed entries; raises ``ValueError`` naming the entry (a policy error)."""
    out = []
    for i, m in enumerate(items or []):
        try:
            out.append(CertificateSigner.from_mapping(m))
        except ValueError as exc:
            raise ValueError(f"{where}[{i}]: {exc}") from None
    return out


def describe_leaf(leaf: x509.Certificate, anchor: x509.Certificate) -> str:
    """What a finding says about a certificate that is not allowed (no key material)."""
    names = sans(leaf) + leaf_dns(leaf)
    return (f"{leaf.subject.rfc4514_string()}" + (f" (SAN {', '.join(names[:3])})" if names else "")
            + f", issued by {leaf.issuer.rfc4514_string()}, root sha256:{anchor.fingerprint(hashes.SHA256()).hex()[:16]}…")
