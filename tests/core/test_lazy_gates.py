"""Commands import only the gates they run, and a gate whose extra is missing fails closed with
the exact ``pip install`` command (issue 18).

Each case runs in a fresh interpreter: what matters is what one process imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GATE_PKGS = ("gates.eval", "gates.model", "gates.pii", "gates.deps", "gates.signature")
HEAVY = ("pyarrow", "numpy", "sigstore", "cryptography", "fickling", "pip_audit", "re2")

PROBE = """
import json, sys
BLOCK, ARGS, OUT = json.loads(sys.argv[1])
for name in BLOCK:
    sys.modules[name] = None  # `import name` now raises ModuleNotFoundError, as without the extra
from gates.core.cli import main
rc = main(ARGS)
mods = sorted(m for m in list(sys.modules) if sys.modules[m] is not None)
open(OUT, "w").write(json.dumps({"rc": rc, "modules": mods}))
"""


def probe(tmp_path: Path, args: list[str], block: tuple[str, ...] = (), cwd: Path | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "probe.json"
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps([list(block), args, str(out)])], cwd=cwd or tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert out.exists(), p.stderr
    return json.loads(out.read_text()), p


def loaded_gates(modules: list[str]) -> set[str]:
    return {g for g in GATE_PKGS if any(m == g or m.startswith(g + ".") for m in modules)}


def heavy(modules: list[str]) -> set[str]:
    return {h for h in HEAVY if h in modules}


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_no_gate(tmp_path, args):
    res, p = probe(tmp_path, args)
    assert res["rc"] == 0
    assert loaded_gates(res["modules"]) == set() and heavy(res["modules"]) == set()
    if args == ["--help"]:
        for name in ("eval", "model", "pii", "deps", "signature"):  # listed from entry-point metadata
            assert f"    {name} " in p.stdout


def _eval_tree(tmp_path: Path) -> Path:
    (tmp_path / "results.json").write_text('{"accuracy": 0.91}')
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  eval:\n    results: results.json\n"
                                             "    metrics:\n      accuracy: {min: 0.8}\n")
    return tmp_path


def test_eval_imports_only_the_eval_gate(tmp_path):
    res, p = probe(tmp_path, ["eval"], cwd=_eval_tree(tmp_path))
    assert res["rc"] == 0, p.stdout + p.stderr
    assert loaded_gates(res["modules"]) == {"gates.eval"} and heavy(res["modules"]) == set()


def test_eval_help_imports_only_the_eval_gate(tmp_path):
    res, p = probe(tmp_path, ["eval", "--help"])
    assert res["rc"] == 0 and "--baseline" in p.stdout
    assert loaded_gates(res["modules"]) == {"gates.eval"}


def test_run_imports_only_the_gates_it_runs(tmp_path):
    res, p = probe(tmp_path, ["run", ".", "--gate", "eval"], cwd=_eval_tree(tmp_path))
    assert res["rc"] == 0, p.stdout + p.stderr
    assert loaded_gates(res["modules"]) == {"gates.eval"}


def test_a_gate_whose_extra_is_missing_fails_closed_with_the_install_command(tmp_path):
    (tmp_path / "data.csv").write_text("name,email\nA,a@example.com\n")
    res, p = probe(tmp_path, ["pii", "."], block=("pyarrow",))
    assert res["rc"] == 2
    assert "pip install 'mlsec-gates[pii]'" in p.stderr and "pyarrow" in p.stderr


def test_run_skips_a_missing_gate_nobody_configured_and_says_how_to_install_it(tmp_path):
    _eval_tree(tmp_path)
    res, p = probe(tmp_path, ["run", ".", "--format", "json"], block=("pyarrow",))
    report = json.loads(p.stdout)
    pii = report["gates"]["pii"]
    assert pii["status"] == "skipped" and "pip install 'mlsec-gates[pii]'" in pii["skip_reason"]
    assert report["gates"]["eval"]["status"] == "pass" and res["rc"] == 0


def test_run_reports_a_missing_gate_the_policy_configures_as_an_error(tmp_path):
    _eval_tree(tmp_path)
    with (tmp_path / ".mlsec-gates.yml").open("a") as f:
        f.write("  pii:\n    fail_on: medium\n")
    res, p = probe(tmp_path, ["run", ".", "--format", "json"], block=("pyarrow",))
    assert res["rc"] == 2
    report = json.loads(p.stdout)
    pii = report["gates"]["pii"]
    assert pii["status"] == "error" and "pip install 'mlsec-gates[pii]'" in pii["errors"][0]["message"]
    assert report["gates"]["eval"]["status"] == "pass"


def test_a_library_imported_on_first_use_gives_the_same_command(tmp_path, monkeypatch):
    """Gates import heavy libraries inside ``run``: the runner turns that ModuleNotFoundError
    into the same install command (a missing module of the gate's own package does not)."""
    from gates.core.loader import load_policy
    from gates.core.registry import load_gate
    from gates.core.runner import run_gates

    gate = load_gate("pii")

    def run(self, ctx):
        import mlsec_gates_not_a_real_dependency  # noqa: F401

    monkeypatch.setattr(type(gate), "run", run)
    monkeypatch.setattr(type(gate), "skip_reason", lambda self, ctx: None)
    gates = {"pii": gate}
    result = run_gates(gates, load_policy(None, gates), tmp_path)
    assert result.exit_code == 2
    assert result.results[0].errors[0].message == (
        "the pii gate needs 'mlsec_gates_not_a_real_dependency', which is not installed: run pip install 'mlsec-gates[pii]'")
