"""Keras model configs judged by class, not by module prefix.

A ``.keras`` archive's ``config.json``, an H5 file's ``model_config`` and a SavedModel's Keras
metadata name every object to build as ``module`` + ``class_name`` (+ ``registered_name``).
Keras resolves any public symbol under ``keras.*``, so "the module starts with keras" is not a
safety property: ``keras.utils.get_file`` downloads files, ``keras.config.
enable_unsafe_deserialization`` switches ``safe_mode`` off for what follows, ``TFSMLayer`` loads
another SavedModel, ``TorchModuleWrapper`` unpickles with ``torch.load``, lookup layers read
their vocabulary from a path. So each object must be a *known* class of its module
(``keras_classes.json``, generated from Keras's public API), functions must be known
activations/losses/metrics, and the layers and arguments that read files, download or run code
are reported by name.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterable

from gates.core.hygiene import clean

MAX_DEPTH = 200
#: Keras 3 serialization markers for values (not classes)
VALUE_MARKERS = frozenset({"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__typespec__", "__ellipsis__",
                           "__slice__", "__complex__", "__bfloat16__"})
CODE_LAYERS = {
    "Lambda": ("critical", "carries Python bytecode that runs when the model loads"),
    "__lambda__": ("critical", "carries Python bytecode that runs when the model loads"),
    "TFSMLayer": ("critical", "loads another TensorFlow SavedModel (its graph and functions) from a path"),
    "TorchModuleWrapper": ("critical", "restores a PyTorch module with torch.load (unpickling)"),
    "JaxLayer": ("high", "wraps JAX functions that are deserialized and called"),
    "FlaxLayer": ("high", "wraps a Flax module that is deserialized and called"),
    "TensorFlowOpLayer": ("high", "runs a raw TensorFlow NodeDef"),
}
#: functions a config can name that do something other than compute
DANGEROUS_FUNCTIONS = {
    "get_file": ("critical", "downloads a file (keras.utils.get_file)"),
    "enable_unsafe_deserialization": ("critical", "switches safe_mode off for the rest of the load"),
    "load_model": ("critical", "loads another model file"),
    "model_from_json": ("high", "builds another model from a config"),
    "deserialize_keras_object": ("high", "deserializes another config"),
    "register_keras_serializable": ("high", "registers custom objects"),
    "set_backend": ("high", "changes the Keras backend"),
    "save_img": ("high", "writes files"), "load_img": ("high", "reads files"),
    "image_dataset_from_directory": ("high", "reads files"), "text_dataset_from_directory": ("high", "reads files"),
    "audio_dataset_from_directory": ("high", "reads files"), "plot_model": ("high", "writes files"),
}
LOOKUP_LAYERS = frozenset({"StringLookup", "IntegerLookup", "TextVectorization"})
PATH_ARGS = ("vocabulary", "idf_weights", "stop_words")
#: TFOpLambda/SlicingOpLambda name a TensorFlow API function; these parts of it touch files or run Python
TF_OP_RISKY = ("io.", "gfile", "py_function", "numpy_function", "script_ops", "raw_ops", "saved_model", "summary",
               "debugging", "print", "compat.v1.py_func", "data.", "load_library", "load_op_library", "system")


@dataclass(frozen=True)
class KerasProblem:
    """One finding about a Keras config: code, severity, message, dedup key, extra report fields."""

    code: str
    severity: str
    message: str
    key: str
    extra: dict[str, Any] = field(default_factory=dict)


@functools.cache
def known() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], frozenset[str], frozenset[str]]:
    """(classes by module, functions by module, every known class name, every known function name)."""
    data = json.loads(resources.files(__package__).joinpath("keras_classes.json").read_text(encoding="utf-8"))
    classes = {m: frozenset(v) for m, v in data["classes"].items()}
    functions = {m: frozenset(v) for m, v in data["functions"].items()}
    names = frozenset().union(*classes.values(), data["keras2_only"])
    fnames = frozenset().union(*functions.values())
    return classes, functions, names, fnames


def _public_module(module: str, allowed: Iterable[str]) -> str | None:
    """``module`` as the ``keras.*`` name it stands for (``tf_keras.layers`` -> ``keras.layers``),
    or None when it is not a Keras module at all (custom code)."""
    for prefix in sorted(allowed, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return "keras" + module[len(prefix):]
    return None


def keras_config_problems(config: Any, allowed_modules: Iterable[str] = ("keras", "tf_keras", "tensorflow.keras")) -> list[KerasProblem]:
    """Every object in a Keras config that is not a known Keras class or function, or that reads
    files, downloads, unpickles or runs code. Pure: the caller reports the problems."""
    classes, functions, names, fnames = known()
    allowed = tuple(allowed_modules)
    out: dict[str, KerasProblem] = {}

    def add(code: str, severity: str, message: str, key: str, **extra: Any) -> None:
        out.setdefault(key, KerasProblem(code, severity, message, key, {k: clean(v) if isinstance(v, str) else v for k, v in extra.items()}))

    stack: list[tuple[Any, int]] = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            add("depth", "high", "Keras config is nested too deeply to check", "depth")
            break
        if isinstance(node, list):
            stack.extend((x, depth + 1) for x in node)
            continue
        if not isinstance(node, dict):
            continue
        if node.get("safe_mode") is False:
            add("safe-mode", "critical", "Keras config sets `safe_mode: false`, which lets the load run bytecode", "safe-mode")
        cls = node.get("class_name")
        if not isinstance(cls, str):
            stack.extend((v, depth + 1) for v in node.values())
            continue
        inner = node.get("config")
        layer = inner.get("name") if isinstance(inner, dict) and isinstance(inner.get("name"), str) else None
        where = f" (layer `{clean(layer[:80])}`)" if layer else ""
        module = node.get("module") if isinstance(node.get("module"), str) else None
        registered = node.get("registered_name") if isinstance(node.get("registered_name"), str) else None
        label = clean(f"{module}.{cls}" if module else cls)[:200]
        if cls in CODE_LAYERS:
            sev, why = CODE_LAYERS[cls]
            add("code-layer", sev, f"Keras {cls.strip('_')} layer{where} {why}", f"{cls}:{layer}", class_name=cls)
            if cls in ("Lambda", "__lambda__"):
                continue  # its function's config is the marshalled code already reported
        elif cls in VALUE_MARKERS:
            continue
        elif cls == "function":
            _function(add, module, inner, functions, fnames, allowed, where)
        else:
            _class(add, cls, module, registered, classes, names, allowed, where, label)
        if cls in LOOKUP_LAYERS and isinstance(inner, dict):
            for arg in PATH_ARGS:
                if isinstance(inner.get(arg), str) and inner[arg]:
                    path = clean(inner[arg][:200])
                    add("file-arg", "high", f"Keras {cls}{where} reads its `{arg}` from the path or URL `{path}` when the model loads",
                        f"path:{cls}:{arg}:{path}", class_name=cls, path=path)
        if cls in ("TFOpLambda", "SlicingOpLambda") and isinstance(inner, dict) and isinstance(inner.get("function"), str):
            fn = inner["function"]
            if any(r in fn for r in TF_OP_RISKY):
                add("tf-op", "high", f"Keras {cls}{where} calls the TensorFlow function `{clean(fn[:120])}`, which touches files or "
                    "runs Python", f"tfop:{fn[:120]}", class_name=cls)
        stack.extend((v, depth + 1) for v in node.values())
    return list(out.values())


def _function(add: Any, module: str | None, name: Any, functions: dict[str, frozenset[str]], fnames: frozenset[str],
              allowed: tuple[str, ...], where: str) -> None:
    """``{"class_name": "function", "module": M, "config": NAME}``: Keras imports M and calls NAME."""
    if not isinstance(name, str):
        add("function", "high", f"Keras config names a function by a non-string{where}", f"function:{where}")
        return
    label = clean(f"{module}.{name}" if module else name)[:200]
    if name in DANGEROUS_FUNCTIONS:
        sev, why = DANGEROUS_FUNCTIONS[name]
        add("dangerous-function", sev, f"Keras config calls `{label}`{where}: it {why}", f"fn:{label}", **{"global": label})
        return
    public = _public_module(module, allowed) if module else None
    if module in (None, "builtins") and name in fnames:
        return  # Keras looks builtins/unqualified functions up among its own activations, losses and metrics
    if public is not None and name in functions.get(public, frozenset()):
        return
    if public is not None and public.startswith("keras.src.") and name in fnames:
        return
    add("custom-function", "high", f"Keras config uses the function `{label}`{where}, which is not a Keras activation, loss or "
        "metric: loading imports and calls it", f"fn:{label}", **{"global": label})


def _class(add: Any, cls: str, module: str | None, registered: str | None, classes: dict[str, frozenset[str]],
           names: frozenset[str], allowed: tuple[str, ...], where: str, label: str) -> None:
    if registered and registered != cls:
        shown = clean(registered[:200])
        add("custom-object", "high", f"Keras config uses the registered custom object `{shown}`{where}: loading runs its code",
            f"registered:{shown}", class_name=cls)
        return
    if cls in DANGEROUS_FUNCTIONS:
        sev, why = DANGEROUS_FUNCTIONS[cls]
        add("dangerous-function", sev, f"Keras config names `{label}`{where}: it {why}", f"fn:{label}", **{"global": label})
        return
    if module is None:
        if cls not in names:
            add("custom-object", "high", f"Keras config uses the class `{label}`{where}, which is not a Keras class: loading needs "
                "(and runs) custom code", f"custom:{label}", class_name=cls)
        return
    public = _public_module(module, allowed)
    if public is None:
        add("custom-object", "high", f"Keras config uses the custom object `{label}`{where}: loading imports and runs its code",
            f"custom:{label}", class_name=cls, **{"global": label})
        return
    if cls in classes.get(public, frozenset()):
        return
    if (public == "keras.src" or public.startswith("keras.src.")) and cls in names:
        return  # Keras's own implementation module of a known class (keras.src.models.functional.Functional...)
    add("unknown-class", "high", f"Keras config names `{label}`{where}, which is not a known Keras class of that module: "
        "Keras would import and build it", f"unknown:{label}", class_name=cls, **{"global": label})
