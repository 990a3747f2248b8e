"""The globs' fast paths (a substring every match contains, checked before the regex; one compiled
list per set of globs) answer exactly what the regex answers, on the pii gate's default globs and
on random globs and paths."""

from __future__ import annotations

import random

import pytest

from gates.core.files import _needle, any_match, glob_match, glob_to_regex

PATTERNS = ["**/*.csv", "**/*.csv.gz", "data/**", "**/b", "a/**/b", "*.json", "/top/*.txt", "./rel/x", "**/[ab]?.pq",
            "x[", "**/*[!~]", "dir/", "**/a**b", "**", "*", "?", "**/.cache/**", "a\\b"]
PATHS = ["a.csv", "d/a.csv", "a.csv/inner", "x.csv.gz", "data/x", "data", "b", "q/b", "a/b", "a/x/y/b", "ab", "top/z.txt",
         "rel/x", "k/ab.pq", "x[", "x~", "dir/y", "dir", "aab", "a/.cache/p", ".cache", "a\\b", ""]


def _regex(path: str, pattern: str) -> bool:
    return bool(glob_to_regex(pattern).match(path))


@pytest.mark.parametrize("pattern", PATTERNS)
def test_fast_paths_agree_with_the_regex(pattern):
    for path in PATHS:
        assert glob_match(path, pattern) == _regex(path, pattern), (path, pattern, _needle(pattern))
        assert any_match(path, [pattern]) == _regex(path, pattern)


def test_fast_paths_agree_on_random_globs_and_paths():
    rng = random.Random(7)
    atoms = ["a", "b", ".", "/", "*", "**", "**/", "?", "[ab]", "[!a]", "x", "csv"]
    for _ in range(3000):
        pattern = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 6)))
        path = "".join(rng.choice("ab./xcsv") for _ in range(rng.randint(0, 8)))
        want = _regex(path, pattern)
        assert glob_match(path, pattern) == want, (path, pattern)
        assert any_match(path, (pattern, "zzz")) == want, (path, pattern)


def test_the_pii_default_globs():
    from gates.pii.config import DEFAULT_PATHS

    for path in ("data/train.csv", "x.tar.zst", "a/b/c.parquet", "notes.md", "users.dat", "a.csv/b", "model.pkl"):
        assert any_match(path, DEFAULT_PATHS) == any(_regex(path, p) for p in DEFAULT_PATHS)
