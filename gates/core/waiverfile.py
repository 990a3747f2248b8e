"""Finding and reading the waiver file (the ``waivers`` commands live in :mod:`gates.core.cli_waivers`).

Waivers can live apart from the policy in ``.mlsec-gates-waivers.yml`` beside it, so a
CODEOWNERS rule can send every new waiver to the people who own the risk. The file is loaded
automatically, validated against its own small schema (``version: 1`` and ``waivers:``, each
waiver as in the policy), merged after every policy and checked against ``locks.waivers``.
"""

from __future__ import annotations

from pathlib import Path

from .errors import PolicyError
from .schema import clean_file, validate_document, waiver_file_schema
from .yamlsrc import SourcedYaml, load_yaml_file

WAIVER_FILE_NAMES = (".mlsec-gates-waivers.yml", ".mlsec-gates-waivers.yaml")


def find(directory: Path) -> Path | None:
    """The waiver file in ``directory`` (beside the policy), or None."""
    for name in WAIVER_FILE_NAMES:
        p = directory / name
        if p.is_file():
            return p
    return None


def load(path: Path) -> SourcedYaml:
    """The waiver file, validated; :class:`PolicyError` naming file and line when it is not valid."""
    src = load_yaml_file(path)
    if not isinstance(src.data, dict):
        raise PolicyError(f"{clean_file(src.file)}:1: a waiver file is a mapping with 'version: 1' and 'waivers:'")
    validate_document(src, waiver_file_schema())
    return src
