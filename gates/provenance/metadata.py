"""Provenance inside weight files: GGUF ``general.*`` keys, the safetensors ``__metadata__``
map, ONNX ``metadata_props`` and MLflow ``MLmodel`` files.

Each reader is small and bounded (header sizes capped, key counts capped, arrays skipped without
being kept) and reads only what declares identity and terms: nothing is loaded or executed. The
model gate has its own parsers for safety; this gate does not import it.
"""

from __future__ import annotations

import io
import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from gates.core.errors import PolicyError
from gates.core.yamlsrc import load_yaml_text

from .facts import Fact, Kind, ReadError
from .reading import head, read_text

GGUF_MAGIC = b"GGUF"
MAX_KV = 1 << 16
MAX_ARRAY = 1 << 24
MAX_FIELDS = 1 << 12


def sniff(path: Path) -> str | None:
    """The weights format of a file by its first bytes (and ``.onnx``, which has no magic)."""
    h = head(path, 16)
    if h[:4] == GGUF_MAGIC:
        return "gguf"
    if len(h) >= 9 and h[8:9] == b"{" and 2 <= struct.unpack("<Q", h[:8])[0] <= 100 << 20:
        return "safetensors"
    if h[:8] == b"\x89HDF\r\n\x1a\n":
        return "hdf5"
    if h[:6] == b"\x93NUMPY":
        return "numpy"
    if h[:1] == b"\x80" and h[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "pickle"
    suffix = path.suffix.lower()
    if h[:4] == b"PK\x03\x04" and suffix in (".pt", ".pth", ".ckpt", ".keras", ".bin", ".nemo", ".mar", ".joblib", ".npz"):
        return "zip"
    if suffix == ".onnx" and h[:1] == b"\x08":  # field 1 (ir_version), varint
        return "onnx"
    if suffix in (".tflite", ".pb", ".mlmodel") and h:
        return suffix[1:]
    return None


# ---- GGUF ----------------------------------------------------------------------------------
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class _Reader:
    def __init__(self, fh: BinaryIO, limit: int, path: Path) -> None:
        self.fh, self.left, self.path = fh, limit, path

    def take(self, n: int) -> bytes:
        if n > self.left:
            raise ReadError(self.path, "GGUF metadata is larger than max_metadata_mb")
        b = self.fh.read(n)
        if len(b) != n:
            raise ReadError(self.path, "GGUF header is truncated")
        self.left -= n
        return b

    def num(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.num("<Q")).decode("utf-8", "replace")

    def value(self, vtype: int, keep: bool) -> Any:
        if vtype in _SCALARS:
            return self.num(_SCALARS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9:
            itype, n = self.num("<I"), self.num("<Q")
            if n > MAX_ARRAY:
                raise ReadError(self.path, "GGUF array is too long")
            items = [self.value(itype, keep) for _ in range(n)]
            return items if keep else None
        raise ReadError(self.path, f"GGUF value type {vtype} is not known")


def gguf_general(path: Path, limit: int) -> dict[str, Any]:
    """The ``general.*`` key/values of a GGUF file's header (other keys are skipped)."""
    try:
        with open(path, "rb") as fh:
            r = _Reader(io.BufferedReader(fh, 1 << 16), limit, path)  # type: ignore[arg-type]
            if r.take(4) != GGUF_MAGIC:
                raise ReadError(path, "not a GGUF file")
            version = r.num("<I")
            if version not in (2, 3):
                raise ReadError(path, f"GGUF version {version} is not supported")
            r.num("<Q")
            n_kv = r.num("<Q")
            if n_kv > MAX_KV:
                raise ReadError(path, "GGUF header declares too many keys")
            out: dict[str, Any] = {}
            for _ in range(n_kv):
                key = r.string()
                keep = key.startswith("general.")
                v = r.value(r.num("<I"), keep)
                if keep:
                    out[key] = v
            return out
    except OSError as exc:
        raise ReadError(path, f"cannot read: {exc.strerror or type(exc).__name__}") from None
    except struct.error:
        raise ReadError(path, "GGUF header is truncated") from None


def gguf_facts(path: Path, limit: int) -> list[Fact]:
    g = gguf_general(path, limit)
    out: list[Fact] = []

    def add(kind: Kind, key: str) -> None:
        v = g.get(key)
        if isinstance(v, str) and v.strip():
            out.append(Fact(kind, v.strip(), path, key))

    lic, lic_name = g.get("general.license"), g.get("general.license.name")
    if isinstance(lic_name, str) and lic_name.strip() and (not isinstance(lic, str) or lic.strip().lower() in ("other", "")):
        add(Kind.LICENSE, "general.license.name")  # a custom licence named by the GGUF spec's own key
    else:
        add(Kind.LICENSE, "general.license")
    add(Kind.NAME, "general.name")
    add(Kind.VERSION, "general.version")
    add(Kind.ORIGIN, "general.source.url")
    add(Kind.ORIGIN, "general.source.huggingface.repository")
    n = g.get("general.base_model.count")
    for i in range(int(n) if isinstance(n, int) and 0 <= n < 256 else 0):
        org, name = g.get(f"general.base_model.{i}.organization"), g.get(f"general.base_model.{i}.name")
        url = g.get(f"general.base_model.{i}.repo_url")
        if isinstance(url, str) and url.strip():
            add(Kind.BASE, f"general.base_model.{i}.repo_url")
        elif isinstance(org, str) and isinstance(name, str) and org.strip() and name.strip():
            out.append(Fact(Kind.BASE, f"{org.strip()}/{name.strip()}", path, f"general.base_model.{i}.organization"))
    n = g.get("general.dataset.count")
    for i in range(int(n) if isinstance(n, int) and 0 <= n < 256 else 0):
        add(Kind.DATASET, f"general.dataset.{i}.name")
    return out


# ---- safetensors ---------------------------------------------------------------------------
_META_KEYS = {"license": Kind.LICENSE, "base_model": Kind.BASE, "source": Kind.ORIGIN, "source_url": Kind.ORIGIN,
              "model_id": Kind.ORIGIN, "name": Kind.NAME, "modelspec.license": Kind.LICENSE,
              "modelspec.title": Kind.NAME}


def safetensors_facts(path: Path, limit: int) -> list[Fact]:
    h = head(path, 8)
    n = struct.unpack("<Q", h)[0] if len(h) == 8 else 0
    if n > limit:
        raise ReadError(path, "safetensors header is larger than max_metadata_mb")
    try:
        with open(path, "rb") as fh:
            fh.seek(8)
            data = json.loads(fh.read(n))
    except OSError as exc:
        raise ReadError(path, f"cannot read: {exc.strerror or type(exc).__name__}") from None
    except (ValueError, RecursionError):
        raise ReadError(path, "safetensors header is not valid JSON") from None
    meta = data.get("__metadata__") if isinstance(data, dict) else None
    return _map_facts(path, meta, "__metadata__")


def _map_facts(path: Path, meta: Any, prefix: str) -> list[Fact]:
    out = []
    if isinstance(meta, dict):
        for k, v in meta.items():
            kind = _META_KEYS.get(str(k).lower())
            if kind is not None and isinstance(v, str) and v.strip():
                out.append(Fact(kind, v.strip(), path, f"{prefix}.{k}"))
    return out


# ---- ONNX ----------------------------------------------------------------------------------
def _varint(fh: BinaryIO) -> int | None:
    shift = result = 0
    while True:
        b = fh.read(1)
        if not b:
            return None if shift == 0 else -1
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            return -1


def _fields(fh: BinaryIO, end: int, path: Path) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) for length-delimited fields read as bytes only when
    small; others skipped by seeking."""
    count = 0
    while fh.tell() < end:
        count += 1
        if count > MAX_FIELDS * 64:
            raise ReadError(path, "ONNX model has too many top-level fields")
        tag = _varint(fh)
        if tag is None or tag < 0:
            raise ReadError(path, "ONNX protobuf is truncated")
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            v = _varint(fh)
            if v is None or v < 0:
                raise ReadError(path, "ONNX protobuf is truncated")
            yield num, wire, v
        elif wire == 2:
            n = _varint(fh)
            if n is None or n < 0 or fh.tell() + n > end:
                raise ReadError(path, "ONNX protobuf is truncated")
            if num in (14, 1, 2) and n <= 1 << 20:
                yield num, wire, fh.read(n)
            else:
                fh.seek(n, 1)
                yield num, wire, None
        elif wire == 1:
            fh.seek(8, 1)
        elif wire == 5:
            fh.seek(4, 1)
        else:
            raise ReadError(path, "ONNX protobuf has an unknown wire type")


def onnx_metadata(path: Path) -> dict[str, str]:
    """``metadata_props`` of an ONNX ModelProto (field 14: key=1, value=2); the graph is skipped."""
    out: dict[str, str] = {}
    try:
        with open(path, "rb") as fh:
            end = fh.seek(0, 2)
            fh.seek(0)
            for num, wire, val in _fields(fh, end, path):
                if num == 14 and wire == 2 and val is not None:
                    entry = io.BytesIO(val)
                    kv = {n: v for n, w, v in _fields(entry, len(val), path) if w == 2 and v is not None}
                    k, v = kv.get(1, b"").decode("utf-8", "replace"), kv.get(2, b"").decode("utf-8", "replace")
                    if k and len(out) < MAX_FIELDS:
                        out[k] = v
    except OSError as exc:
        raise ReadError(path, f"cannot read: {exc.strerror or type(exc).__name__}") from None
    return out


def onnx_facts(path: Path) -> list[Fact]:
    return _map_facts(path, onnx_metadata(path), "metadata_props")


# ---- MLflow MLmodel ------------------------------------------------------------------------
def mlmodel(path: Path) -> tuple[list[Fact], bool]:
    """(facts, whether it is an MLflow ``MLmodel`` file: a YAML mapping with ``flavors``)."""
    text = read_text(path)
    try:
        src = load_yaml_text(text, str(path))
    except PolicyError:
        raise ReadError(path, "MLmodel is not valid YAML") from None
    d = src.data
    if not isinstance(d, dict) or not isinstance(d.get("flavors"), dict):
        return [], False
    out: list[Fact] = []
    tf = d["flavors"].get("transformers")
    if isinstance(tf, dict) and isinstance(tf.get("source_model_name"), str):
        out.append(Fact(Kind.ORIGIN, tf["source_model_name"], path, "flavors.transformers.source_model_name",
                        src.line_of(("flavors", "transformers", "source_model_name"))))
    if isinstance(tf, dict) and isinstance(tf.get("task"), str):
        out.append(Fact(Kind.TASK, tf["task"], path, "flavors.transformers.task", src.line_of(("flavors", "transformers", "task"))))
    meta = d.get("metadata")
    for f in _map_facts(path, meta, "metadata"):
        out.append(Fact(f.kind, f.value, f.file, f.key, src.line_of(("metadata", f.key.split(".", 1)[1]))))
    return out, True


_HF_URL = re.compile(r"^(?:https?://)?(?:www\.)?(?:huggingface\.co|hf\.co)/(?:models/)?([^/\s?#]+)/([^/\s?#]+)", re.IGNORECASE)


def source_id(value: str) -> str:
    """``org/name`` for a hub id or a Hugging Face URL; other URLs become ``host/path``."""
    v = value.strip()
    m = _HF_URL.match(v)
    if m:
        return f"{m.group(1)}/{m.group(2)}"
    v = re.sub(r"^hf://|^[a-z][a-z0-9+.-]*://", "", v, flags=re.IGNORECASE)
    return v.split("?", 1)[0].split("#", 1)[0].rstrip("/")
