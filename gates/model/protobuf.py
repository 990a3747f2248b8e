"""A minimal protobuf wire-format reader over a seekable file.

Why not ``onnx``/``tensorflow``: they are large, native, and parse the whole model into memory.
We only need a few fields (op types, domains, external-data locations), so we walk tags and
*seek past* every payload we do not descend into (tensor ``raw_data`` can be gigabytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator


class ProtoError(Exception):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True)
class Field:
    number: int
    wire: int
    value: int = 0  # varint / fixed value
    start: int = 0  # payload offset for length-delimited fields
    length: int = 0


def _varint(f: BinaryIO) -> int:
    shift, out = 0, 0
    while True:
        b = f.read(1)
        if not b:
            raise ProtoError("truncated varint")
        out |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return out
        shift += 7
        if shift > 63:
            raise ProtoError("varint too long")


def fields(f: BinaryIO, start: int, end: int) -> Iterator[Field]:
    """Yield the fields of the message in ``[start, end)``; payloads are not read."""
    pos = start
    while pos < end:
        f.seek(pos)
        key = _varint(f)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtoError("field number 0")
        if wire == 0:
            value = _varint(f)
            pos = f.tell()
            yield Field(number, wire, value)
        elif wire == 1:
            f.seek(8, 1)
            pos = f.tell()
            yield Field(number, wire)
        elif wire == 5:
            f.seek(4, 1)
            pos = f.tell()
            yield Field(number, wire)
        elif wire == 2:
            length = _varint(f)
            data_start = f.tell()
            if data_start + length > end:
                raise ProtoError("length-delimited field runs past its message")
            pos = data_start + length
            yield Field(number, wire, start=data_start, length=length)
        else:
            raise ProtoError(f"unsupported wire type {wire}")
    if pos != end:
        raise ProtoError("message does not end on a field boundary")


def read_string(f: BinaryIO, fld: Field, limit: int = 1 << 20) -> str:
    if fld.wire != 2:
        raise ProtoError("expected a string field")
    if fld.length > limit:
        raise ProtoError("string field too long")
    f.seek(fld.start)
    data = f.read(fld.length)
    if len(data) != fld.length:
        raise ProtoError("truncated string")
    return data.decode("utf-8", "replace")
