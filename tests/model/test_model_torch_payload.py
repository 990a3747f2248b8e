"""``pickle.dumps(tensor)``: the storage is ``torch.storage._load_from_bytes(<torch.save bytes>)``.

Under the ``torch`` profile the loader passes when it is handed constant bytes, because those
bytes are scanned as the legacy torch file or torch zip they are; a payload that runs code
blocks where it sits, and a computed argument cannot be checked (MODEL007).
"""

from __future__ import annotations

import struct

from modelsamples import (EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, MARK, MEMOIZE, NEWFALSE, PROTO, REDUCE, STACK_GLOBAL, STOP, TUPLE,
                          TUPLE1, binint, blocked_globals, call, frame, glob, legacy_torch, os_system, rules, scan_file, ustr,
                          torch_state_dict_pickle, torch_zip)


def stack_global(module: str, name: str) -> bytes:
    return ustr(module) + MEMOIZE + ustr(name) + MEMOIZE + STACK_GLOBAL + MEMOIZE


def storage_payload(main: bytes | None = None) -> bytes:
    """What ``TypedStorage.__reduce__`` embeds: ``torch.save(storage, _use_new_zipfile_serialization=False)``."""
    if main is None:
        pid = MARK + ustr("storage") + glob("torch", "FloatStorage") + ustr("93850119246688") + ustr("cpu") + binint(4) + TUPLE
        main = PROTO(2) + pid + b"Q" + STOP  # BINPERSID: the storage itself
    keys = PROTO(2) + EMPTY_LIST + ustr("93850119246688") + b"a" + STOP
    out = legacy_torch(main)
    # legacy_torch ends with an empty key list and 4 bytes of data: use this storage's key instead
    head = out[: out.index(main) + len(main)]
    return head + keys + struct.pack("<Q", 4) + struct.pack("<4f", 0.0, 1.0, 2.0, 3.0)


def tensor_pickle(payload: bytes, proto: int = 4) -> bytes:
    """``pickle.dumps(torch.arange(4.0))`` as torch 2.x writes it, opcode for opcode."""
    body = (stack_global("torch._utils", "_rebuild_tensor_v2") + MARK
            + stack_global("torch.storage", "_load_from_bytes") + b"B" + struct.pack("<I", len(payload)) + payload + MEMOIZE
            + TUPLE1 + MEMOIZE + REDUCE + MEMOIZE
            + binint(0) + binint(4) + TUPLE1 + MEMOIZE + binint(1) + TUPLE1 + MEMOIZE + NEWFALSE
            + stack_global("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + MEMOIZE + TUPLE + MEMOIZE + REDUCE + MEMOIZE)
    return PROTO(proto) + frame(body + STOP)


def test_pickled_tensor_passes_under_torch(tmp_path):
    rep = scan_file(tmp_path, "t.pkl", tensor_pickle(storage_payload()))
    assert not rep.hits, [(h.rule, h.message) for h in rep.hits]
    assert "pytorch-legacy" in rep.formats  # the payload was read as the torch file it is


def test_pickled_tensor_blocks_without_the_torch_profile(tmp_path):
    rep = scan_file(tmp_path, "t.pkl", tensor_pickle(storage_payload()), profiles=["numpy"])
    assert "torch.storage._load_from_bytes" in blocked_globals(rep)


def test_loader_denied_by_policy_blocks(tmp_path):
    rep = scan_file(tmp_path, "t.pkl", tensor_pickle(storage_payload()), deny_globals=["torch.storage._load_from_bytes"])
    assert "torch.storage._load_from_bytes" in blocked_globals(rep)


def test_malicious_legacy_payload_blocks_where_it_sits(tmp_path):
    rep = scan_file(tmp_path, "t.pkl", tensor_pickle(storage_payload(main=os_system("id"))))
    assert "os.system" in blocked_globals(rep)
    (h,) = [h for h in rep.hits if h.extra.get("global") == "os.system"]
    assert h.member.startswith("torch.storage._load_from_bytes@")


def test_malicious_torch_zip_payload_blocks(tmp_path):
    rep = scan_file(tmp_path, "t.pkl", tensor_pickle(torch_zip(os_system("id"))))
    (h,) = [h for h in rep.hits if h.extra.get("global") == "os.system"]
    assert h.member.endswith("!archive/data.pkl")


def test_benign_torch_zip_payload_passes(tmp_path):
    rep = scan_file(tmp_path, "t.pkl", tensor_pickle(torch_zip(torch_state_dict_pickle(2), n_storages=2)))
    assert not rep.hits, [(h.rule, h.message) for h in rep.hits]


def test_computed_argument_cannot_be_checked(tmp_path):
    data = PROTO(2) + call("torch.storage", "_load_from_bytes", call("os", "urandom", binint(8))) + STOP
    rep = scan_file(tmp_path, "t.pkl", data)
    assert "MODEL007" in rules(rep)
    assert "torch.storage._load_from_bytes" in blocked_globals(rep)


def test_loader_without_a_call_still_blocks(tmp_path):
    data = PROTO(2) + EMPTY_DICT + ustr("f") + glob("torch.storage", "_load_from_bytes") + b"s" + STOP
    assert "torch.storage._load_from_bytes" in blocked_globals(scan_file(tmp_path, "t.pkl", data))
