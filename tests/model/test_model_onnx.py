"""ONNX: external data in every tensor-bearing field (issue 12, item 6).

Malicious models are built from protobuf bytes (``pb_field``); benign ones with the real ``onnx``
library (``helper.make_*``, ``save_model(save_as_external_data=True)``), never loaded here.
"""

from __future__ import annotations

import pytest

from modelsamples import pb_field, rules, scan_file

EVIL = "/etc/passwd"


def _ext_tensor(location: str | None, name: bytes = b"w") -> bytes:
    ext = pb_field(1, b"location") + pb_field(2, location.encode()) if location is not None else b""
    return pb_field(1, 4) + pb_field(2, 1) + pb_field(8, name) + (pb_field(13, ext) if ext else b"") + pb_field(14, 1)


def _node(op: bytes = b"Relu", attrs: bytes = b"", domain: bytes = b"") -> bytes:
    return pb_field(1, b"x") + pb_field(2, b"y") + pb_field(4, op) + attrs + (pb_field(7, domain) if domain else b"")


def _attr(name: bytes, field_number: int, payload: bytes) -> bytes:
    return pb_field(5, pb_field(1, name) + pb_field(field_number, payload))


def _graph(*nodes: bytes, initializers: bytes = b"") -> bytes:
    return b"".join(pb_field(1, n) for n in nodes) + pb_field(2, b"g") + initializers


def _model(graph: bytes, extra: bytes = b"") -> bytes:
    return pb_field(1, 8) + pb_field(7, graph) + pb_field(8, pb_field(2, 17)) + extra


def _sparse(location: str) -> bytes:
    return pb_field(1, _ext_tensor(location)) + pb_field(2, _ext_tensor(location, b"i")) + pb_field(3, 4)


CASES = {
    "attribute-t": _model(_graph(_node(b"Constant", _attr(b"value", 5, _ext_tensor(EVIL))))),
    "attribute-tensors": _model(_graph(_node(b"X", _attr(b"ts", 10, _ext_tensor(EVIL))))),
    "attribute-sparse": _model(_graph(_node(b"Constant", _attr(b"sparse_value", 22, _sparse(EVIL))))),
    "attribute-sparse-list": _model(_graph(_node(b"X", _attr(b"sts", 23, _sparse(EVIL))))),
    "if-branch": _model(_graph(_node(b"If", _attr(b"then_branch", 6, _graph(_node(b"Constant", _attr(b"value", 5, _ext_tensor(EVIL)))))))),
    "loop-graphs-nested": _model(_graph(_node(b"X", _attr(b"bodies", 11, _graph(
        _node(b"If", _attr(b"else_branch", 6, _graph(initializers=pb_field(5, _ext_tensor("../../secret")))))))))),
    "training-info": _model(_graph(), pb_field(20, pb_field(1, _graph(initializers=pb_field(5, _ext_tensor(EVIL)))))),
    "training-algorithm": _model(_graph(), pb_field(20, pb_field(2, _graph(_node(b"Constant", _attr(b"value", 5, _ext_tensor(EVIL))))))),
    "function-node": _model(_graph(), pb_field(25, pb_field(1, b"f") + pb_field(7, _node(b"Constant", _attr(b"value", 5, _ext_tensor(EVIL)))))),
    "function-default-attribute": _model(_graph(), pb_field(25, pb_field(1, b"f") + pb_field(11, pb_field(1, b"a") + pb_field(5, _ext_tensor(EVIL))))),
    "windows-absolute": _model(_graph(initializers=pb_field(5, _ext_tensor("C:\\Windows\\win.ini")))),
    "url": _model(_graph(initializers=pb_field(5, _ext_tensor("file:///etc/passwd")))),
    "external-without-location": _model(_graph(initializers=pb_field(5, _ext_tensor(None)))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_external_data_anywhere_blocks(tmp_path, case):
    rep = scan_file(tmp_path, "m.onnx", CASES[case])
    hits = [h for h in rep.hits if h.rule == "MODEL012"]
    assert hits and all(h.blocking for h in hits), [(h.rule, h.message) for h in rep.hits]
    assert "MODEL003" not in rules(rep)


def test_location_says_where(tmp_path):
    rep = scan_file(tmp_path, "m.onnx", CASES["training-info"])
    assert "training_info.initialization" in rep.hits[0].message and rep.hits[0].extra["where"].startswith("training_info")


def test_function_domains_count(tmp_path):
    fn = pb_field(1, b"f") + pb_field(10, b"com.evil") + pb_field(9, pb_field(1, b"com.evil.native") + pb_field(2, 1)) + pb_field(7, _node())
    rep = scan_file(tmp_path, "m.onnx", _model(_graph(), pb_field(25, fn)))
    assert {h.extra["domain"] for h in rep.hits if h.rule == "MODEL012"} == {"com.evil", "com.evil.native"}


def test_metadata_props_are_not_functions(tmp_path):
    # field 14 of ModelProto is metadata_props (strings), not functions: text there is not parsed as nodes
    meta = pb_field(14, pb_field(1, b"author") + pb_field(2, b"\x3a\xff\xff\xff\xff\x0f"))
    assert not scan_file(tmp_path, "m.onnx", _model(_graph(_node()), meta)).hits


def test_strings_from_the_model_are_cleaned(tmp_path):
    rep = scan_file(tmp_path, "m.onnx", _model(_graph(initializers=pb_field(5, _ext_tensor("/tmp/\x1b[2J/ghp_" + "a" * 36)))))
    (hit,) = rep.hits
    assert "\x1b" not in hit.message and "ghp_aaaa" not in hit.message and "ghp_aaaa" not in (hit.evidence or "")


# ---- benign, written by the real library ------------------------------------------------------------
onnx = pytest.importorskip("onnx")


def _real_model():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.arange(4096, dtype=np.float32), "w")
    const = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.ones(2048, dtype=np.float32), "cv"))
    then_g = helper.make_graph([helper.make_node("Identity", ["c"], ["t"])], "then", [], [helper.make_tensor_value_info("t", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Neg", ["c"], ["e"])], "else", [], [helper.make_tensor_value_info("e", TensorProto.FLOAT, None)])
    cond = helper.make_node("Constant", [], ["cond"], value=numpy_helper.from_array(np.array(True), "cv2"))
    if_node = helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)
    leaky = helper.make_node("LeakyRelu", ["y"], ["z"], alpha=0.1)
    dims = helper.make_node("Constant", [], ["shape"], value_floats=[1.0, 2.0, 3.0])  # a packed floats attribute
    graph = helper.make_graph([const, cond, if_node, leaky, dims], "g", [], [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                              initializer=[weights])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_real_model_with_subgraphs_and_attribute_tensors_passes(tmp_path):
    model = _real_model()
    onnx.save_model(model, str(tmp_path / "m.onnx"))
    rep = scan_file(tmp_path, "m.onnx", (tmp_path / "m.onnx").read_bytes())
    assert not rep.hits and rep.items >= 6


def test_real_external_data_passes(tmp_path):
    model = _real_model()
    d = tmp_path / "ext"
    d.mkdir()
    onnx.save_model(model, str(d / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True, location="m.onnx.data",
                    size_threshold=0)
    data = (d / "m.onnx").read_bytes()
    assert b"m.onnx.data" in data
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    rep = scan_path(str(d / "m.onnx"), config_from_options({"profiles": ["torch", "numpy"]}))
    assert not rep.hits, [h.message for h in rep.hits]


def test_shared_relu_passes(shared):
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    assert not scan_path(str(shared / "models-benign" / "relu.onnx"), config_from_options({})).hits
