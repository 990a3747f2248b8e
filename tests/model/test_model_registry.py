"""The tables agree: every format the sniffer returns has one registry line, the policy's format
names cover the registry, and every rule id a handler reports is declared in ``RULES``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import gates.model as model_pkg
from gates.model import registry, sniff
from gates.model.rules import RULES

#: names a handler may refine a sniffed format to (``zip`` -> ``pytorch``), not sniffed directly
REFINED = {"pytorch", "pytorch-legacy", "torchscript", "joblib", "npz", "keras"}


def _sniff_returns() -> set[str]:
    tree = ast.parse(inspect.getsource(sniff.sniff))
    return {n.value.value for n in ast.walk(tree) if isinstance(n, ast.Return) and isinstance(n.value, ast.Constant)}


def test_every_sniffed_format_has_one_registry_line():
    names = [s.name for s in registry.SPECS]
    assert len(names) == len(set(names))
    assert _sniff_returns() <= set(names), _sniff_returns() - set(names)


def test_policy_format_names_cover_the_registry_and_refinements():
    assert {s.name for s in registry.SPECS} - {"pickle?"} <= set(sniff.FORMATS)
    assert set(sniff.FORMATS) <= {s.name for s in registry.SPECS} | REFINED


def test_handlers_take_the_documented_arguments():
    for spec in registry.SPECS:
        if spec.handler is not None:
            params = list(inspect.signature(spec.handler).parameters)
            assert params == ["scan", "f", "src", "member", "depth", "name", "size"], (spec.name, params)


def test_every_rule_id_reported_is_declared():
    used: set[str] = set()
    for path in Path(model_pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if name in ("hit", "add", "Hit") and isinstance(node.args[0].value, str) and node.args[0].value.startswith("MODEL"):
                used.add(node.args[0].value)
    assert used and used <= set(RULES), used - set(RULES)
