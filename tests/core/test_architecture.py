"""The shared core must import no gate: gates plug in through the entry point only."""

from __future__ import annotations

import ast
from pathlib import Path

from gates.core.registry import available_gates

CORE = Path(__file__).resolve().parents[2] / "gates" / "core"


def test_core_imports_no_gate():
    gate_pkgs = set(available_gates())
    offenders = []
    for py in CORE.rglob("*.py"):
        tree = ast.parse(py.read_text())
        for node in ast.walk(tree):
            mods = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
                if node.level >= 2 or (node.module or "").startswith("gates."):
                    mods = [(node.module or "")] + [f"{node.module}.{a.name}" for a in node.names]
            for m in mods:
                parts = m.split(".")
                if len(parts) >= 2 and parts[0] == "gates" and parts[1] in gate_pkgs:
                    offenders.append(f"{py.name}: {m}")
                if node.__class__ is ast.ImportFrom and node.level == 2 and parts[0] in gate_pkgs:
                    offenders.append(f"{py.name}: ..{m}")
    assert offenders == []


def test_every_gate_rule_is_complete():
    for gate in available_gates().values():
        assert gate.rules, gate.name
        for rid, rule in gate.rules.items():
            assert rid == rule.id
            assert rule.title and rule.why and rule.remediation, rid
