"""Many small files with hostile names: the per-run memos of the report side (issue 18) clean
every file name, column name, message and evidence of every finding, the hundredth time as the
first, in every format.

File and column names carry an ANSI escape, a bidi override, a zero-width space and a token; the
cells hold tokens and e-mail addresses. Planted strings are generated at run time.
"""

from __future__ import annotations

import json
import random
import string

import pytest

FORMATS = ("text", "json", "markdown", "sarif", "junit", "codequality")
FILES = 40


def canaries() -> dict[str, str]:
    rng = random.Random(18)
    rnd = lambda n, chars=string.ascii_letters + string.digits: "".join(rng.choice(chars) for _ in range(n))  # noqa: E731
    return {"github": "ghp_" + rnd(36), "aws": "AKIA" + rnd(16, string.ascii_uppercase + "234567"), "hf": "hf_" + rnd(34, string.ascii_letters),
            "email": f"{rnd(9, string.ascii_lowercase)}@example.org"}


@pytest.fixture
def hostile(tmp_path):
    v = canaries()
    root = tmp_path / "data"
    root.mkdir()
    columns = [f"e\x1b[31mmail\u202e{i}" if i == 0 else f"tok_{v['github']}" if i == 1 else f"key\u200b{i}" for i in range(3)]
    for n in range(FILES):
        name = [f"p{n}\x1b[2J.csv", f"p{n}\u202etxt.csv", f"w_{v['github']}_{n}.csv", f"{v['aws']}-{n}.csv"][n % 4]
        rows = [",".join(columns)]
        for r in range(6):
            rows.append(f"{v['email'].replace('@', f'{r}@')},{v['github'][:-1]}{r},{v['hf'][:-1]}{r}")
        (root / name).write_text("\n".join(rows) + "\n")
    return tmp_path, root, v


def test_every_format_is_clean_for_many_hostile_files(cli, hostile):
    tmp_path, root, v = hostile
    outs = {fmt: tmp_path / f"report.{fmt}" for fmt in FORMATS}
    args = ["pii", str(root), "--root", str(tmp_path), "--workers", "1"]
    for fmt, out in outs.items():
        args += ["--format", fmt, "--output", str(out)]
    r = cli(*args)
    assert r.code == 1, r.err
    report = json.loads(outs["json"].read_text())
    assert report["gates"]["pii"]["counts"]["files"] == FILES
    per_file = {}
    for f in report["findings"]:
        per_file.setdefault(f["path"], set()).add(f["entity"])
    assert len(per_file) == FILES and all(len(e) >= 3 for e in per_file.values()), "a file's findings are missing"
    texts = {fmt: out.read_text() for fmt, out in outs.items()} | {"stdout": r.out, "stderr": r.err}
    for where, text in texts.items():
        assert not [k for k, s in v.items() if s in text], f"a canary leaked into {where}"
        assert "\x1b" not in text and "\u202e" not in text and "\u200b" not in text, f"a raw control character reached {where}"
    parsed = [report, json.loads(texts["sarif"]), json.loads(texts["codequality"])]

    def strings(x):
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            for k, y in x.items():
                yield k
                yield from strings(y)
        elif isinstance(x, list):
            for y in x:
                yield from strings(y)

    for doc in parsed:  # JSON escapes \x1b as \u001b: what a consumer prints is the parsed value
        for s in strings(doc):
            assert "\x1b" not in s and "\u202e" not in s and "\u200b" not in s and not any(c in s for c in v.values())
    # the names are shown (escaped, redacted), not dropped
    paths = sorted(per_file)
    assert any("\\x1b[2J" in p for p in paths) and any("\\u202e" in p for p in paths) and any("w_…" in p for p in paths)
    columns = {f["column"] for f in report["findings"]}
    assert "e\\x1b[31mmail\\u202e0" in columns and "tok_…" in columns
