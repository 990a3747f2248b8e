"""The licence module on its own: id normalisation, expression verdicts, licence-text titles."""

from __future__ import annotations

import sys

import pytest

from gates.core.errors import InputError
from gates.provenance import licenses
from gates.provenance.licenses import Verdict, identify_text, judge, normalise, symbols

ALLOWED = {"mit", "apache-2.0", "bsd-3-clause", "gpl-3.0"}


def verdict(ident: str) -> Verdict:
    return Verdict.OK if ident in ALLOWED else Verdict.BAD


@pytest.mark.parametrize("value,want", [
    ("GPL-3.0-only", "gpl-3.0"), ("Apache 2.0", "apache-2.0"), ("  MIT  ", "mit"), ("LGPL-2.1-only", "lgpl-2.1"),
    ("llama3_1", "llama3.1"), ("CC-BY-NC-4.0", "cc-by-nc-4.0"),
])
def test_normalise(value, want):
    assert normalise(value) == want


@pytest.mark.parametrize("expr,want", [
    ("MIT", Verdict.OK), ("cc-by-nc-4.0", Verdict.BAD), ("other", Verdict.UNKNOWN), ("unknown", Verdict.UNKNOWN),
    ("MIT OR cc-by-nc-4.0", Verdict.OK), ("MIT AND cc-by-nc-4.0", Verdict.BAD), ("MIT AND other", Verdict.UNKNOWN),
    ("MIT OR other", Verdict.OK), ("cc-by-nc-4.0 OR other", Verdict.UNKNOWN),
    ("(Apache-2.0 OR cc-by-nc-4.0) AND BSD-3-Clause", Verdict.OK), ("GPL-3.0-only WITH GCC-exception-3.1", Verdict.OK),
    ("MIT AND", Verdict.UNKNOWN), ("GPL-3.0-only", Verdict.OK),
])
def test_judge(expr, want):
    assert judge(expr, verdict) is want


def test_symbols():
    assert symbols("MIT OR (Apache-2.0 AND BSD-3-Clause)") == ["mit", "apache-2.0", "bsd-3-clause"]
    assert symbols("llama3.1") == ["llama3.1"]


@pytest.mark.parametrize("title,want", [
    ("Attribution-NonCommercial 4.0 International\n\nCreative Commons Attribution-NonCommercial 4.0 International Public License", "cc-by-nc-4.0"),
    ("Creative Commons Attribution-ShareAlike 4.0 International Public License", "cc-by-sa-4.0"),
    ("Creative Commons Legal Code\n\nAttribution-NonCommercial-NoDerivs 3.0 Unported ... Creative Commons Attribution-NonCommercial-NoDerivs 3.0", "cc-by-nc-nd-3.0"),
    ("LLAMA 2 COMMUNITY LICENSE AGREEMENT\nLlama 2 Version Release Date: July 18, 2023", "llama2"),
    ("META LLAMA 3 COMMUNITY LICENSE AGREEMENT", "llama3"),
    ("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT", "llama3.1"),
    ("Gemma Terms of Use\n\nLast modified: February 21, 2024", "gemma"),
    ("CreativeML Open RAIL-M\ndated August 22, 2022", "creativeml-openrail-m"),
    ("BigScience RAIL License v1.0\ndated May 19, 2022", "bigscience-bloom-rail-1.0"),
    ("BigCode Open RAIL-M v1 License Agreement", "bigcode-openrail-m"),
    ("Copyright (c) 2024 Acme\nAll rights reserved. Do not copy.", None),
])
def test_identify_titles(title, want):
    assert identify_text(title) == want


def test_missing_library_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "license_expression", None)
    licenses._lib.cache_clear()
    try:
        assert judge("MIT", verdict) is Verdict.OK  # one id: no parsing needed
        with pytest.raises(InputError, match="license-expression"):
            judge("MIT OR Apache-2.0", verdict)
    finally:
        licenses._lib.cache_clear()


def test_cyclonedx_without_the_library_is_a_usage_error(monkeypatch):
    from gates.core.errors import UsageError
    from gates.core.reports import cyclonedx

    monkeypatch.setitem(sys.modules, "cyclonedx.output.json", None)
    with pytest.raises(UsageError, match="cyclonedx-python-lib"):
        cyclonedx.to_dict(None)  # type: ignore[arg-type]
