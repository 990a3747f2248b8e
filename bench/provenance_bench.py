"""How long the provenance gate and the CycloneDX writer take on big repositories (wall and
CPU time: on a shared machine the CPU time is the steadier number).

    python bench/provenance_bench.py [--models 1000] [--files 10000]

1. The gate on a repository of ``--models`` Hugging Face model folders (config.json, a model card
   with list-valued base_model and datasets, tokenizer_config.json, a LICENSE text taken from an
   installed distribution, a model.safetensors written by the safetensors library; every tenth
   folder a PEFT adapter whose base is the previous folder, every twentieth a GGUF file written
   by the gguf library, every fiftieth custom code), under a policy with allow/deny lists.
2. The BOM: a run whose inventory holds ``--files`` model files (folders of 5 files), timed for
   the gate and separately for ``--format cyclonedx`` rendering (serialising with
   cyclonedx-python-lib) and for the strict schema validation the tests do.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import yaml
from safetensors.numpy import save_file

from gates.core.loader import load_policy
from gates.core.registry import available_gates
from gates.core.reports import cyclonedx
from gates.core.runner import run_gates

LICENSES = [("requests", "LICENSE"), ("rich", "LICENSE"), ("zstandard", "LICENSE"), ("certifi", "LICENSE")]


def _license_texts() -> list[str]:
    out = []
    for dist, name in LICENSES:
        for f in metadata.distribution(dist).files or []:
            if f.name == name and ".dist-info" in str(f):
                out.append(f.read_text())
                break
    return out


def build(root: Path, n: int, files_per_model: int = 0) -> int:
    """``n`` model folders under ``root``; returns the number of files written."""
    texts = _license_texts()
    weights = {"w": np.zeros((4, 4), dtype=np.float32)}
    count = 0
    for i in range(n):
        d = root / "models" / f"m{i:05d}"
        d.mkdir(parents=True)
        if files_per_model:
            save_file(weights, str(d / "model.safetensors"), metadata={"license": "apache-2.0"})
            (d / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
            for k in range(files_per_model - 2):
                (d / f"shard-{k}.bin").write_bytes(b"\x80\x04K\x01." + bytes(64))
            count += files_per_model
            continue
        cfg = {"model_type": "bert", "architectures": ["BertModel"], "_name_or_path": f"org{i % 7}/model-{i}"}
        if i % 50 == 0:
            cfg["auto_map"] = {"AutoModel": "modeling_x.XModel"}
            (d / "modeling_x.py").write_text("class XModel: pass\n")
            count += 1
        (d / "config.json").write_text(json.dumps(cfg, indent=2))
        card = {"license": ["apache-2.0", "mit", "bsd-3-clause", "mpl-2.0"][i % 4], "base_model": [f"org{i % 5}/base", "google-bert/bert-base-uncased"],
                "datasets": ["stanfordnlp/imdb"], "pipeline_tag": "text-classification"}
        (d / "README.md").write_text("---\n" + yaml.safe_dump(card) + "---\n# model\n" + "text\n" * 50)
        (d / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 512, "tokenizer_class": "BertTokenizer"}))
        (d / "LICENSE").write_text(texts[i % len(texts)])
        save_file(weights, str(d / "model.safetensors"), metadata={"format": "pt"})
        count += 5
        if i % 10 == 9:
            (d / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": f"../m{i - 1:05d}", "peft_type": "LORA"}))
            count += 1
        if i % 20 == 0:
            import gguf

            w = gguf.GGUFWriter(str(d / "model.gguf"), "llama")
            w.add_string("general.license", "mit")
            w.add_array("tokenizer.ggml.tokens", [f"t{k}" for k in range(2000)])
            w.add_tensor("w", weights["w"])
            w.write_header_to_file()
            w.write_kv_data_to_file()
            w.write_tensors_to_file()
            w.close()
            count += 1
    policy = {"version": 1, "gates": {name: {"enabled": name == "provenance"} for name in available_gates()}}
    policy["gates"]["provenance"].update({
        "paths": ["models/**"], "licenses": {"allow": ["apache-2.0", "mit", "bsd-3-clause", "mpl-2.0"], "deny": ["cc-by-nc-4.0"]},
        "sources": {"allow": ["org*/*", "google-bert/*"], "deny": ["org6/*"]}, "custom_code": "warn"})
    (root / ".mlsec-gates.yml").write_text(yaml.safe_dump(policy, sort_keys=False))
    return count


def timed_run(root: Path):
    gates = available_gates()
    policy = load_policy(root / ".mlsec-gates.yml", gates, root=root)
    t0, c0 = time.perf_counter(), time.process_time()
    run = run_gates(gates, policy, root, only=["provenance"], explicit=True)
    print(f"  (gate CPU time {time.process_time() - c0:.2f} s)")
    return run, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--files", type=int, default=10_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "repo"
        t0 = time.perf_counter()
        nfiles = build(root, a.models)
        print(f"built {a.models} model folders ({nfiles} files) in {time.perf_counter() - t0:.1f} s")
        run, secs = timed_run(root)
        r = run.results[0]
        c = r.counts()
        print(f"gate: {secs:.2f} s for {a.models} models, {nfiles} files ({nfiles / secs:.0f} files/s); status {r.status.value}, "
              f"{c['findings']} findings ({c['blocking']} blocking), {c['errors']} errors")
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "repo"
        nfiles = build(root, a.files // 5, files_per_model=5)
        run, secs = timed_run(root)
        t0, c0 = time.perf_counter(), time.process_time()
        text = cyclonedx.render(run)
        render_s = time.perf_counter() - t0
        print(f"  (render CPU time {time.process_time() - c0:.2f} s)")
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        t0 = time.perf_counter()
        errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
        valid_s = time.perf_counter() - t0
        comps = json.loads(text)["components"]
        listed = sum(len(c.get("components", [])) or 1 for c in comps)
        print(f"bom: {nfiles} files in {len(comps)} models; gate {secs:.2f} s, cyclonedx render {render_s:.2f} s "
              f"({len(text) / 1e6:.1f} MB, {listed} files listed), strict 1.6 validation {valid_s:.2f} s, valid: {errors is None}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
