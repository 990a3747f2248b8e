"""safetensors, GGUF, ONNX, Keras, HDF5 and SavedModel checks."""

from __future__ import annotations

import json
import os
import struct
import time

import pytest

from modelsamples import gguf, keras_metadata, keras_zip, onnx_model, os_system, rules, safetensors, saved_model, scan_file, zip_bytes

F32x4 = ("F32", [4], b"\x00" * 16)


def _keys(rep) -> set[str]:
    return {h.key for h in rep.hits}


def test_safetensors_valid(tmp_path):
    rep = scan_file(tmp_path, "m.safetensors", safetensors({"a": F32x4, "b": ("BF16", [2, 3], b"\x00" * 12)}, metadata={"format": "pt"}))
    assert not rep.hits and rep.formats == ["safetensors"]


@pytest.mark.parametrize(
    "data,key",
    [
        (safetensors({"a": ("F32", [4], b"\x00" * 12)}), "st-tensor"),  # span != dtype x shape
        (safetensors({"a": ("F99", [4], b"\x00" * 16)}), "st-tensor"),  # unknown dtype
        (safetensors({"a": F32x4}, tail=b"EXTRA!!!"), "st-size"),  # data appended
        (safetensors({"a": F32x4})[:-4], "st-size"),  # truncated data
        (safetensors({}, raw_header=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', tail=b"\x00" * 4), "st-json"),
        (safetensors({}, raw_header=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}', tail=b"\x00" * 8), "st-offsets"),
        (safetensors({}, raw_header=b'{"__metadata__": {"x": 1}}'), "st-metadata"),
        (safetensors({}, raw_header=b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "extra": 1}}', tail=b"\x00" * 4), "st-tensor"),
        (struct.pack("<Q", 1 << 40) + b"{}", "st-header-size"),
        (struct.pack("<Q", 500) + b"{" + b" " * 20, "st-header-bounds"),
        (safetensors({}, raw_header=b"[1, 2]"), "st-json"),
    ],
)
def test_safetensors_strict_header(tmp_path, data, key):
    rep = scan_file(tmp_path, "m.safetensors", data)
    assert key in _keys(rep), [(h.key, h.message) for h in rep.hits]
    assert all(h.blocking for h in rep.hits)


def test_two_gb_sparse_safetensors_is_instant(tmp_path):
    n = 2 << 30
    header = json.dumps({"w": {"dtype": "U8", "shape": [n], "data_offsets": [0, n]}}).encode()
    header += b" " * (-len(header) % 8)
    p = tmp_path / "big.safetensors"
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header)
        f.truncate(8 + len(header) + n)
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    t0 = time.perf_counter()
    rep = scan_path(str(p), config_from_options({"profiles": ["torch"]}))
    assert not rep.hits and time.perf_counter() - t0 < 1


def test_pickle_named_safetensors(tmp_path, cli):
    p = tmp_path / "model.safetensors"
    p.write_bytes(os_system())
    out = tmp_path / "r.json"
    r = cli("model", p, "--format", "json", "--output", out)
    assert r.code == 1
    found = {f["rule"] for f in json.loads(out.read_text())["findings"]}
    assert {"MODEL001", "MODEL006"} <= found


def test_gguf_tensor_out_of_bounds(tmp_path):
    rep = scan_file(tmp_path, "m.gguf", gguf({"a": 1}, [("w", [1024], 0, 0)], b"\x00" * 32))
    assert "gguf-tensor-bounds" in _keys(rep)


def test_gguf_truncated_and_huge_counts(tmp_path):
    full = gguf({"tokenizer.chat_template": "hello"})
    assert "MODEL003" in rules(scan_file(tmp_path, "a.gguf", full[:40]))
    bad = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 1 << 60) + struct.pack("<Q", 0)
    assert "gguf-counts" in _keys(scan_file(tmp_path, "b.gguf", bad))
    huge_str = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 0) + struct.pack("<Q", 1) + struct.pack("<Q", 1 << 50)
    assert "MODEL003" in rules(scan_file(tmp_path, "c.gguf", huge_str))


def test_onnx_benign(tmp_path):
    rep = scan_file(tmp_path, "m.onnx", onnx_model(location="weights.bin"))
    assert not rep.hits and rep.formats == ["onnx"]


@pytest.mark.parametrize("loc", ["../../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "sub/../../x"])
def test_onnx_external_data_escape(tmp_path, loc):
    rep = scan_file(tmp_path, "m.onnx", onnx_model(location=loc))
    hits = [h for h in rep.hits if h.rule == "MODEL012"]
    assert hits and hits[0].blocking is True and hits[0].evidence == loc


def test_onnx_sparse_initializer_external_data(tmp_path):
    rep = scan_file(tmp_path, "m.onnx", onnx_model(location="/etc/shadow", sparse=True))
    assert [h.evidence for h in rep.hits if h.rule == "MODEL012"] == ["/etc/shadow"]


def test_onnx_external_data_symlink_outside(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("x")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(outside / "secret", model_dir / "w.bin")
    rep = scan_file(model_dir, "m.onnx", onnx_model(location="w.bin"))
    assert any("symlink" in h.message for h in rep.hits)


def test_onnx_custom_domain(tmp_path):
    rep = scan_file(tmp_path, "m.onnx", onnx_model(domain="com.evil.ops"))
    hit = [h for h in rep.hits if h.rule == "MODEL012"][0]
    assert hit.extra["domain"] == "com.evil.ops" and hit.severity == "medium"
    assert not scan_file(tmp_path, "n.onnx", onnx_model(domain="com.evil.ops"), onnx_allowed_domains=["com.evil.ops"]).hits


def test_onnx_garbage_is_inconclusive(tmp_path):
    assert "MODEL003" in rules(scan_file(tmp_path, "m.onnx", b"\x08\x07\x3a\xff\xff\xff\xff\x0f"))


def test_keras_lambda_and_custom_objects(tmp_path):
    layers = [
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}},
        {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "lam", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAA"}}}},
        {"module": "my_project.layers", "class_name": "Backdoor", "config": {"name": "bd"}},
        {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"name": "tfsm", "filepath": "/tmp/x"}},
    ]
    rep = scan_file(tmp_path, "m.keras", keras_zip(layers))
    msgs = [h.message for h in rep.hits if h.rule == "MODEL010"]
    assert rep.formats[0] == "keras"
    assert any("Lambda" in m for m in msgs) and any("my_project.layers.Backdoor" in m for m in msgs) and any("TFSMLayer" in m for m in msgs)
    assert all(h.member == "config.json" for h in rep.hits)


def test_keras_dense_only_passes(tmp_path):
    assert not scan_file(tmp_path, "m.keras", keras_zip([{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d"}}])).hits


def test_keras_h5_with_lambda(tmp_path):
    h5py = pytest.importorskip("h5py")
    p = tmp_path / "m.h5"
    with h5py.File(p, "w") as f:
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "l"}}]}})
    rep = scan_file(tmp_path, "m.h5", p.read_bytes())
    assert "MODEL010" in rules(rep)


def test_h5_without_h5py_is_inconclusive(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "h5py":
            raise ImportError("no h5py")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    rep = scan_file(tmp_path, "m.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    assert [h.key for h in rep.hits] == ["h5-noh5py"] and rep.hits[0].blocking


def test_savedmodel_file_ops(tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(["Const", "ReadFile", "PyFunc", "MatMul", "ReadFile"]))
    ops = {h.extra["op"]: h for h in rep.hits if h.rule == "MODEL011"}
    assert set(ops) == {"ReadFile", "PyFunc"} and ops["PyFunc"].severity == "critical"
    assert not scan_file(tmp_path, "x/saved_model.pb", saved_model(["Const", "MatMul", "SaveV2", "RestoreV2"])).hits


def test_savedmodel_allowed_ops(tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(["ReadFile"]), savedmodel_allowed_ops=["ReadFile"])
    assert not rep.hits


def test_zip_member_json_keras_config(tmp_path):
    data = zip_bytes([("model/config.json", json.dumps({"class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "x"}}]}}).encode())])
    assert "MODEL010" in rules(scan_file(tmp_path, "bundle.zip", data))


LAMBDA = {"class_name": "Lambda", "config": {"name": "lam", "function": {"class_name": "__lambda__", "config": {"code": "4wEA"}}}}


def test_savedmodel_keras_lambda_in_object_graph(tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(["MatMul"], keras_configs=[{"class_name": "Dense", "config": {"name": "d"}}, LAMBDA]))
    assert [h.rule for h in rep.hits] == ["MODEL010"] and "Lambda" in rep.hits[0].message


def test_keras_metadata_pb_lambda(tmp_path):
    rep = scan_file(tmp_path, "keras_metadata.pb", keras_metadata([{"class_name": "Sequential", "config": {"layers": [LAMBDA]}}]))
    assert "MODEL010" in rules(rep)
    assert not scan_file(tmp_path, "x/keras_metadata.pb", keras_metadata([{"class_name": "Dense", "config": {}}])).hits


@pytest.mark.parametrize(
    "template",
    [
        "{%- set ns = namespace(found=false) -%}{%- for message in messages -%}{%- if message['role'] == 'system' -%}{{- raise_exception('no system') }}{%- endif -%}{{ message['content'] | trim }}{%- endfor -%}",
        "{% for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
        "{%- set date_string = strftime_now('%d %b %Y') %}{{- bos_token }}{{ messages[0]['content'] }}",
    ],
)
def test_ordinary_chat_templates_pass(tmp_path, template):
    pytest.importorskip("jinja2")
    assert not scan_file(tmp_path, "m.gguf", gguf({"tokenizer.chat_template": template})).hits


def test_underscore_literal_alone_passes(tmp_path):
    # judged on the syntax tree: an underscore that never names an attribute is just text
    pytest.importorskip("jinja2")
    rep = scan_file(tmp_path, "m.gguf", gguf({"tokenizer.chat_template": "{{ tool.name | replace(' ', '_') }}"}))
    assert not rep.hits


# ---- unknown content ------------------------------------------------------------------------------
UNKNOWN_BYTES = bytes(range(256)) * 4  # matches no format (starts with a byte no sniffer claims)


@pytest.mark.parametrize("name", [
    "pytorch_model.bin", "pytorch_model-00001-of-00002.bin", "adapter_model.bin", "training_args.bin", "optimizer.bin",
    "scheduler.bin", "rng_state_3.pth", "rng_state.bin", "model.pt.bin", "sub/Pytorch_Model.BIN",
])
def test_weights_names_with_unknown_content_are_inconclusive(tmp_path, name):
    rep = scan_file(tmp_path, name, UNKNOWN_BYTES)
    assert rep.formats == ["unknown"]
    assert [(h.rule, h.key, h.blocking) for h in rep.hits] == [("MODEL003", "unrecognised", True)]
    assert "named like PyTorch weights" in rep.hits[0].message or "named like a pickle" in rep.hits[0].message


def test_text_in_training_args_bin_is_inconclusive(tmp_path):
    rep = scan_file(tmp_path, "training_args.bin", b"just some text, not a torch.save file\n")
    assert [(h.rule, h.key) for h in rep.hits] == [("MODEL003", "unrecognised")]


@pytest.mark.parametrize("name", ["weights.bin", "model.onnx_data.bin", "tensor_0.bin", "optimizer_notes.txt"])
def test_generic_bin_with_unknown_content_does_not_block(tmp_path, name):
    assert scan_file(tmp_path, name, UNKNOWN_BYTES).hits == []


def test_real_pickle_named_like_weights_is_judged_by_content(tmp_path):
    assert rules(scan_file(tmp_path, "pytorch_model.bin", os_system())) == {"MODEL001"}
    assert scan_file(tmp_path, "optimizer.bin", b"\x80\x02}q\x00.").hits == []


def test_report_notes_files_of_unknown_format(tmp_path, cli):
    for name in ("weights.bin", "tensor_0.bin", "pytorch_model.bin", "w\x1b[31m.bin"):
        (tmp_path / name).write_bytes(UNKNOWN_BYTES)
    (tmp_path / "ok.safetensors").write_bytes(safetensors({"a": F32x4}))
    (tmp_path / "notes.bin").write_bytes(b"plain text in a file named like a model\n")
    (tmp_path / "README.md").write_bytes(b"# a model card beside the weights\n")
    out = tmp_path / "r.json"
    r = cli("model", ".", "README.md", "--format", "json", "--output", out, "-q", cwd=tmp_path)
    report = json.loads(out.read_text())
    assert r.code == 1  # pytorch_model.bin blocks; the generic .bin files only show in the note
    assert [f["path"] for f in report["findings"] if f["blocking"]] == ["pytorch_model.bin"]
    notes = report["gates"]["model"]["notes"]
    note = next(n for n in notes if "unknown format" in n)
    assert note.startswith("5 files of unknown format were not analysed")
    for name in ("weights.bin", "tensor_0.bin", "pytorch_model.bin", "w\\x1b[31m.bin", "notes.bin"):
        assert name in note
    assert "README.md" not in note  # text that is not named like a model is not counted
    assert "\x1b" not in note
    # no note when every file was recognised
    r = cli("model", "ok.safetensors", "--format", "json", "--output", out, "-q", cwd=tmp_path)
    assert r.code == 0 and not any("unknown format" in n for n in json.loads(out.read_text())["gates"]["model"]["notes"])
