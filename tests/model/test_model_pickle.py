"""The pickle engine against the bypass classes published for picklescan, modelscan and fickling.

Every sample is assembled from opcodes; nothing is ever unpickled.
"""

from __future__ import annotations

import struct

import pytest

from modelsamples import (
    APPENDS, BUILD, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, MARK, MEMOIZE, NEWOBJ, POP, PROTO, REDUCE, STACK_GLOBAL,
    STOP, TUPLE, TUPLE1, TUPLE2, binget, binint, binput, blocked_globals, bytes8, call, frame, glob, os_system,
    pickle_of, rules, sbytes, scan_file, ustr,
)


def _one(report, rule: str):
    hits = [h for h in report.hits if h.rule == rule]
    assert hits, f"expected {rule}, got {[(h.rule, h.message) for h in report.hits]}"
    return hits[0]


@pytest.mark.parametrize("proto", [0, 1, 2, 3, 4, 5])
def test_os_system_every_protocol_is_critical(tmp_path, proto):
    data = os_system(proto=proto) if proto < 2 else pickle_of(call("os", "system", ustr("echo hi")), proto)
    rep = scan_file(tmp_path, "m.pkl", data)
    hit = _one(rep, "MODEL001")
    assert hit.extra["global"] == "os.system"
    assert hit.severity == "critical" and hit.blocking is True
    assert hit.offset == (2 if proto >= 2 else 0) and hit.extra["opcode_index"] == (1 if proto >= 2 else 0)


def test_stack_global_names_from_memo(tmp_path):
    # module and name are memoized strings fetched back with BINGET before STACK_GLOBAL
    body = ustr("subprocess") + binput(0) + ustr("check_output") + binput(1) + POP + POP
    body += binget(0) + binget(1) + STACK_GLOBAL + MARK + ustr("id") + TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body, 4))
    assert blocked_globals(rep) == {"subprocess.check_output"}
    assert _one(rep, "MODEL001").extra["opcode"] == "STACK_GLOBAL"


def test_memoize_index_follows_len_of_memo(tmp_path):
    # PUT 7 then MEMOIZE stores at len(memo) == 1, not 8: a walker that counts MEMOIZEs separately
    # would fetch the wrong string and resolve an innocent name
    body = ustr("collections") + binput(7) + POP + ustr("os") + MEMOIZE + POP + ustr("system") + MEMOIZE + POP
    body += binget(1) + binget(2) + STACK_GLOBAL + MARK + ustr("true") + TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body, 4))
    assert blocked_globals(rep) == {"os.system"}


def test_memo_overwrite_is_followed(tmp_path):
    body = ustr("collections") + binput(0) + POP + ustr("posix") + binput(0) + POP
    body += binget(0) + ustr("system") + STACK_GLOBAL + MARK + ustr("id") + TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body, 4))
    assert blocked_globals(rep) == {"posix.system"}


def test_callable_fetched_from_memo(tmp_path):
    body = glob("builtins", "eval") + binput(3) + POP + binget(3) + MARK + ustr("1+1") + TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body))
    assert _one(rep, "MODEL001").extra["global"] == "builtins.eval"


@pytest.mark.parametrize(
    "module,name",
    [
        ("importlib", "import_module"), ("builtins", "getattr"), ("pkgutil", "resolve_name"), ("pydoc", "locate"),
        ("operator", "attrgetter"), ("marshal", "loads"), ("types", "FunctionType"), ("runpy", "run_path"),
        ("asyncio.subprocess", "create_subprocess_shell"), ("os.path", "join"), ("shutil", "rmtree"),
        ("numpy.testing._private.utils", "runstring"), ("torch.jit", "load"), ("ctypes", "CDLL"),
    ],
)
def test_resolver_chains_and_submodules_block(tmp_path, module, name):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call(module, name, ustr("x"))))
    assert blocked_globals(rep) == {f"{module}.{name}"}
    assert all(h.blocking for h in rep.hits)


def test_importlib_getattr_chain_reports_both(tmp_path):
    mod = call("importlib", "import_module", ustr("os"))
    body = glob("builtins", "getattr") + MARK + mod + ustr("system") + TUPLE + REDUCE + MARK + ustr("id") + TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body))
    assert {"importlib.import_module", "builtins.getattr"} <= blocked_globals(rep)


def test_unknown_global_blocks_even_if_harmless_looking(tmp_path):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("mypkg.layers", "Helper")))
    hit = _one(rep, "MODEL002")
    assert hit.extra["global"] == "mypkg.layers.Helper" and hit.blocking is True


def test_unknown_globals_warn_option(tmp_path):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("mypkg.layers", "Helper")), unknown_globals="warn")
    assert _one(rep, "MODEL002").blocking is False
    rep = scan_file(tmp_path, "m2.pkl", os_system(), unknown_globals="warn")
    assert _one(rep, "MODEL001").blocking is True  # known-dangerous still blocks


def test_extra_allowed_global(tmp_path):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("mypkg.layers", "Helper")), allow_globals=["mypkg.layers.Helper"])
    assert not rep.hits


@pytest.mark.parametrize("raw,resolved", [(("commands", "getoutput"), "subprocess.getoutput"), (("__builtin__", "eval"), "builtins.eval"), (("copy_reg", "_reconstructor"), "copyreg._reconstructor")])
def test_fix_imports_aliases_resolve(tmp_path, raw, resolved):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call(raw[0], raw[1], ustr("id"))))
    hits = [h for h in rep.hits if h.extra.get("global") == resolved]
    assert hits and hits[0].extra["alias"] == ".".join(raw)


def test_fix_imports_alias_to_allowed_name_passes_in_protocol_2(tmp_path):
    # protocol-2 pickles written by Python 2 say __builtin__.set; the loader maps it to builtins.set
    rep = scan_file(tmp_path, "m.pkl", pickle_of(glob("__builtin__", "set") + MARK + EMPTY_LIST + TUPLE + REDUCE))
    assert not rep.hits


def test_alias_in_protocol_3_checks_raw_name_too(tmp_path):
    # under protocol >= 3 CPython imports the raw module, torch's loader the mapped one: both must pass
    rep = scan_file(tmp_path, "m.pkl", pickle_of(glob("__builtin__", "set") + MARK + EMPTY_LIST + TUPLE + REDUCE, 3))
    assert blocked_globals(rep) == {"__builtin__.set"}


@pytest.mark.parametrize("name", ["OrderedDict.__init__.__globals__", "OrderedDict.fromkeys.__self__", "OrderedDict.__class__"])
def test_dotted_qualname_in_stack_global(tmp_path, name):
    body = ustr("collections") + ustr(name) + STACK_GLOBAL + EMPTY_TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body, 4))
    hit = [h for h in rep.hits if h.rule in ("MODEL001", "MODEL002")][0]
    assert hit.extra["global"] == f"collections.{name}" and hit.blocking


def test_stack_global_with_non_constant_operands_is_inconclusive(tmp_path):
    body = call("collections", "OrderedDict") + ustr("system") + STACK_GLOBAL
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body, 4))
    assert _one(rep, "MODEL003").extra["reason"] == "stack_global_not_str"


def test_reduce_on_a_non_global_is_inconclusive(tmp_path):
    body = call("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body))
    assert _one(rep, "MODEL003").extra["reason"] == "callable_not_global"


def test_payload_followed_by_broken_stream(tmp_path):
    data = PROTO(2) + call("os", "system", ustr("id")) + b"\xff\xfe garbage"
    rep = scan_file(tmp_path, "m.pkl", data)
    assert blocked_globals(rep) == {"os.system"}
    assert _one(rep, "MODEL003").blocking is True


def test_stacked_pickle_payload_in_second_stream(tmp_path):
    data = pickle_of(EMPTY_DICT) + os_system()
    rep = scan_file(tmp_path, "m.pkl", data)
    assert blocked_globals(rep) == {"os.system"}


def test_protocol0_stacked_after_binary(tmp_path):
    data = pickle_of(EMPTY_DICT) + b"cos\nsystem\n(S'id'\ntR."
    rep = scan_file(tmp_path, "m.pkl", data)
    assert blocked_globals(rep) == {"os.system"}


def test_trailing_garbage_is_low_only(tmp_path):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(EMPTY_DICT) + b"\xff\xff\xff")
    assert rules(rep) == {"MODEL018"}
    assert rep.hits[0].severity == "low"


@pytest.mark.parametrize(
    "data,reason",
    [
        (PROTO(2) + EMPTY_DICT, "truncated"),  # no STOP
        (PROTO(2) + b"X\xff\xff\x00\x00abc", "truncated"),  # string runs past the end
        (PROTO(2) + b"\xff" + STOP, "invalid_opcode"),
        (PROTO(2) + b"\x82\x01" + STOP, "extension_code"),
        (PROTO(5) + b"\x97" + STOP, "out_of_band"),
        (PROTO(2) + binget(9) + STOP, "memo_missing"),
        (PROTO(2) + REDUCE + STOP, "stack_underflow"),
        (PROTO(9) + STOP, "bad_protocol"),
        (PROTO(2) + TUPLE + STOP, "mark_missing"),
        (b"", "unrecognised"),
    ],
)
def test_unfollowable_streams_are_inconclusive(tmp_path, data, reason):
    rep = scan_file(tmp_path, "m.pkl", data)
    hit = _one(rep, "MODEL003")
    assert hit.blocking is True
    assert reason in (hit.extra.get("reason"), hit.key.split(":")[-1])


def test_frame_boundary_crossing_blocks(tmp_path):
    # a FRAME that ends in the middle of a SHORT_BINUNICODE: pickle.py rejects, _pickle.c reads on
    body = ustr("collections") + ustr("OrderedDict")
    data = PROTO(4) + frame(body[:-3]) + body[-3:] + STACK_GLOBAL + EMPTY_TUPLE + REDUCE + STOP
    rep = scan_file(tmp_path, "m.pkl", data)
    assert _one(rep, "MODEL003").extra["reason"] == "frame_divergence"


def test_frame_announcing_more_than_file_blocks(tmp_path):
    data = PROTO(4) + b"\x95" + struct.pack("<Q", 1 << 40) + EMPTY_DICT + STOP
    assert "MODEL003" in rules(scan_file(tmp_path, "m.pkl", data))


def test_framed_benign_pickle_passes(tmp_path):
    body = ustr("collections") + MEMOIZE + ustr("OrderedDict") + MEMOIZE + STACK_GLOBAL + MEMOIZE + EMPTY_TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", PROTO(4) + frame(body + STOP))
    assert not rep.hits


def test_large_payload_is_seeked_not_read(tmp_path):
    big = b"\x00" * (8 << 20)
    data = PROTO(4) + EMPTY_LIST + MARK + bytes8(big) + bytes8(big) + APPENDS + POP + call("os", "system", ustr("id")) + STOP
    rep = scan_file(tmp_path, "m.pkl", data)
    assert blocked_globals(rep) == {"os.system"}
    assert _one(rep, "MODEL001").offset == 2 + 1 + 1 + 2 * (9 + len(big)) + 1 + 1


def test_nested_pickle_loads_constant_is_scanned(tmp_path):
    inner = os_system("id")
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("pickle", "loads", sbytes(inner))))
    assert {"pickle.loads", "os.system"} <= blocked_globals(rep)
    nested = [h for h in rep.hits if h.extra.get("global") == "os.system"][0]
    assert nested.member.startswith("pickle.loads@")


def test_nested_torch_load_from_bytes_big_constant(tmp_path):
    inner = pickle_of(call("posix", "system", ustr("id")) + POP + EMPTY_DICT + MARK + ustr("pad") + bytes8(b"\x00" * (2 << 20)) + b"u")
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("torch.storage", "_load_from_bytes", bytes8(inner)), 4))
    assert "posix.system" in blocked_globals(rep)  # the payload is scanned; the loader itself passes under torch


def test_nested_via_codecs_encode(tmp_path):
    inner = os_system("id").decode("latin-1")
    arg = call("_codecs", "encode", ustr(inner), ustr("latin1"))
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("pickle", "loads", arg)))
    assert "os.system" in blocked_globals(rep)


def test_nested_non_constant_argument(tmp_path):
    arg = call("base64", "b64decode", ustr("Y29z"))
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("pickle", "loads", arg)))
    assert _one(rep, "MODEL007").blocking is True


def test_newobj_and_build_of_unknown_class(tmp_path):
    body = glob("evil", "Thing") + EMPTY_TUPLE + NEWOBJ + EMPTY_DICT + BUILD
    assert blocked_globals(scan_file(tmp_path, "m.pkl", pickle_of(body))) == {"evil.Thing"}


def test_inst_and_obj_opcodes(tmp_path):
    inst = MARK + ustr("id") + b"ios\nsystem\n" + STOP
    assert blocked_globals(scan_file(tmp_path, "a.pkl", inst)) == {"os.system"}
    obj = MARK + glob("subprocess", "Popen") + ustr("id") + b"o" + STOP
    assert blocked_globals(scan_file(tmp_path, "b.pkl", obj)) == {"subprocess.Popen"}


def test_benign_torch_like_pickle_passes(tmp_path):
    from modelsamples import torch_state_dict_pickle

    rep = scan_file(tmp_path, "m.pkl", torch_state_dict_pickle(50))
    assert not rep.hits


def test_million_opcodes_walk(tmp_path):
    body = EMPTY_LIST + (MARK + binint(7) * 1000 + APPENDS) * 1000
    rep = scan_file(tmp_path, "m.pkl", PROTO(2) + body + STOP)
    assert not rep.hits and rep.items > 1_000_000


def test_second_opinion_recorded_not_decisive(tmp_path):
    rep = scan_file(tmp_path, "m.pkl", os_system())
    hit = _one(rep, "MODEL001")
    assert "fickling" in hit.extra and hit.extra["fickling"]
    rep = scan_file(tmp_path, "n.pkl", os_system(), second_opinion=False)
    assert "fickling" not in _one(rep, "MODEL001").extra


def test_dotted_module_glob_cannot_reach_dunders(tmp_path):
    data = pickle_of(call("sklearn.linear_model", "__builtins__"), 4)
    rep = scan_file(tmp_path, "m.pkl", data, profiles=["sklearn"])
    assert blocked_globals(rep) == {"sklearn.linear_model.__builtins__"}


def test_tuple_opcodes_keep_stack_consistent(tmp_path):
    # TUPLE1/TUPLE2 around a MARK: args land where the real unpickler puts them
    body = glob("collections", "OrderedDict") + MARK + EMPTY_LIST + binint(1) + TUPLE2 + TUPLE1 + TUPLE + POP + glob("os", "getcwd") + EMPTY_TUPLE + REDUCE
    assert blocked_globals(scan_file(tmp_path, "m.pkl", pickle_of(body))) == {"os.getcwd"}


def test_repeated_globals_are_reported_once(tmp_path):
    body = (glob("os", "getcwd") + POP) * 5000 + EMPTY_DICT
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body))
    assert [h.extra["global"] for h in rep.hits] == ["os.getcwd"]


def test_stack_growth_is_bounded(tmp_path):
    from gates.model.pickle_engine import walk_pickle
    from gates.model.stream import Source
    import io

    data = PROTO(2) + binint(1) * 200_000 + STOP
    res = walk_pickle(Source(io.BytesIO(data), size=len(data)))
    assert res.stopped
    from gates.model.pickle_engine import Walker

    res = Walker(Source(io.BytesIO(data), size=len(data)), max_stack=1000).walk()
    assert res.issues and res.issues[0].code == "over_limit"


def test_call_shape_recorded_without_argument_values(tmp_path):
    body = glob("builtins", "getattr") + MARK + call("importlib", "import_module", ustr("os")) + ustr("system") + TUPLE + REDUCE
    rep = scan_file(tmp_path, "m.pkl", pickle_of(body))
    hit = [h for h in rep.hits if h.extra.get("global") == "builtins.getattr"][0]
    assert hit.extra["call"] == "builtins.getattr(importlib.import_module(<str>), <str>)"
    assert "system" not in hit.extra["call"]


def test_control_characters_in_names_are_escaped(tmp_path):
    rep = scan_file(tmp_path, "m.pkl", pickle_of(call("evil\x1b[2J", "x\ny")))
    hit = rep.hits[0]
    assert "\x1b" not in hit.message and "\n" not in hit.message and "\\x1b" in hit.extra["global"]


def test_sniffer_knows_every_opcode():
    import pickletools

    from gates.model.sniff import PICKLE_OPCODES

    assert {o.code.encode("latin-1")[0] for o in pickletools.opcodes} == set(PICKLE_OPCODES)


def test_walker_handles_every_opcode_pickletools_knows():
    # every opcode of protocols 0-5 has a branch: none falls through to "invalid load key"
    import inspect
    import pickletools

    from gates.model.pickle_engine import Walker

    src = inspect.getsource(Walker._step)
    for op in pickletools.opcodes:
        assert f"# {op.name}" in src or op.name in ("EXT1", "EXT2", "EXT4"), op.name


def _stdlib_objects():
    import collections
    import datetime
    import decimal
    import fractions

    rec: list = [1, 2]
    rec.append(rec)
    shared = ("x" * 300, b"y" * 70000)
    return [
        {"a": [1, 2.5, None, True, False, -7, 2**70, -(2**200)], "b": (shared, shared), "c": {1, 2}, "d": frozenset({3})},
        collections.OrderedDict(a=1, b=[b"\x00" * 300, bytearray(b"ab")]), rec, datetime.date(2024, 1, 2),
        decimal.Decimal("1.5"), fractions.Fraction(1, 3), complex(1, 2), range(5), slice(1, 2), "é" * 100000,
        [collections.Counter("hello")] * 3, ((),) * 3, list(range(2000)),
    ]


@pytest.mark.parametrize("proto", [0, 1, 2, 3, 4, 5])
def test_walker_agrees_with_pickletools_on_real_pickles(proto):
    # differential check: for pickles CPython writes, the walker ends where pickletools does,
    # after the same number of opcodes, and sees every GLOBAL pickletools sees
    import io
    import pickle
    import pickletools

    from gates.model.pickle_engine import walk_pickle
    from gates.model.stream import Source

    for obj in _stdlib_objects():
        data = pickle.dumps(obj, protocol=proto)
        ops = list(pickletools.genops(data))
        res = walk_pickle(Source(io.BytesIO(data), size=len(data)))
        assert res.stopped and not res.issues, (obj, res.issues)
        assert res.opcodes == len(ops) and res.end == len(data)
        seen = {g.raw_module + "." + g.raw_name for g in res.globals}
        assert {a.replace(" ", ".") for op, a, _ in ops if op.name == "GLOBAL"} <= seen
