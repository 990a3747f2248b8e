"""Keras configs judged by class (issue 12, item 5).

Malicious configs are JSON written here in the shape Keras 3 writes (``module``, ``class_name``,
``config``, ``registered_name``); the benign ``.keras`` files were written by Keras 3.15 itself
(``fixtures/make_keras_classes.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gates.model.keras_check import keras_config_problems
from modelsamples import keras_zip, rules, scan_file, zip_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "keras"


def _layer(cls: str, module: str | None = "keras.layers", registered: str | None = None, **config) -> dict:
    out = {"class_name": cls, "config": {"name": cls.lower(), **config}, "registered_name": registered}
    if module is not None:
        out["module"] = module
    return out


def _fn(module: str, name: str) -> dict:
    return {"module": module, "class_name": "function", "config": name, "registered_name": "function"}


MALICIOUS = {
    "get-file-function": ([_layer("Dense", activation=_fn("keras.utils", "get_file"))], "dangerous-function", "critical"),
    "get-file-as-class": ([{"module": "keras.utils", "class_name": "get_file", "config": {"origin": "http://x/y", "fname": "a"}}],
                          "dangerous-function", "critical"),
    "enable-unsafe": ([_layer("Dense", kernel_initializer=_fn("keras.config", "enable_unsafe_deserialization"))],
                      "dangerous-function", "critical"),
    "load-model": ([_layer("Dense", activation=_fn("keras.models", "load_model"))], "dangerous-function", "critical"),
    "string-lookup-path": ([_layer("StringLookup", vocabulary="/etc/passwd")], "file-arg", "high"),
    "integer-lookup-path": ([_layer("IntegerLookup", vocabulary="https://attacker.example/v.txt")], "file-arg", "high"),
    "text-vectorization-path": ([_layer("TextVectorization", vocabulary="/home/u/.ssh/id_rsa")], "file-arg", "high"),
    "tfsm": ([_layer("TFSMLayer", filepath="/tmp/other_savedmodel")], "code-layer", "critical"),
    "torch-wrapper": ([_layer("TorchModuleWrapper", module="gAJjb3MKc3lzdGVtCg==")], "code-layer", "critical"),
    "lambda": ([_layer("Lambda", function={"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}})], "code-layer", "critical"),
    "safe-mode-off": ([_layer("Dense", safe_mode=False)], "safe-mode", "critical"),
    "unknown-keras-class": ([{"module": "keras.layers", "class_name": "NotALayer", "config": {}}], "unknown-class", "high"),
    "keras-module-non-class": ([{"module": "keras.src.saving.saving_lib", "class_name": "load_weights_only", "config": {}}],
                               "unknown-class", "high"),
    "custom-module": ([_layer("MyLayer", module="mypkg.layers")], "custom-object", "high"),
    "registered-custom": ([_layer("MyLayer", module="keras.layers", registered="mypkg>MyLayer")], "custom-object", "high"),
    "custom-function": ([_layer("Dense", activation=_fn("mypkg.acts", "evil"))], "custom-function", "high"),
    "builtins-unknown-function": ([_layer("Dense", activation=_fn("builtins", "exec"))], "custom-function", "high"),
    "keras2-unknown-class": ([_layer("AttentionWithPayload", module=None)], "custom-object", "high"),
    "tf-op-lambda-io": ([_layer("TFOpLambda", module=None, function="io.write_file")], "tf-op", "high"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_config_problems(case):
    layers, code, severity = MALICIOUS[case]
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    problems = keras_config_problems(config)
    assert {(p.code, p.severity) for p in problems} >= {(code, severity)}, [(p.code, p.message) for p in problems]


@pytest.mark.parametrize("case", ["get-file-function", "string-lookup-path", "unknown-keras-class", "torch-wrapper"])
def test_malicious_keras_archive_blocks(tmp_path, case):
    rep = scan_file(tmp_path, "m.keras", keras_zip(MALICIOUS[case][0]))
    assert "MODEL010" in rules(rep)
    assert any(h.severity in ("high", "critical") for h in rep.hits if h.rule == "MODEL010")


def test_benign_shapes_pass():
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"}},
        _layer("Dense", activation="relu", kernel_initializer={"module": "keras.initializers", "class_name": "GlorotUniform",
                                                               "config": {"seed": None}, "registered_name": None},
               dtype={"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}),
        _layer("Dense", activation=_fn("keras.activations", "gelu")),
        _layer("Dense", activation=_fn("builtins", "relu")),
        _layer("StringLookup", vocabulary=["a", "b"]),
        _layer("TextVectorization", vocabulary=None),
        _layer("Dense", module=None),  # Keras 2 (no module)
        _layer("TFOpLambda", module=None, function="math.add"),
        {"module": "keras.src.backend.torch.optimizers.torch_adam", "class_name": "Adam", "config": {}, "registered_name": "Adam"},
        {"module": "keras.src.models.functional", "class_name": "Functional", "config": {}, "registered_name": "Functional"},
        {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32", "keras_history": ["in", 0, 0]}},
        {"module": "tf_keras.layers", "class_name": "Conv2D", "config": {"name": "c"}},
    ]
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    assert keras_config_problems(config) == []


@pytest.mark.parametrize("name", ["functional.keras", "sequential.keras"])
def test_files_written_by_keras_pass(tmp_path, name):
    rep = scan_file(tmp_path, name, (FIXTURES / name).read_bytes())
    assert rep.formats[0] == "keras" and not rep.hits, [h.message for h in rep.hits]


def test_shared_keras_files_pass(shared):
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    for name in ("keras_dense.keras", "keras_dense.h5"):
        assert not scan_path(str(shared / "models-benign" / name), config_from_options({})).hits, name


def test_layer_names_are_cleaned(tmp_path):
    layer = _layer("MyLayer", module="mypkg")
    layer["config"]["name"] = "x\x1b[31m ghp_" + "b" * 36
    rep = scan_file(tmp_path, "m.keras", keras_zip([layer]))
    (hit,) = rep.hits
    assert "\x1b" not in hit.message and "ghp_bbbb" not in hit.message


def test_bare_config_json_in_a_zip_member(tmp_path):
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [_layer("Dense", activation=_fn("keras.utils", "get_file"))]}}
    rep = scan_file(tmp_path, "bundle.zip", zip_bytes([("model/config.json", json.dumps(config).encode())]))
    assert "MODEL010" in rules(rep)
