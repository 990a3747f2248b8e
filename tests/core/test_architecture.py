"""The package's shape, enforced: no import cycles anywhere in ``gates/``, the core imports no
gate and no CI platform code, and no gate imports another gate.

The import graph is built with ``ast`` from every module under ``gates/``, counting imports at
module level *and* inside functions (a lazy import between sibling modules is still a cycle in
the design, only hidden until run time). Imports under ``if TYPE_CHECKING:`` never run and are
left out.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from gates.core.registry import available_gates, installed

PKG = Path(__file__).resolve().parents[2] / "gates"

#: cycles that exist today and are being removed elsewhere; each must still be a cycle (so the
#: entry goes when it is fixed).
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules inside ``gates`` that ``name`` imports, wherever the import statement is."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text("utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        for t in targets:
            # the deepest module of ``gates`` that the dotted name denotes
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and t.startswith("gates"):
                out.add(t)
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only, which
    never run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                todo.extend(child.orelse)
                continue
            todo.append(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[frozenset[str]] = set()
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.add(frozenset(comp))
    return out


def gate_packages() -> set[str]:
    """Top-level packages under ``gates`` that hold a registered gate."""
    return {".".join(ep.value.split(":")[0].split(".")[:2]) for ep in installed().values() if ep.value.startswith("gates.")}


def _pkg(mod: str) -> str:
    return ".".join(mod.split(".")[:2])


def test_graph_sees_function_level_imports():
    """The check would be toothless if lazy imports were missed: the CLI imports the text report
    inside a function."""
    assert "gates.core.reports.text" in import_graph()["gates.core.cli"]


def test_cycle_finder_finds_cycles():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == {frozenset({"a", "b", "c"})}


def test_no_import_cycles():
    found = cycles(import_graph())
    unexpected = sorted(sorted(c) for c in found - KNOWN_CYCLES)
    assert unexpected == [], f"import cycles in gates/: {unexpected}"


def test_known_cycles_still_exist():
    """A KNOWN_CYCLES entry that is gone must be deleted, so the list cannot hide a new cycle
    (the list is empty today: every cycle the architecture issue named is gone)."""
    found = cycles(import_graph())
    assert sorted(sorted(c) for c in KNOWN_CYCLES - found) == []


def test_core_imports_no_gate_and_no_ci():
    gates = gate_packages()
    assert {"gates.eval", "gates.model", "gates.pii", "gates.deps", "gates.signature"} <= gates
    banned = gates | {"gates.ci"}
    offenders = sorted(f"{m} -> {t}" for m, ts in import_graph().items() if m.startswith("gates.core")
                       for t in ts if _pkg(t) in banned)
    assert offenders == []


def test_no_gate_imports_another_gate():
    gates = gate_packages()
    offenders = sorted(f"{m} -> {t}" for m, ts in import_graph().items() if _pkg(m) in gates
                       for t in ts if _pkg(t) in gates and _pkg(t) != _pkg(m))
    assert offenders == []


def test_every_gate_rule_is_complete():
    for gate in available_gates().values():
        assert gate.rules, gate.name
        for rid, rule in gate.rules.items():
            assert rid == rule.id
            assert rule.title and rule.why and rule.remediation, rid


def test_ci_platform_package_is_outside_the_core():
    """CI platform code (GitHub/GitLab APIs, sticky comments) lives in ``gates.ci`` and reaches the
    CLI only through the ``mlsec_gates.commands`` entry point."""
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

    assert not (PKG / "core" / "ci").exists()
    project = tomllib.loads((PKG.parent / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["entry-points"]["mlsec_gates.commands"]["ci"] == "gates.ci:add_commands"
    assert any(t.startswith("gates.core") for t in import_graph()["gates.ci.report"])


def test_a_stale_commands_entry_point_does_not_break_the_cli(monkeypatch, capsys):
    """An install made before the move still names ``gates.core.ci:add_commands``: the CLI keeps
    working without those commands, with a warning that says to reinstall."""
    from importlib import metadata

    from gates.core import cli, registry

    stale = metadata.EntryPoint(name="ci", value="gates.core.ci:add_commands", group=cli.COMMANDS_GROUP)
    # the registry reads every entry point once per process; replace the commands group in it
    eps = metadata.EntryPoints([*(ep for ep in registry._all_entry_points() if ep.group != cli.COMMANDS_GROUP), stale])
    monkeypatch.setattr(registry, "_all_entry_points", lambda: eps)
    assert cli.main(["policy", "schema"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["$id"] == "urn:mlsec-gates:policy:v1"
    assert "commands 'ci' (gates.core.ci:add_commands) not loaded" in out.err and "reinstall" in out.err
    assert cli.main(["comment", "github", "--report", "r.json"]) == 2  # the command is simply absent
