"""The gate through the CLI: the interface contract, policy options and the benign corpus."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modelsamples import call, os_system, pickle_of, safetensors, torch_state_dict_pickle, torch_zip, ustr

BENIGN_NEEDS_SKLEARN = {"sklearn_logreg.joblib", "sklearn_logreg.pkl"}
BENIGN_BLOCKED = {"torch_full_module_NOT_weights_only.pt"}


def _run(cli, tmp_path, *args):
    out = tmp_path / "report.json"
    r = cli("model", *args, "--format", "json", "--output", out, "-q")
    data = json.loads(out.read_text()) if out.exists() else {}
    return r, data


def _blocking(data):
    return [f for f in data.get("findings", []) if f["blocking"]]


def test_benign_corpus_default_policy(shared, tmp_path, cli, monkeypatch):
    corpus = shared / "models-benign"
    names = sorted(p.name for p in corpus.iterdir())
    assert len(names) >= 10
    monkeypatch.chdir(corpus)
    for name in names:
        r, data = _run(cli, tmp_path, name)
        blocking = _blocking(data)
        if name in BENIGN_BLOCKED or name in BENIGN_NEEDS_SKLEARN:
            assert r.code == 1 and blocking, name
            assert {f["rule"] for f in blocking} == {"MODEL002"}, (name, [f["message"] for f in blocking])
            assert all(f["path"] == name for f in blocking)
        else:
            assert r.code == 0, (name, [f["message"] for f in blocking], data.get("gates"))


def test_sklearn_profile(shared, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(shared / "models-benign")
    r, data = _run(cli, tmp_path, *sorted(BENIGN_NEEDS_SKLEARN), "--profile", "sklearn", "--profile", "numpy")
    assert r.code == 0, [f["message"] for f in _blocking(data)]


def test_full_module_blocks_on_module_classes(shared, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(shared / "models-benign")
    r, data = _run(cli, tmp_path, "torch_full_module_NOT_weights_only.pt")
    globals_ = {f["global"] for f in _blocking(data)}
    assert "torch.nn.modules.linear.Linear" in globals_
    assert all(f["member"].endswith("data.pkl") for f in _blocking(data))


def test_contract_paths_members_offsets(tmp_path, cli, monkeypatch):
    d = tmp_path / "repo" / "models"
    d.mkdir(parents=True)
    (d / "ok.safetensors").write_bytes(safetensors({"a": ("F32", [1], b"\x00" * 4)}))
    (d / "bad.pt").write_bytes(torch_zip(os_system()))
    monkeypatch.chdir(tmp_path / "repo")
    r, data = _run(cli, tmp_path, "models/ok.safetensors", "models/bad.pt")
    assert r.code == 1
    (f,) = [f for f in _blocking(data) if f["rule"] == "MODEL001"]
    assert f["path"] == "models/bad.pt" and f["member"] == "archive/data.pkl"
    assert f["global"] == "os.system" and isinstance(f["offset"], int) and isinstance(f["opcode_index"], int)
    assert f["severity"] == "critical" and f["fingerprint"]
    r, data = _run(cli, tmp_path, "models/ok.safetensors")
    assert r.code == 0 and not data["findings"]


def test_directory_target_and_parallel_scan(tmp_path, cli, monkeypatch):
    d = tmp_path / "models"
    d.mkdir()
    for i in range(6):
        (d / f"ok{i}.pt").write_bytes(torch_zip(torch_state_dict_pickle(3), n_storages=3))
    (d / "evil.pkl").write_bytes(os_system())
    (d / "README.md").write_text("not scanned by default globs")
    monkeypatch.chdir(tmp_path)
    r, data = _run(cli, tmp_path, "models", "--workers", "2")
    assert r.code == 1
    assert {f["path"] for f in _blocking(data)} == {"models/evil.pkl"}
    assert len(data["gates"]["model"]["files"]) == 7


def test_usage_error_exit_2(tmp_path, cli):
    assert cli("model", tmp_path, "--no-such-flag").code == 2
    r = cli("model", tmp_path / "missing.pt", "--format", "json", "--output", tmp_path / "o.json")
    assert r.code == 2


def test_python_m_entry_point(tmp_path):
    p = tmp_path / "evil.pkl"
    p.write_bytes(os_system())
    out = tmp_path / "o.json"
    proc = subprocess.run([sys.executable, "-m", "gates.model", "evil.pkl", "--format", "json", "--output", str(out), "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(out.read_text())["findings"][0]["path"] == "evil.pkl"


def _policy(tmp_path, model: dict) -> Path:
    import yaml

    p = tmp_path / "policy.yml"
    p.write_text(yaml.safe_dump({"version": 1, "gates": {"model": model}}))
    return p


def test_allowed_formats(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("w.safetensors").write_bytes(safetensors({"a": ("F32", [1], b"\x00" * 4)}))
    Path("m.pt").write_bytes(torch_zip(torch_state_dict_pickle(1), n_storages=1))
    pol = _policy(tmp_path, {"allowed_formats": ["safetensors", "gguf", "onnx"]})
    r, data = _run(cli, tmp_path, "w.safetensors", "m.pt", "--policy", pol)
    assert r.code == 1
    assert [(f["path"], f["rule"]) for f in _blocking(data)] == [("m.pt", "MODEL005")]


def test_overrides_per_path(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("legacy").mkdir()
    data = pickle_of(call("sklearn.linear_model._logistic", "LogisticRegression"))
    Path("legacy/clf.pkl").write_bytes(data)
    Path("clf.pkl").write_bytes(data)
    pol = _policy(tmp_path, {"overrides": [{"paths": ["legacy/**"], "profiles": ["sklearn", "numpy"]}]})
    r, rep = _run(cli, tmp_path, "legacy/clf.pkl", "clf.pkl", "--policy", pol)
    assert [f["path"] for f in _blocking(rep)] == ["clf.pkl"]


def test_trusted_sha256(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = os_system("echo reviewed")
    Path("reviewed.pkl").write_bytes(data)
    Path("other.pkl").write_bytes(os_system("echo other"))
    pol = _policy(tmp_path, {"trusted_sha256": [hashlib.sha256(data).hexdigest()]})
    r, rep = _run(cli, tmp_path, "reviewed.pkl", "--policy", pol)
    assert r.code == 0 and rep["findings"] and not _blocking(rep)
    assert rep["findings"][0]["trusted_sha256"] == hashlib.sha256(data).hexdigest()
    r, rep = _run(cli, tmp_path, "other.pkl", "--policy", pol)
    assert r.code == 1


def test_max_file_mb(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("w.safetensors").write_bytes(safetensors({"a": ("U8", [2 << 20], b"\x00" * (2 << 20))}))
    r, rep = _run(cli, tmp_path, "w.safetensors", "--policy", _policy(tmp_path, {"max_file_mb": 1}))
    assert r.code == 1 and _blocking(rep)[0]["rule"] == "MODEL015"


def test_extension_mismatch_can_be_disabled(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("w.onnx").write_bytes(safetensors({"a": ("F32", [1], b"\x00" * 4)}))
    r, rep = _run(cli, tmp_path, "w.onnx")
    assert r.code == 1 and _blocking(rep)[0]["rule"] == "MODEL006"
    r, rep = _run(cli, tmp_path, "w.onnx", "--policy", _policy(tmp_path, {"extension_must_match": False}))
    assert r.code == 0


def test_symlink_outside_root(tmp_path, cli, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "evil.pkl").write_bytes(os_system())
    repo = tmp_path / "repo"
    repo.mkdir()
    os.symlink(outside / "evil.pkl", repo / "model.pkl")
    monkeypatch.chdir(repo)
    r, rep = _run(cli, tmp_path, "model.pkl")
    assert r.code == 1
    assert [(f["rule"], f["path"]) for f in _blocking(rep)] == [("MODEL016", "model.pkl")]


def test_policy_validation_rejects_unknown_profile(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.pkl").write_bytes(pickle_of(ustr("x")))
    r = cli("model", "a.pkl", "--policy", _policy(tmp_path, {"profiles": ["tensorflow"]}))
    assert r.code == 2


def test_demo_policy_is_valid_and_demo_blocks(cli, monkeypatch, tmp_path):
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo"
    if not (demo / "models").is_dir():
        pytest.skip("demo has no models")
    work = tmp_path / "demo"
    shutil.copytree(demo, work)
    monkeypatch.chdir(work)
    out = tmp_path / "demo.json"
    r = cli("run", ".", "--gate", "model", "--format", "json", "--output", out, "-q")
    data = json.loads(out.read_text())
    assert r.code == 1
    rules = {f["rule"] for f in data["findings"] if f["gate"] == "model" and f["blocking"]}
    assert "MODEL001" in rules


@pytest.mark.parametrize("proto", [2, 3, 4, 5])
def test_numpy_random_state_pickles_pass(tmp_path, proto):
    np = pytest.importorskip("numpy")
    import pickle

    from modelsamples import scan_file

    # dumping (never loading) real NumPy objects gives the exact globals NumPy writes
    for i, obj in enumerate([np.random.RandomState(0), np.random.default_rng(0), np.arange(6.0).reshape(2, 3), np.float32(1.5)]):
        rep = scan_file(tmp_path, f"np{i}.pkl", pickle.dumps(obj, protocol=proto))
        assert not rep.hits, (type(obj).__name__, [(h.rule, h.message) for h in rep.hits])


def test_transformers_profile(tmp_path):
    from modelsamples import EMPTY_DICT, EMPTY_TUPLE, NEWOBJ, BUILD, glob, scan_file, rules

    body = glob("transformers.training_args", "TrainingArguments") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + BUILD
    data = pickle_of(body)
    assert "MODEL002" in rules(scan_file(tmp_path, "training_args.bin", data))
    assert not scan_file(tmp_path, "t2.bin", data, profiles=["torch", "transformers"]).hits


def test_scanner_bug_blocks_instead_of_passing(tmp_path, cli, monkeypatch):
    import gates.model.scanner as scanner

    def boom(*a, **k):
        raise ZeroDivisionError("secret input text")

    monkeypatch.setattr(scanner, "scan_path", boom)
    monkeypatch.chdir(tmp_path)
    Path("ok.safetensors").write_bytes(safetensors({"a": ("F32", [1], b"\x00" * 4)}))
    r, rep = _run(cli, tmp_path, "ok.safetensors")
    assert r.code == 1
    (f,) = _blocking(rep)
    assert f["rule"] == "MODEL003" and "ZeroDivisionError" in f["message"] and "secret" not in json.dumps(rep)


def test_handler_details_named_like_finding_fields_do_not_crash_the_gate(tmp_path, cli, monkeypatch):
    """A handler that records ``extra={"path": ...}`` (a Keras vocabulary path) must not collide
    with the finding's own path (it crashed the gate with a TypeError)."""
    import gates.model.scanner as scanner
    from gates.model.config import FileReport, Hit

    def fake(path, cfg):
        rep = FileReport(path=path, formats=["keras"])
        rep.hits.append(Hit("MODEL010", "reads a path", member="config.json", blocking=True, key="k",
                            extra={"path": "/etc/passwd", "rule": "x", "format": "keras"}))
        return rep

    monkeypatch.setattr(scanner, "scan_path", fake)
    monkeypatch.chdir(tmp_path)
    Path("m.keras").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    r, rep = _run(cli, tmp_path, "m.keras")
    assert r.code == 1, rep.get("gates")
    (f,) = _blocking(rep)
    assert f["path"] == "m.keras" and f["rule"] == "MODEL010" and f["detail_path"] == "/etc/passwd" and f["detail_rule"] == "x"
