"""Process entry points end without the interpreter's teardown, and lose nothing by it (issue 18).

Each case is a fresh interpreter: what matters is what the process leaves behind (exit code,
output, atexit work, threads' work)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROG = """
import atexit, sys, threading, time
from gates.core.fastexit import exit_process
out = sys.argv[1]
atexit.register(lambda: open(out + ".atexit", "w").write("ran"))
def late():
    time.sleep(0.3)
    open(out + ".thread", "w").write("done")
threading.Thread(target=late).start()           # not a daemon: the interpreter would wait for it
sys.stdout.write("x" * 300_000)                 # buffered output must all arrive
print("\\nstderr line", file=sys.stderr)
exit_process(int(sys.argv[2]))
"""


@pytest.mark.parametrize("code", [0, 1, 2])
def test_exit_code_output_atexit_and_threads_are_kept(tmp_path, code):
    base = tmp_path / "o"
    p = subprocess.run([sys.executable, "-c", PROG, str(base), str(code)], capture_output=True, text=True, timeout=60)
    assert p.returncode == code
    assert p.stdout == "x" * 300_000 and "stderr line" in p.stderr
    assert Path(str(base) + ".atexit").read_text() == "ran"
    assert Path(str(base) + ".thread").read_text() == "done"


def test_a_profiler_still_gets_its_results(tmp_path):
    """Under cProfile (which writes at the end) the ordinary exit is used."""
    out = tmp_path / "prof.out"
    code = "from gates.core.fastexit import exit_process; exit_process(3)"
    script = tmp_path / "s.py"
    script.write_text(code)
    p = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), str(script)], capture_output=True, text=True, timeout=60)
    assert out.exists() and out.stat().st_size > 0, p.stderr  # (cProfile itself swallows SystemExit: exit 0)


def test_python_m_gates_pii_exit_code_and_report(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "people.csv").write_text("name,email\nAda,ada@example.com\n")
    p = subprocess.run([sys.executable, "-m", "gates.pii", "people.csv", "--format", "json"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr
    assert json.loads(p.stdout)["status"] == "fail"
    p = subprocess.run([sys.executable, "-m", "gates", "pii", "missing.csv", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "missing.csv" in p.stderr


def test_console_main_is_main_with_a_process_exit(tmp_path):
    p = subprocess.run([sys.executable, "-c", "import sys; sys.argv[1:] = ['--version']; from gates.core.cli import console_main; console_main()"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("mlsec-gates ")


def test_runpy_callers_still_get_systemexit(tmp_path):
    """A program that runs ``gates.pii`` with runpy can catch its SystemExit: only ``python -m``
    ends the process directly."""
    code = ("import runpy, sys\n"
            "sys.argv = ['x', '--version']\n"
            "try:\n"
            "    runpy.run_module('gates', run_name='__main__', alter_sys=True)\n"
            "except SystemExit as exc:\n"
            "    print('caught', exc.code)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "caught 0", p.stderr


@pytest.mark.parametrize("argv, expected", [
    (["py", "-m", "gates.pii", "x"], True),
    (["py", "-X", "importtime", "-W", "error", "-m", "gates.pii"], True),
    (["py", "-mgates.pii"], True),
    (["py", "-m", "gates", "pii"], False),
    (["py", "script.py", "-m", "gates.pii"], False),
    (["py", "-c", "pass", "-m", "gates.pii"], False),
    (["py"], False),
])
def test_launched_as(monkeypatch, argv, expected):
    from gates.core.fastexit import launched_as

    monkeypatch.setattr(sys, "orig_argv", argv, raising=False)
    assert launched_as("gates.pii") is expected


@pytest.mark.parametrize("gate", ["model", "deps", "signature", "eval"])
def test_every_gate_module_ends_through_the_fast_exit_with_its_exit_code(tmp_path, gate):
    """``python -m gates.<gate>`` ends like ``mlsec-gates <gate>``: a usage error is exit 2 with
    the message on stderr, and ``--help`` exit 0 with the full help on stdout."""
    p = subprocess.run([sys.executable, "-m", f"gates.{gate}", "--no-such-flag"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "--no-such-flag" in p.stderr
    p = subprocess.run([sys.executable, "-m", f"gates.{gate}", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and f"mlsec-gates {gate}" in p.stdout
    source = (Path(__file__).resolve().parents[2] / "gates" / gate / "__main__.py").read_text()
    assert f'exit_process(main(["{gate}", *sys.argv[1:]]), "gates.{gate}")' in source
