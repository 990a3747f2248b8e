"""SavedModel op allowlist: unknown (custom) ops are visible as MODEL019 (medium), file-I/O and
PyFunc ops still block (MODEL011).

The SavedModel is encoded by the real protobuf runtime from message descriptors that mirror
TensorFlow's ``saved_model.proto`` / ``graph.proto`` / ``function.proto`` field numbers (no
TensorFlow here), so the gate's hand-written wire reader is checked against an independent encoder.
"""

from __future__ import annotations

import json

import pytest

from modelsamples import scan_file

pb_descriptor = pytest.importorskip("google.protobuf.descriptor_pb2")
from google.protobuf import descriptor_pool, message_factory  # noqa: E402

# (message, [(field name, number, type, label, message type)]) — TensorFlow's field numbers
_STR, _I64, _MSG = 9, 3, 11
_OPT, _REP = 1, 3
_MESSAGES = [
    ("OpDef", [("name", 1, _STR, _OPT, None)]),
    ("NodeDef", [("name", 1, _STR, _OPT, None), ("op", 2, _STR, _OPT, None), ("input", 3, _STR, _REP, None),
                 ("device", 4, _STR, _OPT, None)]),
    ("FunctionDef", [("signature", 1, _MSG, _OPT, "OpDef"), ("node_def", 3, _MSG, _REP, "NodeDef")]),
    ("FunctionDefLibrary", [("function", 1, _MSG, _REP, "FunctionDef")]),
    ("GraphDef", [("node", 1, _MSG, _REP, "NodeDef"), ("library", 2, _MSG, _OPT, "FunctionDefLibrary")]),
    ("MetaGraphDef", [("graph_def", 2, _MSG, _OPT, "GraphDef")]),
    ("SavedModel", [("saved_model_schema_version", 1, _I64, _OPT, None), ("meta_graphs", 2, _MSG, _REP, "MetaGraphDef")]),
]


@pytest.fixture(scope="module")
def tf():
    fd = pb_descriptor.FileDescriptorProto(name="mlsec_test_tf_subset.proto", package="mlsectest", syntax="proto3")
    for name, fields in _MESSAGES:
        m = fd.message_type.add(name=name)
        for fname, num, ftype, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=ftype, label=label)
            if tname:
                f.type_name = f".mlsectest.{tname}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return {name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"mlsectest.{name}")) for name, _ in _MESSAGES}


def saved_model(tf, graph_ops, functions=()):
    """``functions``: (name, [ops]) pairs placed in the graph's function library."""
    sm = tf["SavedModel"](saved_model_schema_version=1)
    graph = sm.meta_graphs.add().graph_def
    for i, op in enumerate(graph_ops):
        graph.node.add(name=f"n{i}", op=op)
    for fname, ops in functions:
        fn = graph.library.function.add()
        fn.signature.name = fname
        for i, op in enumerate(ops):
            fn.node_def.add(name=f"{fname}/n{i}", op=op)
    return sm.SerializeToString()


def _ops(rep, rule):
    return {h.extra["op"]: h for h in rep.hits if h.rule == rule and "op" in h.extra}


def test_common_inference_and_training_graph_passes(tf, tmp_path):
    data = saved_model(tf, ["Placeholder", "VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall", "SaveV2", "RestoreV2"],
                       functions=[("__inference_call_12", ["MatMul", "BiasAdd", "Relu", "Softmax", "Conv2D", "FusedBatchNormV3",
                                                           "ResourceApplyAdam", "__inference_inner_7"]),
                                  ("__inference_inner_7", ["AddV2", "Identity"])])
    rep = scan_file(tmp_path, "m/saved_model.pb", data)
    assert rep.formats == ["savedmodel"] and rep.hits == []
    assert rep.items == 16  # every node was read, in the graph and in the library


def test_custom_op_is_a_medium_unknown_op_finding(tf, tmp_path):
    data = saved_model(tf, ["Placeholder", "MatMul"], functions=[("__inference_f_1", ["Addons>GeluCustom", "Relu", "Addons>GeluCustom"])])
    rep = scan_file(tmp_path, "saved_model.pb", data)
    unknown = _ops(rep, "MODEL019")
    assert set(unknown) == {"Addons>GeluCustom"} and len(rep.hits) == 1
    h = unknown["Addons>GeluCustom"]
    assert h.severity is None and h.blocking is None  # the rule's medium; the policy's fail_on decides
    assert "2 time(s)" in h.message and h.key == "unknown-op:Addons>GeluCustom"


def test_file_io_and_pyfunc_still_block_next_to_unknown_ops(tf, tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(tf, ["ReadFile", "MyCustomOp", "EagerPyFunc", "Const"]))
    assert set(_ops(rep, "MODEL011")) == {"ReadFile", "EagerPyFunc"}
    assert set(_ops(rep, "MODEL019")) == {"MyCustomOp"}


def test_policy_allowed_ops_silence_unknown_ops(tf, tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(tf, ["MyCustomOp", "Const"]), savedmodel_allowed_ops=["MyCustomOp"])
    assert rep.hits == []


def test_many_unknown_ops_are_bounded(tf, tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(tf, [f"Custom{i:03d}" for i in range(50)]))
    unknown = [h for h in rep.hits if h.rule == "MODEL019"]
    assert len(unknown) == 21 and unknown[-1].key == "unknown-op:more" and unknown[-1].extra["count"] == 30


def test_unknown_op_names_are_escaped(tf, tmp_path):
    rep = scan_file(tmp_path, "saved_model.pb", saved_model(tf, ["Evil\x1b[2JOp"]))
    (h,) = rep.hits
    assert "\x1b" not in h.message + h.extra["op"] + h.key and "\\x1b[2J" in h.message


def test_unknown_op_does_not_block_under_default_policy_but_does_at_medium(tf, tmp_path, cli):
    (tmp_path / "saved_model.pb").write_bytes(saved_model(tf, ["Placeholder", "MyCustomOp"]))
    out = tmp_path / "r.json"
    r = cli("model", "saved_model.pb", "--format", "json", "--output", out, "-q", cwd=tmp_path)
    (f,) = json.loads(out.read_text())["findings"]
    assert r.code == 0 and f["rule"] == "MODEL019" and f["severity"] == "medium" and not f["blocking"]
    r = cli("model", "saved_model.pb", "--fail-on", "medium", "-q", "--format", "json", "--output", out, cwd=tmp_path)
    assert r.code == 1


def test_allowlist_data_file_is_sound():
    from gates.model.formats import TF_CODE_OPS, TF_FILE_OPS, known_tf_ops

    ops = known_tf_ops()
    assert len(ops) > 400 and {"MatMul", "Conv2D", "SaveV2", "StatefulPartitionedCall"} <= ops
    assert not ops & (set(TF_CODE_OPS) | set(TF_FILE_OPS))  # blocking ops can never be allowlisted by the data file


def test_library_function_named_like_a_file_op_does_not_hide_it(tf, tmp_path):
    data = saved_model(tf, ["ReadFile", "my_fn"], functions=[("ReadFile", ["Identity"]), ("my_fn", ["AddV2"])])
    rep = scan_file(tmp_path, "saved_model.pb", data)
    assert set(_ops(rep, "MODEL011")) == {"ReadFile"} and not _ops(rep, "MODEL019")  # my_fn is a function call
