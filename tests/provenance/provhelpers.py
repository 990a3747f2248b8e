"""Builders for provenance test repositories: model folders written as the real tools write them
(Transformers configs, PEFT adapter configs, model cards, Kitfiles), weights metadata written with
the real gguf/safetensors/onnx libraries, and licence texts taken from installed distributions."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import yaml


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def card(folder: Path, body: str = "# model\n", **front) -> Path:
    fm = yaml.safe_dump(front, sort_keys=False) if front else ""
    return write(folder / "README.md", f"---\n{fm}---\n{body}")


def config(folder: Path, **extra) -> Path:
    data = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 8, "transformers_version": "4.46.0", **extra}
    return write(folder / "config.json", json.dumps(data, indent=2) + "\n")


def adapter(folder: Path, base: str) -> Path:
    data = {"base_model_name_or_path": base, "peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj", "v_proj"],
            "task_type": "CAUSAL_LM", "inference_mode": True}
    return write(folder / "adapter_config.json", json.dumps(data, indent=2) + "\n")


def safetensors_file(path: Path, meta: dict[str, str] | None = None) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(path), metadata=meta)
    return path


def gguf_file(path: Path, **general) -> Path:
    import gguf
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(path), "llama")
    for k, v in general.items():
        if isinstance(v, int):
            w.add_uint32(k, v)
        else:
            w.add_string(k, v)
    w.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    w.add_tensor("w", np.zeros((2, 2), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def onnx_file(path: Path, props: dict[str, str]) -> Path:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model = helper.make_model(graph)
    onnx.helper.set_model_props(model, props)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def dist_license(dist: str, name: str = "LICENSE") -> str:
    """A licence text as an installed distribution ships it (input this project did not write)."""
    for f in metadata.distribution(dist).files or []:
        if f.name == name and ".dist-info" in str(f):
            return f.read_text()
    raise LookupError(f"{dist} ships no {name}")


def policy(tmp: Path, **prov) -> Path:
    doc = {"version": 1, "gates": {"provenance": prov}}
    return write(tmp / "policy.yml", yaml.safe_dump(doc, sort_keys=False))


def run(cli, tmp: Path, *paths: Path, **prov):
    """``mlsec-gates provenance PATH… --policy P --format json --output OUT``: (exit code, findings)."""
    pol = policy(tmp, **prov)
    out = tmp / "out.json"
    res = cli("provenance", *paths, "--root", tmp, "--policy", pol, "--format", "json", "--output", out, "-q")
    report = json.loads(out.read_text()) if out.exists() else {}
    return res.code, [f for f in report.get("findings", []) if f["gate"] == "provenance"], report
