"""``mlsec-gates model --explain``: the opcode trace and fickling's view, on the console only."""

from __future__ import annotations

import gzip
import json

from modelsamples import EMPTY_DICT, SETITEM, call, os_system, pickle_of, scan_file, torch_zip, ustr


def _explain(cli, tmp_path, name: str, data: bytes, *extra: str):
    p = tmp_path / name
    p.write_bytes(data)
    out = tmp_path / "report.json"
    r = cli("model", p.name, "--explain", "--format", "json", "--output", out, "-q", *extra, cwd=tmp_path)
    return r, json.loads(out.read_text())


def test_explanation_names_the_global_with_its_trace_and_decompiled_view(cli, tmp_path):
    r, report = _explain(cli, tmp_path, "evil.pkl", os_system("echo harmless"))
    assert r.code == 1
    err = r.err
    assert "== evil.pkl: why it blocks ==" in err
    assert "MODEL001 critical `os.system`" in err
    assert "imported by GLOBAL, opcode #1 at byte 2, protocol 2; called as os.system(<str>)" in err
    marked = [line for line in err.splitlines() if line.strip().startswith(">")]
    assert len(marked) == 1 and "GLOBAL" in marked[0] and "os.system" in marked[0] and "@2 " in marked[0]
    assert any("REDUCE" in line and "os.system(<str>)" in line for line in err.splitlines())
    # fickling's decompiled view of the same bytes
    assert "from os import system" in err
    assert "system('echo harmless')" in err
    # never in the machine-readable report
    assert "opcodes (" not in json.dumps(report) and "decompiled" not in json.dumps(report)


def test_explanation_never_reaches_stdout_reports(cli, tmp_path):
    (tmp_path / "evil.pkl").write_bytes(os_system())
    r = cli("model", "evil.pkl", "--explain", "--format", "sarif", cwd=tmp_path)
    assert r.code == 1
    json.loads(r.out)  # stdout is still one SARIF document
    assert "why it blocks" not in r.out and "why it blocks" in r.err


def test_explanation_in_archive_member_uses_file_offsets(cli, tmp_path):
    inner = pickle_of(EMPTY_DICT + ustr("a") + call("posix", "system", ustr("x")) + SETITEM)
    r, report = _explain(cli, tmp_path, "model.pt", torch_zip(inner))
    assert r.code == 1
    f = next(f for f in report["findings"] if f["rule"] == "MODEL001")
    assert f"pickle in `{f['member']}`" in r.err
    assert f"at byte {f['offset']}," in r.err  # the same offset the JSON finding carries


def test_explanation_for_a_compressed_stream_still_has_the_trace(cli, tmp_path):
    r, _ = _explain(cli, tmp_path, "evil.pkl.gz", gzip.compress(os_system()))
    assert r.code == 1
    assert "os.system" in r.err and "opcodes (> marks the import)" in r.err
    assert "compressed stream that cannot be re-read" in r.err


def test_terminal_escapes_in_module_names_are_neutralised(cli, tmp_path):
    evil_module = "\x1b]0;owned\x07\x1b[31mevil\u202e"
    data = pickle_of(call(evil_module, "run\x1b[2J", ustr("\x1b[1mhi\r\n")), proto=4)
    r, _ = _explain(cli, tmp_path, "esc\x1b[0m.pkl", data)
    assert r.code == 1
    for raw in ("\x1b", "\x07", "\u202e", "\r"):
        assert raw not in r.err
    assert "\\x1b]0;owned\\x07\\x1b[31mevil\\u202e.run\\x1b[2J" in r.err  # visible, escaped
    assert "== esc\\x1b[0m.pkl: why it blocks ==" in r.err


def test_output_is_bounded_per_file(cli, tmp_path):
    body = EMPTY_DICT + b"".join(ustr(f"k{i}") + call(f"evilpkg{i}", "f", ustr("x")) + SETITEM for i in range(40))
    r, report = _explain(cli, tmp_path, "many.pkl", pickle_of(body, proto=2))
    assert r.code == 1 and len({f["global"] for f in report["findings"]}) == 40
    lines = r.err.splitlines()
    start = lines.index("== many.pkl: why it blocks ==")
    assert len(lines) - start <= 61
    assert "more lines not shown (at most 60 per file)" in lines[-1]


def test_no_explanation_without_the_flag_or_when_nothing_blocks(cli, tmp_path):
    (tmp_path / "evil.pkl").write_bytes(os_system())
    r = cli("model", "evil.pkl", "-q", "--format", "json", "--output", tmp_path / "r.json", cwd=tmp_path)
    assert r.code == 1 and "why it blocks" not in r.err
    (tmp_path / "ok.pkl").write_bytes(pickle_of(EMPTY_DICT + ustr("a") + ustr("b") + SETITEM))
    r = cli("model", "ok.pkl", "--explain", "-q", cwd=tmp_path)
    assert r.code == 0 and "no blocking pickle globals to explain" in r.err


def test_tracing_only_when_asked(tmp_path):
    # the plain scan keeps no explanation (and runs the untraced walker)
    assert scan_file(tmp_path, "a.pkl", os_system()).explanations == []
    traced = scan_file(tmp_path, "b.pkl", os_system())
    from dataclasses import replace

    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    cfg = replace(config_from_options({"profiles": ["torch", "numpy"]}), explain=True)
    rep = scan_path(str(tmp_path / "b.pkl"), cfg)
    assert [h.rule for h in rep.hits] == [h.rule for h in traced.hits]  # same verdict either way
    assert len(rep.explanations) == 1 and any("os.system" in line for line in rep.explanations[0])


def _memo_heavy_payload() -> bytes:
    """os.system, then 110k memo entries: past fickling's interpreter limits (100k memo)."""
    from modelsamples import MEMOIZE, POP, binint

    return pickle_of(call("os", "system", ustr("x")) + POP + (binint(1) + MEMOIZE + POP) * 110_000 + EMPTY_DICT, proto=4)


def test_fickling_warnings_never_reach_the_console(cli, tmp_path):
    (tmp_path / "big.pkl").write_bytes(_memo_heavy_payload())
    r = cli("model", "big.pkl", "-q", "--format", "json", "--output", tmp_path / "r.json", cwd=tmp_path)
    assert r.code == 1
    assert r.err == "" and "Warning" not in r.out  # fickling's second opinion ran, its stderr chatter is swallowed
    finding = json.loads((tmp_path / "r.json").read_text())["findings"][0]
    assert finding["global"] == "os.system" and "fickling" in finding


def test_fickling_view_is_skipped_past_its_limits(cli, tmp_path):
    (tmp_path / "big.pkl").write_bytes(_memo_heavy_payload())
    r = cli("model", "big.pkl", "--explain", "-q", cwd=tmp_path)
    assert r.code == 1 and "`os.system`" in r.err
    assert "(skipped: 330009 opcodes, past what fickling's interpreter limits allow)" in r.err
    assert "Warning" not in r.err


TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345"  # shaped like a Hugging Face token (not a real one)


def _training_args_pickle() -> bytes:
    """What training_args.bin looks like: TrainingArguments.__setstate__({... 'hub_token': ...})."""
    from modelsamples import BUILD, EMPTY_TUPLE, MARK, NEWOBJ, binput, glob

    state = EMPTY_DICT + MARK + ustr("output_dir") + ustr("out") + ustr("hub_token") + binput(1) + ustr(TOKEN) + binput(2) \
        + ustr("db_password") + ustr("hunter2") + b"u"
    return pickle_of(glob("transformers.training_args", "TrainingArguments") + EMPTY_TUPLE + NEWOBJ + state + BUILD)


def test_secrets_in_the_pickle_never_reach_the_console(cli, tmp_path):
    # a call whose arguments carry them right next to the global (inside the trace window)
    direct = pickle_of(call("evilpkg", "send", ustr("password"), ustr("hunter2"), ustr(TOKEN)), proto=4)
    for name, data in (("training_args.bin", _training_args_pickle()), ("direct.pkl", direct)):
        r, _ = _explain(cli, tmp_path, name, data)
        assert r.code == 1 and "why it blocks" in r.err, name
        assert TOKEN[:12] not in r.err and "hunter2" not in r.err, name
    trace = [line for line in r.err.splitlines() if "SHORT_BINUNICODE" in line]
    assert [line.split("SHORT_BINUNICODE")[1].strip() for line in trace] == ["'password'", "<redacted str, 7 chars>", "<redacted str, 35 chars>"]
    assert "send('password', '<redacted>', '<redacted str, 35 chars>')" in r.err


def test_fickling_view_redacts_values_under_sensitive_keys():
    from gates.model.explain import fickling_view

    view = "\n".join(fickling_view(_training_args_pickle(), ["__setstate__"]))
    assert "__setstate__" in view and "'output_dir': 'out'" in view
    assert "'hub_token': '<redacted>'" in view and "'db_password': '<redacted>'" in view
    assert TOKEN[:12] not in view and "hunter2" not in view


def test_looks_secret():
    from gates.model.explain import looks_secret

    for s in (TOKEN, "ghp_" + "a1" * 18, "AKIA" + "ABCDEFGHIJKLMNOP", "-----BEGIN PRIVATE KEY-----", "x " + "a9" * 12):
        assert looks_secret(s), s
    for s in ("echo harmless", "output_dir", "torch.nn.modules.linear", "weight", "layers.0.attention.wq.weight"):
        assert not looks_secret(s), s


def test_explanations_come_back_from_worker_processes(cli, tmp_path):
    (tmp_path / "a.pkl").write_bytes(os_system())
    (tmp_path / "b.pkl").write_bytes(pickle_of(call("subprocess", "getoutput", ustr("id")), proto=4))
    (tmp_path / "ok.pkl").write_bytes(pickle_of(EMPTY_DICT))
    r = cli("model", "a.pkl", "b.pkl", "ok.pkl", "--workers", "2", "--explain", "-q", cwd=tmp_path)
    assert r.code == 1
    assert "== a.pkl: why it blocks ==" in r.err and "== b.pkl: why it blocks ==" in r.err and "ok.pkl" not in r.err
    assert "`subprocess.getoutput`" in r.err and "from subprocess import getoutput" in r.err
