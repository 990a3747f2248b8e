"""Sign a model with whichever released ``model-signing`` is installed in *this* interpreter.

Run by the interop tests inside a throwaway virtual environment holding one release
(``python ms_sign.py --method key --model M --signature S ...``); never imported by pytest. Each
release's own public API is used, so what it writes is what its users shipped:

- 0.1.x / 0.2.0: no ``signing.Config`` yet; the library's in-toto signer over an EC key or a PKI
  chain, with the ``https://model_signing/Digests/v0.1`` payload (model_signing >= 1.0 verifies
  these through its "compat" path: a PAE that embeds ``repr(bytes)`` and a hard-coded SHA-256).
- 0.3.x and later: ``model_signing.signing.Config`` with ``use_elliptic_key_signer`` /
  ``use_certificate_signer`` and ``model_signing.hashing.Config`` (file or shard serialization,
  sha256/blake2, ignored paths), the v1.0 predicate.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import pathlib
import sys


def _version() -> tuple[int, ...]:
    return tuple(int(p) for p in importlib.metadata.version("model-signing").split(".")[:3])


def _ignores(a: argparse.Namespace) -> list[pathlib.Path]:
    """The ignored paths in the form each release's library API compares them: from 1.1.0 on,
    relative to the model directory (an absolute path is silently dropped when the model path is
    relative); before 1.1.0, in the same form as the walked paths, i.e. joined to the model path as
    given (1.0.x even compares its own ``.git/`` defaults that way)."""
    model = pathlib.Path(a.model)
    rel = [pathlib.Path(p).resolve().relative_to(model.resolve()) for p in a.ignore]
    return rel if _version() >= (1, 1, 0) else [model / r for r in rel]


def sign_legacy(a: argparse.Namespace) -> None:
    """0.1.x and 0.2.0 (the API of ``model_signing.api`` plus the in-toto signer classes)."""
    from model_signing import api
    from model_signing.signature import key as key_sig
    from model_signing.signature import pki
    from model_signing.signing import in_toto, in_toto_signature

    if a.serialization != "files":
        raise SystemExit("unsupported: model_signing < 0.3 shard payloads are not verifiable by any later release")
    # one worker: 0.1.0 shares one hash object across the files it hashes in parallel threads, so
    # with several workers it can sign corrupt digests (a race fixed in 0.1.1); the gate rightly
    # rejects those, but the matrix is about formats, not that race
    hcfg = api.HashingConfig().set_serialize_by_file_to_manifest(hashing_algorithm=a.hash, max_workers=1)
    if a.ignore:
        hcfg.set_ignored_paths(_ignores(a))
    if a.method == "key":
        raw = key_sig.ECKeySigner.from_path(a.private_key)
    else:
        raw = pki.PKISigner.from_path(a.private_key, a.signing_cert, a.chain or [])
    manifest = hcfg.hash(pathlib.Path(a.model))
    payload = in_toto.DigestsIntotoPayload.from_manifest(manifest)
    in_toto_signature.IntotoSigner(raw).sign(payload).write(pathlib.Path(a.signature))


def sign_modern(a: argparse.Namespace) -> None:
    """0.3.0 and later."""
    from model_signing import hashing, signing

    h = hashing.Config()
    if a.serialization == "files":
        h.use_file_serialization(hashing_algorithm=a.hash)
    else:
        h.use_shard_serialization(hashing_algorithm=a.hash, shard_size=a.shard_size)
    if a.ignore:
        ignore = _ignores(a)
        if _version() >= (0, 3, 1):
            h.set_ignored_paths(paths=ignore)  # keyword-only from 0.3.1 on
        else:
            h.set_ignored_paths(ignore)
    if _version() < (1, 1, 0):
        # before 1.1 ``Config()`` builds a Sigstore signer first, which refreshes TUF metadata over
        # the network; the key and certificate signers need none of it, so skip that constructor
        cfg = signing.Config.__new__(signing.Config)
    else:
        cfg = signing.Config()
    cfg.set_hashing_config(h)
    if a.method == "key":
        cfg.use_elliptic_key_signer(private_key=pathlib.Path(a.private_key))
    else:
        cfg.use_certificate_signer(private_key=pathlib.Path(a.private_key), signing_certificate=pathlib.Path(a.signing_cert),
                                   certificate_chain=[pathlib.Path(c) for c in a.chain or []])
    cfg.sign(pathlib.Path(a.model), pathlib.Path(a.signature))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--method", choices=["key", "certificate"], required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--signature", required=True)
    p.add_argument("--private-key", required=True)
    p.add_argument("--signing-cert")
    p.add_argument("--chain", action="append")
    p.add_argument("--serialization", choices=["files", "shards"], default="files")
    p.add_argument("--hash", choices=["sha256", "blake2"], default="sha256")
    p.add_argument("--shard-size", type=int, default=1_000)
    p.add_argument("--ignore", action="append")
    return p


def main(argv: list[str]) -> None:
    """``--jobs FILE``: a JSON list of argument lists, signed in this one process (importing a
    release takes a second; a matrix has dozens of cases). Prints one JSON line per job:
    ``{"signature": PATH, "ok": bool, "error": str}``."""
    if argv[:1] == ["--jobs"]:
        for job in json.loads(pathlib.Path(argv[1]).read_text()):
            a = parser().parse_args(job)
            try:
                (sign_legacy if _version() < (0, 3, 0) else sign_modern)(a)
                print(json.dumps({"signature": a.signature, "ok": True}), flush=True)
            except BaseException as exc:  # noqa: BLE001 - a release that cannot sign a case says so
                print(json.dumps({"signature": a.signature, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}), flush=True)
        return
    a = parser().parse_args(argv)
    (sign_legacy if _version() < (0, 3, 0) else sign_modern)(a)


if __name__ == "__main__":
    main(sys.argv[1:])
