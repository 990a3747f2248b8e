"""``run --shard K/N`` and ``merge``: three shards merged equal one unsharded run (findings by
fingerprint, blocking count, statuses, exit code) on the demo and on a realistic repository;
every file is scanned in exactly one shard; an incomplete set of shards does not merge."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from gates.core.shard import Shard, assign, parse_shard, select
from gates.core.errors import UsageError

from .repo_fixture import DEMO, build_repo

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "gates" / "core" / "reports" / "report_schema.json").read_text())


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MLSEC_GATES_SHARD", None)
    return subprocess.run([sys.executable, "-m", "gates", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def run_json(root: Path, out: Path, *extra: str) -> tuple[int, dict]:
    p = cli("run", ".", "--format", "json", "--output", str(out), "-q", *extra, cwd=root)
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    return p.returncode, doc


def summary(doc: dict) -> dict:
    return {
        "fingerprints": sorted((f["gate"], f["rule"], f["path"], f["fingerprint"], f["blocking"], f["waived"]) for f in doc["findings"]),
        "summary": doc["summary"],
        "status": doc["status"],
        "exit_code": doc["exit_code"],
        "gates": {g: (r["status"], r["counts"]["blocking"], r["counts"]["findings"], sorted(f["path"] for f in r["files"]),
                      sorted(e["message"] for e in r["errors"])) for g, r in doc["gates"].items()},
    }


def sharded(root: Path, tmp: Path, n: int, fmt_extra: tuple[str, ...] = ()) -> tuple[int, dict, list[dict]]:
    parts, shard_docs = [], []
    for k in range(1, n + 1):
        out = tmp / f"shard{k}.json"
        code, doc = run_json(root, out, "--shard", f"{k}/{n}")
        assert code in (0, 1, 2)
        assert doc["shard"]["index"] == k and doc["shard"]["count"] == n
        parts.append(str(out))
        shard_docs.append(doc)
    merged = tmp / "merged.json"
    p = cli("merge", *parts, "--format", "json", "--output", str(merged), "-q", *fmt_extra, cwd=root)
    doc = json.loads(merged.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert p.returncode == doc["exit_code"], p.stderr
    return p.returncode, doc, shard_docs


@pytest.mark.parametrize("which", ["demo", "fixture"])
def test_three_shards_merged_equal_one_run(tmp_path, which):
    if which == "demo":
        root = tmp_path / "demo"
        shutil.copytree(DEMO, root, symlinks=True)
    else:
        root = build_repo(tmp_path / "repo")
    code, full = run_json(root, tmp_path / "full.json", "--format", "cyclonedx", "--output", str(tmp_path / "full.cdx.json"))
    mcode, merged, shards = sharded(root, tmp_path, 3, ("--format", "cyclonedx", "--output", str(tmp_path / "merged.cdx.json")))
    assert mcode == code
    assert summary(merged) == summary(full)
    assert merged["summary"]["blocking"] > 0 and code == 1
    # every file the per-file gates read was read by exactly one shard
    for gate in ("model", "pii"):
        seen = [f["path"] for d in shards for f in d["gates"][gate]["files"]]
        assert sorted(seen) == sorted(f["path"] for f in full["gates"][gate]["files"]) and len(seen) == len(set(seen))
    # repository-wide gates ran in shard 1 only
    for d in shards[1:]:
        assert d["gates"]["deps"]["status"] == "skipped"
        assert "shard 1" in d["gates"]["deps"]["skip_reason"]
    assert "shard" not in full and "shard" not in merged
    # the ML-BOM of the merge lists the same components, with the same hashes
    def components(p: Path) -> list:
        return sorted((c.get("name"), c.get("type"), json.dumps(c.get("hashes"))) for c in json.loads(p.read_text()).get("components", []))
    assert components(tmp_path / "merged.cdx.json") == components(tmp_path / "full.cdx.json")


def test_fixture_details_survive_the_merge(tmp_path):
    """The waiver used in one shard is not stale in the merge; the truly stale one is reported
    once; the escaped symlink is reported once; the work is spread over the shards."""
    root = build_repo(tmp_path / "repo")
    _, merged, shards = sharded(root, tmp_path, 3)
    stale = [f for f in merged["findings"] if f["rule"] == "CORE002"]
    assert len(stale) == 1 and "never_there" in stale[0]["message"]
    assert sum(1 for f in merged["findings"] if f["rule"] == "CORE003") == 1
    assert [f["path"] for f in merged["findings"] if f["waived"]] == ["models/unsafe_6.pkl"]
    # one shard alone reports the used waiver as stale: the merge must not
    assert any(len([f for f in d["findings"] if f["rule"] == "CORE002"]) == 2 for d in shards)
    sizes = [sum((root / f["path"]).stat().st_size for f in d["gates"]["model"]["files"]) for d in shards]
    assert min(sizes) > 0 and max(sizes) < 2 * min(sizes) + 4096


def test_merge_writes_any_format_and_exit_code(tmp_path):
    root = build_repo(tmp_path / "repo")
    parts = []
    for k in (1, 2):
        run_json(root, tmp_path / f"s{k}.json", "--shard", f"{k}/2")
        parts.append(str(tmp_path / f"s{k}.json"))
    for fmt in ("sarif", "junit", "markdown", "text", "codequality"):
        out = tmp_path / f"merged.{fmt}"
        p = cli("merge", *parts, "--format", fmt, "--output", str(out), "-q", cwd=root)
        assert p.returncode == 1, (fmt, p.stderr)
        assert "unsafe_0.pkl" in out.read_text()
    sarif = json.loads((tmp_path / "merged.sarif").read_text())
    rule_ids = {r["id"] for run in sarif["runs"] for r in run["tool"]["driver"]["rules"]}
    assert "MODEL001" in rule_ids


def test_incomplete_shard_sets_do_not_merge(tmp_path):
    root = build_repo(tmp_path / "repo", files=12)
    for k in (1, 2, 3):
        run_json(root, tmp_path / f"s{k}.json", "--shard", f"{k}/3")
    run_json(root, tmp_path / "other.json", "--shard", "1/2")
    run_json(root, tmp_path / "plain.json")
    other_policy = json.loads((tmp_path / "s3.json").read_text())
    other_policy["policy"]["sha256"] = "0" * 64
    (tmp_path / "s3-other-policy.json").write_text(json.dumps(other_policy))
    s = [str(tmp_path / f"s{k}.json") for k in (1, 2, 3)]
    for args, needle in [((s[0], s[1]), "missing: 3/3"), ((s[0], s[1], s[1]), "twice"),
                         ((*s, str(tmp_path / "other.json")), "different splits"), ((str(tmp_path / "plain.json"),), "not a shard report"),
                         ((s[0], s[1], str(tmp_path / "s3-other-policy.json")), "different policies")]:
        p = cli("merge", *args, "--format", "json", "--output", str(tmp_path / "m.json"), cwd=root)
        assert p.returncode == 2 and needle in p.stderr, (args, p.stderr)


def test_a_shard_with_no_files_passes_alone(tmp_path):
    """Shard 4 of 4 over two files owns nothing: not "nothing scanned" (an error), just empty."""
    root = tmp_path / "r"
    (root / "models").mkdir(parents=True)
    (root / "models" / "a.pkl").write_bytes(b"cos\nsystem\n(S'x'\ntR.")
    (root / "models" / "b.safetensors").write_bytes(b"\x02\0\0\0\0\0\0\0{}")
    codes = [cli("run", ".", "--gate", "model", "--shard", f"{k}/4", "-q", "--format", "json", "--output", str(tmp_path / f"{k}.json"), cwd=root).returncode
             for k in (1, 2, 3, 4)]
    assert sorted(codes) == [0, 0, 0, 1]
    p = cli("merge", *[str(tmp_path / f"{k}.json") for k in (1, 2, 3, 4)], "-q", "--format", "json", "--output", str(tmp_path / "m.json"), cwd=root)
    assert p.returncode == 1


def test_assignment_is_deterministic_balanced_and_total(tmp_path):
    paths = []
    for i in range(50):
        p = tmp_path / f"f{i:02d}"
        p.write_bytes(b"x" * (i * 37 % 1000))
        paths.append(p)
    a = assign(paths, 4)
    assert a == assign(list(reversed(paths)), 4)
    assert set(a.values()) == {1, 2, 3, 4} and set(a) == set(paths)
    parts = [select(paths, Shard(k, 4))[0] for k in (1, 2, 3, 4)]
    assert sorted(p for part in parts for p in part) == sorted(paths)
    loads = [sum(p.stat().st_size for p in part) for part in parts]
    assert max(loads) - min(loads) <= 1000


@pytest.mark.parametrize("spec", ["0/3", "4/3", "a/b", "3", "", "1/0"])
def test_bad_shard_specs_are_usage_errors(spec):
    with pytest.raises(UsageError):
        parse_shard(spec)


def test_shard_spec_parses():
    assert parse_shard(" 2 / 5 ") == Shard(2, 5)
