"""Non-pickle formats: safetensors, GGUF, Keras (.keras / .h5 / config.json), SavedModel (ONNX: ``onnx_scan``).

Each parser reads only headers and metadata, with explicit size bounds, and reports what would
make a loader do something other than read numbers: a header that lies about its tensors, a chat
template that escapes Jinja's sandbox, an external-data path outside the model directory, a Keras
``Lambda`` carrying marshalled bytecode, a TensorFlow graph that reads and writes files.
"""

from __future__ import annotations

import functools
import json
import os
import struct
from importlib import resources
from typing import Any, BinaryIO

from . import protobuf as pb
from .config import printable
from .keras_check import keras_config_problems
from .scan import Scan
from .stream import OverLimit, Region, Source, Truncated
from .chat_templates import check_template, templates_in_config

# ---- safetensors ------------------------------------------------------------------------------------
ST_DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16,
    "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64, "F4": 4,
    "F6_E2M3": 6, "F6_E3M2": 6,
}


def _header_fail(scan: Scan, message: str, member: str | None, offset: int | None, key: str) -> None:
    scan.hit("MODEL013", message, member, offset, blocking=True, key=key)


def _no_dup_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def scan_safetensors(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    lim = scan.cfg.limits
    try:
        n = struct.unpack("<Q", src.read(8))[0]
    except Truncated:
        scan.inconclusive("safetensors file is too short for its header length", member, 0, key="st-short")
        return
    if n > lim.max_header_bytes:
        _header_fail(scan, f"safetensors header of {n} bytes is over the limit", member, 0, "st-header-size")
        return
    if size is not None and n > size - 8:
        _header_fail(scan, "safetensors header length runs past the end of the file", member, 0, "st-header-bounds")
        return
    try:
        raw = src.read(n)
        text = raw.decode("utf-8")
        if not text.startswith("{"):
            raise ValueError("header does not start with '{'")
        header = json.loads(text, object_pairs_hook=_no_dup_pairs)
    except (Truncated, OverLimit):
        scan.inconclusive("safetensors header is truncated", member, 8, key="st-truncated")
        return
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        _header_fail(scan, f"safetensors header is not valid JSON ({type(exc).__name__}: {str(exc)[:80]})", member, 8, "st-json")
        return
    if not isinstance(header, dict):
        _header_fail(scan, "safetensors header is not a JSON object", member, 8, "st-shape")
        return
    spans = []
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in info.items()):
                _header_fail(scan, "safetensors __metadata__ must map strings to strings", member, 8, "st-metadata")
                return
            continue
        problem = _tensor_problem(info)
        if problem:
            _header_fail(scan, f"safetensors tensor entry is invalid: {problem}", member, 8, "st-tensor")
            return
        spans.append((info["data_offsets"][0], info["data_offsets"][1]))
    scan.report.items += len(spans)
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            _header_fail(scan, "safetensors tensors are not contiguous (gap or overlap between data offsets)", member, 8, "st-offsets")
            return
        pos = e
    if size is not None:
        data = size - 8 - n
        if pos != data:
            what = "data is truncated" if pos > data else f"{data - pos} bytes are appended after the last tensor"
            _header_fail(scan, f"safetensors {what}", member, 8 + n + min(pos, data), "st-size")


def _tensor_problem(info: Any) -> str | None:
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        return "needs exactly dtype, shape and data_offsets"
    bits = ST_DTYPE_BITS.get(info["dtype"]) if isinstance(info["dtype"], str) else None
    if bits is None:
        return "unknown dtype"
    shape, offs = info["shape"], info["data_offsets"]
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
        return "shape must be a list of non-negative integers"
    if not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int and o >= 0 for o in offs) or offs[0] > offs[1]:
        return "data_offsets must be [begin, end] with begin <= end"
    count = 1
    for d in shape:
        count *= d
    if (count * bits + 7) // 8 != offs[1] - offs[0]:
        return "dtype x shape does not match the byte span"
    return None


# ---- GGUF ---------------------------------------------------------------------------------------------
GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
# ggml type -> (block bytes, block elements)
GGML_TYPES = {
    0: (4, 1), 1: (2, 1), 2: (18, 32), 3: (20, 32), 6: (22, 32), 7: (24, 32), 8: (34, 32), 9: (36, 32),
    10: (84, 256), 11: (110, 256), 12: (144, 256), 13: (176, 256), 14: (210, 256), 15: (292, 256),
    16: (66, 256), 17: (74, 256), 18: (98, 256), 19: (50, 256), 20: (18, 32), 21: (110, 256), 22: (82, 256),
    23: (136, 256), 24: (1, 1), 25: (2, 1), 26: (4, 1), 27: (8, 1), 28: (8, 1), 29: (56, 256), 30: (2, 1),
    34: (54, 256), 35: (66, 256), 39: (17, 32),
}
GGUF_MAX_COUNT = 10_000_000


class _GGUF:
    def __init__(self, src: Source, version: int, max_str: int) -> None:
        self.src, self.version, self.max_str = src, version, max_str

    def count(self) -> int:
        return struct.unpack("<I" if self.version == 1 else "<Q", self.src.read(4 if self.version == 1 else 8))[0]

    def string(self, keep: bool = True) -> str | None:
        n = self.count()
        if n > self.max_str:
            raise OverLimit(f"GGUF string of {n} bytes")
        if not keep:
            self.src.skip(n)
            return None
        return self.src.read(n).decode("utf-8", "replace")

    def value(self, vtype: int, keep: bool, depth: int = 0) -> Any:
        if vtype in GGUF_SCALARS:
            fmt = GGUF_SCALARS[vtype]
            return struct.unpack(fmt, self.src.read(struct.calcsize(fmt)))[0]
        if vtype == 8:
            return self.string(keep)
        if vtype == 9:
            if depth > 4:
                raise ValueError("GGUF arrays nested too deeply")
            itype = struct.unpack("<I", self.src.read(4))[0]
            n = self.count()
            if n > GGUF_MAX_COUNT:
                raise OverLimit(f"GGUF array of {n} items")
            if itype in GGUF_SCALARS:
                self.src.skip(n * struct.calcsize(GGUF_SCALARS[itype]))
                return None
            items = []
            for _ in range(n):
                v = self.value(itype, keep and len(items) < 16, depth + 1)
                if keep and len(items) < 16:
                    items.append(v)
            return items
        raise ValueError(f"unknown GGUF value type {vtype}")


def scan_gguf(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    lim = scan.cfg.limits
    try:
        src.read(4)
        version = struct.unpack("<I", src.read(4))[0]
        if version not in (1, 2, 3):
            scan.inconclusive(f"unsupported GGUF version {version}", member, 4, key="gguf-version")
            return
        g = _GGUF(src, version, lim.max_header_bytes)
        n_tensors, n_kv = g.count(), g.count()
        if n_tensors > GGUF_MAX_COUNT or n_kv > GGUF_MAX_COUNT:
            _header_fail(scan, "GGUF header announces an implausible number of tensors or keys", member, 8, "gguf-counts")
            return
        alignment = 32
        for _ in range(n_kv):
            key_off = src.offset
            key = g.string() or ""
            vtype = struct.unpack("<I", src.read(4))[0]
            is_template = key.startswith("tokenizer.chat_template")
            val = g.value(vtype, keep=is_template or key == "general.alignment")
            if key == "general.alignment" and isinstance(val, int) and val > 0:
                alignment = val
            if is_template:
                for t in val if isinstance(val, list) else [val]:
                    if isinstance(t, str):
                        _check_template(scan, t, key, member, key_off)
        tensors = []
        for _ in range(n_tensors):
            tname = g.string() or ""
            nd = struct.unpack("<I", src.read(4))[0]
            if nd > 8:
                _header_fail(scan, f"GGUF tensor {tname[:60]!r} has {nd} dimensions", member, src.offset, "gguf-dims")
                return
            dims = [struct.unpack("<I" if version == 1 else "<Q", src.read(4 if version == 1 else 8))[0] for _ in range(nd)]
            ttype, off = struct.unpack("<I", src.read(4))[0], struct.unpack("<Q", src.read(8))[0]
            tensors.append((tname, dims, ttype, off))
        scan.report.items += n_tensors
        data_start = src.pos + (-src.pos % alignment)
    except (Truncated, OverLimit, ValueError, struct.error) as exc:
        scan.inconclusive(f"GGUF header cannot be parsed ({type(exc).__name__}: {str(exc)[:80]})", member, src.offset, key="gguf-parse")
        return
    if size is None:
        return
    data_len = size - data_start
    for tname, dims, ttype, off in tensors:
        count = 1
        for d in dims:
            count *= d
        bsz = GGML_TYPES.get(ttype)
        nbytes = (count // bsz[1]) * bsz[0] if bsz else 0
        if off % alignment or off + nbytes > data_len:
            _header_fail(scan, f"GGUF tensor {tname[:60]!r} lies outside the data section or is misaligned", member, data_start + off, "gguf-tensor-bounds")
            return


def _check_template(scan: Scan, template: str, key: str, member: str | None, offset: int) -> None:
    check_template(scan, template, key, member, offset)


# ---- TensorFlow SavedModel --------------------------------------------------------------------------
MAX_UNKNOWN_OPS = 20  # unknown ops reported one by one; the rest in one finding
TF_CODE_OPS = {"PyFunc": "runs a Python function", "PyFuncStateless": "runs a Python function", "EagerPyFunc": "runs a Python function"}
TF_FILE_OPS = {
    "ReadFile": "reads files", "WriteFile": "writes files", "MatchingFiles": "lists files", "DeleteFile": "deletes files",
    "ImmutableConst": "maps a file into memory", "FileExists": "probes files", "IsDirectory": "probes files",
    "CreateSummaryFileWriter": "writes files", "WriteSummary": "writes files", "FixedLengthRecordDataset": "reads files",
    "TFRecordDataset": "reads files", "TextLineDataset": "reads files", "LoadAndRemapMatrix": "reads files",
    "DebugIdentityV2": "writes debug files", "PrintV2": "prints to a file or stream",
}


def scan_savedmodel(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    if size is None:
        scan.inconclusive("SavedModel inside a compressed stream cannot be inspected", member, 0, key="tf-stream")
        return
    ops: dict[str, int] = {}
    functions: set[str] = set()
    configs: list[str] = []
    base = src.start
    try:
        if os.path.basename(name) == "keras_metadata.pb":
            # Keras 2 SavedModel: SavedMetadata.nodes[].metadata holds each layer's JSON config
            for node in pb.fields(f, base, base + size):
                if node.number == 1 and node.wire == 2:
                    configs += [pb.read_string(f, m, scan.cfg.limits.max_header_bytes)
                                for m in pb.fields(f, node.start, node.start + node.length) if m.number == 5 and m.wire == 2]
        else:
            for mg in pb.fields(f, base, base + size):
                if mg.number == 2 and mg.wire == 2:  # meta_graphs
                    for part in pb.fields(f, mg.start, mg.start + mg.length):
                        if part.number == 2 and part.wire == 2:  # graph_def
                            _tf_graph(f, part, ops, functions)
                        elif part.number == 7 and part.wire == 2:  # object_graph_def
                            configs += _tf_user_metadata(f, part, scan.cfg.limits.max_header_bytes)
    except (pb.ProtoError, OSError, ValueError) as exc:
        scan.inconclusive(f"SavedModel protobuf cannot be parsed ({exc})", member, None, key="tf-parse")
        return
    for text in configs:
        try:
            keras_problems(scan, json.loads(text), member)
        except (ValueError, RecursionError):
            continue  # metadata that is not JSON is not a Keras config
    scan.report.items += sum(ops.values())
    allowed = set(scan.cfg.savedmodel_allowed_ops)
    known = known_tf_ops()
    unknown: list[str] = []
    for op in sorted(ops):
        if op in allowed:
            continue
        if op in TF_CODE_OPS or op in TF_FILE_OPS:  # first: a library function named `ReadFile` does not hide the op
            why = TF_CODE_OPS.get(op) or TF_FILE_OPS[op]
            scan.hit("MODEL011", f"TensorFlow graph uses `{op}` ({why}) {ops[op]} time(s)", member, None,
                     severity="critical" if op in TF_CODE_OPS else "high", key=f"op:{op}", extra={"op": op})
        elif op not in known and op not in functions:
            unknown.append(op)  # a node whose op names a library function calls it (its own nodes are scanned)
    for op in unknown[:MAX_UNKNOWN_OPS]:
        scan.hit("MODEL019", f"TensorFlow graph uses the unknown op `{op}` {ops[op]} time(s) (custom op or outside the built-in list)",
                 member, None, key=f"unknown-op:{printable(op, 200)}", extra={"op": op})
    if len(unknown) > MAX_UNKNOWN_OPS:
        scan.hit("MODEL019", f"TensorFlow graph uses {len(unknown) - MAX_UNKNOWN_OPS} more unknown ops (not listed one by one)",
                 member, None, key="unknown-op:more", extra={"count": len(unknown) - MAX_UNKNOWN_OPS})


def _tf_user_metadata(f: BinaryIO, fld: pb.Field, limit: int) -> list[str]:
    """SavedObjectGraph.nodes[].user_object.metadata: the Keras layer configs of a TF2 SavedModel."""
    out = []
    for node in pb.fields(f, fld.start, fld.start + fld.length):
        if node.number != 1 or node.wire != 2:
            continue
        for kind in pb.fields(f, node.start, node.start + node.length):
            if kind.number == 6 and kind.wire == 2:  # user_object
                out += [pb.read_string(f, m, limit) for m in pb.fields(f, kind.start, kind.start + kind.length) if m.number == 3 and m.wire == 2]
    return out


def _tf_graph(f: BinaryIO, fld: pb.Field, ops: dict[str, int], functions: set[str]) -> None:
    for sub in pb.fields(f, fld.start, fld.start + fld.length):
        if sub.wire != 2:
            continue
        if sub.number == 1:  # node
            _tf_node(f, sub, ops)
        elif sub.number == 2:  # library
            for fn in pb.fields(f, sub.start, sub.start + sub.length):
                if fn.number == 1 and fn.wire == 2:  # FunctionDef
                    for part in pb.fields(f, fn.start, fn.start + fn.length):
                        if part.number == 3 and part.wire == 2:  # node_def
                            _tf_node(f, part, ops)
                        elif part.number == 1 and part.wire == 2:  # signature (OpDef): its name is callable as an op
                            functions.update(pb.read_string(f, n, 1024) for n in pb.fields(f, part.start, part.start + part.length)
                                             if n.number == 1 and n.wire == 2)


@functools.cache
def known_tf_ops() -> frozenset[str]:
    """The built-in op allowlist (``tf_ops.json`` in this package; its ``source`` says where it comes from)."""
    data = json.loads(resources.files(__package__).joinpath("tf_ops.json").read_text(encoding="utf-8"))
    return frozenset(data["ops"])


def _tf_node(f: BinaryIO, fld: pb.Field, ops: dict[str, int]) -> None:
    for part in pb.fields(f, fld.start, fld.start + fld.length):
        if part.number == 2 and part.wire == 2:
            op = pb.read_string(f, part, 1024)
            ops[op] = ops.get(op, 0) + 1


# ---- Keras ------------------------------------------------------------------------------------------
def scan_keras_config(scan: Scan, stream: BinaryIO, member: str | None, size: int | None) -> None:
    limit = scan.cfg.limits.max_header_bytes
    data = stream.read(limit + 1)
    if len(data) > limit:
        scan.inconclusive("Keras config.json is over the header size limit", member, 0, key="keras-size")
        return
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        scan.inconclusive(f"Keras config is not valid JSON ({type(exc).__name__})", member, 0, key="keras-json")
        return
    keras_problems(scan, config, member)


def keras_problems(scan: Scan, config: Any, member: str | None) -> None:
    """Report what ``keras_check`` finds in a Keras config: MODEL010 per problem (MODEL003 when it
    is nested too deeply to check)."""
    for p in keras_config_problems(config, scan.cfg.keras_allowed_modules):
        if p.code == "depth":
            scan.inconclusive(p.message, member, None, key="keras-depth")
        else:
            scan.hit("MODEL010", p.message, member, None, severity=p.severity, key=p.key, extra=p.extra)


def scan_hdf5(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    try:
        import h5py  # type: ignore[import-not-found]
    except ImportError:
        scan.inconclusive("HDF5 (.h5) model could not be inspected: install h5py to check its model_config", member, 0, key="h5-noh5py")
        return
    if size is None:
        scan.inconclusive("HDF5 inside a compressed stream cannot be inspected", member, 0, key="h5-stream")
        return
    try:
        with h5py.File(Region(f, src.start, size), "r") as h5:
            raw = h5.attrs.get("model_config")
            if raw is None:
                return  # weights only
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8")
            config = json.loads(str(raw))
    except (OSError, ValueError, KeyError, RuntimeError, TypeError, UnicodeDecodeError) as exc:
        scan.inconclusive(f"HDF5 file cannot be read ({type(exc).__name__})", member, 0, key="h5-read")
        return
    keras_problems(scan, config, member)


def scan_json(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """A bare Keras ``config.json`` (or ``model.json``) is checked like the one inside ``.keras``."""
    if size is None or size > scan.cfg.limits.max_header_bytes:
        return
    try:
        config = json.loads(src.read(size).decode("utf-8"))
    except (Truncated, UnicodeDecodeError, ValueError, RecursionError):
        if os.path.basename(name).lower() in TEMPLATE_CONFIGS:
            scan.inconclusive(f"{os.path.basename(name)} is not valid JSON: its chat template cannot be checked", member, 0,
                              key="template-config")
        return
    if isinstance(config, dict) and "class_name" in config and "config" in config:
        keras_problems(scan, config, member)
    for where, template in templates_in_config(config):
        if where.endswith("?"):
            scan.inconclusive(f"`{where[:-1]}` is neither a template string nor a list of {{name, template}}", member, 0,
                              key="template-shape")
        else:
            check_template(scan, template, where, member, 0)


#: configs that carry chat templates: a broken one must not pass unchecked
TEMPLATE_CONFIGS = {"tokenizer_config.json", "chat_template.json", "processor_config.json"}
