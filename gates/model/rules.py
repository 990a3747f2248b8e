"""Rule ids of the model gate: one per class of problem, each with its why and its fix."""

from __future__ import annotations

from gates.core.findings import Rule, Severity

_CONVERT = ("Do not load the file. Re-export the weights as safetensors (`safetensors.torch.save_file(model.state_dict(), ...)`) "
            "or save a plain state dict and load it with `torch.load(..., weights_only=True)`.")

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("MODEL001", "Dangerous global in pickle", Severity.CRITICAL,
             "Loading this pickle imports and can call a function that runs commands, touches files or the network, or resolves other code.",
             _CONVERT),
        Rule("MODEL002", "Global not in the allowlist", Severity.HIGH,
             "Loading this pickle imports a global outside the allowlist profiles; any import can run code, so unknown globals block.",
             "If the global is genuinely safe, add its exact name to `gates.model.allow_globals` (or enable the profile it belongs to); otherwise " + _CONVERT[0].lower() + _CONVERT[1:]),
        Rule("MODEL003", "Inconclusive: file could not be fully checked", Severity.HIGH,
             "The scanner could not follow this file (truncated, corrupt, over a limit, or a construct it cannot resolve). A loader might still run code from it, so it fails closed.",
             "Regenerate the file with the library that wrote it; if it is large on purpose, raise the limit under `gates.model.limits`."),
        Rule("MODEL004", "Archive anomaly", Severity.HIGH,
             "The archive's local headers, CRCs, names or sizes disagree with its directory: different readers (zipfile, PyTorch, scanners) see different content.",
             "Rebuild the archive with the library that writes the format (e.g. `torch.save`); do not accept hand-edited archives."),
        Rule("MODEL005", "Format not allowed", Severity.HIGH,
             "The policy only allows some model formats (for example formats that cannot carry code).",
             "Convert the model to an allowed format (e.g. safetensors) or change `gates.model.allowed_formats` through review."),
        Rule("MODEL006", "Extension does not match content", Severity.HIGH,
             "A file named like a safe format but holding another one (e.g. a pickle named .safetensors) is a common way to slip code past reviews and tools.",
             "Rename the file to match its content, or re-export it in the format its name promises."),
        Rule("MODEL007", "Nested pickle that cannot be checked", Severity.CRITICAL,
             "The pickle hands a computed argument to a function that unpickles or loads it; the inner payload cannot be seen statically.",
             _CONVERT),
        Rule("MODEL008", "TorchScript code", Severity.HIGH,
             "A TorchScript archive contains code (code/*.py) that torch.jit.load compiles and runs.",
             "Ship weights only (state dict as safetensors), or allow TorchScript for this path with `allow_torchscript: true` after review."),
        Rule("MODEL009", "NumPy object array", Severity.HIGH,
             "An object-dtype .npy stores its data as a pickle and needs allow_pickle=True to load.",
             "Save numeric arrays only (`np.save(..., allow_pickle=False)`), or set `allow_npy_object_arrays: true` for reviewed files."),
        Rule("MODEL010", "Keras layer that runs code", Severity.CRITICAL,
             "Keras Lambda layers carry Python bytecode, custom objects import user code, TFSMLayer loads another model: all run code at load time.",
             "Replace Lambda layers with built-in layers, register custom objects explicitly in reviewed code, and load with `safe_mode=True`."),
        Rule("MODEL011", "TensorFlow op that touches files or runs Python", Severity.HIGH,
             "The graph reads or writes files, or calls back into Python, when it is executed.",
             "Remove the op from the exported graph, or list it in `gates.model.savedmodel_allowed_ops` after review."),
        Rule("MODEL012", "ONNX external data or custom operators", Severity.HIGH,
             "External-data paths that are absolute, climb out with '..' or go through symlinks make the runtime read arbitrary files; custom operator domains need native libraries.",
             "Keep external data files next to the model with plain relative names; list reviewed custom domains in `onnx_allowed_domains`."),
        Rule("MODEL013", "Invalid model header", Severity.HIGH,
             "The header (safetensors JSON, GGUF tensor table...) is malformed or lies about sizes and offsets: parsers disagree or read out of bounds.",
             "Re-export the file with the official library (e.g. `safetensors.torch.save_file`)."),
        Rule("MODEL014", "Unsafe chat template", Severity.HIGH,
             "The GGUF chat template reaches Python internals (sandbox escape) or is obfuscated the way template-injection payloads are.",
             "Replace `tokenizer.chat_template` with the model family's reviewed template."),
        Rule("MODEL015", "File over the size limit", Severity.HIGH,
             "The policy caps model file sizes.",
             "Raise `gates.model.max_file_mb` if the file is expected to be this large."),
        Rule("MODEL016", "Symlink outside the scanned root", Severity.HIGH,
             "A symlink can make CI ship or load a file from outside the repository.",
             "Replace the symlink with the file itself, or exclude it."),
        Rule("MODEL017", "Git LFS pointer instead of the model", Severity.HIGH,
             "The checkout has the LFS pointer, not the model, so the model was not scanned (fail closed).",
             "Fetch LFS objects before the gate runs (`git lfs pull`, or `lfs: true` in actions/checkout)."),
        Rule("MODEL018", "Unexpected trailing data", Severity.LOW,
             "Bytes after the end of the data are ignored by the usual loader but may be read by another one.",
             "Regenerate the file; it should end where its format says it ends."),
        Rule("MODEL019", "TensorFlow op outside the known set", Severity.MEDIUM,
             "The SavedModel uses an op that is not among the common built-in inference/training ops the gate knows: a custom op "
             "needs a native library loaded with it (native code), or the graph does something unusual that deserves a look.",
             "Check where the op comes from (a custom-op .so, a TensorFlow add-on); if it is expected, list it under "
             "`gates.model.savedmodel_allowed_ops`."),
        Rule("MODEL020", "TFLite custom operator", Severity.MEDIUM,
             "The TFLite model needs a custom operator: a native implementation registered by whoever loads it (or TensorFlow "
             "kernels through the Flex delegate), i.e. code that does not ship with the model or the interpreter.",
             "Check where the operator's implementation comes from; re-convert with built-in operators only if it is not expected."),
        Rule("MODEL021", "Model config instantiates code", Severity.HIGH,
             "Restoring the model (NeMo `restore_from`, Hydra `instantiate`) imports the dotted path under `target`/`_target_` "
             "and calls it with the config's other keys: a config can run any function while the weights are clean.",
             "Keep targets to the model library's own classes; rebuild the archive with the library that wrote it."),
    )
}
