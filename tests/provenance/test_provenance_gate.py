"""The provenance gate end to end through the CLI: every input kind with an allow and a block
outcome, findings anchored at the file and key that declared the fact."""

from __future__ import annotations

import hashlib

import pytest
from provhelpers import adapter, card, config, dist_license, gguf_file, onnx_file, run, safetensors_file, write


def rules(findings, blocking=True):
    return sorted(f["rule"] for f in findings if f["blocking"] is blocking)


class TestCards:
    def test_list_valued_base_model_blocks_on_the_denied_entry(self, cli, tmp_path):
        m = tmp_path / "models" / "merge"
        card(m, license="apache-2.0", base_model=["mistralai/Mistral-7B-v0.1", "meta-llama/Llama-2-7b-hf"])
        safetensors_file(m / "model.safetensors")
        code, fs, _ = run(cli, tmp_path, m, sources={"deny": ["meta-llama/*"]})
        assert code == 1 and rules(fs) == ["PROV003"]
        f = fs[0]
        assert f["path"].endswith("README.md") and f["line"] == 5  # base_model[1]
        assert "meta-llama/Llama-2-7b-hf" in f["message"] and "base_model[1]" in f["message"]

    def test_list_valued_base_model_passes_when_all_allowed(self, cli, tmp_path):
        m = tmp_path / "merge"
        card(m, license="apache-2.0", base_model=["mistralai/Mistral-7B-v0.1", "Qwen/Qwen2-7B"])
        safetensors_file(m / "model.safetensors")
        code, fs, _ = run(cli, tmp_path, m, sources={"allow": ["mistralai/*", "qwen/*"]})
        assert code == 0 and fs == []

    def test_license_other_without_name_is_unknown(self, cli, tmp_path):
        m = tmp_path / "m"
        card(m, license="other")
        config(m)
        code, fs, _ = run(cli, tmp_path, m)
        assert code == 1 and rules(fs) == ["PROV002"]
        code, fs, _ = run(cli, tmp_path, m, licenses={"unknown": "warn"})
        assert code == 0 and rules(fs, blocking=False) == ["PROV002"]

    def test_license_other_with_name_is_judged_by_that_name(self, cli, tmp_path):
        m = tmp_path / "m"
        card(m, license="other", license_name="acme-research-only", license_link="LICENSE.md")
        config(m)
        code, fs, _ = run(cli, tmp_path, m, licenses={"deny": ["ACME-research-only"]})
        assert code == 1 and rules(fs) == ["PROV001"] and "license_name" in fs[0]["message"]
        code, fs, _ = run(cli, tmp_path, m, licenses={"allow": ["acme-research-only", "mit"]})
        assert code == 0 and fs == []

    def test_non_commercial_card_licence_denied_case_insensitively(self, cli, tmp_path):
        m = tmp_path / "m"
        card(m, license="CC-BY-NC-4.0", datasets=["imdb"], pipeline_tag="text-classification")
        config(m)
        code, fs, _ = run(cli, tmp_path, m, licenses={"deny": ["cc-by-nc-4.0"]})
        assert code == 1 and rules(fs) == ["PROV001"] and fs[0]["line"] == 2

    @pytest.mark.parametrize("expr,code", [("MIT OR CC-BY-NC-4.0", 0), ("MIT AND CC-BY-NC-4.0", 1), ("(Apache-2.0 OR MIT) AND BSD-3-Clause", 0)])
    def test_spdx_expressions(self, cli, tmp_path, expr, code):
        m = tmp_path / "m"
        card(m, license=expr)
        config(m)
        got, fs, _ = run(cli, tmp_path, m, licenses={"allow": ["mit", "apache-2.0", "bsd-3-clause"]})
        assert got == code, fs

    def test_malformed_card_fails_closed_naming_the_file(self, cli, tmp_path):
        m = tmp_path / "m"
        write(m / "README.md", "---\nlicense: [mit\n---\n")
        config(m)
        code, _, report = run(cli, tmp_path, m)
        assert code == 2
        errs = report["gates"]["provenance"]["errors"]
        assert errs and errs[0]["path"].endswith("m/README.md") and "YAML" in errs[0]["message"]

    def test_input_strings_are_cleaned(self, cli, tmp_path):
        m = tmp_path / "m"
        card(m, license="evil\x1b[31m-licence", base_model="x/y")
        config(m)
        code, fs, _ = run(cli, tmp_path, m, licenses={"allow": ["mit"]})
        assert code == 1 and "\x1b" not in fs[0]["message"] and "\\x1b" in fs[0]["message"]


class TestLicenseFiles:
    def test_licence_only_in_a_license_file(self, cli, tmp_path):
        m = tmp_path / "m"
        config(m)
        write(m / "LICENSE", dist_license("cyclonedx-python-lib"))  # the Apache-2.0 text as shipped
        safetensors_file(m / "model.safetensors")
        code, fs, _ = run(cli, tmp_path, m, licenses={"allow": ["Apache-2.0"]}, require=["license"])
        assert code == 0 and fs == []
        code, fs, _ = run(cli, tmp_path, m, licenses={"allow": ["mit"]})
        assert code == 1 and rules(fs) == ["PROV001"] and fs[0]["path"].endswith("m/LICENSE")
        assert "apache-2.0" in fs[0]["message"]

    def test_identified_by_text_not_by_name(self, cli, tmp_path):
        m = tmp_path / "m"
        config(m)
        write(m / "COPYING", dist_license("rich"))  # MIT text under a GPL-ish file name
        code, fs, _ = run(cli, tmp_path, m, licenses={"allow": ["mit"]})
        assert code == 0 and fs == []

    def test_unrecognised_licence_text_is_unknown(self, cli, tmp_path):
        m = tmp_path / "m"
        config(m)
        write(m / "LICENSE", "You may use this model on Tuesdays.\n")
        code, fs, _ = run(cli, tmp_path, m)
        assert code == 1 and rules(fs) == ["PROV002"]

    def test_installed_licence_texts_are_identified(self):
        """Texts shipped by installed distributions (not written by this project) are identified
        as the licence their metadata declares."""
        from importlib import metadata

        from gates.provenance.licenses import identify_text

        checked = 0
        for dist, name, want in [("rich", "LICENSE", "mit"), ("requests", "LICENSE", "apache-2.0"), ("zstandard", "LICENSE", "bsd-3-clause"),
                                 ("pygments", "LICENSE", "bsd-2-clause"), ("certifi", "LICENSE", "mpl-2.0"), ("fickling", "LICENSE", "lgpl-3.0"),
                                 ("email-validator", "LICENSE", "unlicense"), ("packaging", "LICENSE.BSD", "bsd-2-clause")]:
            try:
                text = dist_license(dist, name)
            except (LookupError, metadata.PackageNotFoundError):
                continue
            assert identify_text(text) == want, dist
            checked += 1
        assert checked >= 5


class TestKitfile:
    KIT = """manifestVersion: "1.0"
package:
  name: sentiment-kit
  version: 1.2.0
  license: Apache-2.0
model:
  name: sentiment
  path: ./model.gguf
  license: Apache-2.0
  parts:
    - path: ./tokenizer.json
datasets:
  - name: reviews
    path: ./data/reviews.csv
    license: {dlic}
code:
  - path: ./src
    license: MIT
"""

    def test_dataset_licence_in_kitfile_blocks(self, cli, tmp_path):
        k = tmp_path / "kit"
        write(k / "Kitfile", self.KIT.format(dlic="CC-BY-NC-SA-4.0"))
        gguf_file(k / "model.gguf")
        write(k / "src" / "serve.py", "print('hi')\n")
        code, fs, _ = run(cli, tmp_path, k, licenses={"deny": ["cc-by-nc-sa-4.0"]})
        assert code == 1 and rules(fs) == ["PROV001"]
        assert fs[0]["path"].endswith("kit/Kitfile") and fs[0]["line"] == 15 and "datasets[0].license" in fs[0]["message"]

    def test_kitfile_allowed(self, cli, tmp_path):
        k = tmp_path / "kit"
        write(k / "Kitfile", self.KIT.format(dlic="CC-BY-4.0"))
        gguf_file(k / "model.gguf")
        code, fs, _ = run(cli, tmp_path, k, licenses={"allow": ["apache-2.0", "mit", "cc-by-4.0"]}, require=["license"])
        assert code == 0 and fs == []


class TestWeightsMetadata:
    def test_gguf_general_license_and_base_model(self, cli, tmp_path):
        g = gguf_file(tmp_path / "llm.gguf", **{"general.license": "llama3.1", "general.base_model.count": 1,
                                                "general.base_model.0.organization": "meta-llama",
                                                "general.base_model.0.name": "Llama-3.1-8B",
                                                "general.source.url": "https://huggingface.co/acme/llm-gguf"})
        code, fs, _ = run(cli, tmp_path, g, licenses={"deny": ["llama3.1"]}, sources={"allow": ["acme/*"]})
        assert code == 1 and rules(fs) == ["PROV001", "PROV003"]
        src = next(f for f in fs if f["rule"] == "PROV003")
        assert "meta-llama/Llama-3.1-8B" in src["message"] and "general.base_model.0" in src["message"]
        code, fs, _ = run(cli, tmp_path, g, licenses={"allow": ["llama3.1"]}, sources={"allow": ["acme/*", "meta-llama/*"]})
        assert code == 0 and fs == []

    def test_gguf_from_shared_testdata_passes_default_policy(self, cli, tmp_path, shared):
        code, fs, report = run(cli, tmp_path, shared / "models-benign")
        assert code == 0 and fs == []
        assert report["gates"]["provenance"]["counts"]["files"] == 16  # every file is a model of its own

    def test_safetensors_metadata_licence(self, cli, tmp_path):
        s = safetensors_file(tmp_path / "w.safetensors", {"license": "cc-by-nc-4.0", "format": "pt"})
        code, fs, _ = run(cli, tmp_path, s, licenses={"deny": ["cc-by-nc-4.0"]})
        assert code == 1 and rules(fs) == ["PROV001"] and "__metadata__.license" in fs[0]["message"]

    def test_onnx_metadata_props(self, cli, tmp_path):
        o = onnx_file(tmp_path / "m.onnx", {"license": "MIT", "source": "https://huggingface.co/evil-org/m"})
        code, fs, _ = run(cli, tmp_path, o, licenses={"allow": ["mit"]}, sources={"deny": ["evil-org/*"]})
        assert code == 1 and rules(fs) == ["PROV003"]
        code, fs, _ = run(cli, tmp_path, o, licenses={"allow": ["mit"]})
        assert code == 0

    def test_mlflow_transformers_source(self, cli, tmp_path):
        m = tmp_path / "mlruns" / "model"
        write(m / "MLmodel", "artifact_path: model\nflavors:\n  transformers:\n    source_model_name: sketchy/bert\n"
                             "    task: text-classification\n  python_function:\n    loader_module: mlflow.transformers\n")
        code, fs, _ = run(cli, tmp_path, m, sources={"allow": ["google-bert/*"]})
        assert code == 1 and rules(fs) == ["PROV003"] and fs[0]["line"] == 4

    def test_required_licence_and_card(self, cli, tmp_path):
        s = safetensors_file(tmp_path / "w.safetensors")
        code, fs, _ = run(cli, tmp_path, s, require=["license", "model_card"])
        assert code == 1 and rules(fs) == ["PROV005"] and "licence" in fs[0]["message"] and "model card" in fs[0]["message"]

    def test_truncated_gguf_fails_closed(self, cli, tmp_path):
        g = gguf_file(tmp_path / "x.gguf", **{"general.license": "mit"})
        g.write_bytes(g.read_bytes()[:40])
        code, _, report = run(cli, tmp_path, g)
        assert code == 2 and "truncated" in report["gates"]["provenance"]["errors"][0]["message"]


class TestAdapters:
    def test_peft_adapter_on_disallowed_base(self, cli, tmp_path):
        a = tmp_path / "adapter"
        adapter(a, "meta-llama/Llama-2-7b-hf")
        safetensors_file(a / "adapter_model.safetensors")
        code, fs, _ = run(cli, tmp_path, a, sources={"allow": ["mistralai/*"]})
        assert code == 1 and rules(fs) == ["PROV003"]
        assert fs[0]["path"].endswith("adapter_config.json") and fs[0]["line"] == 2
        code, fs, _ = run(cli, tmp_path, a, sources={"allow": ["mistralai/*", "meta-llama/*"]})
        assert code == 0

    def test_local_adapter_to_base_chain_is_followed(self, cli, tmp_path):
        base = tmp_path / "models" / "base"
        config(base, _name_or_path="meta-llama/Llama-2-7b-hf")
        safetensors_file(base / "model.safetensors")
        a = tmp_path / "models" / "adapter"
        adapter(a, "../base")
        safetensors_file(a / "adapter_model.safetensors")
        code, fs, _ = run(cli, tmp_path, tmp_path / "models", sources={"deny": ["meta-llama/*"]})
        assert code == 1
        by_model = {f["model"].rsplit("/", 1)[-1]: f for f in fs}
        assert set(by_model) == {"base", "adapter"} and all(f["rule"] == "PROV003" for f in fs)
        assert "models/base" in by_model["adapter"]["message"].split("via local base", 1)[1]
        assert by_model["adapter"]["path"].endswith("adapter/adapter_config.json")

    def test_own_model_without_origin_passes_sources(self, cli, tmp_path):
        m = tmp_path / "m"
        config(m)
        card(m, license="mit")
        code, fs, _ = run(cli, tmp_path, m, sources={"allow": ["acme/*"]})
        assert code == 0 and fs == []


class TestCustomCode:
    def _folder(self, tmp_path, ref="modeling_acme.AcmeModel"):
        m = tmp_path / "m"
        config(m, auto_map={"AutoModel": ref, "AutoConfig": "configuration_acme.AcmeConfig"})
        card(m, license="mit")
        mod = write(m / "modeling_acme.py", "import torch\nclass AcmeModel: pass\n")
        cfg = write(m / "configuration_acme.py", "class AcmeConfig: pass\n")
        safetensors_file(m / "model.safetensors")
        return m, [hashlib.sha256(p.read_bytes()).hexdigest() for p in (mod, cfg)]

    def test_auto_map_blocks_by_default(self, cli, tmp_path):
        m, _ = self._folder(tmp_path)
        code, fs, _ = run(cli, tmp_path, m)
        assert code == 1 and rules(fs) == ["PROV004"]
        assert fs[0]["path"].endswith("m/config.json") and fs[0]["line"] is not None and "modeling_acme.py" in fs[0]["message"]

    def test_auto_map_allowed_by_reviewed_hashes(self, cli, tmp_path):
        m, hashes = self._folder(tmp_path)
        code, fs, _ = run(cli, tmp_path, m, custom_code_allow_sha256=hashes)
        assert code == 0 and fs == []
        code, fs, _ = run(cli, tmp_path, m, custom_code_allow_sha256=hashes[:1])  # one file not reviewed
        assert code == 1 and "configuration_acme.py" in fs[0]["message"]

    def test_reviewed_code_is_hashed_even_without_hash_files(self, cli, tmp_path):
        m, hashes = self._folder(tmp_path)
        code, fs, _ = run(cli, tmp_path, m, custom_code_allow_sha256=hashes, hash_files=False)
        assert code == 0 and fs == []
        code, fs, _ = run(cli, tmp_path, m, hash_files=False)
        assert code == 1 and "not in custom_code_allow_sha256" in fs[0]["message"]

    def test_code_from_another_repository_cannot_be_allowed_by_hash(self, cli, tmp_path):
        m, hashes = self._folder(tmp_path, ref="evil/repo--modeling_evil.Model")
        code, fs, _ = run(cli, tmp_path, m, custom_code_allow_sha256=hashes)
        assert code == 1 and "another repository" in fs[0]["message"]

    def test_py_beside_weights_without_auto_map(self, cli, tmp_path):
        m = tmp_path / "m"
        config(m)
        write(m / "handler.py", "import os\n")
        code, fs, _ = run(cli, tmp_path, m)
        assert code == 1 and rules(fs) == ["PROV004"] and fs[0]["path"].endswith("handler.py")
        code, fs, _ = run(cli, tmp_path, m, custom_code="warn")
        assert code == 0 and rules(fs, blocking=False) == ["PROV004"]
        code, fs, _ = run(cli, tmp_path, m, custom_code="allow")
        assert code == 0 and fs == []

    def test_scripts_in_other_subfolders_are_not_model_code(self, cli, tmp_path):
        m = tmp_path / "m"
        config(m)
        write(m / "scripts" / "train.py", "import os\n")
        code, fs, _ = run(cli, tmp_path, m)
        assert code == 0 and fs == []
        write(m / "pkg" / "__init__.py", "")
        write(m / "pkg" / "modeling.py", "import os\n")
        code, fs, _ = run(cli, tmp_path, m)
        assert code == 1 and rules(fs) == ["PROV004"]


def test_policy_schema_rejects_unknown_action(cli, tmp_path):
    m = tmp_path / "m"
    config(m)
    code, _, _ = run(cli, tmp_path, m, custom_code="sometimes")
    assert code == 2


def test_rule_ids_used_are_declared():
    import ast
    from pathlib import Path

    from gates.provenance.rules import RULES

    src = Path(__file__).resolve().parents[2] / "gates" / "provenance"
    used = set()
    for py in src.glob("*.py"):
        for node in ast.walk(ast.parse(py.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("PROV") and node.value[4:].isdigit():
                used.add(node.value)
    assert used and used <= set(RULES)


def test_inventory_survives_waivers_and_lists_every_file_hash(tmp_path):
    """The core carries what a gate reports with ``ctx.component`` through waivers to the writers."""
    from provhelpers import policy as write_policy

    from gates.core.loader import load_policy
    from gates.core.registry import available_gates
    from gates.core.runner import run_gates

    m = tmp_path / "m"
    config(m)
    write(m / "handler.py", "import os\n")
    safetensors_file(m / "model.safetensors")
    pol = write_policy(tmp_path)
    text = pol.read_text() + ("waivers:\n  - rule: PROV004\n    path: m/handler.py\n    reason: reviewed\n    expires: 2099-01-01\n")
    pol.write_text(text)
    gates = available_gates()
    run = run_gates(gates, load_policy(pol, gates, root=tmp_path), tmp_path, only=["provenance"], explicit=True)
    (res,) = run.results
    assert res.status.value == "pass" and [f.waived for f in res.findings] == [True]
    (model,) = res.inventory
    assert model.kind == "machine-learning-model" and model.details["custom_code"] is True
    want = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in m.iterdir()}
    assert {p.name.rsplit("/", 1)[-1]: dict(p.hashes)["SHA-256"] for p in model.parts} == want
