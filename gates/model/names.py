"""What a file's *name* says a loader will do with it.

Content decides the format; names only decide how loud an unrecognised file is: a file named
like a pickle or like PyTorch weights will be handed to ``pickle.load``/``torch.load``, so content
we cannot recognise there is inconclusive rather than "not a model".
"""

from __future__ import annotations

import fnmatch
import os

# names whose content must be a model: unknown content there is inconclusive, not "not a model"
PICKLE_EXTS = {".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib", ".dill", ".p", ".sav", ".npy", ".safetensors", ".gguf", ".onnx", ".keras", ".h5", ".hdf5"}
# ``.bin`` is too generic to pin (ONNX external data and raw tensor dumps use it), but these names
# are what PyTorch, transformers, PEFT and accelerate write with ``torch.save``: a loader will
# ``torch.load`` them, so content we cannot recognise there must not pass silently.
WEIGHT_NAME_GLOBS = (
    "pytorch_model*.bin", "adapter_model*.bin", "training_args.bin", "optimizer*.bin", "scheduler*.bin",
    "scaler*.bin", "rng_state*.bin", "rng_state*.pth", "*.pt.bin", "*.pth.bin", "*.ckpt.bin",
)


def pickle_named(name: str) -> bool:
    return os.path.splitext(name.lower())[1] in PICKLE_EXTS


def weights_named(name: str) -> bool:
    base = os.path.basename(name).lower()
    return any(fnmatch.fnmatchcase(base, g) for g in WEIGHT_NAME_GLOBS)
