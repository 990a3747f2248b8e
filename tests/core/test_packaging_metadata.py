"""Packaging metadata a registry and a licence scanner read: the SPDX licence expression with its
licence file, project URLs, classifiers, and a build backend that understands them (PEP 639)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the test extra runs on 3.11+ in CI; tomli is a dependency on 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))


def test_licence_is_an_spdx_expression_with_its_text(project):
    meta = project["project"]
    assert meta["license"] == canonicalize_license_expression(meta["license"]) == "Apache-2.0"
    assert meta["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text("utf-8")
    assert re.search(r"Apache License\s+Version 2\.0, January 2004", text) and "END OF TERMS AND CONDITIONS" in text
    assert not any(c.startswith("License ::") for c in meta["classifiers"])  # PEP 639: the expression replaces them


def test_build_backend_understands_pep_639(project):
    setuptools = next(Requirement(r) for r in project["build-system"]["requires"] if Requirement(r).name == "setuptools")
    assert setuptools.specifier.contains(Version("77.0")) and not setuptools.specifier.contains(Version("76.9"))


def test_urls_and_classifiers(project):
    meta = project["project"]
    assert {"Homepage", "Documentation", "Repository", "Issues"} <= set(meta["urls"])
    assert all(u.startswith("https://") for u in meta["urls"].values())
    supported = {c.rsplit(" :: ", 1)[1] for c in meta["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    floor = Version(meta["requires-python"].removeprefix(">="))
    assert min(supported, key=Version) == str(floor)
    assert "Topic :: Security" in meta["classifiers"]
