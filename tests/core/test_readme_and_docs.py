"""The README stays a quick start whose commands are true, and every page it (or a docs page)
links to exists; the CI pages' input tables match action.yml and the GitLab component."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
#: reference pages other branches are writing; delete each entry once its page has landed
PENDING: set[str] = set()  # pages linked before they exist (none now)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_keeps_the_two_set_up_commands():
    text = README.read_text("utf-8")
    assert "pip install '.[all]' && mlsec-gates run examples/demo" in text
    assert "pip install '.[test]' && pytest" in text
    assert "python3 -m venv" in text.split("## ")[1]  # the quick start creates a virtual environment first
    assert len(text.split("## Add it to GitHub")[0].splitlines()) <= 40, "the quick start fits one screen"


@pytest.mark.parametrize("page", [README, *sorted((REPO / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in LINK.findall(page.read_text("utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        resolved = (page.parent / target).resolve()
        rel = resolved.relative_to(REPO).as_posix() if resolved.is_relative_to(REPO) else str(resolved)
        assert resolved.exists() or rel in PENDING, f"{page.name}: broken link {target}"


def table_rows(text: str, header: str) -> dict[str, str]:
    """First column (without backticks) -> second column, of the table whose header row is ``header``."""
    lines = text.split(header, 1)[1].splitlines()[2:]
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1]
    return rows


def test_action_inputs_table_matches_action_yml():
    inputs = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
    rows = table_rows((REPO / "docs" / "ci.md").read_text(), "| input | default | meaning |")
    assert set(rows) == set(inputs)
    for name, spec in inputs.items():
        assert rows[name].strip("`").strip('"') == str(spec["default"]).strip('"'), name


def test_component_inputs_table_matches_the_spec():
    spec, _ = yaml.safe_load_all((REPO / "templates" / "mlsec-gates.yml").read_text())
    inputs = spec["spec"]["inputs"]
    rows = table_rows((REPO / "docs" / "gitlab-component.md").read_text(), "| input | default | meaning |")
    assert set(rows) == set(inputs)
    for name, inp in inputs.items():
        default = inp["default"]
        shown = str(default).lower() if isinstance(default, bool) else (default or '""')
        assert rows[name] == f"`{shown}`", name
