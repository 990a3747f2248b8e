"""The oracle: verify signatures with the installed ``model-signing`` (1.1.1), as its users do.

Run by the interop tests inside the newest release's virtual environment; never imported by
pytest. ``python ms_verify.py JOBS.json`` reads a list of ``{"model", "signature", "method",
"key"|"ca_certs", "ignore"}`` and prints one JSON line per job: ``{"signature", "ok", "error"}``.
The verifier's hashing follows model_signing's own defaults plus the ignored paths, which is what
``model_signing verify`` does.
"""

from __future__ import annotations

import json
import pathlib
import sys

from model_signing import hashing, verifying


def verify(job: dict) -> None:
    cfg = verifying.Config()
    if job["method"] == "key":
        cfg.use_elliptic_key_verifier(public_key=pathlib.Path(job["key"]))
    else:
        cfg.use_certificate_verifier(certificate_chain=[pathlib.Path(c) for c in job["ca_certs"]])
    model = pathlib.Path(job["model"])
    if model.is_dir():
        ignore = [pathlib.Path(p).resolve().relative_to(model.resolve()) for p in job.get("ignore") or []]
        cfg.set_hashing_config(hashing.Config().set_ignored_paths(paths=ignore))
    cfg.verify(model, pathlib.Path(job["signature"]))


def main() -> None:
    for job in json.loads(pathlib.Path(sys.argv[1]).read_text()):
        try:
            verify(job)
            print(json.dumps({"signature": job["signature"], "ok": True}), flush=True)
        except BaseException as exc:  # noqa: BLE001 - any failure is "does not verify"
            print(json.dumps({"signature": job["signature"], "ok": False, "error": f"{type(exc).__name__}"}), flush=True)


if __name__ == "__main__":
    main()
