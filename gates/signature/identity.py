"""Who signed, and whether the policy allows them.

Allowed signers compose like sigstore-python's own policies (``sigstore.verify.policy``): each
signer is an ``AllOf`` of an issuer check, an identity check (exact SAN, anchored regular
expression) and GitHub workflow claim checks; the policy is an ``AnyOf`` of the signers. The
objects below implement sigstore's ``VerificationPolicy`` protocol (``verify(cert)`` raises
``VerificationError``), so sigstore's ``Verifier`` runs them at the right step of verification.

Fulcio records the OIDC claims in certificate extensions under ``1.3.6.1.4.1.57264.1.*``: the
older ones (``.1``–``.6``) as raw strings, the newer ones (``.8``–``.22``) as DER UTF8String.
Each claim check reads the newer extension when present and falls back to the older one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.x509 import ExtensionNotFound, ObjectIdentifier
from sigstore.errors import VerificationError

if TYPE_CHECKING:  # sigstore.verify is slow to import: only when verifying
    from sigstore.verify.policy import VerificationPolicy

_BASE = "1.3.6.1.4.1.57264.1."
_OTHERNAME = ObjectIdentifier(_BASE + "7")

#: claim name → (newer DER OID, older raw OID); either may be None
CLAIMS: dict[str, tuple[str | None, str | None]] = {
    "issuer": (_BASE + "8", _BASE + "1"),
    "trigger": (_BASE + "20", _BASE + "2"),
    "sha": (_BASE + "13", _BASE + "3"),
    "workflow": (None, _BASE + "4"),
    "repository": (_BASE + "12", _BASE + "5"),
    "ref": (_BASE + "14", _BASE + "6"),
    "runner_environment": (_BASE + "11", None),
    "build_signer_uri": (_BASE + "9", None),
}
GITHUB_KEYS = ("repository", "ref", "workflow", "trigger", "runner_environment")


def _ext(cert: x509.Certificate, oid: str) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(ObjectIdentifier(oid)).value
    except ExtensionNotFound:
        return None
    return getattr(ext, "value", None)


def claim(cert: x509.Certificate, name: str) -> str | None:
    """The value of a Fulcio claim extension, normalised (``repository`` as ``owner/name``)."""
    new, old = CLAIMS[name]
    value: str | None = None
    if new:
        raw = _ext(cert, new)
        if raw is not None:
            try:
                value = asn1.decode_der(str, raw)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - a malformed extension is simply absent
                value = None
    if value is None and old:
        raw = _ext(cert, old)
        if raw is not None:
            value = raw.decode("utf-8", "replace")
    if value is not None and name == "repository":
        for prefix in ("https://github.com/",):
            if value.startswith(prefix):
                value = value[len(prefix):]
    return value


def sans(cert: x509.Certificate) -> list[str]:
    """The identities in the certificate: e-mail, URI and Sigstore other-name SANs."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except ExtensionNotFound:
        return []
    out = list(ext.get_values_for_type(x509.RFC822Name))
    out += ext.get_values_for_type(x509.UniformResourceIdentifier)
    for on in ext.get_values_for_type(x509.OtherName):
        if on.type_id == _OTHERNAME:
            try:
                out.append(asn1.decode_der(str, on.value))  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001
                out.append(on.value.decode("utf-8", "replace"))
    return out


@dataclass(frozen=True)
class SignerInfo:
    """What a Fulcio certificate says about its holder (for findings)."""

    identity: str
    issuer: str | None
    claims: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_cert(cls, cert: x509.Certificate) -> "SignerInfo":
        ids = sans(cert)
        claims = {k: v for k in GITHUB_KEYS if (v := claim(cert, k)) is not None}
        return cls(identity=ids[0] if len(ids) == 1 else ", ".join(ids), issuer=claim(cert, "issuer"), claims=claims)

    def describe(self) -> str:
        s = f"{self.identity or '(no identity)'} (issuer {self.issuer or 'unknown'})"
        if self.claims:
            s += "; " + ", ".join(f"{k}={v}" for k, v in self.claims.items())
        return s


# ---- policy objects (sigstore's VerificationPolicy protocol) ----------------------------------------
class Issuer:
    """The OIDC issuer claim equals ``issuer`` exactly."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer

    def verify(self, cert: x509.Certificate) -> None:
        got = claim(cert, "issuer")
        if got != self.issuer:
            raise VerificationError(f"issuer is {got!r}, expected {self.issuer!r}")


class ExactIdentity:
    """One of the certificate's SANs equals ``identity`` exactly."""

    def __init__(self, identity: str) -> None:
        self.identity = identity

    def verify(self, cert: x509.Certificate) -> None:
        if self.identity not in sans(cert):
            raise VerificationError("no SAN equals the expected identity")


class IdentityRegex:
    """One of the certificate's SANs matches ``pattern`` as a whole (anchored at both ends)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def verify(self, cert: x509.Certificate) -> None:
        if not any(self.pattern.fullmatch(s) for s in sans(cert)):
            raise VerificationError("no SAN matches the expected identity pattern")


class Claim:
    """A Fulcio claim extension (e.g. the GitHub repository) equals ``value`` exactly."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def verify(self, cert: x509.Certificate) -> None:
        got = claim(cert, self.name)
        if got != self.value:
            raise VerificationError(f"claim {self.name} is {got!r}, expected {self.value!r}")


class Recording:
    """Wraps a policy and remembers the certificate it saw and whether it rejected it.

    sigstore runs the identity policy after the certificate chain checks and before the log
    checks; recording tells "signed by someone not allowed" apart from "not a valid signature".
    """

    def __init__(self, inner: "VerificationPolicy") -> None:
        self.inner = inner
        self.cert: x509.Certificate | None = None
        self.rejected: VerificationError | None = None

    def verify(self, cert: x509.Certificate) -> None:
        self.cert = cert
        try:
            self.inner.verify(cert)
        except VerificationError as exc:
            self.rejected = exc
            raise


@dataclass(frozen=True)
class SignerSpec:
    """One allowed signer from the policy or the command line."""

    issuer: str
    identity: str | None = None
    identity_regex: str | None = None
    github: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> "SignerSpec":
        spec = cls(issuer=m["issuer"], identity=m.get("identity"), identity_regex=m.get("identity_regex"), github=dict(m.get("github") or {}))
        spec.check()
        return spec

    def check(self) -> None:
        if not self.issuer:
            raise ValueError("a signer needs an issuer")
        if not (self.identity or self.identity_regex or self.github):
            raise ValueError("a signer needs identity, identity_regex or github claims")
        if self.identity and self.identity_regex:
            raise ValueError("give either identity or identity_regex, not both")
        if self.identity_regex:
            try:
                re.compile(self.identity_regex)
            except re.error as exc:
                raise ValueError(f"identity_regex does not compile: {exc}") from None
        unknown = set(self.github) - set(GITHUB_KEYS)
        if unknown:
            raise ValueError(f"unknown github claim(s) {sorted(unknown)} (known: {', '.join(GITHUB_KEYS)})")

    def policy(self) -> "VerificationPolicy":
        from sigstore.verify.policy import AllOf

        parts: list["VerificationPolicy"] = [Issuer(self.issuer)]
        if self.identity:
            parts.append(ExactIdentity(self.identity))
        if self.identity_regex:
            parts.append(IdentityRegex(self.identity_regex))
        parts += [Claim(k, v) for k, v in sorted(self.github.items())]
        return AllOf(parts)

    def describe(self) -> str:
        who = self.identity or (f"/{self.identity_regex}/" if self.identity_regex else "")
        extra = ", ".join(f"{k}={v}" for k, v in sorted(self.github.items()))
        return f"{who or '*'} from {self.issuer}" + (f" [{extra}]" if extra else "")


def signers_policy(signers: Sequence[SignerSpec]) -> "VerificationPolicy":
    """Any one allowed signer suffices. An empty list is refused (it would allow nobody, and an
    empty ``AnyOf`` reads like a mistake)."""
    if not signers:
        raise ValueError("the allowed signers list is empty")
    from sigstore.verify.policy import AnyOf

    return AnyOf([s.policy() for s in signers])
