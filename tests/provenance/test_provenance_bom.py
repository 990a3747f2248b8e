"""The CycloneDX ML-BOM of a realistic repository: model files written by the real libraries
(``../shared/testdata/models-benign`` plus a Hugging Face folder with safetensors and GGUF written
here by the safetensors and gguf libraries), datasets, pinned dependencies matched against the
PyPA advisory database snapshot. Validated strictly against the official CycloneDX 1.6 schema
shipped in cyclonedx-python-lib."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from provhelpers import card, config, dist_license, gguf_file, safetensors_file, write

REPO = Path(__file__).resolve().parents[2]
PINS = {"requests": "2.19.0", "urllib3": "1.24.1", "six": "1.16.0", "cryptography": "35.0.0"}


def validate(text: str) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    assert errors is None, [str(e) for e in errors]


def walk(components):
    for c in components:
        yield c
        yield from walk(c.get("components", []))


def props(c) -> dict[str, str]:
    return {p["name"]: p["value"] for p in c.get("properties", [])}


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def repo(tmp_path, shared):
    root = tmp_path / "repo"
    shutil.copytree(shared / "models-benign", root / "models" / "benign")
    hf = root / "models" / "sentiment"
    config(hf)
    card(hf, license="apache-2.0", datasets=["stanfordnlp/imdb"], pipeline_tag="text-classification",
         base_model="google-bert/bert-base-uncased", library_name="transformers")
    write(hf / "LICENSE", dist_license("requests"))
    safetensors_file(hf / "model.safetensors")
    gguf_file(root / "models" / "chat.gguf", **{"general.license": "mit", "general.name": "chat"})
    write(root / "data" / "train.csv", "id,text,label\n1,great film,1\n2,call me at +1 415 555 0100,0\n")
    shutil.copy(REPO / "examples" / "demo" / "data" / "tickets.jsonl", root / "data" / "tickets.jsonl")
    write(root / "requirements.txt", "".join(f"{n}=={v}\n" for n, v in PINS.items()))
    policy = {
        "version": 1,
        "gates": {
            "model": {"paths": ["models/**"], "profiles": ["torch", "numpy", "sklearn"]},
            "pii": {"paths": ["data/**"]},
            "deps": {"source": "local", "database": str(shared / "osv" / "pypa-advisory-database.json.gz"),
                     "sources": ["requirements.txt"]},
            "eval": {"enabled": False},
            "signature": {"enabled": False},
            "provenance": {"paths": ["models/**"], "licenses": {"allow": ["apache-2.0", "mit"], "unknown": "warn"}},
        },
    }
    write(root / ".mlsec-gates.yml", yaml.safe_dump(policy, sort_keys=False))
    return root


def test_bom_of_a_realistic_repository(cli, repo, tmp_path):
    bom_path, json_path = tmp_path / "bom.cdx.json", tmp_path / "report.json"
    res = cli("run", repo, "--format", "cyclonedx", "--output", bom_path, "--format", "json", "--output", json_path, "-q")
    assert res.code in (0, 1), res.err
    text = bom_path.read_text()
    validate(text)
    bom, report = json.loads(text), json.loads(json_path.read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    comps = list(walk(bom["components"]))

    # every model file, with its SHA-256
    hashes = {h["content"] for c in comps for h in c.get("hashes", []) if h["alg"] == "SHA-256"}
    model_files = sorted(p for p in (repo / "models").rglob("*") if p.is_file())
    assert len(model_files) >= 20
    assert {sha(p) for p in model_files} <= hashes
    models = [c for c in bom["components"] if c["type"] == "machine-learning-model"]
    assert len(models) == 16 + 2  # each shared file is a model of its own, plus the HF folder and the GGUF
    hf = next(c for c in models if c["name"].endswith("models/sentiment"))
    assert hf["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert hf["modelCard"]["modelParameters"]["task"] == "text-classification"
    assert hf["modelCard"]["modelParameters"]["datasets"] == [{"type": "dataset", "name": "stanfordnlp/imdb"}]
    assert hf["pedigree"]["ancestors"][0]["purl"] == "pkg:huggingface/google-bert/bert-base-uncased"
    assert {c["name"] for c in hf["components"]} == {"models/sentiment/" + n for n in ("README.md", "config.json", "LICENSE", "model.safetensors")}
    gg = next(c for c in models if c["name"] == "chat")
    assert gg["hashes"][0]["content"] == sha(repo / "models" / "chat.gguf") and gg["licenses"] == [{"license": {"id": "MIT"}}]
    torch_full = next(c for c in models if c["name"].endswith("torch_full_module_NOT_weights_only.pt"))
    assert props(torch_full)["mlsec-gates:model:verdict"] == "blocking"

    # every dataset file, with its SHA-256 and the pii verdict
    data = {c["name"]: c for c in bom["components"] if c["type"] == "data"}
    assert set(data) == {f"{repo.as_posix()}/data/train.csv", f"{repo.as_posix()}/data/tickets.jsonl"} or \
        {n.rsplit("/", 2)[-2] + "/" + n.rsplit("/", 1)[-1] for n in data} == {"data/train.csv", "data/tickets.jsonl"}
    for name, c in data.items():
        assert c["hashes"] == [{"alg": "SHA-256", "content": sha(repo / "data" / Path(name).name)}]
        assert props(c)["mlsec-gates:pii:verdict"] in ("blocking", "warning", "clean")
    assert "PHONE_NUMBER" in props(data[next(n for n in data if n.endswith("train.csv"))]).get("mlsec-gates:pii:entities", "")

    # every pin as a purl, advisories with ratings
    purls = {c["purl"] for c in bom["components"] if c["type"] == "library"}
    assert purls == {f"pkg:pypi/{n}@{v}" for n, v in PINS.items()}
    vulns = {v["id"]: v for v in bom["vulnerabilities"]}
    assert "PYSEC-2018-28" in vulns and vulns["PYSEC-2018-28"]["affects"][0]["ref"] == "pkg:pypi/requests@2.19.0"
    assert all(v["ratings"] for v in vulns.values())
    scored = [r for v in vulns.values() for r in v["ratings"] if r.get("score")]
    assert scored and all(r["method"] == "CVSSv31" and r["vector"].startswith("AV:") for r in scored)
    deps_findings = {f["advisory"] for f in report["findings"] if f["rule"] == "DEPS001"}
    assert deps_findings == set(vulns)
    assert not any(v["affects"][0]["ref"].startswith("pkg:pypi/cryptography") and v["id"] == "PYSEC-2024-225" for v in vulns.values())

    # run facts: every gate's verdict, the policy digest
    meta = props(bom["metadata"])
    assert meta["mlsec-gates:policy:sha256"] == report["policy"]["sha256"]
    for gate, g in report["gates"].items():
        assert meta[f"mlsec-gates:gate:{gate}"] == g["status"]
    assert meta["mlsec-gates:status"] == report["status"]


def test_demo_bom_carries_signature_results_and_the_blocked_model(cli, tmp_path):
    out = tmp_path / "demo.cdx.json"
    res = cli("run", REPO / "examples" / "demo", "--format", "cyclonedx", "--output", out, "-q")
    assert res.code == 1
    text = out.read_text()
    validate(text)
    bom = json.loads(text)
    meta = props(bom["metadata"])
    assert any(k.startswith("mlsec-gates:signature:SIG002") for k in meta) and meta["mlsec-gates:gate:provenance"] == "fail"
    labels = next(c for c in walk(bom["components"]) if c["name"].endswith("demo-classifier/labels.txt"))
    assert props(labels)["mlsec-gates:signature:verdict"] == "blocking"
    blocked = [c for c in bom["components"] if props(c).get("mlsec-gates:provenance:verdict") == "blocking"]
    assert blocked and all(c["type"] == "machine-learning-model" for c in blocked)


def test_hostile_names_stay_escaped_and_valid(cli, tmp_path):
    root = tmp_path / "r"
    m = root / "models" / "evil\x1b[2Jname"
    config(m)
    card(m, license="mit\u202egpl", datasets=["user@example.com/secret"])
    write(root / "data" / "x\rdata.csv", "a,b\n1,2\n")
    out = tmp_path / "bom.json"
    res = cli("run", root, "--format", "cyclonedx", "--output", out, "-q")
    assert res.code in (0, 1, 2)
    text = out.read_text()
    validate(text)
    assert "\x1b" not in json.loads(text).__repr__().replace("\\x1b", "") and "\u202e" not in json.loads(text).__repr__()
    assert "user@example.com" not in text


def test_licence_choices_are_valid_cyclonedx():
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

    from gates.core.reports.cyclonedx import _licenses

    assert [type(x) for x in _licenses(["apache-2.0", "llama3.1"])] == [DisjunctiveLicense, DisjunctiveLicense]
    assert _licenses(["apache-2.0"])[0].id == "Apache-2.0" and _licenses(["llama3.1"])[0].name == "llama3.1"
    (expr,) = _licenses(["MIT OR Apache-2.0", "gemma"])
    assert isinstance(expr, LicenseExpression) and "LicenseRef-gemma" in expr.value
