"""Module-level patterns compiled on first use replace themselves in their module (issue 18)."""

from __future__ import annotations

import re
import subprocess
import sys
import types

from gates.core.lazyre import LazyPattern, lazy


def test_a_lazy_pattern_compiles_on_first_use_and_takes_its_own_place():
    mod = types.ModuleType("m")
    mod.WORD = lazy(vars(mod), r"[a-z]+", re.IGNORECASE)
    mod.ALIAS = mod.WORD
    assert isinstance(mod.WORD, LazyPattern)
    assert mod.WORD.fullmatch("AbC") is not None and mod.WORD.fullmatch("a1") is None
    assert isinstance(mod.WORD, re.Pattern) and mod.ALIAS is mod.WORD  # every name bound to it
    assert mod.WORD.flags & re.IGNORECASE and mod.WORD.pattern == "[a-z]+"


def test_a_kept_reference_still_works():
    ns: dict = {}
    held = ns["P"] = lazy(ns, r"\d+")
    assert held.findall("a1b22") == ["1", "22"] and held.sub("#", "x12") == "x#"
    assert held.compiled() is ns["P"]


def test_importing_the_pii_gate_compiles_none_of_the_deferred_patterns():
    code = ("import gates.pii.gate, sys\n"
            "from gates.core.lazyre import LazyPattern\n"
            "mods = ['gates.pii.names', 'gates.pii.addresses', 'gates.pii.dates', 'gates.pii.phones',\n"
            "        'gates.pii.national_ids', 'gates.pii.documents', 'gates.core.hygiene']\n"
            "lazy = [m for m in mods if any(isinstance(v, LazyPattern) for v in vars(sys.modules[m]).values())]\n"
            "assert lazy == mods, lazy\n"
            "import gates.pii.names as n\n"
            "assert n.person_shape('Ada Lovelace') and isinstance(n._CJK, __import__('re').Pattern)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
