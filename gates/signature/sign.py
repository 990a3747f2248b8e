"""``mlsec-gates sign``: write the signatures the gate verifies, so a release job and the gate
agree on the format.

- a directory → an OMS ``model.sig`` (the format of the ``model_signing`` tool), signed with
  Sigstore (keyless), an EC private key, or an EC key plus its certificate chain;
- a file → a Sigstore bundle ``<file>.sigstore.json`` (Sigstore method only).

Keyless Sigstore signing needs the network and an OIDC token: ambient CI credentials (GitHub
Actions, GitLab, …) or a token in the environment variable named by ``--identity-token-env``.
Tokens and key passwords are never accepted on the command line (they would land in logs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gates.core.errors import GatesError, UsageError

from . import oms
from .hashing import sha256_file, total_size
from .policy import BUNDLE_SUFFIXES
from .keys import check_curve, hash_for, key_hint


class SignError(GatesError):
    """Signing failed; the message names the file and reason."""


def manifest_for(model_dir: Path, signature: Path, ignore_paths: Sequence[str] = (), shard_size: int | None = None,
                 hash_type: str = "sha256", max_workers: int | None = None) -> oms.Manifest:
    """Hash ``model_dir`` into an OMS manifest. Symlinks and special files are refused."""
    ignore = list(oms.DEFAULT_IGNORE)
    for p in ignore_paths:
        rel = Path(p).as_posix().strip("/")
        if not rel or rel.startswith("../") or Path(p).is_absolute():
            raise UsageError(f"--ignore-paths {p!r}: must be a path inside the model directory")
        ignore.append(rel)
    sig_abs = signature.resolve()
    try:
        sig_rel = sig_abs.relative_to(model_dir.resolve()).as_posix()
        if sig_rel not in ignore:
            ignore.append(sig_rel)
    except ValueError:
        pass
    ser = oms.Serialization(method="shards" if shard_size else "files", hash_type=hash_type, allow_symlinks=False,
                            ignore_paths=tuple(ignore), shard_size=shard_size)
    tree = oms.walk(model_dir, skip=[sig_abs])
    bad = [r for r in (*tree.symlinks, *tree.special) if not ser.ignores(r)]
    if bad:
        raise SignError(f"{model_dir}: refusing to sign symlinks or special files ({', '.join(sorted(bad)[:5])})")
    files = {r: p for r, p in tree.files.items() if not ser.ignores(r)}
    if not files:
        raise SignError(f"{model_dir}: nothing to sign (no files after ignore_paths)")
    return oms.build_manifest(model_dir, files, ser, max_workers)


def _envelope_bundle(statement: bytes, sig: bytes, material: dict[str, Any]) -> dict[str, Any]:
    return {
        "mediaType": oms.BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {**material, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": oms.b64(statement),
            "payloadType": oms.PAYLOAD_TYPE,
            "signatures": [{"sig": oms.b64(sig)}],
        },
    }


def load_private_key(path: Path, password_env: str | None) -> ec.EllipticCurvePrivateKey:
    password = os.environ.get(password_env, "").encode() if password_env else None
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password or None)
    except (ValueError, TypeError) as exc:
        raise SignError(f"{path}: cannot load the private key ({'wrong or missing password' if 'password' in str(exc).lower() else 'not a PEM EC key'})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SignError(f"{path}: only EC private keys (P-256/P-384/P-521) are supported")
    try:
        check_curve(key.public_key())
    except ValueError as exc:
        raise SignError(f"{path}: {exc}") from None
    return key


def sign_key(manifest: oms.Manifest, key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """OMS bundle signed with a bare EC key (model-signing's ``key`` method)."""
    statement = oms.statement_bytes(manifest)
    sig = key.sign(oms.pae(oms.PAYLOAD_TYPE, statement), ec.ECDSA(hash_for(key.public_key())))
    return _envelope_bundle(statement, sig, {"publicKey": {"hint": key_hint(key.public_key())}})


def sign_certificate(manifest: oms.Manifest, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate,
                     chain: Sequence[x509.Certificate]) -> dict[str, Any]:
    """OMS bundle signed with an EC key whose certificate (and chain) travel in the bundle."""
    if cert.public_key() != key.public_key():
        raise SignError("the signing certificate does not belong to the private key")
    statement = oms.statement_bytes(manifest)
    sig = key.sign(oms.pae(oms.PAYLOAD_TYPE, statement), ec.ECDSA(hash_for(key.public_key())))
    certs = [{"rawBytes": oms.b64(c.public_bytes(serialization.Encoding.DER))} for c in (cert, *chain)]
    return _envelope_bundle(statement, sig, {"x509CertificateChain": {"certificates": certs}})


def _signing_context(staging: bool, trust_config: Path | None) -> Any:
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import SigningContext

    from .trust import staging_trust_config_json

    if trust_config is not None:
        cfg = ClientTrustConfig.from_json(trust_config.read_text("utf-8"))
    elif staging:
        cfg = ClientTrustConfig.from_json(staging_trust_config_json())
    else:
        cfg = ClientTrustConfig.production()
    return SigningContext.from_trust_config(cfg)


def _identity_token(env_name: str) -> Any:
    from sigstore.oidc import IdentityToken, detect_credential

    raw = os.environ.get(env_name) or detect_credential()
    if not raw:
        raise SignError(f"no OIDC identity token: set {env_name} or run where ambient credentials exist (e.g. GitHub Actions with id-token: write)")
    return IdentityToken(raw)


def sign_sigstore_oms(manifest: oms.Manifest, staging: bool, trust_config: Path | None, token_env: str) -> str:  # pragma: no cover - network
    from sigstore.dsse import Statement

    ctx = _signing_context(staging, trust_config)
    with ctx.signer(_identity_token(token_env)) as signer:
        return signer.sign_dsse(Statement(oms.statement_bytes(manifest))).to_json()


def sign_sigstore_files(paths: Sequence[Path], staging: bool, trust_config: Path | None, token_env: str) -> list[str]:  # pragma: no cover - network
    """One Sigstore bundle per file (message signatures over each file's SHA-256), one token."""
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    ctx = _signing_context(staging, trust_config)
    token = _identity_token(token_env)
    out = []
    with ctx.signer(token) as signer:
        for path in paths:
            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=sha256_file(path))
            out.append(signer.sign_artifact(hashed).to_json())
    return out


# ---- command line -------------------------------------------------------------------------------
def add_sign_command(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "sign", help="sign a model directory (OMS model.sig) or a file (Sigstore bundle)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""examples:
  mlsec-gates sign model/ --method key --key release.key
  mlsec-gates sign model/ --method certificate --key leaf.key --certificate leaf.pem --cert-chain ca.pem
  mlsec-gates sign model/ --method sigstore            # keyless, in CI with id-token permission
  mlsec-gates sign weights.bin --method sigstore       # writes weights.bin.sigstore.json
""")
    p.add_argument("path", metavar="PATH", help="model directory (or a single file for --method sigstore)")
    p.add_argument("--method", choices=["sigstore", "key", "certificate"], required=True)
    p.add_argument("--key", metavar="PEM", help="EC private key (key and certificate methods)")
    p.add_argument("--key-password-env", metavar="VAR", help="environment variable holding the key's password")
    p.add_argument("--certificate", metavar="PEM", help="signing certificate (certificate method)")
    p.add_argument("--cert-chain", metavar="PEM", action="append", default=[], help="intermediate/root certificates (repeatable)")
    p.add_argument("--signature", metavar="FILE", help="output (default: PATH/model.sig, or PATH.sigstore.json for a file)")
    p.add_argument("--ignore-paths", metavar="P", nargs="+", action="extend", default=[], help="paths inside the directory to leave unsigned (repeatable)")
    p.add_argument("--shard-size", metavar="BYTES", type=int, help="sign file shards of this size instead of whole files")
    p.add_argument("--hash", choices=["sha256", "blake2"], default="sha256", help="digest for each file (default sha256)")
    p.add_argument("--workers", type=int, help="hashing threads (default: CPU count, at most 8)")
    p.add_argument("--per-file", action="store_true", help="sigstore: a bundle next to every file of the directory (datasets) instead of model.sig")
    p.add_argument("--staging", action="store_true", help="sigstore: use the staging instance")
    p.add_argument("--trust-config", metavar="FILE", help="sigstore: ClientTrustConfig of a private instance")
    p.add_argument("--identity-token-env", metavar="VAR", default="SIGSTORE_ID_TOKEN", help="sigstore: variable holding an OIDC token")
    p.set_defaults(func=cmd_sign)


def cmd_sign(args: argparse.Namespace) -> int:
    path = Path(args.path)
    t0 = time.perf_counter()
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    if args.shard_size is not None and args.shard_size <= 0:
        raise UsageError("--shard-size must be positive")
    if path.is_file() or args.per_file:
        if args.method != "sigstore":
            raise UsageError("per-file signatures are Sigstore bundles: use --method sigstore, or sign the directory (OMS)")
        if path.is_file():
            files = [path]
            outs = [Path(args.signature) if args.signature else path.with_name(path.name + BUNDLE_SUFFIXES[0])]
        else:
            if args.signature:
                raise UsageError("--per-file writes <file>.sigstore.json next to each file; --signature does not apply")
            ignore = [*oms.DEFAULT_IGNORE, *args.ignore_paths]
            tree = oms.walk(path)
            files = [p for r, p in sorted(tree.files.items()) if not r.endswith(BUNDLE_SUFFIXES) and not oms.Serialization(ignore_paths=tuple(ignore)).ignores(r)]
            outs = [f.with_name(f.name + BUNDLE_SUFFIXES[0]) for f in files]
        texts = sign_sigstore_files(files, args.staging, Path(args.trust_config) if args.trust_config else None, args.identity_token_env)
        for out, text in zip(outs, texts):
            out.write_text(text, encoding="utf-8")
        print(f"signed {len(files)} file(s) with sigstore in {time.perf_counter() - t0:.2f}s -> {outs[0] if len(outs) == 1 else '<file>.sigstore.json'}")
        return 0
    out = Path(args.signature) if args.signature else path / "model.sig"
    if args.method in ("key", "certificate") and not args.key:
        raise UsageError(f"--method {args.method} needs --key")
    if args.method == "certificate" and not args.certificate:
        raise UsageError("--method certificate needs --certificate")
    key = load_private_key(Path(args.key), args.key_password_env) if args.key else None
    manifest = manifest_for(path, out, args.ignore_paths, args.shard_size, args.hash, args.workers)
    if args.method == "key":
        text = json.dumps(sign_key(manifest, key), indent=2)
    elif args.method == "certificate":
        try:
            cert = x509.load_pem_x509_certificate(Path(args.certificate).read_bytes())
            chain = [c for f in args.cert_chain for c in x509.load_pem_x509_certificates(Path(f).read_bytes())]
        except ValueError:
            raise SignError("--certificate/--cert-chain: not PEM certificates") from None
        text = json.dumps(sign_certificate(manifest, key, cert, chain), indent=2)
    else:
        text = sign_sigstore_oms(manifest, args.staging, Path(args.trust_config) if args.trust_config else None, args.identity_token_env)
    out.write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
    files = {n.rsplit(":", 2)[0] if manifest.serialization.method == "shards" else n for n, _ in manifest.resources}
    size = total_size(path / f for f in files)
    print(f"signed {len(files)} file(s), {size / 1e9:.2f} GB, with {args.method} in {time.perf_counter() - t0:.2f}s -> {out}")
    sys.stdout.flush()
    return 0
