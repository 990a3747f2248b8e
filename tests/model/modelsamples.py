"""Build model files for tests from raw bytes: pickle opcodes, zip/tar layouts, headers.

Nothing here imports torch or unpickles anything: malicious samples are assembled opcode by
opcode, so the tests can prove the gate blocks them without ever being able to run them.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from typing import Iterable

PROTO = lambda n: b"\x80" + bytes([n])  # noqa: E731
STOP = b"."
MARK = b"("
TUPLE = b"t"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
EMPTY_TUPLE = b")"
REDUCE = b"R"
BUILD = b"b"
EMPTY_DICT = b"}"
SETITEM = b"s"
SETITEMS = b"u"
NONE = b"N"
MEMOIZE = b"\x94"
STACK_GLOBAL = b"\x93"
NEWOBJ = b"\x81"
NEWTRUE = b"\x88"
NEWFALSE = b"\x89"
POP = b"0"
EMPTY_LIST = b"]"
APPENDS = b"e"


def glob(module: str, name: str) -> bytes:
    """GLOBAL (protocol 0 text form)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def ustr(s: str) -> bytes:
    """SHORT_BINUNICODE or BINUNICODE."""
    b = s.encode()
    if len(b) < 256:
        return b"\x8c" + bytes([len(b)]) + b
    return b"X" + struct.pack("<I", len(b)) + b


def sbytes(b: bytes) -> bytes:
    if len(b) < 256:
        return b"C" + bytes([len(b)]) + b
    return b"B" + struct.pack("<I", len(b)) + b


def bytes8(b: bytes) -> bytes:
    return b"\x8e" + struct.pack("<Q", len(b)) + b


def binint(n: int) -> bytes:
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if 0 <= n < 65536:
        return b"M" + struct.pack("<H", n)
    return b"J" + struct.pack("<i", n)


def binput(i: int) -> bytes:
    return b"q" + bytes([i])


def binget(i: int) -> bytes:
    return b"h" + bytes([i])


def frame(body: bytes) -> bytes:
    return b"\x95" + struct.pack("<Q", len(body)) + body


def call(module: str, name: str, *args: bytes, proto: int = 2) -> bytes:
    """``module.name(*args)`` as GLOBAL + MARK args TUPLE + REDUCE (no PROTO, no STOP)."""
    return glob(module, name) + MARK + b"".join(args) + TUPLE + REDUCE


def pickle_of(body: bytes, proto: int = 2) -> bytes:
    return (PROTO(proto) if proto >= 2 else b"") + body + STOP


def os_system(cmd: str = "echo harmless", proto: int = 2) -> bytes:
    return pickle_of(call("os", "system", ustr(cmd) if proto >= 2 else b"S'" + cmd.encode() + b"'\n"), proto)


# ---- zip / torch layouts ------------------------------------------------------------------------
def zip_bytes(members: Iterable[tuple[str, bytes]], compress: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, compress_type=compress)
    return buf.getvalue()


def torch_state_dict_pickle(n_tensors: int, numel: int = 4) -> bytes:
    """The data.pkl ``torch.save`` writes for an OrderedDict of float tensors (protocol 2)."""
    out = [PROTO(2), glob("collections", "OrderedDict"), b"q\x00", EMPTY_TUPLE, REDUCE, b"q\x01", MARK]
    memo = 2
    rebuild = storage = None
    for i in range(n_tensors):
        out.append(ustr(f"layer{i}.weight"))
        if rebuild is None:
            out.append(glob("torch._utils", "_rebuild_tensor_v2"))
            rebuild = memo
            out.append(b"r" + struct.pack("<I", memo))
            memo += 1
        else:
            out.append(b"j" + struct.pack("<I", rebuild))
        out.append(MARK)
        # persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
        out.append(MARK + ustr("storage"))
        if storage is None:
            out.append(glob("torch", "FloatStorage"))
            storage = memo
            out.append(b"r" + struct.pack("<I", memo))
            memo += 1
        else:
            out.append(b"j" + struct.pack("<I", storage))
        out.append(ustr(str(i)) + ustr("cpu") + binint(numel) + TUPLE + b"Q")
        out.append(binint(0) + binint(numel) + TUPLE1 + binint(1) + TUPLE1 + NEWFALSE)
        out.append(glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE)
        out.append(TUPLE + REDUCE)
    out.append(SETITEMS + STOP)
    return b"".join(out)


def torch_zip(pickle_bytes: bytes, n_storages: int = 0, numel: int = 4, prefix: str = "archive", extra: Iterable[tuple[str, bytes]] = ()) -> bytes:
    members = [(f"{prefix}/data.pkl", pickle_bytes), (f"{prefix}/byteorder", b"little"), (f"{prefix}/version", b"3\n")]
    members += [(f"{prefix}/data/{i}", struct.pack(f"<{numel}f", *([0.5] * numel))) for i in range(n_storages)]
    members += list(extra)
    members.append((f"{prefix}/.data/serialization_id", b"1234567890"))
    return zip_bytes(members)


def patch_local_name(data: bytes, old: str, new: str) -> bytes:
    """Rename a member in its local header only (the central directory, later, keeps the old name)."""
    assert len(old) == len(new)
    start = data.index(old.encode())
    return data[:start] + new.encode() + data[start + len(old) :]


def legacy_torch(main_pickle: bytes, sys_info: bytes | None = None) -> bytes:
    """Legacy (pre-1.6) torch.save layout: magic, protocol, sys_info, object, storage keys, data."""
    magic = PROTO(2) + b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + STOP
    proto = PROTO(2) + binint(1001) + STOP
    info = sys_info or (PROTO(2) + EMPTY_DICT + STOP)
    keys = PROTO(2) + EMPTY_LIST + STOP
    return magic + proto + info + main_pickle + keys + struct.pack("<Q", 4) + b"\x00" * 16


# ---- other formats ------------------------------------------------------------------------------
def safetensors(tensors: dict[str, tuple[str, list[int], bytes]], metadata: dict | None = None, raw_header: bytes | None = None, tail: bytes = b"") -> bytes:
    header: dict = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, (dtype, shape, blob) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data + tail


def gguf(kv: dict[str, str | int], tensors: Iterable[tuple[str, list[int], int, int]] = (), data: bytes = b"") -> bytes:
    def s(x: str) -> bytes:
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    tensors = list(tensors)
    out = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", len(tensors)) + struct.pack("<Q", len(kv))
    for k, v in kv.items():
        out += s(k)
        if isinstance(v, str):
            out += struct.pack("<I", 8) + s(v)
        else:
            out += struct.pack("<I", 4) + struct.pack("<I", v)
    for name, dims, ttype, off in tensors:
        out += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<I", ttype) + struct.pack("<Q", off)
    out += b"\x00" * (-len(out) % 32)
    return out + data


def pb_varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def pb_field(num: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return pb_varint(num << 3) + pb_varint(payload)
    return pb_varint(num << 3 | 2) + pb_varint(len(payload)) + payload


def onnx_model(location: str | None = None, domain: str = "", sparse: bool = False) -> bytes:
    node = pb_field(1, b"x") + pb_field(2, b"y") + pb_field(4, b"Relu") + (pb_field(7, domain.encode()) if domain else b"")
    graph = pb_field(1, node) + pb_field(2, b"g")
    if location is not None:
        ext = pb_field(1, b"location") + pb_field(2, location.encode())
        tensor = pb_field(1, 4) + pb_field(2, 1) + pb_field(8, b"w") + pb_field(13, ext) + pb_field(14, 1)
        graph += pb_field(15, pb_field(1, tensor) + pb_field(3, 4)) if sparse else pb_field(5, tensor)
    opset = pb_field(2, 17) if not domain else pb_field(1, domain.encode()) + pb_field(2, 1)
    return pb_field(1, 8) + pb_field(7, graph) + pb_field(8, opset)


def saved_model(ops: Iterable[str], keras_configs: Iterable[dict] = ()) -> bytes:
    nodes = b"".join(pb_field(1, pb_field(1, f"n{i}".encode()) + pb_field(2, op.encode())) for i, op in enumerate(ops))
    objects = b"".join(pb_field(1, pb_field(6, pb_field(1, b"_tf_keras_layer") + pb_field(3, json.dumps(c).encode()))) for c in keras_configs)
    meta_graph = pb_field(2, nodes) + (pb_field(7, objects) if objects else b"")
    return pb_field(1, 1) + pb_field(2, meta_graph)


def keras_metadata(configs: Iterable[dict]) -> bytes:
    return b"".join(pb_field(1, pb_field(2, i) + pb_field(4, b"_tf_keras_layer") + pb_field(5, json.dumps(c).encode())) for i, c in enumerate(configs))


def keras_zip(layers: list[dict]) -> bytes:
    config = {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": layers}}
    return zip_bytes([("metadata.json", b'{"keras_version": "3.6.0"}'), ("config.json", json.dumps(config).encode()), ("model.weights.h5", b"\x89HDF\r\n\x1a\n")])


def npy_header(descr: str, shape: tuple) -> bytes:
    h = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    h += b" " * (-(len(h) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


def joblib_array(data: bytes = b"\xff" * 32, after: bytes = b"", dtype: str = "f8", shape: tuple = (4,)) -> bytes:
    """What ``joblib.dump(array)`` writes: a NumpyArrayWrapper, its BUILD, then the raw buffer
    (after one padding-length byte and the padding), then the rest of the pickle."""
    dims = b"".join(binint(d) for d in shape)
    state = (EMPTY_DICT + MARK
             + ustr("subclass") + glob("numpy", "ndarray")
             + ustr("shape") + MARK + dims + TUPLE
             + ustr("order") + ustr("C")
             + ustr("dtype") + glob("numpy", "dtype") + MARK + ustr(dtype) + NEWFALSE + NEWTRUE + TUPLE + REDUCE
             + MARK + binint(3) + ustr("<") + NONE + NONE + NONE + b"J\xff\xff\xff\xff" + b"J\xff\xff\xff\xff" + binint(0) + TUPLE + BUILD
             + ustr("allow_mmap") + NEWFALSE
             + ustr("numpy_array_alignment_bytes") + binint(16)
             + SETITEMS)
    head = PROTO(2) + glob("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + state + BUILD
    if dtype.startswith("O"):
        return head + data + after + STOP  # object arrays: a nested pickle, no padding
    pad = 3
    return head + bytes([pad]) + b"\xff" * pad + data + after + STOP


# ---- running the scanner ------------------------------------------------------------------------
def scan_file(tmp_path, name: str, data: bytes, **options):
    """Write ``data`` to ``tmp_path/name`` and scan it with the default options plus ``options``."""
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    opts = {"profiles": ["torch", "numpy"], **options}
    return scan_path(str(p), config_from_options(opts))


def rules(report) -> set[str]:
    return {h.rule for h in report.hits}


def blocked_globals(report) -> set[str]:
    return {h.extra["global"] for h in report.hits if h.rule in ("MODEL001", "MODEL002")}


def tflite_model(ops: Iterable[tuple[int, str | None]]) -> bytes:
    """A minimal TFLite FlatBuffer (identifier ``TFL3``) whose ``Model.operator_codes`` holds
    ``(builtin_code, custom_code)`` entries, laid out as the FlatBuffers builder does: root
    offset, vtables before their tables, little-endian offsets relative to where they are stored."""
    ops = list(ops)
    out = bytearray(struct.pack("<I", 0) + b"TFL3")
    # Model vtable (fields: 0 version, 1 operator_codes) and table
    vt = len(out)
    out += struct.pack("<HHHH", 8, 8, 0, 4)
    model = len(out)
    out += struct.pack("<iI", model - vt, 0)  # soffset, operator_codes uoffset (patched)
    struct.pack_into("<I", out, 0, model)
    vec = len(out)
    struct.pack_into("<I", out, model + 4, vec - (model + 4))
    out += struct.pack("<I", len(ops)) + b"\0" * (4 * len(ops))
    for i, (code, custom) in enumerate(ops):
        ovt = len(out)
        out += struct.pack("<HHHHHH", 12, 16, 12, 4 if custom is not None else 0, 0, 8)
        table = len(out)
        out += struct.pack("<iIiBxxx", table - ovt, 0, code, min(code, 127))
        struct.pack_into("<I", out, vec + 4 + 4 * i, table - (vec + 4 + 4 * i))
        if custom is not None:  # strings after the table: offsets point forward
            struct.pack_into("<I", out, table + 4, len(out) - (table + 4))
            b = custom.encode()
            out += struct.pack("<I", len(b)) + b + b"\0" + b"\0" * (-(len(b) + 1) % 4)
    return bytes(out)
