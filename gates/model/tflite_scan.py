"""TensorFlow Lite models: the operators they need.

A ``.tflite`` file is a FlatBuffer (identifier ``TFL3``) whose ``Model.operator_codes`` lists every
operator the interpreter must resolve. Built-in operators are kernels shipped with TFLite; a
``CUSTOM`` operator needs a native implementation registered by whoever loads the model (native
code from elsewhere), and a ``Flex*`` custom operator runs the TensorFlow op of that name through
the Flex delegate, including ops that read and write files (``FlexReadFile``, ``FlexWriteFile``).

Only the operator table is read, with bounds checks on every offset (random access: weights are
never read).
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from gates.core.hygiene import clean

from .scan import Scan
from .stream import Source

BUILTIN_CUSTOM = 32  # BuiltinOperator.CUSTOM
MAX_OPCODES = 100_000
MAX_REPORTED = 20
#: custom operators the TFLite converter itself emits or TFLite's own libraries implement
KNOWN_CUSTOM = frozenset({"TFLite_Detection_PostProcess", "Convolution2DTransposeBias", "MaxPoolingWithArgmax2D",
                          "MaxUnpooling2D", "DensifyOp", "Mfcc", "AudioSpectrogram"})
#: TensorFlow ops that touch files or run Python (a Flex op runs the TF op named after ``Flex``)
TF_RISKY = {
    "ReadFile": "reads files", "WriteFile": "writes files", "MatchingFiles": "lists files", "DeleteFile": "deletes files",
    "PyFunc": "runs Python", "PyFuncStateless": "runs Python", "EagerPyFunc": "runs Python", "ImmutableConst": "maps a file",
    "FixedLengthRecordDataset": "reads files", "TFRecordDataset": "reads files", "TextLineDataset": "reads files",
    "Save": "writes files", "SaveV2": "writes files", "Restore": "reads files", "RestoreV2": "reads files",
    "PrintV2": "prints", "LoadAndRemapMatrix": "reads files", "InitializeTableFromTextFile": "reads files",
    "InitializeTableFromTextFileV2": "reads files",
}


class FlatBufferError(Exception):
    """An offset or length points outside the buffer."""


class _Buf:
    """Bounds-checked random access to ``size`` bytes of ``f`` starting at ``base``."""

    def __init__(self, f: BinaryIO, base: int, size: int) -> None:
        self.f, self.base, self.size = f, base, size

    def read(self, pos: int, n: int) -> bytes:
        if pos < 0 or n < 0 or pos + n > self.size:
            raise FlatBufferError(f"offset {pos}+{n} outside the {self.size}-byte model")
        self.f.seek(self.base + pos)
        data = self.f.read(n)
        if len(data) != n:
            raise FlatBufferError("model is truncated")
        return data

    def u32(self, pos: int) -> int:
        return struct.unpack("<I", self.read(pos, 4))[0]

    def i32(self, pos: int) -> int:
        return struct.unpack("<i", self.read(pos, 4))[0]

    def field(self, table: int, index: int) -> int | None:
        """Absolute position of field ``index`` of the table at ``table``, or None when absent."""
        vtable = table - self.i32(table)
        vsize = struct.unpack("<H", self.read(vtable, 2))[0]
        slot = 4 + 2 * index
        if slot + 2 > vsize:
            return None
        off = struct.unpack("<H", self.read(vtable + slot, 2))[0]
        return table + off if off else None

    def deref(self, pos: int) -> int:
        return pos + self.u32(pos)

    def string(self, pos: int, limit: int = 4096) -> str:
        target = self.deref(pos)
        n = self.u32(target)
        if n > limit:
            raise FlatBufferError("string too long")
        return self.read(target + 4, n).decode("utf-8", "replace")


def operator_codes(f: BinaryIO, base: int, size: int) -> list[tuple[int, str | None]]:
    """(builtin code, custom code or None) for each entry of ``Model.operator_codes``."""
    buf = _Buf(f, base, size)
    model = buf.deref(0)
    pos = buf.field(model, 1)  # Model.operator_codes
    if pos is None:
        return []
    vec = buf.deref(pos)
    n = buf.u32(vec)
    if n > MAX_OPCODES:
        raise FlatBufferError(f"{n} operator codes")
    out = []
    for i in range(n):
        elem = vec + 4 + 4 * i
        table = buf.deref(elem)
        deprecated = buf.field(table, 0)  # int8 deprecated_builtin_code
        code = struct.unpack("<b", buf.read(deprecated, 1))[0] if deprecated is not None else 0
        builtin = buf.field(table, 3)  # int32 builtin_code (schema >= 2.4); the larger of the two wins
        if builtin is not None:
            code = max(code, buf.i32(builtin))
        custom_pos = buf.field(table, 1)
        custom = buf.string(custom_pos) if custom_pos is not None else None
        out.append((code, custom))
    return out


def scan_tflite(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """MODEL011 for Flex ops that touch files or run Python, MODEL020 for custom operators that
    need native code; MODEL003 when the FlatBuffer's offsets do not hold together."""
    if size is None:
        scan.inconclusive("TFLite model inside a compressed stream cannot be inspected", member, 0, key="tflite-stream")
        return
    try:
        codes = operator_codes(f, src.start, size)
    except (FlatBufferError, struct.error, OSError) as exc:
        scan.inconclusive(f"TFLite FlatBuffer cannot be followed ({clean(str(exc))})", member, 0, key="tflite-parse")
        return
    scan.report.items += len(codes)
    customs = sorted({c for code, c in codes if code == BUILTIN_CUSTOM and c is not None and c not in KNOWN_CUSTOM})
    if any(code == BUILTIN_CUSTOM and c is None for code, c in codes):
        scan.inconclusive("TFLite model has a CUSTOM operator without a name", member, 0, key="tflite-custom-unnamed")
    reported = 0
    for op in customs:
        shown = clean(op[:120])
        tf_op = op[4:] if op.startswith("Flex") else None
        if tf_op in TF_RISKY:
            scan.hit("MODEL011", f"TFLite model runs the TensorFlow op `{shown}` through the Flex delegate: it {TF_RISKY[tf_op]}",
                     member, None, severity="critical" if "Python" in TF_RISKY[tf_op] else "high", key=f"tflite-flex:{shown}",
                     extra={"op": shown})
            continue
        reported += 1
        if reported <= MAX_REPORTED:
            what = "the Flex delegate (TensorFlow kernels)" if tf_op else "a native custom-op library registered by the loader"
            scan.hit("MODEL020", f"TFLite model uses the custom operator `{shown}`, which needs {what}", member, None,
                     key=f"tflite-custom:{shown}", extra={"op": shown})
    if reported > MAX_REPORTED:
        scan.hit("MODEL020", f"TFLite model uses {reported - MAX_REPORTED} more custom operators", member, None, key="tflite-custom:more")
