"""The OpenSSF Model Signing (OMS) format: an in-toto statement inside a DSSE envelope inside a
Sigstore bundle (``model.sig``), listing the digest of every file (or file shard) of a model.

This module reads and writes that statement and compares it with a directory on disk. It does
not verify signatures (see ``verify.py``): everything it parses is untrusted until then, so names
are checked to stay inside the model directory and sizes are bounded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Sequence

from gates.core.files import glob_match

from .hashing import Piece, Prehash, hash_pieces, shard_pieces

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
#: model_signing 0.1.x-0.2.0 (files serialization, one subject per file; model_signing >= 1.0
#: still verifies it as "compat"): there is no serialization block and no root digest
PREDICATE_TYPE_V01 = "https://model_signing/Digests/v0.1"
#: the resource name model_signing gives a model that is a single file (no directory)
SINGLE_FILE = "."
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
#: paths model-signing always leaves out of a signature
DEFAULT_IGNORE = ("model.sig", ".git", ".gitattributes", ".github", ".gitignore")
MAX_SIGNATURE_BYTES = 64 << 20


class FormatError(ValueError):
    """The signature file is not a well-formed OMS signature (never a verified one)."""


@dataclass(frozen=True)
class Serialization:
    """How the signer cut the model into pieces: ``files`` or ``shards`` of ``shard_size``."""

    method: str = "files"
    hash_type: str = "sha256"
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = ()
    shard_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "hash_type": self.hash_type, "allow_symlinks": self.allow_symlinks}
        if self.method == "shards":
            out["shard_size"] = self.shard_size
        if self.ignore_paths:
            out["ignore_paths"] = list(self.ignore_paths)
        return out

    @property
    def algorithm(self) -> str:
        """The per-resource ``algorithm`` string model-signing records."""
        return self.hash_type if self.method == "files" else f"{self.hash_type}-sharded-{self.shard_size}"

    def ignores(self, rel: str) -> bool:
        """model-signing's rule: a path is ignored if it is, or lies under, an ignore path."""
        parts = PurePosixPath(rel).parts
        for ip in self.ignore_paths:
            ipp = PurePosixPath(ip).parts
            if ipp and parts[: len(ipp)] == ipp:
                return True
        return False


@dataclass(frozen=True)
class Manifest:
    """The signed content: resource name → digest (hex), in signing order."""

    model_name: str
    serialization: Serialization
    resources: tuple[tuple[str, str], ...]

    @property
    def digests(self) -> dict[str, str]:
        return dict(self.resources)

    def files(self) -> dict[str, list[tuple[int, int, str]]]:
        """Per file: ``[(start, end, digest)]`` (one entry with ``end == -1`` for whole files)."""
        out: dict[str, list[tuple[int, int, str]]] = {}
        for name, digest in self.resources:
            if self.serialization.method == "shards":
                path, start, end = _split_shard(name)
                out.setdefault(path, []).append((start, end, digest))
            else:
                out.setdefault(name, []).append((0, -1, digest))
        return out

    def root_digest(self) -> str:
        h = hashlib.sha256()
        for _, d in self.resources:
            h.update(bytes.fromhex(d))
        return h.hexdigest()


def _split_shard(name: str) -> tuple[str, int, int]:
    path, sep, rest = name.rpartition(":")
    p2, sep2, start = path.rpartition(":")
    if not sep or not sep2:
        raise FormatError(f"shard resource name is not PATH:START:END ({name[:80]!r})")
    try:
        s, e = int(start), int(rest)
    except ValueError:
        raise FormatError(f"shard resource name has non-numeric offsets ({name[:80]!r})") from None
    if s < 0 or e <= s:
        raise FormatError(f"shard resource has an empty or negative range ({name[:80]!r})")
    return (p2 if p2 == SINGLE_FILE else _safe_rel(p2)), s, e


def _safe_rel(name: str) -> str:
    """A resource path must be relative, normalised and stay inside the model directory."""
    p = PurePosixPath(name)
    if not name or name.startswith("/") or "\\" in name or "\x00" in name or any(part in ("..", ".", "") for part in name.split("/")):
        raise FormatError(f"resource name is not a safe relative path ({name[:80]!r})")
    return str(p)


# ---- reading --------------------------------------------------------------------------------------
def read_bundle_json(path: Path) -> dict[str, Any]:
    """The signature file as JSON (bounded read)."""
    size = path.stat().st_size
    if size > MAX_SIGNATURE_BYTES:
        raise FormatError(f"signature file is {size} bytes, over the {MAX_SIGNATURE_BYTES >> 20} MiB limit")
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"signature file is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("verificationMaterial"), dict):
        raise FormatError("signature file is not a Sigstore bundle (no verificationMaterial)")
    return data


def signing_method(bundle: dict[str, Any]) -> str:
    """Which OMS method made this bundle: ``sigstore``, ``key`` or ``certificate``."""
    vm = bundle["verificationMaterial"]
    if "certificate" in vm or vm.get("tlogEntries"):
        return "sigstore"
    if "x509CertificateChain" in vm:
        return "certificate"
    if "publicKey" in vm:
        return "key"
    raise FormatError("bundle has no certificate, certificate chain or public key")


def is_oms_signature(bundle: dict[str, Any]) -> bool:
    """Whether a bundle is an OMS signature (model_signing's format) rather than a plain Sigstore
    bundle over a file: key and certificate bundles only exist in OMS; a Sigstore one is OMS when
    its DSSE payload carries a model_signing predicate."""
    try:
        if signing_method(bundle) != "sigstore":
            return True
        ptype, payload, _ = envelope_parts(bundle)
        st = json.loads(payload)
    except (FormatError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(st, dict) and st.get("predicateType") in (PREDICATE_TYPE, PREDICATE_TYPE_V01)


def envelope_parts(bundle: dict[str, Any]) -> tuple[str, bytes, bytes]:
    """``(payload_type, payload, signature)`` of the bundle's single-signature DSSE envelope."""
    env = bundle.get("dsseEnvelope")
    if not isinstance(env, dict):
        raise FormatError("bundle has no DSSE envelope (an OMS signature is always DSSE)")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or len(sigs) != 1 or not isinstance(sigs[0], dict):
        raise FormatError("DSSE envelope must carry exactly one signature")
    try:
        payload = base64.b64decode(env["payload"], validate=True)
        sig = base64.b64decode(sigs[0]["sig"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise FormatError("DSSE envelope payload or signature is not base64") from None
    return str(env.get("payloadType", "")), payload, sig


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what is actually signed."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def pae_v02(payload_type: str, payload: bytes) -> bytes:
    """The PAE model_signing 0.1.x-0.2.0 signed: ``DSSEV1`` (capital V) and the payload written
    as Python's ``repr`` of the bytes (``b'...'``, with escapes), a str/bytes mix-up in those
    releases. model_signing >= 1.0 verifies these signatures the same way (``pae_compat``),
    always with SHA-256 whatever the key's curve."""
    return f"DSSEV1 {len(payload_type)} {payload_type} {len(payload)} {payload!r}".encode("utf-8")


def parse_statement(payload_type: str, payload: bytes) -> Manifest:
    """The manifest in a (verified) DSSE payload. Raises :class:`FormatError` if malformed."""
    if payload_type != PAYLOAD_TYPE:
        raise FormatError(f"DSSE payload type is {payload_type[:80]!r}, expected {PAYLOAD_TYPE}")
    try:
        st = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FormatError("in-toto statement is not JSON") from None
    try:
        if st["_type"] != STATEMENT_TYPE:
            raise FormatError("payload is not an in-toto v1 statement")
        if st["predicateType"] == PREDICATE_TYPE_V01:
            return _parse_v01(st)
        if st["predicateType"] != PREDICATE_TYPE:
            raise FormatError(f"predicate type {str(st['predicateType'])[:80]!r} is not {PREDICATE_TYPE}")
        subjects = st["subject"]
        if not isinstance(subjects, list) or len(subjects) != 1:
            raise FormatError("statement must have exactly one subject")
        pred = st["predicate"]
        ser = pred["serialization"]
        method = ser["method"]
        if method not in ("files", "shards"):
            raise FormatError(f"unknown serialization method {str(method)[:40]!r}")
        shard_size = int(ser["shard_size"]) if method == "shards" else None
        if shard_size is not None and shard_size <= 0:
            raise FormatError("shard_size must be positive")
        ignore = ser.get("ignore_paths") or []
        if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
            raise FormatError("ignore_paths must be a list of strings")
        hash_type = str(ser["hash_type"])
        if shard_size is not None and hash_type.endswith(f"-sharded-{shard_size}"):
            # model_signing 0.3.x wrote the resource algorithm ("sha256-sharded-1000") as the
            # serialization's hash_type too; 1.0 and later write the bare hash ("sha256")
            hash_type = hash_type[: -len(f"-sharded-{shard_size}")]
        serialization = Serialization(
            method=method, hash_type=hash_type, allow_symlinks=bool(ser["allow_symlinks"]),
            ignore_paths=tuple(ignore), shard_size=shard_size,
        )
        resources = []
        seen = set()
        for r in pred["resources"]:
            name, digest = str(r["name"]), str(r["digest"])
            bytes.fromhex(digest)
            if r["algorithm"] != serialization.algorithm:
                raise FormatError(f"resource algorithm {str(r['algorithm'])[:40]!r} does not match serialization {serialization.algorithm!r}")
            if method == "shards":
                _split_shard(name)
            elif name != SINGLE_FILE:
                _safe_rel(name)
            if name in seen:
                raise FormatError(f"resource listed twice ({name[:80]!r})")
            seen.add(name)
            resources.append((name, digest.lower()))
        manifest = Manifest(str(subjects[0].get("name", "")), serialization, tuple(resources))
        expected_root = subjects[0]["digest"]["sha256"]
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FormatError(f"OMS statement is malformed ({type(exc).__name__})") from None
    if manifest.root_digest() != str(expected_root).lower():
        raise FormatError("statement subject digest does not match its resources (inconsistent manifest)")
    return manifest


def _parse_v01(st: dict[str, Any]) -> Manifest:
    """A ``Digests/v0.1`` statement (model_signing 0.1.x-0.2.0): every subject is one file with
    its SHA-256 (``.`` for a single-file model). model_signing >= 1.0 reads it as a ``files``
    manifest over SHA-256 with no ignore paths; so do we."""
    subjects = st.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise FormatError("Digests/v0.1 statement has no subjects")
    resources: list[tuple[str, str]] = []
    seen: set[str] = set()
    algorithms: set[str] = set()
    for sub in subjects:
        if not isinstance(sub, dict) or not isinstance(sub.get("digest"), dict):
            raise FormatError("Digests/v0.1 subject is malformed")
        name, digest = str(sub.get("name", "")), str(sub["digest"].get("sha256", ""))
        # 0.1.x-0.2.0 store every digest under "sha256" and say the real one in an annotation
        # ("file-sha256", "file-blake2b"); model_signing >= 1.0 assumes SHA-256 and so fails
        # the blake2 ones, which we verify with the algorithm the signer used
        actual = str((sub.get("annotations") or {}).get("actual_hash_algorithm", "file-sha256"))
        algorithms.add({"file-sha256": "sha256", "file-blake2": "blake2b", "file-blake2b": "blake2b"}.get(actual, actual))
        if name != SINGLE_FILE:
            _safe_rel(name)
        try:
            bytes.fromhex(digest)
        except ValueError:
            raise FormatError("Digests/v0.1 subject digest is not hex") from None
        if name in seen:
            raise FormatError(f"Digests/v0.1 subject listed twice ({name[:80]!r})")
        seen.add(name)
        resources.append((name, digest.lower()))
    if SINGLE_FILE in seen and len(resources) > 1:
        raise FormatError("Digests/v0.1 statement mixes a single-file subject with others")
    if len(algorithms) != 1 or next(iter(algorithms)) not in ("sha256", "blake2b"):
        raise FormatError(f"Digests/v0.1 statement uses unsupported or mixed hash algorithms ({', '.join(sorted(algorithms))[:80]})")
    algorithm = algorithms.pop()
    if any(len(d) != {"sha256": 64, "blake2b": 128}[algorithm] for _, d in resources):
        raise FormatError(f"Digests/v0.1 digest length does not fit {algorithm}")
    return Manifest("", Serialization(method="files", hash_type=algorithm), tuple(sorted(resources)))


# ---- writing --------------------------------------------------------------------------------------
def statement_bytes(manifest: Manifest) -> bytes:
    """The in-toto statement model-signing writes for ``manifest``."""
    st = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": manifest.serialization.to_dict(),
            "resources": [{"name": n, "algorithm": manifest.serialization.algorithm, "digest": d} for n, d in manifest.resources],
        },
    }
    return json.dumps(st, separators=(",", ":")).encode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---- the directory on disk -----------------------------------------------------------------------
@dataclass
class Tree:
    """A model directory as found on disk (nothing followed, nothing read)."""

    files: dict[str, Path] = field(default_factory=dict)
    symlinks: dict[str, Path] = field(default_factory=dict)
    special: list[str] = field(default_factory=list)


def walk(root: Path, skip: Iterable[Path] = ()) -> Tree:
    """Every regular file, symlink and special file under ``root`` (relative POSIX names).

    Directory symlinks are reported, never descended into. ``skip`` holds absolute paths (the
    signature file itself) left out entirely.
    """
    skip_set = {os.path.abspath(p) for p in skip}
    tree = Tree()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=_unlistable):
        for name in list(dirnames):
            full = os.path.join(dirpath, name)
            if os.path.islink(full):
                dirnames.remove(name)
                tree.symlinks[_rel(root, full)] = Path(full)
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.abspath(full) in skip_set:
                continue
            rel = _rel(root, full)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                tree.symlinks[rel] = Path(full)
            elif stat.S_ISREG(st.st_mode):
                tree.files[rel] = Path(full)
            else:
                tree.special.append(rel)
    return tree


def _unlistable(exc: OSError) -> None:
    """os.walk would skip the directory silently, hiding unsigned files in it: fail instead."""
    raise exc


def _rel(root: Path, full: str) -> str:
    return PurePosixPath(Path(os.path.relpath(full, root)).as_posix()).as_posix()


def build_manifest(root: Path, files: dict[str, Path], serialization: Serialization, max_workers: int | None = None) -> Manifest:
    """Hash ``files`` the way ``serialization`` says and return the manifest (sorted like OMS)."""
    pieces: list[Piece] = []
    for rel in sorted(files):
        if serialization.method == "shards":
            pieces.extend(shard_pieces(rel, files[rel], int(serialization.shard_size or 0)))
        else:
            pieces.append(Piece(rel, files[rel]))
    digests = hash_pieces(pieces, serialization.hash_type, max_workers)
    ordered = sorted(pieces, key=lambda p: (p.rel, p.start, p.end or 0))
    name = root.name or os.path.basename(os.path.abspath(root))
    return Manifest(name, serialization, tuple((p.name, digests[p.name].hex()) for p in ordered))


@dataclass(frozen=True)
class Diff:
    """How a directory differs from a signed manifest, file by file."""

    verified: tuple[str, ...] = ()
    mismatched: tuple[tuple[str, str, str], ...] = ()  # (path, expected, actual) digests (hex; shards: first bad shard)
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # present, unsigned, left out by the signature's ignore_paths
    symlinks: tuple[str, ...] = ()
    special: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.mismatched or self.missing or self.extra or self.symlinks or self.special)


def compare(
    root: Path,
    manifest: Manifest,
    *,
    skip: Sequence[Path] = (),
    verifier_ignore: Sequence[str] = (),
    max_workers: int | None = None,
    prehash: Prehash | None = None,
) -> Diff:
    """Re-hash ``root`` per the manifest's serialization and diff it against the manifest.

    Every signed file is checked (the verifier's ignore list never hides a signed file). A file
    on disk that the signature does not list is ``extra``, unless the signature's own
    ``ignore_paths`` left it out (``hidden``) or the verifier's ``verifier_ignore`` globs allow it.
    Symlinks are never followed here: they are reported.
    """
    ser = manifest.serialization
    tree = walk(root, skip)
    expected = manifest.files()

    def vignored(rel: str) -> bool:
        return any(glob_match(rel, g) for g in verifier_ignore)

    symlinks = tuple(sorted(r for r in tree.symlinks if not vignored(r)))
    special = tuple(sorted(r for r in tree.special if not vignored(r)))
    missing = tuple(sorted(p for p in expected if p not in tree.files))
    extra, hidden = [], []
    for rel in sorted(tree.files):
        if rel in expected or vignored(rel):
            continue
        if ser.method == "shards" and tree.files[rel].stat().st_size == 0 and not ser.ignores(rel):
            continue  # shard serialization cannot represent empty files: model-signing lists none
        (hidden if ser.ignores(rel) else extra).append(rel)

    ok, bad = _check_signed(expected, tree.files, ser, max_workers, prehash)
    return Diff(
        verified=ok, mismatched=tuple((r, *bad[r]) for r in sorted(bad)), missing=missing,
        extra=tuple(extra), hidden=tuple(hidden), symlinks=symlinks, special=special,
    )


def compare_file(path: Path, manifest: Manifest, *, max_workers: int | None = None, prehash: Prehash | None = None) -> Diff:
    """Re-hash one file signed as a single-file model (``model_signing sign … FILE``: one
    resource named ``.``, or ``.:START:END`` shards) and diff it against the manifest."""
    expected = manifest.files()
    if set(expected) != {SINGLE_FILE}:
        names = ", ".join(sorted(expected)[:3])
        raise FormatError(f"the signature is over a directory (it lists {names}…), not over a single file")
    ok, bad = _check_signed(expected, {SINGLE_FILE: path}, manifest.serialization, max_workers, prehash)
    return Diff(verified=ok, mismatched=tuple((r, *bad[r]) for r in sorted(bad)))


def _signed_pieces(
    expected: dict[str, list[tuple[int, int, str]]], present: dict[str, Path], ser: Serialization,
) -> tuple[list[Piece], dict[str, tuple[str, str]]]:
    """The pieces to hash for the signed files that are present, and the files whose shard layout
    does not match their size (``{rel: (signed layout, actual layout)}``)."""
    pieces: list[Piece] = []
    layout_bad: dict[str, tuple[str, str]] = {}
    for rel, entries in expected.items():
        if rel not in present:
            continue
        path = present[rel]
        if ser.method == "shards":
            entries = sorted(entries)
            size = path.stat().st_size
            want = [(p.start, p.end) for p in shard_pieces(rel, path, int(ser.shard_size or 0))]
            if [(s, e) for s, e, _ in entries] != want:
                layout_bad[rel] = (f"{len(entries)} shards, {entries[-1][1] if entries else 0} bytes", f"{len(want)} shards, {size} bytes")
                continue
            pieces.extend(Piece(rel, path, s, e) for s, e, _ in entries)
        else:
            pieces.append(Piece(rel, path))
    return pieces, layout_bad


def _check_signed(
    expected: dict[str, list[tuple[int, int, str]]], present: dict[str, Path], ser: Serialization, max_workers: int | None,
    prehash: Prehash | None = None,
) -> tuple[tuple[str, ...], dict[str, tuple[str, str]]]:
    """Hash every signed file that is present, once, and return ``(verified, {rel: (expected,
    actual)})``. For shards the layout itself must match the file's size."""
    pieces, layout_bad = _signed_pieces(expected, present, ser)
    digests = hash_pieces(pieces, ser.hash_type, max_workers, prehash)
    sig = {rel if e == -1 else f"{rel}:{s}:{e}": d for rel, entries in expected.items() for s, e, d in entries}
    bad: dict[str, tuple[str, str]] = dict(layout_bad)
    for p in pieces:
        actual = digests[p.name].hex()
        if actual != sig[p.name] and p.rel not in bad:
            bad[p.rel] = (sig[p.name], actual)
    ok = tuple(sorted(r for r in expected if r in present and r not in bad))
    return ok, bad


def start_hashing(target: Path, bundle: dict[str, Any], *, single: bool, skip: Sequence[Path] = (),
                  max_workers: int | None = None) -> Prehash | None:
    """Start hashing what the (not yet verified) signature lists, so the reads overlap the
    signature check; :func:`compare`/:func:`compare_file` take the digests through ``prehash``.
    ``None`` when the signature cannot be read as an OMS manifest (the verifier reports why)."""
    try:
        manifest = parse_statement(*envelope_parts(bundle)[:2])
        expected = manifest.files()
        present = {SINGLE_FILE: target} if single else walk(target, skip).files
        pieces, _ = _signed_pieces(expected, present, manifest.serialization)
        return Prehash(pieces, manifest.serialization.hash_type, max_workers) if pieces else None
    except (FormatError, ValueError, OSError):
        return None
