"""Signature verification: Sigstore bundles, and OMS signatures made with Sigstore, a key or a
certificate chain. Every function either returns a :class:`Verified` or raises one of the typed
errors below, so the gate can say exactly why an artifact is not verified.

The cryptography is never ours: Sigstore bundles go through ``sigstore.verify.Verifier``
(certificate chain, SCT, transparency log inclusion and consistency, identity policy); key and
certificate signatures are ECDSA checks with ``cryptography`` and certificate chains are built
with ``cryptography.x509.verification``.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature as _CryptoInvalid
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError as X509Error
from typing import TYPE_CHECKING

from . import oms
from .certpolicy import CertificateSigner, describe_leaf
from .hashing import sha256_file
from .identity import Recording, SignerInfo
from .keys import check_curve, hash_for, key_hint, load_public_key

if TYPE_CHECKING:  # sigstore's verifier is slow to import: key/certificate checks never need it
    from sigstore.models import Bundle, TrustedRoot
    from sigstore.verify import Verifier
    from sigstore.verify.policy import VerificationPolicy


# ---- results and typed failures --------------------------------------------------------------------
@dataclass(frozen=True)
class Verified:
    """A signature that checked out: who signed and, for Sigstore, where it is logged."""

    method: str  # sigstore | key | certificate
    signer: str
    issuer: str | None = None
    claims: Mapping[str, str] = field(default_factory=dict)
    tlog_index: int | None = None
    integrated_time: str | None = None

    def to_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "signer": self.signer}
        if self.issuer:
            out["issuer"] = self.issuer
        if self.claims:
            out["claims"] = dict(self.claims)
        if self.tlog_index is not None:
            out["tlog_index"] = self.tlog_index
        if self.integrated_time:
            out["integrated_time"] = self.integrated_time
        return out

    def describe(self) -> str:
        s = f"signed by {self.signer}"
        if self.issuer:
            s += f" (issuer {self.issuer})"
        if self.claims:
            s += " [" + ", ".join(f"{k}={v}" for k, v in self.claims.items()) + "]"
        if self.tlog_index is not None:
            s += f", log index {self.tlog_index}"
        if self.integrated_time:
            s += f" at {self.integrated_time}"
        return s


class SignatureFailure(Exception):
    """Base: the artifact is not verified. ``reason`` is safe to print."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidSignature(SignatureFailure):
    """Malformed bundle, bad signature, broken chain, inconsistent log entry, wrong instance."""


class NotAllowed(SignatureFailure):
    """A valid-looking signature by someone the policy does not allow."""

    def __init__(self, reason: str, found: str, method: str) -> None:
        super().__init__(reason)
        self.found, self.method = found, method


class DigestMismatch(SignatureFailure):
    """The signature is fine, the content is not what was signed."""

    def __init__(self, reason: str, expected: str | None, actual: str, signer: Verified | None = None) -> None:
        super().__init__(reason)
        self.expected, self.actual, self.signer = expected, actual, signer


# ---- Sigstore ----------------------------------------------------------------------------------
def _log_info(raw: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """Transparency log index and integration time (or the RFC 3161 timestamp for Rekor v2), read
    from the bundle's JSON (sigstore-python has no public accessor for them). Informational only:
    the verifier has already checked them."""
    index: int | None = None
    when: str | None = None
    vm = raw.get("verificationMaterial") or {}
    entries = vm.get("tlogEntries") or []
    if entries and isinstance(entries[0], dict):
        try:
            index = int(entries[0]["logIndex"])
        except (KeyError, TypeError, ValueError):
            pass
        try:
            t = int(entries[0].get("integratedTime") or 0)
            if t:
                when = _dt.datetime.fromtimestamp(t, tz=_dt.timezone.utc).isoformat()
        except (TypeError, ValueError, OverflowError, OSError):
            pass
    if when is None:
        stamps = ((vm.get("timestampVerificationData") or {}).get("rfc3161Timestamps") or [])
        if stamps:
            when = _rfc3161_time(stamps[0])
    return index, when


def _rfc3161_time(stamp: Mapping[str, Any]) -> str | None:
    """The generation time of an RFC 3161 timestamp token, via rfc3161-client's public parser."""
    try:
        from rfc3161_client import decode_timestamp_response

        tsr = decode_timestamp_response(oms.base64.b64decode(stamp["signedTimestamp"]))
        return tsr.tst_info.gen_time.astimezone(_dt.timezone.utc).isoformat()
    except Exception:  # noqa: BLE001 - informational only
        return None


def _load_bundle(raw: bytes | str) -> "Bundle":
    from sigstore.models import Bundle

    try:
        return Bundle.from_json(raw)
    except Exception as exc:  # noqa: BLE001 - pydantic, protobuf and sigstore errors all mean "invalid"
        raise InvalidSignature(f"not a valid Sigstore bundle: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:240]


def _run_sigstore(verifier: "Verifier", bundle: "Bundle", policy: "VerificationPolicy", call: Any) -> Any:
    rec = Recording(policy)
    try:
        return call(rec)
    except Exception as exc:  # noqa: BLE001 - sigstore raises several error types; all fail closed
        if rec.rejected is not None and rec.cert is not None:
            info = SignerInfo.from_cert(rec.cert)
            raise NotAllowed(f"signed by {info.describe()}, which is not an allowed signer", info.describe(), "sigstore") from None
        if isinstance(exc, SignatureFailure):
            raise
        hint = " (signed on another Sigstore instance, or the wrong trust root?)" if "chain" in str(exc) else ""
        raise InvalidSignature(f"Sigstore verification failed: {_short(exc)}{hint}") from None


def _verified_sigstore(bundle: "Bundle", raw: Mapping[str, Any]) -> Verified:
    info = SignerInfo.from_cert(bundle.signing_certificate)
    index, when = _log_info(raw)
    return Verified("sigstore", info.identity, info.issuer, info.claims, index, when)


def _statement_subjects(payload: bytes) -> list[tuple[str, str]]:
    """``(name, sha256)`` of every subject of a verified in-toto statement (plain JSON: the
    statement is ours to read once the envelope verified)."""
    try:
        st = json.loads(payload)
        return [(str(sub.get("name") or "?"), str((sub.get("digest") or {}).get("sha256", "")).lower())
                for sub in st["subject"] if isinstance(sub, dict)]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise InvalidSignature("in-toto statement is malformed") from None


def verify_file_bundle(path: Path, bundle_path: Path, trusted_root: "TrustedRoot", policy: "VerificationPolicy") -> Verified:
    """A Sigstore bundle over one file: a message signature (``hashedrekord``) or a DSSE
    in-toto statement whose subject must carry the file's SHA-256. The file is hashed once."""
    from sigstore.hashes import Hashed
    from sigstore.verify import Verifier
    from sigstore_models.common.v1 import HashAlgorithm

    raw = oms.read_bundle_json(bundle_path)  # bounded read, JSON check
    bundle = _load_bundle(json.dumps(raw))
    digest = sha256_file(path)
    hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest)
    verifier = Verifier(trusted_root=trusted_root)
    if isinstance(raw.get("dsseEnvelope"), dict):
        ptype, payload = _run_sigstore(verifier, bundle, policy, lambda p: verifier.verify_dsse(bundle, p))
        if ptype != oms.PAYLOAD_TYPE:
            raise InvalidSignature(f"DSSE payload type {ptype[:60]!r} is not an in-toto statement")
        subjects = _statement_subjects(payload)
        if not any(d == digest.hex() for _, d in subjects):
            listed = [f"{n} sha256:{d or '?'}" for n, d in subjects][:5]
            raise DigestMismatch("the signed in-toto statement has no subject with this file's SHA-256 "
                                 f"(it lists {', '.join(listed)})", ", ".join(listed), digest.hex(), _verified_sigstore(bundle, raw))
        return _verified_sigstore(bundle, raw)
    signed = None
    try:
        signed = oms.base64.b64decode(raw["messageSignature"]["messageDigest"]["digest"]).hex()
    except (KeyError, TypeError, ValueError):
        pass
    try:
        _run_sigstore(verifier, bundle, policy, lambda p: verifier.verify_artifact(hashed, bundle, p))
    except InvalidSignature:
        if signed is not None and signed != digest.hex():
            raise DigestMismatch("file content differs from what was signed", signed, digest.hex()) from None
        raise
    return _verified_sigstore(bundle, raw)


# ---- OMS ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyMaterial:
    """Trust material for the non-Sigstore methods."""

    #: (display name, key) pairs
    public_keys: Sequence[tuple[str, ec.EllipticCurvePublicKey]] = ()
    ca_certs: Sequence[x509.Certificate] = ()
    #: who may sign under those CAs (empty: anyone they issued a signing certificate to)
    cert_signers: Sequence[CertificateSigner] = ()

    @classmethod
    def load(cls, public_keys: Sequence[Path] = (), ca_certs: Sequence[Path] = (),
             cert_signers: Sequence[CertificateSigner] = ()) -> "KeyMaterial":
        """Read the PEM files; raises ``ValueError``/``OSError`` naming the bad file."""
        keys, cas = [], []
        for p in public_keys:
            try:
                keys.append((p.name, load_public_key(p)))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{p}: not an EC public key in PEM ({exc})") from None
        for p in ca_certs:
            try:
                found = x509.load_pem_x509_certificates(p.read_bytes())
            except ValueError:
                found = []
            if not found:
                raise ValueError(f"{p}: no PEM certificate in the file")
            cas.extend(found)
        return cls(tuple(keys), tuple(cas), tuple(cert_signers))


def _ecdsa_ok(key: ec.EllipticCurvePublicKey, sig: bytes, message: bytes, algorithm: hashes.HashAlgorithm | None = None) -> bool:
    try:
        key.verify(sig, message, ec.ECDSA(algorithm or hash_for(key)))
        return True
    except _CryptoInvalid:
        return False


def _envelope_ok(key: ec.EllipticCurvePublicKey, sig: bytes, ptype: str, payload: bytes) -> bool:
    """The DSSE signature over the standard PAE with the curve's hash; failing that, the PAE that
    model_signing 0.1.x-0.2.0 signed (``repr`` of the payload, always SHA-256), which
    model_signing >= 1.0 still accepts for key and certificate signatures."""
    return _ecdsa_ok(key, sig, oms.pae(ptype, payload)) or _ecdsa_ok(key, sig, oms.pae_v02(ptype, payload), hashes.SHA256())


def _verify_key(bundle: dict[str, Any], material: KeyMaterial) -> tuple[Verified, str, bytes]:
    ptype, payload, sig = oms.envelope_parts(bundle)
    hint = ((bundle["verificationMaterial"].get("publicKey") or {}).get("hint") or "").lower()
    if not material.public_keys:
        raise NotAllowed(f"signed with a key{f' ({hint[:16]}…)' if hint else ''}, but the policy lists no public keys", hint or "unknown key", "key")
    keys = [(name, k, key_hint(k)) for name, k in material.public_keys]
    candidates = [t for t in keys if not hint or t[2] == hint]
    if not candidates:
        raise NotAllowed(f"signed with key {hint[:16]}…, which is none of the {len(keys)} allowed public key(s)", hint, "key")
    for name, k, h in candidates:
        if _envelope_ok(k, sig, ptype, payload):
            return Verified("key", f"key {h[:16]}… ({name})"), ptype, payload
    raise InvalidSignature("the ECDSA signature does not verify with the allowed public key(s)")


def _verify_certificate(bundle: dict[str, Any], material: KeyMaterial) -> tuple[Verified, str, bytes]:
    ptype, payload, sig = oms.envelope_parts(bundle)
    try:
        ders = [oms.base64.b64decode(c["rawBytes"], validate=True) for c in bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]]
        chain = [x509.load_der_x509_certificate(d) for d in ders]
    except Exception:  # noqa: BLE001
        raise InvalidSignature("certificate chain in the bundle is malformed") from None
    if not chain:
        raise InvalidSignature("certificate chain in the bundle is empty")
    leaf = chain[0]
    subject = leaf.subject.rfc4514_string()
    if not material.ca_certs:
        raise NotAllowed(f"signed with a certificate ({subject}), but the policy lists no CA certificates", subject, "certificate")
    anchors = list(material.ca_certs)
    # No trusted timestamp exists for these signatures: like model-signing, check the chain at
    # the leaf's notBefore (a signature made with a since-expired certificate stays valid).
    verifier = (
        PolicyBuilder().store(Store(anchors)).time(leaf.not_valid_before_utc)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all())
        .build_client_verifier()
    )
    try:
        built = verifier.verify(leaf, chain[1:])
    except (X509Error, ValueError) as exc:
        raise NotAllowed(f"signing certificate {subject} does not chain to an allowed CA ({_short(exc)})", subject, "certificate") from None
    anchor = built.chain[-1]  # the client verifier returns the chain it built, leaf first, anchor last
    if material.cert_signers and not any(cs.matches(leaf, anchor) for cs in material.cert_signers):
        who = describe_leaf(leaf, anchor)
        raise NotAllowed(f"signing certificate {who} is none of the allowed certificate_signers", who, "certificate")
    if not _can_sign(leaf):
        raise InvalidSignature(f"certificate {subject} is not allowed to sign (no digitalSignature key usage or codeSigning EKU)")
    try:
        key = check_curve(leaf.public_key())
    except ValueError as exc:
        raise InvalidSignature(str(exc)) from None
    if not _envelope_ok(key, sig, ptype, payload):
        raise InvalidSignature("the ECDSA signature does not verify with the signing certificate's key")
    fp = leaf.fingerprint(hashes.SHA256()).hex()
    return Verified("certificate", f"{subject} (sha256:{fp[:16]}…)"), ptype, payload


def _can_sign(cert: x509.Certificate) -> bool:
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return x509.oid.ExtendedKeyUsageOID.CODE_SIGNING in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False


def verify_oms(
    sig_path: Path,
    *,
    trusted_root: "TrustedRoot | None",
    policy: "VerificationPolicy | None",
    material: KeyMaterial,
    methods: Sequence[str] = ("sigstore", "key", "certificate"),
) -> tuple[Verified, oms.Manifest]:
    """Verify an OMS ``model.sig`` and return the signer and the signed manifest.

    The method is read from the bundle, but each method only verifies against the trust
    material the policy gives for it (identities, public keys, CA certificates).
    """
    try:
        bundle = oms.read_bundle_json(sig_path)
        method = oms.signing_method(bundle)
    except oms.FormatError as exc:
        raise InvalidSignature(str(exc)) from None
    if method not in methods:
        raise NotAllowed(f"signed with method {method}, the policy allows only {', '.join(methods)}", method, method)
    if method == "sigstore":
        if policy is None or trusted_root is None:
            raise NotAllowed("signed with Sigstore, but the policy lists no allowed signers", "sigstore", "sigstore")
        from sigstore.verify import Verifier

        sb = _load_bundle(json.dumps(bundle))
        verifier = Verifier(trusted_root=trusted_root)
        ptype, payload = _run_sigstore(verifier, sb, policy, lambda p: verifier.verify_dsse(sb, p))
        verified = _verified_sigstore(sb, bundle)
    elif method == "key":
        verified, ptype, payload = _verify_key(bundle, material)
    else:
        verified, ptype, payload = _verify_certificate(bundle, material)
    try:
        manifest = oms.parse_statement(ptype, payload)
    except oms.FormatError as exc:
        raise InvalidSignature(f"signed statement is not an OMS manifest: {exc}") from None
    return verified, manifest
