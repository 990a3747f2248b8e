"""The fast paths of output hygiene give exactly what the full step gives (issue 18).

``clean`` returns a string at once when :func:`inert` proves no pattern can match and nothing needs
escaping; :class:`Memo` cleans each distinct string of a run once; ``GateContext`` remembers shown
paths. None of it may let a control character, a bidi override or a credential through: each is
compared here with the full step (every pattern, then the escapes) on hostile strings.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gates.core.findings import Rule, Severity
from gates.core.gate import Gate, GateContext
from gates.core.hygiene import (Memo, clean, clean_name, escape_controls, inert, redact_pii, redact_secrets,
                                redact_urls)


def full(s: str, pii: bool) -> str:
    """The full step, without any fast path: what ``clean`` did before."""
    s = redact_secrets(redact_urls(s))
    if pii:
        s = redact_pii(s)
    return escape_controls(s)


TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.zzzzzzzzzzzz"
#: one sample per pattern family, and the characters the escapes are for
HOSTILE = [
    TOKEN, AWS, "ASIA" + "0123456789ABCDEF", JWT, "github_pat_" + "a" * 40, "glpat-" + "x" * 24, "xoxb-" + "1" * 12,
    "sk_live_" + "a" * 20, "rk_test_" + "B" * 20, "sk-proj-" + "c" * 24, "hf_" + "D" * 34,
    "https://alice:pw@git.example.com/r?token=1", "s3:/bucket/key?sig=abc", "password=hunter22", "API_KEY: 'abcd1234'",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", "jane@example.org", "4111 1111 1111 1111",
    "+44 20 7946 0958 12", "123456789", "\x1b[31mred", "a\u202eb", "zero\u200bwidth", "line\nbreak", "tab\there", "cr\rx",
    "\x00", "\x7f", "\u2028", "ſecret=abcdef", "PASSWORD=abcdef", "token:abcdef", "api_\u212aey=abcd",
]
#: fragments for random strings: pieces of every pattern, separators, escapes, look-alikes
FRAGMENTS = [
    "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ABCDEFGHIJKLMNOP", "0123456789", "ghp_", "gho_", "github_pat_", "glpat-",
    "xoxb-", "xoxp-", "sk_live_", "pk_test_", "rk_live_", "sk-", "sk-proj-", "hf_", "eyJ", "eyJhbGciOi", "eyJzdWIiOjF9x.",
    "zzzzzzzz", ".", "..",
    "-----BEGIN ", "PRIVATE KEY-----", "-----END ", "pass", "password", "PASSWD", "Secret", "token", "api_key", "api-key",
    "apikey", "access_key", "auth", "Credential", "private_key", "=", ":", " ", "/", "//", "https:", "s3:", "user:pw@", "?q=1",
    "?", "#", "@", "example.com", "a", "Z", "x", "_", "-", "+", "'", '"', ",", ";", "1", "12", "123", "4567", "*", "***-**-",
    "\x1b[31m", "\x1b", "\u202e", "\u200b", "\n", "\r", "\t", "\x00", "é", "ſ", "\u212a", "\u0663", "\U0001f600", "\u00a0",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "0000000000000000",
]


def random_strings(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = [rnd.choice(FRAGMENTS) for _ in range(rnd.randint(1, 10))]
        if rnd.random() < 0.3:  # random repetitions of single characters make digit runs and long bodies
            parts.insert(rnd.randrange(len(parts) + 1), rnd.choice("0123456789aZ_-") * rnd.randint(1, 40))
        out.append("".join(parts))
    return out


@pytest.mark.parametrize("pii", [True, False])
def test_clean_equals_the_full_step_on_random_hostile_strings(pii):
    for s in random_strings(20000, seed=18 + pii):
        assert clean(s, pii=pii) == full(s, pii), repr(s)
        if inert(s, pii):
            assert full(s, pii) == s, f"inert({s!r}) but the full step changes it"


@pytest.mark.parametrize("s", HOSTILE)
def test_no_sample_of_a_pattern_or_an_escape_is_inert(s):
    assert not inert(s, pii=True)
    assert clean(s) == full(s, True) != s
    if not inert(s, pii=False):
        assert clean_name(s) == full(s, False)


@pytest.mark.parametrize("s, pii, expected", [
    # letters and digits only: an AWS key id only at the start, a digit run only as the whole string
    (AWS, False, False), ("x" + AWS, False, True), (AWS.lower(), False, True), ("123456789", True, False),
    ("123456789", False, True), ("a123456789", True, True), ("12345678", True, True), ("9578c201868625ae", False, True),
    # plain text the reports are full of
    ("date of birth in column 'birth_date': 24 of 24 rows (100.00%)", False, True), ("1********5", True, True),
    ("***-**-6656", True, True), ("data/2024-01-01/users.csv", False, True),
    # a secret word next to ':' or '=' is enough to run the patterns (case-insensitive)
    ("author: x", True, False), ("Auth=1", False, False), ("authors", True, True),
    ("user@example", True, False), ("user@example", False, True), ("12-34-56-78-9", True, False),
])
def test_inert_on_the_edges(s, pii, expected):
    assert inert(s, pii) is expected
    assert clean(s, pii=pii) == full(s, pii)


def test_memo_cleans_like_clean_and_clean_name():
    memo = Memo()
    for s in HOSTILE + random_strings(3000, seed=7):
        for _ in range(2):  # the second time from the memo
            assert memo.name(s) == clean_name(s)
            assert memo.text(s) == clean(s)
    assert memo.name(42) == "42" and memo.text(Path("a\x1bb")) == "a\\x1bb"


def test_memo_is_bounded_and_keeps_no_long_string(monkeypatch):
    monkeypatch.setattr(Memo, "LIMIT", 10)
    memo = Memo()
    for i in range(100):
        assert memo.name(f"col{i}\x1b") == f"col{i}\\x1b"
        assert len(memo.names) <= 10
    long = "\x1b" + "x" * 1000
    assert memo.name(long) == clean_name(long) and long not in memo.names


def test_memo_value_cleans_every_string_in_a_structure_and_keeps_the_rest():
    memo = Memo()
    value = {"examples": [{"row": 1, "evidence": TOKEN, "ok": True, "ratio": 0.5, "none": None}],
             "pair": (f"a\x1b{AWS}", 3), "nested": [[["\u202e"]]], "k\x1b": "v"}
    out = memo.value(value)
    assert out == {"examples": [{"row": 1, "evidence": "…", "ok": True, "ratio": 0.5, "none": None}],
                   "pair": ("a\\x1b…", 3), "nested": [[["\\u202e"]]], "k\x1b": "v"}
    assert type(out["pair"]) is tuple
    # a copy: the gate changing its own structure afterwards does not reach the finding
    value["examples"][0]["evidence"] = "\x1b"
    assert out["examples"][0]["evidence"] == "…"


class _Gate(Gate):
    name = "fake"
    title = "fake"
    rules = {"F001": Rule("F001", "fake", Severity.HIGH, "why", "fix")}

    def run(self, ctx: GateContext) -> None:  # pragma: no cover - not run
        pass


@pytest.mark.parametrize("name", [f"w_{TOKEN}.csv", "a\x1b[2Jb.csv", "r\u202eevil.csv", f"{AWS}.csv"])
def test_context_cleans_every_field_of_every_finding_from_a_hostile_file(tmp_path, name):
    ctx = GateContext(gate=_Gate(), root=tmp_path, options={}, policy={}, cwd=tmp_path)
    path = tmp_path / "d" / name
    for i in range(3):  # the second and third time from the memos
        f = ctx.add("F001", f"value in column '{name}'", path, column=f"c\x1b{i}", entity="X", evidence=f"{TOKEN} jane@example.org",
                    member=f"m\u202e{TOKEN}", examples=[{"evidence": TOKEN, "value_hash": "ab12", "row": i}, {"evidence": "\x1b"}],
                    note=(TOKEN, 1))
        shown = [f.message, f.path, f.column, f.member, f.evidence, *[v for e in f.extra["examples"] for v in e.values()],
                 *f.extra["note"], *[e.path for e in ctx.files]]
        ctx.scanned(path, 1)
        for s in map(str, shown):
            assert TOKEN not in s and AWS not in s and "\x1b" not in s and "\u202e" not in s, s
        assert f.evidence == "… …@…" and f.column == f"c\\x1b{i}" and f.extra["examples"][0] == {"evidence": "…", "value_hash": "ab12", "row": i}
        assert f.path == clean_name(f"d/{name}") and f.rel_path == f"d/{name}"  # rel_path raw: waivers match on it


def test_context_shows_a_path_for_the_working_directory_of_the_moment(tmp_path):
    ctx = GateContext(gate=_Gate(), root=tmp_path, options={}, policy={}, cwd=tmp_path)
    p = tmp_path / "sub" / "x.csv"
    assert ctx.display(p) == "sub/x.csv" and ctx.relative(p) == "sub/x.csv"
    ctx.cwd = tmp_path / "sub"
    ctx.root = tmp_path / "sub"
    assert ctx.display(p) == "x.csv" and ctx.relative(p) == "x.csv"


def test_the_working_directory_and_root_are_resolved_once_for_many_paths(tmp_path, monkeypatch):
    """Showing a run's files resolves the working directory's links once, not per file (it was
    an ``lstat`` per component, per file); a link in it is still resolved."""
    from gates.core import files

    real = tmp_path / "real"
    (real / "d").mkdir(parents=True)
    (tmp_path / "link").symlink_to(real)
    calls = []
    resolve = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, *a, **k: (calls.append(self), resolve(self, *a, **k))[1])
    shown = [files.display_path(real / "d" / f"p{i}.csv", tmp_path / "link") for i in range(50)]
    assert shown == [f"d/p{i}.csv" for i in range(50)]
    assert len(calls) <= 1
    calls.clear()
    rel = [files.root_relative(real / "d" / f"p{i}.csv", tmp_path / "link" / "d") for i in range(50)]
    assert rel == [f"p{i}.csv" for i in range(50)] and len(calls) <= 1  # the root too
