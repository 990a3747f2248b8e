"""A command imports what it uses and no more (issue 18: a whole pii process has a start-up budget).

Each case runs a fresh interpreter and looks at ``sys.modules`` after the command: the console
report's ``rich``, PyYAML (no policy file), the other report writers, and the policy loader for
``--version`` are not loaded when the command does not need them. The commands' results are
checked too: a lighter import must not change what the command does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
ARGS, OUT = json.loads(sys.argv[1])
from gates.core.cli import main
rc = main(ARGS)
mods = sorted(m for m in list(sys.modules) if sys.modules[m] is not None)
open(OUT, "w").write(json.dumps({"rc": rc, "modules": mods}))
"""

OTHER_WRITERS = ("gates.core.reports.text", "gates.core.reports.junit", "gates.core.reports.markdown",
                 "gates.core.reports.sarif", "gates.core.reports.codequality", "gates.core.reports.cyclonedx")


def probe(tmp_path: Path, args: list[str], cwd: Path | None = None) -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "probe.json"
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps([args, str(out)])], cwd=cwd or tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert out.exists(), p.stderr
    return json.loads(out.read_text()), p


def test_version_builds_the_parser_without_the_policy_machinery(tmp_path):
    res, p = probe(tmp_path, ["--version"])
    assert res["rc"] == 0 and p.stdout.startswith("mlsec-gates ")
    loaded = set(res["modules"])
    for name in ("yaml", "rich", "gates.core.loader", "gates.core.runner", "gates.core.schema", "gates.core.remote",
                 "gates.core.shardmerge", "gates.core.gate", *OTHER_WRITERS):
        assert name not in loaded, name


def test_a_json_pii_run_loads_only_the_json_writer_and_no_yaml(tmp_path):
    pytest.importorskip("pyarrow")
    data = tmp_path / "data"
    data.mkdir()
    (data / "people.csv").write_text("name,email\nAda,ada@example.com\nBob,bob@example.org\n")
    report = tmp_path / "r.json"
    res, p = probe(tmp_path, ["pii", str(data), "--format", "json", "--output", str(report), "-q"], cwd=data)
    assert res["rc"] == 1, p.stderr  # e-mail addresses block under the default policy
    doc = json.loads(report.read_text())
    assert doc["status"] == "fail" and any(f["rule"].startswith("PII") for f in doc["findings"])
    loaded = set(res["modules"])
    assert "gates.core.reports.json_report" in loaded
    for name in ("rich", "yaml", "xml.etree.ElementTree", *OTHER_WRITERS):
        assert name not in loaded, name


def test_the_text_report_still_loads_its_writer(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "people.csv").write_text("name,email\nAda,ada@example.com\n")
    res, p = probe(tmp_path, ["pii", "people.csv", "--no-color"])
    assert res["rc"] == 1 and "gates.core.reports.text" in res["modules"] and "rich" in res["modules"]
    assert "people.csv" in p.stdout


def test_a_policy_file_is_still_read_with_yaml(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "people.csv").write_text("name,email\nAda,ada@example.com\n")
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  pii:\n    enabled: true\n")
    res, p = probe(tmp_path, ["pii", "people.csv", "-q", "--format", "json", "--output", "r.json"])
    assert res["rc"] == 1, p.stderr
    assert "yaml" in res["modules"]
    assert json.loads((tmp_path / "r.json").read_text())["policy"]["path"] == ".mlsec-gates.yml"
    (tmp_path / ".mlsec-gates.yml").write_text("version: 1\ngates:\n  pii:\n    enabld: true\n")
    res, p = probe(tmp_path, ["pii", "people.csv", "-q", "--format", "json", "--output", "r.json"])
    assert res["rc"] == 2 and ".mlsec-gates.yml:4" in p.stderr  # still validated, with its line


def test_cli_exit_codes_are_the_runners():
    from gates.core import cli, runner

    assert (cli.EXIT_PASS, cli.EXIT_FAIL, cli.EXIT_ERROR) == (runner.EXIT_PASS, runner.EXIT_FAIL, runner.EXIT_ERROR)


def test_every_format_has_a_writer():
    from gates.core.reports import FORMATS, writer, writers

    assert set(writers()) == set(FORMATS)
    with pytest.raises(KeyError):
        writer("html")


def test_the_version_shortcut_prints_what_argparse_prints(capsys):
    from gates.core import cli

    assert cli.main(["--version"]) == 0
    short = capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        cli.build_parser(["--version"]).parse_args(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == short
    assert cli.main(["--version", "--no-such-flag"]) == 0  # argparse: --version first still wins
    assert capsys.readouterr().out == short


def test_a_gate_redefining_a_common_option_fails_with_or_without_a_policy_file(tmp_path):
    """The built-in policy alone builds no schema, but still refuses a gate whose options
    schema redefines a common option (as building the schema does)."""
    from gates.core.errors import PolicyError
    from gates.core.loader import load_policy
    from gates.core.registry import load_gate

    class Bad(type(load_gate("eval"))):
        options_schema = {**type(load_gate("eval")).options_schema, "fail_on": {"type": "string"}}

    gates = {"eval": Bad()}
    with pytest.raises(PolicyError, match="redefines the common option 'fail_on'"):
        load_policy(None, gates, root=tmp_path)
    (tmp_path / "p.yml").write_text("version: 1\n")
    with pytest.raises(PolicyError, match="redefines the common option 'fail_on'"):
        load_policy(tmp_path / "p.yml", gates, root=tmp_path)
    assert load_policy(None, {"eval": load_gate("eval")}, root=tmp_path).enabled("eval")
