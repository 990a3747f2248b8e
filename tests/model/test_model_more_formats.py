"""Formats JFrog Xray and ModelAudit read that the gate did not (issue 12, item 12): TFLite custom
operators, NeMo archives, Flax msgpack, PaddlePaddle ``.pdparams``, dill pickles, 7z, and the
data-only XGBoost JSON/UBJSON and LightGBM text models (identified and passed)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from modelsamples import (EMPTY_DICT, binint, blocked_globals, call, os_system, pickle_of, rules, scan_file, tflite_model,
                          torch_state_dict_pickle, torch_zip, ustr)

PROFILES = Path(__file__).parent / "fixtures" / "profiles"


# ---- TFLite -------------------------------------------------------------------------------------------
def test_tflite_builtin_ops_pass(tmp_path):
    rep = scan_file(tmp_path, "m.tflite", tflite_model([(3, None), (9, None), (150, None), (32, "TFLite_Detection_PostProcess")]))
    assert rep.formats == ["tflite"] and not rep.hits and rep.items == 4


def test_tflite_custom_op_is_reported(tmp_path):
    rep = scan_file(tmp_path, "m.tflite", tflite_model([(3, None), (32, "MyNativeOp")]))
    assert [(h.rule, h.extra["op"]) for h in rep.hits] == [("MODEL020", "MyNativeOp")]
    assert rep.hits[0].severity is None  # the rule's medium: visible, not blocking by default


@pytest.mark.parametrize("op, severity", [("FlexReadFile", "high"), ("FlexWriteFile", "high"), ("FlexPyFunc", "critical")])
def test_tflite_flex_ops_that_touch_files_block(tmp_path, op, severity):
    rep = scan_file(tmp_path, "m.tflite", tflite_model([(32, op)]))
    assert [(h.rule, h.severity) for h in rep.hits] == [("MODEL011", severity)]


def test_tflite_broken_offsets_are_inconclusive(tmp_path):
    data = bytearray(tflite_model([(32, "MyNativeOp")]))
    data[0:4] = (10_000_000).to_bytes(4, "little")
    assert rules(scan_file(tmp_path, "m.tflite", bytes(data))) == {"MODEL003"}


def test_tflite_names_are_cleaned(tmp_path):
    rep = scan_file(tmp_path, "m.tflite", tflite_model([(32, "Op\x1b[2J")]))
    assert "\x1b" not in rep.hits[0].message


def test_tflite_layout_matches_the_real_schema():
    tflite = pytest.importorskip("tflite")  # the FlatBuffers bindings generated from TFLite's schema
    data = tflite_model([(3, None), (32, "FlexReadFile")])
    m = tflite.Model.GetRootAsModel(data, 0)
    assert [(m.OperatorCodes(i).BuiltinCode(), m.OperatorCodes(i).CustomCode()) for i in range(m.OperatorCodesLength())] == [
        (3, None), (32, b"FlexReadFile")]


# ---- NeMo (.nemo = tar, sometimes gzipped, of a YAML config and torch weights) --------------------------
NEMO_CONFIG = b"""target: nemo.collections.asr.models.EncDecCTCModel
sample_rate: 16000
encoder:
  _target_: nemo.collections.asr.modules.ConformerEncoder
  n_layers: 2
optim:
  name: adamw
  sched:
    _target_: torch.optim.lr_scheduler.CosineAnnealingLR
train_ds:
  manifest_filepath: null
"""


def _nemo(weights: bytes, compress: bool = False, config: bytes = NEMO_CONFIG) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if compress else "w") as tar:
        for name, data in (("./model_config.yaml", config), ("./model_weights.ckpt", weights)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_nemo_archive_is_walked(tmp_path, compress):
    benign = _nemo(torch_zip(torch_state_dict_pickle(2), n_storages=2), compress)
    assert not scan_file(tmp_path, "asr.nemo", benign).hits
    evil = _nemo(os_system(), compress)
    rep = scan_file(tmp_path, "evil.nemo", evil)
    assert blocked_globals(rep) == {"os.system"} and any(h.member and "model_weights.ckpt" in h.member for h in rep.hits)


@pytest.mark.parametrize("target, severity", [
    ("os.system", "critical"), ("subprocess.Popen", "critical"), ("builtins.exec", "critical"),
    ("nemo.collections.__init__.__globals__", "critical"), ("mypkg.evil.Thing", "high"), ("torch.hub.load", "critical"),
])
def test_nemo_config_targets_that_run_code_block(tmp_path, target, severity):
    config = NEMO_CONFIG + f"callback:\n  _target_: {target}\n  _args_: [id]\n".encode()
    rep = scan_file(tmp_path, "evil.nemo", _nemo(torch_zip(torch_state_dict_pickle(1), n_storages=1), config=config))
    (hit,) = rep.hits
    assert (hit.rule, hit.severity, hit.blocking, hit.extra["config_key"]) == ("MODEL021", severity, True, "callback._target_")
    assert hit.member and hit.member.endswith("model_config.yaml")


def test_nemo_config_that_does_not_parse_is_inconclusive(tmp_path):
    rep = scan_file(tmp_path, "m/model_config.yaml", b"target: [unclosed\n")
    assert rules(rep) == {"MODEL003"}


# ---- PaddlePaddle .pdparams (a pickle of name -> ndarray) and dill ------------------------------------
def test_nemo_config_alias_bomb_ends_in_one_inconclusive_finding(tmp_path):
    """Aliases share nodes: nine levels of ten ``*a`` references is 10⁹ targets to walk (and to
    report) from under 1 KB of YAML. The walk stops at its node budget with one finding."""
    import time

    lines = ["a0: &a0 {_target_: mypkg.evil.Thing}"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    bomb = ("\n".join(lines) + "\n").encode()
    assert len(bomb) < 1024
    started = time.monotonic()
    rep = scan_file(tmp_path, "bomb.nemo", _nemo(torch_zip(torch_state_dict_pickle(1), n_storages=1), config=bomb))
    assert time.monotonic() - started < 30  # a generous bound: the walk itself stops at 200,000 nodes
    keys = [h.key for h in rep.hits]
    assert "nemo-config-nodes" in keys and len(rep.hits) < 500 and any(h.blocking for h in rep.hits)


def test_pdparams_is_a_pickle(tmp_path):
    assert not scan_file(tmp_path, "model.pdparams", pickle_of(EMPTY_DICT, 4)).hits
    rep = scan_file(tmp_path, "evil.pdparams", os_system(proto=4))
    assert blocked_globals(rep) == {"os.system"} and "MODEL006" not in rules(rep)


@pytest.mark.parametrize("name", ["_create_function", "_create_code", "_load_type", "_create_type"])
def test_dill_globals_are_critical(tmp_path, name):
    data = pickle_of(call("dill._dill", name, ustr("x"), binint(1)), 4)
    rep = scan_file(tmp_path, "m.dill", data)
    (hit,) = [h for h in rep.hits if h.rule == "MODEL001"]
    assert hit.severity == "critical" and "dill" in hit.message


# ---- 7z ----------------------------------------------------------------------------------------------
def test_7z_is_inconclusive(tmp_path):
    rep = scan_file(tmp_path, "m.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 64)
    assert rules(rep) == {"MODEL003"} and rep.hits[0].blocking


# ---- XGBoost / LightGBM native formats (data only) -----------------------------------------------------
@pytest.mark.parametrize("name, fmt", [("xgb_model.json", "xgboost"), ("xgb_model.ubj", "xgboost"), ("lgbm_model.txt", "lightgbm")])
def test_library_model_files_are_identified_and_pass(tmp_path, name, fmt):
    rep = scan_file(tmp_path, name, (PROFILES / name).read_bytes())
    assert rep.formats == [fmt] and not rep.hits


def test_broken_xgboost_json_blocks(tmp_path):
    data = (PROFILES / "xgb_model.json").read_bytes()[:-10]
    rep = scan_file(tmp_path, "xgb.json", data)
    assert rep.formats == ["xgboost"] and rules(rep) == {"MODEL013"}


def test_pickle_named_like_an_xgboost_model_is_still_a_pickle(tmp_path):
    rep = scan_file(tmp_path, "model.ubj", os_system())
    assert rep.formats[0] == "pickle" and blocked_globals(rep) == {"os.system"}


# ---- Flax msgpack -------------------------------------------------------------------------------------
msgpack = pytest.importorskip("msgpack")


class _Array(bytes):
    """Stands for a NumPy array's buffer in the trees below."""


def _flax(tree: dict, dtype: str = "float32", ext_code: int = 1) -> bytes:
    """What ``flax.serialization.to_bytes`` writes: arrays as ext type 1 of (shape, dtype name, buffer)."""
    def enc(obj):
        if isinstance(obj, _Array):
            return msgpack.ExtType(ext_code, msgpack.packb(((len(obj) // 4,), dtype, obj)))
        raise TypeError

    return msgpack.packb(tree, default=enc, use_bin_type=True, strict_types=True)


def test_flax_checkpoint_passes(tmp_path):
    data = _flax({"params": {"Dense_0": {"kernel": _Array(b"\x00" * 64), "bias": _Array(b"\x00" * 16)}}, "step": 3})
    rep = scan_file(tmp_path, "flax_model.msgpack", data)
    assert rep.formats == ["flax-msgpack"] and not rep.hits
    assert scan_file(tmp_path, "ckpt_100", data).formats == ["flax-msgpack"]  # by content, whatever the name


@pytest.mark.parametrize("kw, key", [({"dtype": "O"}, "msgpack:"), ({"ext_code": 42}, "msgpack:")])
def test_flax_foreign_extensions_are_inconclusive(tmp_path, kw, key):
    rep = scan_file(tmp_path, "m.msgpack", _flax({"params": {"w": _Array(b"\x00" * 8)}}, **kw))
    assert rules(rep) == {"MODEL003"} and rep.hits[0].key.startswith(key)


def test_truncated_msgpack_is_inconclusive(tmp_path):
    data = _flax({"params": {"w": _Array(b"\x00" * 64)}})
    assert rules(scan_file(tmp_path, "m.msgpack", data[:-5])) == {"MODEL003"}



def test_xgboost_json_model_passes_the_gate_under_its_real_name(tmp_path, monkeypatch):
    """``XGBClassifier.save_model("m.json")`` writes JSON: its extension matches its content."""
    import json
    import subprocess
    import sys

    (tmp_path / "xgb_model.json").write_bytes((PROFILES / "xgb_model.json").read_bytes())
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, "-m", "gates", "model", str(tmp_path / "xgb_model.json"), "--format", "json",
                        "--output", str(out)], capture_output=True, text=True, cwd=tmp_path)
    rep = json.loads(out.read_text())
    assert r.returncode == 0, [(f["rule"], f["message"]) for f in rep["findings"]]
    assert rep["gates"]["model"]["counts"]["files"] == 1
