"""The signature gate's options: JSON Schema for ``gates.signature`` and their typed form."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .certpolicy import CERTIFICATE_SIGNER_SCHEMA, CertificateSigner, parse_certificate_signers
from .identity import GITHUB_KEYS, SignerSpec
from .trust import TrustSpec

METHODS = ("sigstore", "key", "certificate")
FORMATS = ("oms", "bundle")
#: signature file names tried next to a file, in order
BUNDLE_SUFFIXES = (".sigstore.json", ".sigstore")
#: what the verifier never asks to be signed (model-signing leaves these out too)
DEFAULT_IGNORE = (".git", ".gitattributes", ".github", ".gitignore")
#: files that change what a model does: a signature that leaves one of these out blocks
DEFAULT_REQUIRE_SIGNED = (
    "*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.pickle", "*.joblib", "*.dill",
    "*.onnx", "*.gguf", "*.ggml", "*.h5", "*.hdf5", "*.keras", "*.pb", "*.tflite", "*.mlmodel",
    "*.npy", "*.npz", "*.msgpack", "*.model", "*.py", "*.json", "*.yaml", "*.yml", "*.txt",
    "*.jinja", "*.parquet", "*.arrow", "*.csv", "*.so", "*.dll", "*.dylib",
)

_str = {"type": "string", "minLength": 1}
_strs = {"type": "array", "items": _str}
SIGNER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["issuer"],
    "anyOf": [{"required": ["identity"]}, {"required": ["identity_regex"]}, {"required": ["github"]}],
    "properties": {
        "issuer": {**_str, "description": "Required OIDC issuer, exactly (e.g. https://token.actions.githubusercontent.com)."},
        "identity": {**_str, "description": "Exact signer identity (certificate SAN: e-mail or workflow URI)."},
        "identity_regex": {**_str, "description": "Regular expression the whole identity must match (anchored at both ends)."},
        "github": {
            "type": "object", "additionalProperties": False, "minProperties": 1,
            "description": "GitHub Actions claims from the Fulcio certificate, each matched exactly.",
            "properties": {k: _str for k in GITHUB_KEYS},
        },
    },
}
_signers = {"type": "array", "minItems": 1, "items": SIGNER_SCHEMA,
            "description": "Allowed Sigstore signers; any one suffices. An empty list is an error."}
OPTIONS_SCHEMA: dict[str, Any] = {
    "artifacts": {
        "type": "array",
        "description": "What must be signed. A directory gets an OMS signature (model.sig), a file a Sigstore bundle (<file>.sigstore.json).",
        "items": {
            "type": "object", "additionalProperties": False, "required": ["path"],
            "properties": {
                "path": {**_str, "description": "File, directory or glob, relative to the root."},
                "format": {"enum": list(FORMATS), "description": "oms (model.sig over a directory) or bundle (one bundle per file). Default: by type."},
                "signature": {**_str, "description": "Signature file (default: model.sig in the directory, <file>.sigstore.json next to a file)."},
                "methods": {"type": "array", "items": {"enum": list(METHODS)}, "minItems": 1, "description": "Signing methods accepted for this artifact."},
                "signers": _signers,
                "ignore_paths": {**_strs, "description": "Extra globs (inside the artifact) allowed to be present unsigned."},
                "require_signed": {**_strs, "description": "Globs that must be covered by the signature (overrides the gate's list)."},
            },
        },
    },
    "signers": _signers,
    "public_keys": {**_strs, "description": "PEM public keys for the key method (any one suffices)."},
    "ca_certs": {**_strs, "description": "PEM CA certificates for the certificate method."},
    "certificate_signers": {"type": "array", "minItems": 1, "items": CERTIFICATE_SIGNER_SCHEMA,
                            "description": "Who may sign with the certificate method (subject/SAN/issuer/root pin); any one suffices. "
                                           "Without it, any signing certificate the ca_certs issued is accepted."},
    "methods": {"type": "array", "items": {"enum": list(METHODS)}, "minItems": 1, "description": "Signing methods accepted (default: all three)."},
    "ignore_paths": {**_strs, "description": "Globs allowed to be present unsigned in a signed directory (the signature file and git files always are)."},
    "require_signed": {**_strs, "description": "Globs a signature's own ignore_paths may not hide (default: weights, code, configs, tokenizers)."},
    "trust": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "instance": {"enum": ["production", "staging"], "description": "Sigstore instance (default production)."},
            "trust_config": {**_str, "description": "ClientTrustConfig JSON (private instance, offline runners); needs trust_config_sha256."},
            "trust_config_sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
            "offline": {"type": "boolean", "description": "Never fetch the trust root (needs a pinned trust_config)."},
        },
    },
    "max_workers": {"type": "integer", "minimum": 1, "maximum": 64, "description": "Hashing threads (default: CPU count, at most 8)."},
}
DEFAULT_OPTIONS: dict[str, Any] = {
    "artifacts": [],
    "public_keys": [],
    "ca_certs": [],
    "methods": list(METHODS),
    "ignore_paths": [],
    "require_signed": list(DEFAULT_REQUIRE_SIGNED),
    "trust": {"instance": "production", "offline": False},
}


@dataclass(frozen=True)
class Artifact:
    """One thing to verify."""

    path: Path
    format: str  # oms | bundle
    signature: Path | None = None
    methods: Sequence[str] = METHODS
    signers: Sequence[SignerSpec] = ()
    ignore_paths: Sequence[str] = ()
    require_signed: Sequence[str] = DEFAULT_REQUIRE_SIGNED


@dataclass(frozen=True)
class Settings:
    signers: Sequence[SignerSpec] = ()
    public_keys: Sequence[Path] = ()
    ca_certs: Sequence[Path] = ()
    cert_signers: Sequence[CertificateSigner] = ()
    methods: Sequence[str] = METHODS
    ignore_paths: Sequence[str] = ()
    require_signed: Sequence[str] = DEFAULT_REQUIRE_SIGNED
    trust: TrustSpec = field(default_factory=TrustSpec)
    max_workers: int | None = None


def parse_signers(items: Sequence[Mapping[str, Any]] | None, where: str) -> list[SignerSpec]:
    if items is None:
        return []
    if not items:
        raise ValueError(f"{where}: the allowed signers list is empty (nobody could sign)")
    out = []
    for i, m in enumerate(items):
        try:
            out.append(SignerSpec.from_mapping(m))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{where}[{i}]: {exc}") from None
    return out


def settings_from_options(opts: Mapping[str, Any], resolve: Any, explicit_trust_config: bool) -> Settings:
    """Typed settings; ``resolve`` turns a policy path into a Path. Raises ``ValueError``."""
    t = dict(opts.get("trust") or {})
    tc = t.get("trust_config")
    trust = TrustSpec(
        instance=t.get("instance", "production"),
        trust_config=resolve(tc) if tc else None,
        sha256=t.get("trust_config_sha256"),
        offline=bool(t.get("offline", False)),
        explicit=explicit_trust_config,
    )
    trust.check()
    return Settings(
        signers=parse_signers(opts.get("signers"), "gates.signature.signers"),
        public_keys=[resolve(p) for p in opts.get("public_keys") or []],
        ca_certs=[resolve(p) for p in opts.get("ca_certs") or []],
        cert_signers=parse_certificate_signers(opts.get("certificate_signers"), "gates.signature.certificate_signers"),
        methods=list(opts.get("methods") or METHODS),
        ignore_paths=list(opts.get("ignore_paths") or []),
        require_signed=list(opts.get("require_signed") if opts.get("require_signed") is not None else DEFAULT_REQUIRE_SIGNED),
        trust=trust,
        max_workers=opts.get("max_workers"),
    )
