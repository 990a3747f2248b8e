"""The deps package's shape: a thin face, the gate in ``gate.py``, no cycles between its modules."""

from __future__ import annotations

import ast
import importlib.metadata
from pathlib import Path

import gates.deps

PKG = Path(gates.deps.__file__).parent


def test_face_only_reexports():
    tree = ast.parse((PKG / "__init__.py").read_text())
    assert len((PKG / "__init__.py").read_text().splitlines()) <= 100
    defs = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    assert defs == [], [d.name for d in defs]
    assert set(gates.deps.__all__) >= {"DepsGate", "RULES", "Dependency"}
    assert not (PKG / "model.py").exists()  # renamed to records.py: no clash with the model gate's name


def test_entry_point_names_gate_module():
    eps = [ep for ep in importlib.metadata.entry_points(group="mlsec_gates.gates") if ep.name == "deps"]
    assert [ep.value for ep in eps] == ["gates.deps.gate:DepsGate"]
    assert eps[0].load() is gates.deps.DepsGate


def _imports(path: Path) -> set[str]:
    """Sibling modules imported by ``path`` (``from . import x``, ``from .x import y``, at any depth)."""
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom) and n.level == 1:
            out.update([n.module.split(".")[0]] if n.module else [a.name for a in n.names])
    return out


def test_no_import_cycles_between_deps_modules():
    graph = {p.stem: _imports(p) - {"__init__"} for p in PKG.glob("*.py") if p.stem not in ("__init__", "__main__")}

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for m in graph.get(todo.pop(), ()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    cycles = sorted(m for m in graph if m in reach(m))
    assert cycles == []
