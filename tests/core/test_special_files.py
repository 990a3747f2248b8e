"""FIFOs, sockets and devices under a scanned path are blocking errors in every gate and are
never opened; a symlink loop or a dangling link is one error for that path, not a crash
(issue 13, item 4).

Each case runs ``mlsec-gates`` in a child process with a deadline, so a gate that opened a FIFO
fails the test by timing out instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from gates.core.files import unscannable, walk

pytestmark = pytest.mark.timeout(120)

# one input per gate, named so that the gate's default globs pick it up
INPUTS = {"pii": "data.csv", "model": "model.pkl", "deps": "requirements.txt", "eval": "results.json"}
POLICY = "version: 1\ngates:\n  eval:\n    results: results.json\n"


def run_gate(root: Path, gate: str) -> tuple[int, dict]:
    p = subprocess.run([sys.executable, "-c", "import sys; from gates.core.cli import main; sys.exit(main(sys.argv[1:]))",
                        gate, "--format", "json"],
                       cwd=root, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    return p.returncode, json.loads(p.stdout)


def errors_of(report: dict, gate: str) -> list[dict]:
    return report["gates"][gate]["errors"]


@pytest.mark.parametrize("gate", sorted(INPUTS))
def test_a_fifo_is_a_blocking_error_and_never_opened(tmp_path, gate):
    (tmp_path / ".mlsec-gates.yml").write_text(POLICY)
    os.mkfifo(tmp_path / INPUTS[gate])
    code, report = run_gate(tmp_path, gate)
    assert code == 2 and report["gates"][gate]["status"] == "error"
    msgs = [(e["path"], e["message"]) for e in errors_of(report, gate)]
    assert any(p.endswith(INPUTS[gate]) and "FIFO" in m for p, m in msgs), msgs


@pytest.mark.parametrize("gate", sorted(INPUTS))
@pytest.mark.parametrize("kind", ["loop", "dangling"])
def test_a_broken_link_is_one_error_for_that_path(tmp_path, gate, kind):
    (tmp_path / ".mlsec-gates.yml").write_text(POLICY)
    link = tmp_path / INPUTS[gate]
    link.symlink_to(link.name if kind == "loop" else "missing-target")
    code, report = run_gate(tmp_path, gate)
    msgs = [(e["path"], e["message"]) for e in errors_of(report, gate)]
    assert code == 2, msgs
    assert not any("crashed" in m for _, m in msgs), msgs
    word = "symlink loop" if kind == "loop" else "dangling symlink"
    assert any(p.endswith(INPUTS[gate]) and word in m for p, m in msgs), msgs


def test_unscannable_names_each_kind_of_special_file(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "ok.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to("ok.txt")
    try:
        assert "FIFO" in unscannable(tmp_path / "fifo")
        assert "socket" in unscannable(tmp_path / "sock")
        assert "character device" in unscannable(Path("/dev/null"))
        assert "symlink loop" in unscannable(tmp_path / "loop")
        assert "dangling symlink" in unscannable(tmp_path / "dangling")
        assert unscannable(tmp_path / "ok.txt") is None and unscannable(tmp_path / "link.txt") is None
        found = walk(tmp_path, ["**/*"], [])
        assert sorted(p.name for p in found.files) == ["link.txt", "ok.txt"]
        assert sorted(p.name for p, _ in found.unreadable) == ["dangling", "fifo", "loop", "sock"]
    finally:
        sock.close()
