"""Which files make up one model.

A directory holding a Transformers ``config.json``, a PEFT ``adapter_config.json``, a Diffusers
``model_index.json``, a model card with front matter, a KitOps ``Kitfile`` or an MLflow ``MLmodel``
is a *package*: it owns every file below it, except those under a deeper package. A weights file
that no package owns (GGUF, safetensors, ONNX, HDF5, NumPy, pickle or a PyTorch zip, identified by
its bytes) is a model on its own. Everything else is not a model and is not looked at again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

from .facts import ModelFiles

#: marker file name -> package kind; the reader decides whether the file really is one
MARKERS = {
    "Kitfile": "kitfile", "kitfile": "kitfile", "Kitfile.yaml": "kitfile", "Kitfile.yml": "kitfile",
    "MLmodel": "mlflow",
    "config.json": "huggingface", "adapter_config.json": "huggingface", "model_index.json": "huggingface",
    "README.md": "huggingface", "tokenizer_config.json": "huggingface",
}
_PRECEDENCE = ("kitfile", "mlflow", "huggingface")


def group(files: Iterable[Path], is_marker: Callable[[Path], bool], weights: Callable[[Path], str | None]) -> list[ModelFiles]:
    """Group ``files`` into models. ``is_marker(path)`` confirms a marker by its content;
    ``weights(path)`` names a weights format or returns None."""
    files = sorted(set(files))
    by_dir: dict[Path, list[Path]] = defaultdict(list)
    for f in files:
        by_dir[f.parent].append(f)
    packages: dict[Path, tuple[str, list[Path]]] = {}
    for d, fs in by_dir.items():
        markers = [f for f in fs if f.name in MARKERS and is_marker(f)]
        if not markers:
            continue
        kinds = {MARKERS[m.name] for m in markers}
        names = {m.name for m in markers}
        if kinds == {"huggingface"} and names <= {"README.md", "tokenizer_config.json"} and not any(weights(f) for f in fs):
            continue  # a card or tokenizer alone, with no weights or config, is not a model folder
        kind = next(k for k in _PRECEDENCE if k in kinds)
        packages[d] = (kind, markers)
    owned: dict[Path, list[Path]] = defaultdict(list)
    singles: list[ModelFiles] = []
    for f in files:
        owner = next((a for a in f.parents if a in packages), None)
        if owner is not None:
            owned[owner].append(f)
            continue
        fmt = weights(f)
        if fmt is not None:
            singles.append(ModelFiles(root=f, kind="file", files=(f,), markers=()))
    out = [ModelFiles(root=d, kind=packages[d][0], files=tuple(owned[d]), markers=tuple(packages[d][1])) for d in sorted(packages)]
    return out + singles
