"""Identify a model file by its content, never by its name.

A pickle renamed ``model.safetensors`` is still a pickle; a zip member called ``README`` may be a
pickle. Everything downstream dispatches on the format returned here; the extension is only
compared against it (``extension_must_match``).
"""

from __future__ import annotations

import struct

from .data_formats import looks_like_lightgbm, looks_like_msgpack_map, looks_like_xgboost

PICKLE_OPCODES = frozenset(b"()012FGIJKLMNPQRSTUVXabcdeghijlopqrstu}]\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98BC.")
LFS_MAGIC = b"version https://git-lfs.github.com/spec/v1"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"

# formats a user may name in ``allowed_formats``
FORMATS = (
    "pickle", "pytorch", "pytorch-legacy", "torchscript", "joblib", "numpy", "npz", "zip", "tar",
    "gzip", "bz2", "xz", "lzma", "zlib", "lz4", "zstd", "7z", "safetensors", "gguf", "onnx", "keras",
    "hdf5", "savedmodel", "tflite", "git-lfs-pointer", "json", "text", "unknown", "jinja",
    "xgboost", "lightgbm", "flax-msgpack", "nemo-config",
)

# extensions whose content is pinned to a format family (``extension_must_match``)
EXPECTED = {
    ".safetensors": {"safetensors"},
    ".gguf": {"gguf"},
    ".onnx": {"onnx"},
    ".npy": {"numpy"},
    ".npz": {"npz", "zip"},
    ".h5": {"hdf5"},
    ".hdf5": {"hdf5"},
    ".keras": {"keras", "hdf5"},
    ".json": {"json", "text", "xgboost"},  # XGBoost save_model writes JSON
    ".pkl": {"pickle", "joblib", "gzip", "bz2", "xz", "lzma", "zlib", "lz4", "zstd"},
    ".pickle": {"pickle", "joblib", "gzip", "bz2", "xz", "lzma", "zlib", "lz4", "zstd"},
    ".joblib": {"pickle", "joblib", "gzip", "bz2", "xz", "lzma", "zlib", "lz4"},
    ".pt": {"pytorch", "pytorch-legacy", "pickle", "torchscript", "zip", "tar"},
    ".pth": {"pytorch", "pytorch-legacy", "pickle", "torchscript", "zip", "tar"},
    ".ckpt": {"pytorch", "pytorch-legacy", "pickle", "zip", "tar"},
    ".zip": {"zip", "pytorch", "torchscript", "keras", "npz"},
    ".tar": {"tar", "pytorch-legacy"},
    ".gz": {"gzip"},
    ".pb": {"savedmodel", "onnx"},
    ".jinja": {"jinja"},
    ".msgpack": {"flax-msgpack"},
    ".pdparams": {"pickle"},
    ".nemo": {"tar", "gzip"},
    ".tflite": {"tflite"},
    ".ubj": {"xgboost"},
}

# extensions the gate scans by default when walking a directory
MODEL_GLOBS = (
    "**/*.pt", "**/*.pth", "**/*.bin", "**/*.ckpt", "**/*.pkl", "**/*.pickle", "**/*.joblib", "**/*.dill",
    "**/*.npy", "**/*.npz", "**/*.safetensors", "**/*.gguf", "**/*.ggml", "**/*.onnx", "**/*.keras",
    "**/*.h5", "**/*.hdf5", "**/*.pb", "**/*.tflite", "**/*.model", "**/*.mar", "**/*.sav", "**/*.p",
    "**/*.pkl.gz", "**/*.tar", "**/*.zip", "**/*.gz", "**/*.bz2", "**/*.xz", "**/*.lz4", "**/*.7z",
    # chat templates an inference server renders (judged with Jinja's parser)
    "**/*.jinja", "**/tokenizer_config.json", "**/chat_template.json",
)


def sniff(head: bytes, name: str = "") -> str:
    """The format of a stream from its first bytes (at least 512 when available)."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06") or head.startswith(b"PK\x07\x08"):
        return "zip"
    if head.startswith(b"\x93NUMPY"):
        return "numpy"
    if head.startswith(HDF5_MAGIC) or head[512:520] == HDF5_MAGIC:  # a 512-byte user block may precede it
        return "hdf5"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(LFS_MAGIC):
        return "git-lfs-pointer"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh") and len(head) > 3 and head[3:4].isdigit():
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if head[4:8] == b"TFL3":  # FlatBuffer file identifier of a TensorFlow Lite model
        return "tflite"
    if head.startswith(b"\x5d\x00\x00") and len(head) >= 13:
        return "lzma"
    if len(head) >= 512 and head[257:262] == b"ustar":
        return "tar"
    if len(head) >= 10 and head[8:9] == b"{":
        n = struct.unpack("<Q", head[:8])[0]
        if 2 <= n <= (1 << 34):
            return "safetensors"
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        return "pickle"
    if len(head) >= 2 and head[0] == 0x78 and ((head[0] << 8) | head[1]) % 31 == 0:
        return "zlib"
    lower = name.lower()
    if lower.endswith("saved_model.pb") or lower.endswith("keras_metadata.pb"):
        return "savedmodel"
    if lower.endswith(".onnx") or (head[:1] == b"\x08" and looks_like_onnx(head)):
        return "onnx"
    if lower.endswith(".pb") and head[:1] == b"\x08":
        return "savedmodel"
    if lower.endswith(".safetensors"):
        return "safetensors"  # let the strict header check say what is wrong with it
    if looks_like_xgboost(head):
        return "xgboost"
    if looks_like_lightgbm(head):
        return "lightgbm"
    if looks_like_msgpack_map(head) or lower.endswith(".msgpack"):
        return "flax-msgpack"
    if lower.endswith("model_config.yaml"):
        return "nemo-config"  # NeMo's model config (inside .nemo archives): its targets are instantiated
    if lower.endswith(".jinja"):
        return "jinja"  # a chat template beside a model (transformers loads chat_template.jinja by name)
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "json"
    if head[:1] and head[0] in PICKLE_OPCODES and head[:1] not in (b"{",):
        # protocol 0/1 pickles have no header: ``cos\nsystem\n…`` starts with an opcode
        return "pickle?"
    if head and all(32 <= c < 127 or c in (9, 10, 13) for c in head[:512]):
        return "text"
    return "unknown"


def looks_like_onnx(head: bytes) -> bool:
    """ModelProto starts with ir_version (field 1 varint) then usually field 2..8."""
    if len(head) < 4 or head[0] != 0x08:
        return False
    i = 1
    while i < len(head) and head[i] & 0x80:
        i += 1
    i += 1
    return i < len(head) and head[i] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42)
