"""How the command line behaves around the report: terminals of unknown or zero width, colour
variables, -q and errors, report flags checked before the scan, --verbose, the progress bar,
--exit-zero and "did you mean"."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
import yaml

from gates.core import console, events

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"
ENV_VARS = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "CI", "TERM")


@pytest.fixture(autouse=True)
def plain_env(monkeypatch):
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return {**env, **extra}


def run_in_pty(args: list[str], cols: int, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """``python -m gates ARGS`` with stdout, stderr and stdin on a pseudo-terminal of ``cols``
    columns (0: the terminal reports no width, as some ``docker -t`` set-ups do)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 0, cols, 0, 0))
    assert os.get_terminal_size(slave).columns == cols
    p = subprocess.Popen([sys.executable, "-m", "gates", *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                         close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif p.poll() is not None:
            break
    code = p.wait(timeout=30)
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def eval_demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO / "eval", root / "eval")
    shutil.copy(DEMO / ".mlsec-gates.yml", root / ".mlsec-gates.yml")
    return root


# ---- width ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cols", [0, 40])
def test_console_under_a_pseudo_terminal_prints_the_result(tmp_path, cols):
    root = eval_demo(tmp_path)
    code, out = run_in_pty(["run", str(root), "--gate", "eval", "--progress", "never"], cols, child_env(TERM="xterm", NO_COLOR="1"), tmp_path)
    assert code == 1, out
    assert "Result: FAIL" in out and "EVAL001" in out and "hellaswag/acc_norm" in out
    assert "blocking" in out  # the table's header made it out too


def test_width_falls_back_and_columns_wins():
    tty_zero = io.StringIO()
    assert console.console_width(tty_zero, {}) == console.FALLBACK_WIDTH  # not a terminal
    assert console.console_width(tty_zero, {"COLUMNS": "73"}) == 73
    assert console.console_width(tty_zero, {"COLUMNS": "0"}) == console.FALLBACK_WIDTH
    assert console.console_width(tty_zero, {"COLUMNS": "wide"}) == console.FALLBACK_WIDTH


def test_no_hard_wraps_off_a_terminal_and_columns_sizes_the_table(cli, tmp_path, monkeypatch):
    root = eval_demo(tmp_path)
    r = cli("run", root, "--gate", "eval")
    assert r.code == 1
    long_lines = [line for line in r.out.splitlines() if "regressed by" in line]
    assert long_lines and all(line.rstrip().endswith(")") for line in long_lines)  # the sentence is whole on its line
    monkeypatch.setenv("COLUMNS", "60")
    narrow = cli("run", root, "--gate", "eval")
    table = [line for line in narrow.out.splitlines() if line.startswith(("┏", "┃", "│", "└", "┗"))]
    assert table and max(len(line) for line in table) <= 60


# ---- colour -------------------------------------------------------------------------------------
@pytest.mark.parametrize("env, coloured", [({}, False), ({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False)])
def test_force_color_and_no_color(cli, tmp_path, monkeypatch, env, coloured):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = cli("run", eval_demo(tmp_path), "--gate", "eval")
    assert ("\x1b[" in r.out) is coloured
    if coloured:
        assert "\x1b[" not in cli("run", eval_demo(tmp_path / "again"), "--gate", "eval", "--no-color").out


# ---- -q and errors ------------------------------------------------------------------------------
def broken_root(tmp_path: Path) -> Path:
    root = tmp_path / "broken"
    (root / "eval").mkdir(parents=True)
    (root / "eval" / "results.json").write_text("{not json")
    (root / ".mlsec-gates.yml").write_text(yaml.safe_dump({"version": 1, "gates": {"eval": {"results": ["eval/results.json"]}}}))
    return root


@pytest.mark.parametrize("extra", [["-q"], ["-q", "--format", "json", "--output", "r.json"], ["--format", "json"]])
def test_quiet_never_hides_an_error(cli, tmp_path, extra):
    root = broken_root(tmp_path)
    r = cli("run", root, "--gate", "eval", *extra, cwd=tmp_path)
    assert r.code == 2
    assert "mlsec-gates: error: [eval]" in r.err and "results.json" in r.err
    if extra[0] == "-q":
        assert r.out == ""


def test_quiet_with_an_error_in_a_subprocess_prints_it_on_stderr(tmp_path):
    root = broken_root(tmp_path)
    p = subprocess.run([sys.executable, "-m", "gates", "run", str(root), "-q"], capture_output=True, text=True, env=child_env(), timeout=120)
    assert p.returncode == 2 and p.stdout == ""
    assert "error: [eval]" in p.stderr and "results.json" in p.stderr


# ---- report flags first -------------------------------------------------------------------------
@pytest.mark.parametrize("flags, message", [
    (["--output", "r.json"], "each --output needs a --format"),
    (["--format", "json", "--format", "sarif"], "only one --format can go to stdout"),
    (["--format", "json", "--output", "same", "--format", "sarif", "--output", "same"], "is given for both"),
    (["--format", "json", "--output", "afile/r.json"], "is not a directory"),
    (["--format", "json", "--output", "adir"], "is a directory"),
])
def test_report_flags_are_checked_before_scanning(cli, tmp_path, monkeypatch, flags, message):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "adir").mkdir()
    import gates.core.runner as runner  # the CLI imports run_gates from here when a command scans

    def no_scan(*a, **k):
        raise AssertionError("scanned before the report flags were checked")

    monkeypatch.setattr(runner, "run_gates", no_scan)
    r = cli("run", eval_demo(tmp_path), "--gate", "eval", *flags, cwd=tmp_path)
    assert r.code == 2 and message in r.err, r.err
    g = cli("eval", "--root", eval_demo(tmp_path / "g"), *flags, cwd=tmp_path)
    assert g.code == 2 and message in g.err


def test_missing_output_directories_are_created(cli, tmp_path):
    r = cli("run", eval_demo(tmp_path), "--gate", "eval", "-q", "--format", "json", "--output", "new/dir/r.json", cwd=tmp_path)
    assert r.code == 1 and json.loads((tmp_path / "new/dir/r.json").read_text())["status"] == "fail"


# ---- verbose and progress -----------------------------------------------------------------------
def test_verbose_lists_scanned_files_on_stderr(cli, tmp_path):
    r = cli("run", eval_demo(tmp_path), "--gate", "eval", "-v", "--format", "json", cwd=tmp_path)
    assert r.code == 1
    json.loads(r.out)  # stdout keeps the report alone
    assert "[1/1] eval" in r.err
    assert "eval: demo/eval/results_2026-11-20T10-00-00.json (16 items)" in r.err and "demo/eval/slices.csv" in r.err
    quiet = cli("run", eval_demo(tmp_path / "q"), "--gate", "eval", "-q")
    assert "eval/slices.csv" not in quiet.err


def test_progress_only_on_a_terminal_outside_ci():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert console.want_progress("auto", False, Tty(), {}) is True
    assert console.want_progress("auto", False, Tty(), {"CI": "true"}) is False
    assert console.want_progress("auto", True, Tty(), {}) is False  # -q
    assert console.want_progress("auto", False, io.StringIO(), {}) is False
    assert console.want_progress("always", False, io.StringIO(), {"CI": "true"}) is True
    assert console.want_progress("never", False, Tty(), {}) is False


def feed(fb: console.Feedback, pause: float) -> None:
    with events.listening(fb), fb:
        events.emit(events.Event(events.GATE_START, "pii", index=1, total=2))
        events.emit(events.Event(events.FILE, "pii", "data/a.csv", 3))
        time.sleep(pause)
        events.emit(events.Event(events.FILE, "pii", "data/b.csv", 3))
        time.sleep(pause)
        events.emit(events.Event(events.RUN_END))


def test_progress_bar_appears_only_after_the_delay():
    slow = io.StringIO()
    feed(console.Feedback(verbose=False, progress=True, stream=slow, delay=0.05, force_terminal=True), 0.3)
    assert "pii (1/2)" in slow.getvalue() and "data/b.csv" in slow.getvalue()
    quick = io.StringIO()
    feed(console.Feedback(verbose=False, progress=True, stream=quick, delay=5, force_terminal=True), 0.01)
    assert quick.getvalue() == ""


def test_progress_never_reaches_a_ci_log(tmp_path):
    p = subprocess.run([sys.executable, "-m", "gates", "run", str(eval_demo(tmp_path)), "--gate", "eval"], capture_output=True,
                       text=True, env=child_env(CI="true"), timeout=120)
    assert p.returncode == 1 and p.stderr == ""


# ---- --exit-zero --------------------------------------------------------------------------------
def test_exit_zero_reports_without_failing_and_errors_still_fail(cli, tmp_path):
    out = tmp_path / "r.json"
    r = cli("run", eval_demo(tmp_path), "--gate", "eval", "--exit-zero", "--format", "json", "--output", out)
    assert r.code == 0 and "report-only" in r.err and "Result: FAIL" in r.out
    assert json.loads(out.read_text())["status"] == "fail"  # the reports tell the truth
    assert cli("run", broken_root(tmp_path), "--gate", "eval", "--exit-zero").code == 2  # fail closed


def test_fail_on_none_in_the_policy_passes_like_exit_zero(cli, tmp_path):
    root = eval_demo(tmp_path)
    policy = yaml.safe_load((root / ".mlsec-gates.yml").read_text())
    policy["defaults"]["fail_on"] = "none"
    (root / ".mlsec-gates.yml").write_text(yaml.safe_dump(policy))
    r = cli("run", root, "--gate", "eval")
    assert r.code == 0 and "Result: PASS" in r.out and "0 blocking" in r.out
    assert cli("run", eval_demo(tmp_path / "flag"), "--gate", "eval", "--fail-on", "none").code == 0


# ---- did you mean -------------------------------------------------------------------------------
def test_did_you_mean_for_policy_keys_and_metric_names(cli, tmp_path):
    root = eval_demo(tmp_path)
    policy = yaml.safe_load((root / ".mlsec-gates.yml").read_text())
    policy["gates"]["eval"]["enabeld"] = True
    (root / ".mlsec-gates.yml").write_text(yaml.safe_dump(policy))
    r = cli("policy", "validate", root / ".mlsec-gates.yml")
    assert r.code == 2 and "gates.eval.enabeld: unknown key (did you mean 'enabled'?)" in r.err

    root = eval_demo(tmp_path / "metric")
    policy = yaml.safe_load((root / ".mlsec-gates.yml").read_text())
    policy["gates"]["eval"]["metrics"] = {"mmlu/acx": {"min": 0.1}, "zzzz": {"min": 0.1}}
    (root / ".mlsec-gates.yml").write_text(yaml.safe_dump(policy))
    out = tmp_path / "m.json"
    cli("run", root, "--gate", "eval", "-q", "--format", "json", "--output", out)
    messages = {f["metric"]: f["message"] for f in json.loads(out.read_text())["findings"] if f["rule"] == "EVAL010"}
    assert "(did you mean 'mmlu/acc'?)" in messages["mmlu/acx"]
    assert "did you mean" not in messages["zzzz"]


def test_a_command_with_report_flags_but_no_feedback_flags_runs(monkeypatch):
    """Commands other than run/<gate> (a report merger, say) may declare --format/--output alone."""
    import argparse

    from gates.core import cli as cli_module

    seen = []
    args = argparse.Namespace(formats=["json"], outputs=None, func=lambda a: seen.append(a) or 1)
    assert cli_module._run_command(args) == 1 and seen == [args]
