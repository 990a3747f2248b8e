"""``mlsec-gates hook GATE FILE...`` (what the pre-commit hooks run) applies the policy's paths,
exclude and enabled switch to the files it is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gates.core.files import select
from gates.core.registry import gate_names


def test_select_keeps_what_the_globs_select_and_anything_outside_the_root(tmp_path):
    root = tmp_path / "repo"
    files = [root / "data" / "a.csv", root / "fixtures" / "b.csv", root / "package.json", tmp_path / "elsewhere.csv"]
    kept, dropped = select(files, root, ["**/*.csv"], ["fixtures/**"])
    assert kept == [root / "data" / "a.csv", tmp_path / "elsewhere.csv"]
    assert dropped == [root / "fixtures" / "b.csv", root / "package.json"]
    rel_kept, _ = select([Path("data/a.csv")], Path("."), ["data/**"], [])  # relative, as pre-commit passes them
    assert rel_kept == [Path("data/a.csv")]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    if "pii" not in gate_names():
        pytest.skip("the pii gate is not installed")
    (tmp_path / "data").mkdir()
    (tmp_path / "fixtures").mkdir()
    rows = "name,email\n" + "".join(f"U{i},u{i}.x@corp-mail.example.org\n" for i in range(30))
    (tmp_path / "data" / "people.csv").write_text(rows)
    (tmp_path / "fixtures" / "people.csv").write_text(rows)
    monkeypatch.chdir(tmp_path)

    def policy(pii: dict) -> None:
        (tmp_path / ".mlsec-gates.yml").write_text(yaml.safe_dump({"version": 1, "gates": {"pii": pii}}))

    return policy


def test_hook_scans_only_selected_files(cli, repo):
    repo({"paths": ["**/*.csv"], "exclude": ["fixtures/**"]})
    r = cli("hook", "pii", "fixtures/people.csv")
    assert r.code == 0 and "nothing to check" in r.err
    r = cli("hook", "pii", "fixtures/people.csv", "data/people.csv", "-v")
    assert r.code == 1 and "data/people.csv" in r.out and "fixtures/people.csv" not in r.out
    assert "1 file(s) outside the pii gate's paths or excluded: fixtures/people.csv" in r.err


def test_hook_of_a_disabled_gate_checks_nothing(cli, repo):
    repo({"enabled": False})
    r = cli("hook", "pii", "data/people.csv")
    assert r.code == 0 and "disabled by the policy" in r.err


def test_hook_needs_a_known_gate(cli, repo):
    repo({})
    r = cli("hook", "nope", "data/people.csv")
    assert r.code == 2 and "unknown gate 'nope'" in r.err
