"""Read every fact one model's files declare (cards, configs, Kitfile, MLmodel, licence texts,
weights metadata). Unparseable provenance files raise :class:`~.facts.ReadError`; the gate turns
each into an error for that file (fail closed) and goes on with the other models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import cards, kitfile, metadata
from .facts import Fact, Kind, ModelFacts, ModelFiles, ReadError
from .licenses import identify_text
from .reading import head, read_text

LICENSE_FILES = frozenset({"license", "license.md", "license.txt", "licence", "licence.md", "licence.txt",
                           "copying", "copying.md", "copying.txt"})
MAX_LICENSE_TEXT = 1 << 20


def license_text_fact(path: Path) -> Fact:
    """The licence a LICENSE/COPYING text is, identified by its words (not by the file name)."""
    ident = identify_text(read_text(path, MAX_LICENSE_TEXT))
    if ident is None:
        return Fact(Kind.LICENSE_UNKNOWN, "unrecognised licence text", path, "text", 1)
    return Fact(Kind.LICENSE, ident, path, "text", 1)


def weights_facts(path: Path, fmt: str | None, limit: int) -> list[Fact]:
    if fmt == "gguf":
        return metadata.gguf_facts(path, limit)
    if fmt == "safetensors":
        return metadata.safetensors_facts(path, limit)
    if fmt == "onnx":
        return metadata.onnx_facts(path)
    return []


def collect(model: ModelFiles, sniff: Callable[[Path], str | None], limit: int, errors: list[ReadError]) -> ModelFacts:
    """Every fact ``model`` declares. Files that fail to parse are appended to ``errors``."""
    facts: list[Fact] = []
    card: Path | None = None
    code: list[Path] = []
    for f in model.files:
        try:
            if f.parent == model.root:
                got, is_card = _package_file(f, model.kind)
                facts.extend(got)
                card = f if is_card else card
            if f.suffix == ".py" and model.kind == "huggingface" and _beside_weights(f, model.root):
                code.append(f)
            facts.extend(weights_facts(f, sniff(f), limit))
        except ReadError as exc:
            errors.append(exc)
    return ModelFacts(model=model, facts=tuple(facts), card=card, code_files=tuple(code))


def _beside_weights(f: Path, root: Path) -> bool:
    """``*.py`` in the model folder itself, or in a package directory below it (``auto_map`` may
    name ``pkg.module.Class``): what ``trust_remote_code`` can import. Scripts in other
    subfolders (``scripts/train.py``) are not loaded with the model."""
    return f.parent == root or (f.parent / "__init__.py").exists()


def _package_file(f: Path, kind: str) -> tuple[list[Fact], bool]:
    name = f.name
    if name.lower() in LICENSE_FILES:
        return [license_text_fact(f)], False
    if name == "README.md":
        src = cards.front_matter(f)
        if cards.is_card(src):
            assert src is not None
            return cards.card_facts(f, src), True
        return [], False
    if name == "config.json":
        return cards.config_facts(f)[0], False
    if name == "adapter_config.json":
        return cards.adapter_facts(f)[0], False
    if name == "tokenizer_config.json":
        return cards.tokenizer_facts(f), False
    if name in kitfile.NAMES:
        src = kitfile.load(f)
        return (kitfile.facts(f, src) if src is not None else []), False
    if name == "MLmodel":
        return metadata.mlmodel(f)[0], False
    return [], False


def is_marker(f: Path) -> bool:
    """Whether a file named like a package marker really is one, by its content."""
    try:
        if f.name == "README.md":
            return cards.is_card(cards.front_matter(f))
        if f.name == "config.json":
            return cards.config_facts(f)[1]
        if f.name == "adapter_config.json":
            return cards.adapter_facts(f)[1]
        if f.name in kitfile.NAMES:
            return kitfile.load(f) is not None
        if f.name == "MLmodel":
            return metadata.mlmodel(f)[1]
        return f.name in ("model_index.json", "tokenizer_config.json")
    except ReadError:
        # a marker that does not parse still makes the folder a model: collect() reports the error
        return f.name != "README.md" or _has_front_matter(f)


def _has_front_matter(f: Path) -> bool:
    return head(f, 3) == b"---"
