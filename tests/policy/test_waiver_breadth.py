"""Waivers are judged by what they match, not by how they are spelt (issue 13, item 3): a
glob-rule waiver whose path matches files of every kind everywhere is refused, and
``forbid_rules`` holds against any glob that could cover a forbidden rule."""

from __future__ import annotations

import datetime as _dt
import fnmatch
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gates.core.matching import globs_intersect, is_catch_all_path

DAY = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()


def waiver(rule: str, path: str | None) -> str:
    p = f"    path: '{path}'\n" if path is not None else ""
    return f"  - rule: '{rule}'\n{p}    reason: accepted\n    expires: {DAY}\n"


def repo(tmp_path, write, waivers: str):
    root = tmp_path / "r"
    write(root / ".mlsec-gates.yml", "version: 1\n")
    write(root / "model.bin", "x")
    write(root / ".mlsec-gates-waivers.yml", "version: 1\nwaivers:\n" + waivers)
    return root


@pytest.mark.parametrize("path", ["**/*.*", "**", "*", "**/*", "*.*", "**/?*", "[a-zA-Z]*", "**/*[a-z]*", "./**/*.*", "/**"])
def test_a_catch_all_path_does_not_scope_a_glob_rule(cli, tmp_path, write, path):
    root = repo(tmp_path, write, waiver("*", path))
    r = cli("run", root, "--gate", "fmt")
    assert r.code == 2 and "waiver too broad" in r.err, r.err
    assert "matches files of every kind in every directory" in r.err


@pytest.mark.parametrize("path", ["model.bin", "data/**", "**/*.csv", "models/v1/**", "*.pkl", "**/fixtures/**"])
def test_a_scoped_path_is_accepted(cli, tmp_path, write, path):
    root = repo(tmp_path, write, waiver("FMT*", path))
    r = cli("policy", "show", root)
    assert r.code == 0, r.err


def test_a_plain_rule_id_may_use_any_path(cli, tmp_path, write):
    """Waiving one rule everywhere is a decision someone can read; only glob rules are judged."""
    root = repo(tmp_path, write, waiver("FMT001", "**/*.*"))
    assert cli("policy", "show", root).code == 0


def test_a_fingerprint_scopes_a_glob_rule(cli, tmp_path, write):
    root = repo(tmp_path, write, waiver("*", "**") + "    fingerprint: 0123456789abcdef\n")
    assert cli("policy", "show", root).code == 0


@pytest.mark.parametrize("rule,covered", [("M?DEL0[0-9]1", True), ("*001", True), ("[!P]*", True), ("MODEL1*", False),
                                           ("PII*", False), ("*L00?", True), ("[A-L]*", False)])
def test_forbid_rules_holds_by_what_a_glob_could_match(cli, tmp_path, write, rule, covered):
    root = tmp_path / "r"
    write(root / "org.yml", "version: 1\nlocks:\n  waivers:\n    forbid_rules: ['MODEL00*']\n")
    write(root / ".mlsec-gates.yml", "version: 1\nextends: [org.yml]\nwaivers:\n" + waiver(rule, "model.bin"))
    r = cli("policy", "show", root)
    assert (r.code == 2 and "may not be waived" in r.err) if covered else r.code == 0, r.err


def test_catch_all_is_decided_by_matching_probe_paths():
    assert is_catch_all_path(None) and is_catch_all_path("**/*.*")
    assert not is_catch_all_path("**/*.csv") and not is_catch_all_path("data/**")


# ---- the glob intersection, against brute force ------------------------------------------------
ALPHABET = "AB1"
STRINGS = ["".join(p) for n in range(6) for p in itertools.product(ALPHABET, repeat=n)]
atoms = st.sampled_from(["A", "B", "1", "?", "*", "[AB]", "[!A]", "[1-9]", "[!AB1]"])
globs = st.lists(atoms, max_size=5).map("".join)


@settings(max_examples=300, deadline=None)
@given(globs, globs)
def test_globs_intersect_agrees_with_brute_force(a, b):
    """Over a 3-letter alphabet, strings up to 5 long witness every overlap of two patterns of
    at most 5 atoms, except those needing a letter outside the alphabet ([!AB1])."""
    brute = any(fnmatch.fnmatchcase(s, a) and fnmatch.fnmatchcase(s, b) for s in STRINGS)
    if brute:
        assert globs_intersect(a, b)
    elif "[!AB1]" not in a + b:
        assert not globs_intersect(a, b)
