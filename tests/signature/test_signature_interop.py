"""Interop matrix: signatures written by every released ``model-signing`` that signs offline,
verified by the signature gate — and by model_signing 1.1.1 itself, the oracle.

Each release is installed in its own throwaway virtual environment (cached under
``$MLSEC_GATES_INTEROP_CACHE``, default ``~/.cache/mlsec-gates/model-signing``) with the
dependencies of its day: releases before 1.1 import ``sigstore_protobuf_specs``, which sigstore 4
dropped, so they get ``sigstore<4``; every release imports pyOpenSSL without declaring it. Each
one signs, through its own public API (``interop/ms_sign.py``), a small model directory and a
single file with the key and the certificate methods, each serialization it offers (files,
shards) and each hash (sha256, blake2). Then for every case:

- the gate verifies it (exit 0, SIG010);
- model_signing 1.1.1 verifies it too where its verifier can (files over SHA-256: it re-hashes
  with its defaults, so shard and blake2 signatures fail there though they are valid) — the gate
  must verify at least every signature model_signing verifies;
- one changed byte (SIG002), an added file (SIG004), a removed file (SIG003) and a wrong signer
  (SIG005/SIG006) each fail with exit 1.

What a release cannot sign is listed, not skipped silently: 0.1.x-0.2.0 shard payloads
(``ShardDigests/v0.1``) are readable by no later release, and 0.3.x's certificate signer has a typo
(``raw_byutes``) that makes it raise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigtest_helpers import write_key

pytestmark = pytest.mark.timeout(1800)  # installing nine releases on a busy runner

HERE = Path(__file__).resolve().parent / "interop"
VERSIONS = ("0.1.0", "0.1.1", "0.2.0", "0.3.0", "0.3.1", "1.0.0", "1.0.1", "1.1.0", "1.1.1")
ORACLE = "1.1.1"
#: (version prefix → extra requirements) the release needs to import and run today
EXTRA_REQS = {v: ["sigstore>=3.6,<4", "pyOpenSSL", "click"] for v in VERSIONS if v < "1.1"}
EXTRA_REQS.update({v: ["pyOpenSSL"] for v in VERSIONS if v >= "1.1"})
#: cases a release cannot sign, with the reason (asserted: they must really fail)
CANNOT_SIGN = {
    ("0.3.0", "certificate"): "model_signing 0.3.x's certificate signer raises (typo raw_byutes)",
    ("0.3.1", "certificate"): "model_signing 0.3.x's certificate signer raises (typo raw_byutes)",
}


def _cache() -> Path:
    return Path(os.environ.get("MLSEC_GATES_INTEROP_CACHE") or Path.home() / ".cache" / "mlsec-gates" / "model-signing")


def _venv_python(d: Path) -> Path:
    return d / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _install(version: str) -> Path | str:
    """A venv with ``model-signing==version``; reused when its stamp says it is complete."""
    d = _cache() / version
    stamp = d / ".mlsec-gates-ok"
    want = json.dumps([version, *EXTRA_REQS[version]])
    if stamp.is_file() and stamp.read_text() == want and _venv_python(d).exists():
        return _venv_python(d)
    shutil.rmtree(d, ignore_errors=True)
    d.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, "-m", "venv", str(d)], capture_output=True, text=True)
    if r.returncode:
        return f"venv failed: {r.stderr[-300:]}"
    r = subprocess.run([str(_venv_python(d)), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        f"model-signing=={version}", *EXTRA_REQS[version]], capture_output=True, text=True, timeout=900)
    if r.returncode:
        return f"pip install model-signing=={version} failed: {r.stderr.strip()[-300:]}"
    stamp.write_text(want)
    return _venv_python(d)


@pytest.fixture(scope="session")
def releases() -> dict[str, Path]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = dict(zip(VERSIONS, pool.map(_install, VERSIONS)))
    failed = {v: r for v, r in got.items() if isinstance(r, str)}
    if failed:
        msg = "; ".join(f"{v}: {r}" for v, r in failed.items())
        if os.environ.get("CI"):
            pytest.fail(f"model-signing releases could not be installed: {msg}")
        pytest.skip(f"model-signing releases could not be installed (offline?): {msg}")
    return {v: p for v, p in got.items() if isinstance(p, Path)}


@dataclass(frozen=True)
class Case:
    version: str
    method: str
    serialization: str
    hash: str
    kind: str  # dir | file

    @property
    def id(self) -> str:
        return f"{self.version}-{self.method}-{self.serialization}-{self.hash}-{self.kind}"

    @property
    def oracle_can_verify(self) -> bool:
        """model_signing 1.1.1 re-hashes with its defaults (files, SHA-256); for 0.x key bundles
        (PEM in rawBytes, no hint) its key verifier fails before the compat PAE."""
        legacy_key = self.version < "0.3" and self.method == "key"
        return self.serialization == "files" and self.hash == "sha256" and not legacy_key


def _cases() -> list[Case]:
    out = []
    for v in VERSIONS:
        for m in ("key", "certificate"):
            for ser in ("files", "shards"):
                if ser == "shards" and v < "0.3":
                    continue  # ShardDigests/v0.1: verifiable by no release after 0.2
                for h in ("sha256", "blake2"):
                    for kind in ("dir", "file"):
                        out.append(Case(v, m, ser, h, kind))
    return out


CASES = _cases()


@dataclass
class Signed:
    case: Case
    model: Path
    signature: Path
    error: str | None


@pytest.fixture(scope="session")
def pki(tmp_path_factory, shared) -> dict[str, Path]:
    keys = shared / "model-signing" / "keys" / "certificate"
    other = tmp_path_factory.mktemp("other-signer")
    _, other_pub = write_key(other, "other")
    from sigtest_helpers import write_pki

    other_ca = write_pki(other, "elsewhere")["ca"]
    return {"key": keys / "signing-key.pem", "pub": keys / "signing-key-pub.pem", "cert": keys / "signing-key-cert.pem",
            "int": keys / "int-ca-cert.pem", "ca": keys / "ca-cert.pem", "other_pub": other_pub, "other_ca": other_ca}


def _make_model(d: Path, case: Case) -> Path:
    model = d / "model"
    (model / "sub").mkdir(parents=True)
    (model / "w.bin").write_bytes(f"weights {case.id}".encode() * 40)  # > 1 shard of 1,000 bytes
    (model / "sub" / "config.json").write_bytes(b'{"layers": 2}\n')
    (model / "ignore-me").write_bytes(b"not signed\n")
    return model


@pytest.fixture(scope="session")
def signed(releases, pki, tmp_path_factory) -> dict[str, Signed]:
    """Every case signed by its release: one interpreter per release, all its cases in a batch."""
    base = tmp_path_factory.mktemp("interop")
    jobs: dict[str, list[list[str]]] = {v: [] for v in VERSIONS}
    out: dict[str, Signed] = {}
    for c in CASES:
        d = base / c.id
        model = _make_model(d, c)
        target = model if c.kind == "dir" else model / "w.bin"
        sig = d / "model.sig"
        args = ["--method", c.method, "--model", str(target), "--signature", str(sig), "--private-key", str(pki["key"]),
                "--serialization", c.serialization, "--hash", c.hash]
        if c.method == "certificate":
            args += ["--signing-cert", str(pki["cert"]), "--chain", str(pki["int"])]
        if c.kind == "dir":
            args += ["--ignore", str(model / "ignore-me")]
        jobs[c.version].append(args)
        out[str(sig)] = Signed(c, target, sig, None)

    def run(version: str) -> list[dict]:
        jf = base / f"jobs-{version}.json"
        jf.write_text(json.dumps(jobs[version]))
        r = subprocess.run([str(releases[version]), str(HERE / "ms_sign.py"), "--jobs", str(jf)],
                           capture_output=True, text=True, timeout=600)
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]

    with ThreadPoolExecutor(max_workers=2) as pool:
        for lines in pool.map(run, VERSIONS):
            for line in lines:
                out[line["signature"]].error = None if line["ok"] else line["error"]
    return {s.case.id: s for s in out.values()}


def _gate(cli, s: Signed, pki: dict[str, Path], tmp: Path, *, trust: str | None = None, cwd: Path | None = None,
          ignore: str | None = None) -> tuple[int, list[str]]:
    report = tmp / f"r-{s.case.id}.json"
    trust_args = ["--public-key", str(pki[trust or "pub"])] if s.case.method == "key" else ["--ca-cert", str(pki[trust or "ca"])]
    args = ["signature", str(s.model), "--signature", str(s.signature), *trust_args]
    if s.case.kind == "dir":
        args += ["--ignore-paths", ignore or str(s.model / "ignore-me")]
    r = cli(*args, "-q", "--format", "json", "--output", str(report), cwd=cwd)
    found = json.loads(report.read_text())["findings"] if report.is_file() else []
    if os.environ.get("MLSEC_GATES_DEBUG_INTEROP"):
        print(s.case.id, [(f["rule"], f["message"]) for f in found])
    return r.code, sorted(f["rule"] for f in found)


def test_every_release_signs_what_it_offers(signed):
    failed = {i: s.error for i, s in signed.items() if s.error}
    expected = {i for i, s in signed.items() if (s.case.version, s.case.method) in CANNOT_SIGN}
    assert set(failed) == expected, {i: failed.get(i) for i in set(failed) ^ expected}
    assert all("raw_byutes" in failed[i] for i in expected)


@pytest.mark.parametrize("case_id", [c.id for c in CASES if (c.version, c.method) not in CANNOT_SIGN])
def test_gate_verifies_and_rejects_tampering(cli, signed, pki, tmp_path, case_id):
    s = signed[case_id]
    assert s.error is None
    code, rules = _gate(cli, s, pki, tmp_path)
    assert (code, rules) == (0, ["SIG010"])

    # a wrong signer: another key / another CA
    code, rules = _gate(cli, s, pki, tmp_path, trust="other_pub" if s.case.method == "key" else "other_ca")
    assert code == 1 and rules and set(rules) <= {"SIG005", "SIG006"}

    weights = s.model if s.case.kind == "file" else s.model / "w.bin"
    data = weights.read_bytes()
    weights.write_bytes(data[:5] + bytes([data[5] ^ 1]) + data[6:])
    try:
        code, rules = _gate(cli, s, pki, tmp_path)
        assert code == 1 and rules == ["SIG002"]
    finally:
        weights.write_bytes(data)
    if s.case.kind == "dir":
        extra = s.model / "sub" / "added.py"
        extra.write_text("import os\n")
        code, rules = _gate(cli, s, pki, tmp_path)
        extra.unlink()
        assert code == 1 and rules == ["SIG004"]
        cfg = s.model / "sub" / "config.json"
        kept = cfg.read_bytes()
        cfg.unlink()
        try:
            code, rules = _gate(cli, s, pki, tmp_path)
            assert code == 1 and rules == ["SIG003"]
        finally:
            cfg.write_bytes(kept)


def test_oracle_verifies_what_it_can_and_the_gate_verifies_all_of_it(cli, signed, releases, pki, tmp_path):
    """Every signature model_signing 1.1.1 verifies, the gate verifies (and more: shards, blake2,
    0.x key signatures, which are valid but its verifier re-hashes with its defaults)."""
    jobs = []
    for s in signed.values():
        if s.error:
            continue
        job = {"model": str(s.model), "signature": str(s.signature), "method": s.case.method}
        job.update({"key": str(pki["pub"])} if s.case.method == "key" else {"ca_certs": [str(pki["ca"]), str(pki["int"])]})
        if s.case.kind == "dir":
            job["ignore"] = [str(s.model / "ignore-me")]
        jobs.append(job)
    jf = tmp_path / "verify.json"
    jf.write_text(json.dumps(jobs))
    r = subprocess.run([str(releases[ORACLE]), str(HERE / "ms_verify.py"), str(jf)], capture_output=True, text=True, timeout=600)
    verdicts = {json.loads(line)["signature"]: json.loads(line)["ok"] for line in r.stdout.splitlines() if line.startswith("{")}
    by_sig = {str(s.signature): s for s in signed.values() if not s.error}
    assert set(verdicts) == set(by_sig), r.stderr[-500:]
    oracle_ok = {sig for sig, ok in verdicts.items() if ok}
    assert oracle_ok == {sig for sig, s in by_sig.items() if s.case.oracle_can_verify}
    for sig in sorted(oracle_ok):
        code, rules = _gate(cli, by_sig[sig], pki, tmp_path)
        assert (code, rules) == (0, ["SIG010"]), by_sig[sig].case.id


@pytest.mark.parametrize("form", ["cwd-relative", "model-relative", "absolute"])
def test_ignore_paths_as_model_signing_cli_takes_them(cli, signed, pki, tmp_path, form):
    """``--ignore-paths`` relative to the working directory (model_signing's CLI), to the model
    directory (the policy's form), or absolute: all three leave ``ignore-me`` out."""
    s = signed["1.0.1-key-files-sha256-dir"]
    parent = s.model.parent
    value = {"cwd-relative": "model/ignore-me", "model-relative": "ignore-me", "absolute": str(s.model / "ignore-me")}[form]
    code, rules = _gate(cli, s, pki, tmp_path, cwd=parent, ignore=value)
    assert (code, rules) == (0, ["SIG010"])
    code, rules = _gate(cli, s, pki, tmp_path, cwd=parent, ignore="model/elsewhere")
    assert code == 1 and rules == ["SIG004"]
