"""The runner fails closed whatever a gate raises."""

from __future__ import annotations

import sys

import pytest

from gates.core.findings import Status
from gates.core.gate import Gate
from gates.core.loader import load_policy
from gates.core.runner import EXIT_ERROR, run_gates


class ExitingGate(Gate):
    name = "exiting"
    title = "Calls sys.exit"

    def __init__(self, code: int | None) -> None:
        self.code = code

    def run(self, ctx) -> None:
        sys.exit(self.code)  # what a library's CLI entry point does when a gate calls it in-process


@pytest.mark.parametrize("code", [0, None, 1])
def test_a_gate_calling_sys_exit_ends_in_error_not_in_a_silent_exit(tmp_path, code):
    gates = {"exiting": ExitingGate(code)}
    run = run_gates(gates, load_policy(None, gates), tmp_path)
    assert run.results[0].status is Status.ERROR and run.exit_code == EXIT_ERROR
    assert "SystemExit" in run.results[0].errors[0].message


class BadOptionsGate(Gate):
    name = "badopts"
    title = "Rejects its options"

    def run(self, ctx) -> None:
        from gates.core.errors import OptionsError

        raise OptionsError("artifacts[0].key", "key file https://user:hunter2@example.com/k.pem does not exist")


def test_an_options_error_is_reported_with_its_policy_key_and_no_secret(tmp_path):
    gates = {"badopts": BadOptionsGate()}
    run = run_gates(gates, load_policy(None, gates), tmp_path)
    (res,) = run.results
    assert res.status is Status.ERROR and run.exit_code == EXIT_ERROR
    msg = res.errors[0].message
    assert msg.startswith("invalid policy option gates.badopts.artifacts[0].key: key file ")
    assert "hunter2" not in msg


def test_cli_exits_with_the_errors_own_exit_code(monkeypatch, capsys):
    from gates.core import cli
    from gates.core.errors import GatesError

    class Odd(GatesError):
        exit_code = 3

    def boom(argv=()):
        raise Odd("odd")

    monkeypatch.setattr(cli, "build_parser", boom)
    assert cli.main(["run"]) == 3
    assert "mlsec-gates: error: odd" in capsys.readouterr().err
