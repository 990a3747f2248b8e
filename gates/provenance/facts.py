"""What the readers extract from a model's files: facts, each with the file, key and line that
declared it. Types only, so readers, grouping and checks all import from here and never from
each other's internals."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


class Kind(str, enum.Enum):
    """What a fact says about a model."""

    LICENSE = "license"          # an identified licence id or SPDX expression
    LICENSE_UNKNOWN = "license?"  # a licence was declared but cannot be identified
    ORIGIN = "origin"            # the model's own hub id or source URL
    BASE = "base_model"          # a declared base model (hub id or URL)
    LOCAL_BASE = "local_base"    # an adapter's base given as a local path
    DATASET = "dataset"
    TASK = "task"
    LIBRARY = "library"
    NAME = "name"
    VERSION = "version"
    CODE = "auto_map"            # an auto_map entry (module.Class, or repo--module.Class)


@dataclass(frozen=True)
class Fact:
    """One declared fact. ``value`` is raw input: clean it before it is printed anywhere."""

    kind: Kind
    value: str
    file: Path
    key: str
    line: int | None = None


class ReadError(Exception):
    """A file that declares provenance could not be parsed: the gate fails closed on it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model. ``kind`` says what made them one model: a Hugging Face folder
    (``huggingface``), a KitOps package (``kitfile``), an MLflow model (``mlflow``) or a single
    weights file (``file``)."""

    root: Path
    kind: str
    files: tuple[Path, ...]
    markers: tuple[Path, ...] = ()   # the files that made this a model (config.json, Kitfile, ...)


@dataclass(frozen=True)
class ModelFacts:
    """A model's files and every fact its files declared."""

    model: ModelFiles
    facts: tuple[Fact, ...] = ()
    card: Path | None = None
    code_files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def of(self, *kinds: Kind) -> list[Fact]:
        return [f for f in self.facts if f.kind in kinds]
