"""The bounded readers against damaged and hostile inputs: each fails closed with a reason, never
hangs, never reads past its limits."""

from __future__ import annotations

import os
import struct

import pytest
from provhelpers import config, gguf_file, onnx_file, run, safetensors_file, write

from gates.provenance.facts import Kind, ReadError
from gates.provenance.metadata import gguf_facts, gguf_general, onnx_metadata, safetensors_facts, sniff, source_id


def test_gguf_reader_reads_general_keys_written_by_gguf(tmp_path):
    g = gguf_file(tmp_path / "a.gguf", **{"general.license": "apache-2.0", "general.name": "tiny", "general.base_model.count": 2,
                                          "general.base_model.0.repo_url": "https://huggingface.co/org/base-a",
                                          "general.base_model.1.organization": "Org", "general.base_model.1.name": "base-b"})
    got = gguf_general(g, 1 << 20)
    assert got["general.architecture"] == "llama" and "tokenizer.ggml.tokens" not in got
    facts = {(f.kind, f.value) for f in gguf_facts(g, 1 << 20)}
    assert {(Kind.LICENSE, "apache-2.0"), (Kind.NAME, "tiny"), (Kind.BASE, "https://huggingface.co/org/base-a"), (Kind.BASE, "Org/base-b")} <= facts


def test_gguf_custom_licence_name(tmp_path):
    g = gguf_file(tmp_path / "a.gguf", **{"general.license": "other", "general.license.name": "acme-community"})
    assert [(f.kind, f.value, f.key) for f in gguf_facts(g, 1 << 20) if f.kind is Kind.LICENSE] == \
        [(Kind.LICENSE, "acme-community", "general.license.name")]
    g2 = gguf_file(tmp_path / "b.gguf", **{"general.license": "other"})
    assert [f.value for f in gguf_facts(g2, 1 << 20) if f.kind is Kind.LICENSE] == ["other"]  # judged unknown


def test_gguf_limits(tmp_path):
    g = gguf_file(tmp_path / "a.gguf", **{"general.license": "mit"})
    raw = bytearray(g.read_bytes())
    with pytest.raises(ReadError, match="max_metadata_mb"):
        gguf_general(g, 64)  # the header is larger than the limit
    bad = tmp_path / "kv.gguf"
    bad.write_bytes(raw[:16] + struct.pack("<Q", 1 << 40) + raw[24:])
    with pytest.raises(ReadError, match="too many keys"):
        gguf_general(bad, 1 << 20)
    huge = tmp_path / "str.gguf"
    huge.write_bytes(raw[:24] + struct.pack("<Q", 1 << 50) + raw[32:])
    with pytest.raises(ReadError, match="max_metadata_mb|truncated"):
        gguf_general(huge, 1 << 20)


def test_safetensors_metadata_and_broken_header(tmp_path):
    s = safetensors_file(tmp_path / "a.safetensors", {"license": "mit", "base_model": "org/base"})
    assert {(f.kind, f.value) for f in safetensors_facts(s, 1 << 20)} == {(Kind.LICENSE, "mit"), (Kind.BASE, "org/base")}
    bad = tmp_path / "b.safetensors"
    bad.write_bytes(struct.pack("<Q", 10) + b"{not json}" + bytes(8))
    assert sniff(bad) == "safetensors"
    with pytest.raises(ReadError, match="not valid JSON"):
        safetensors_facts(bad, 1 << 20)


def test_onnx_metadata_and_truncation(tmp_path):
    o = onnx_file(tmp_path / "a.onnx", {"license": "MIT", "author": "x"})
    assert onnx_metadata(o) == {"license": "MIT", "author": "x"}
    cut = tmp_path / "cut.onnx"
    cut.write_bytes(o.read_bytes()[:-3])
    with pytest.raises(ReadError, match="truncated"):
        onnx_metadata(cut)


def test_source_ids():
    assert source_id("https://huggingface.co/meta-llama/Llama-2-7b-hf/tree/main") == "meta-llama/Llama-2-7b-hf"
    assert source_id("hf.co/org/name") == "org/name"
    assert source_id("https://github.com/org/repo?token=x") == "github.com/org/repo"


def test_fifo_in_a_model_folder_is_not_opened(cli, tmp_path):
    m = tmp_path / "m"
    config(m)
    os.mkfifo(m / "model.safetensors")
    code, _, report = run(cli, tmp_path, m)
    assert code == 2
    assert any("not a regular file" in e["message"] for e in report["gates"]["provenance"]["errors"])


def test_unreadable_kitfile_yaml_fails_closed(cli, tmp_path):
    k = tmp_path / "kit"
    write(k / "Kitfile", "manifestVersion: 1.0\npackage: {name: [\n")
    code, _, report = run(cli, tmp_path, k)
    assert code == 2 and "Kitfile" in report["gates"]["provenance"]["errors"][0]["message"]
