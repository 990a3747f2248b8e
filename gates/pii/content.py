"""Datasets known by their content, whatever their name.

Why: a loader does not care about names. ``pd.read_csv("users.dat")`` reads a CSV; UCI datasets
ship as ``adult.data``; exports land as ``dump``, ``users.out`` or ``people.csv.1``. The gate
chose files by their dataset names only, so a table of personal data under any other name
passed, unread. With the default paths (``gates.pii.paths`` not set), every other file is now
looked at (its first :data:`HEAD` bytes, decompressed for a gzip/bz2/xz/zstd stream) and read
when its content is a dataset:

* columnar magic the readers read (Parquet, Arrow/Feather, ORC);
* JSON: lines that each hold a JSON object or array (JSON Lines), or a document that opens
  with an object key (``{"`` or ``[{"``);
* a table: at least two lines (three for two columns) that split into the same number of
  fields, at least two, with one of ``, ; TAB |``, through the ``csv`` module (quotes honoured).

Only text that is plainly a table or JSON counts: prose, logs and source code are not read (the
per-cell scanner would only add noise there, and a file guessed wrongly must not fail the run).
Files named as source code, documentation, configuration or repository metadata
(:data:`NOT_DATA_SUFFIXES`, :data:`NOT_DATA_NAMES`) are not looked at: a README's Markdown table
of maintainers is documentation, not a dataset. :func:`text_format` is also how
:func:`readers.detect` reads such a file: as the table or JSON it is, not as lines of text.
"""

from __future__ import annotations

import codecs
import csv
import json
from pathlib import Path

#: bytes looked at per file (one short read; a table's header and first rows fit)
HEAD = 8192
#: lines of a table compared
TABLE_LINES = 50
DELIMITERS = (",", "\t", ";", "|")

#: suffixes of source code, documentation, configuration and web files: never datasets by content
NOT_DATA_SUFFIXES = frozenset("""
.py .pyi .pyx .pxd .ipynb .js .mjs .cjs .ts .tsx .jsx .vue .svelte .java .kt .kts .scala .groovy .gradle .go .rs .c .h
.cc .cpp .cxx .hpp .hh .cu .cuh .cs .fs .vb .rb .php .pl .pm .sh .bash .zsh .fish .ps1 .psm1 .bat .cmd .swift .m .mm .r
.jl .lua .dart .ex .exs .erl .hs .ml .clj .el .vim .md .markdown .rst .adoc .asciidoc .tex .bib .org .html .htm .xhtml
.css .scss .sass .less .svg .xml .xsl .xsd .toml .ini .cfg .conf .properties .env .lock .mk .cmake .proto .graphql .gql
.tf .hcl .j2 .jinja .jinja2 .tmpl .tpl .mustache .diff .patch .pem .crt .cer .key .pub .asc .sig .sigstore .ipynb
.whl .pt .pth .bin .safetensors .gguf .onnx .pb .h5 .keras .pkl .pickle .joblib .npy .npz
""".split())
#: file names (case-insensitive, before any suffix) of repository metadata, never datasets
NOT_DATA_NAMES = frozenset("""
readme license licence copying notice authors contributors maintainers codeowners changelog changes history news
makefile dockerfile containerfile jenkinsfile vagrantfile procfile gemfile rakefile pipfile brewfile justfile
citation security support
""".split())


#: byte order marks, UTF-32's first (UTF-16's little-endian mark begins UTF-32's)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def looked_at(path: Path) -> bool:
    """Whether a file the paths do not name is worth a look by content."""
    name = path.name.lower()
    if name.startswith("."):
        return False  # dot files: tool configuration (.gitignore, .editorconfig, .env...)
    if path.suffix.lower() in NOT_DATA_SUFFIXES:
        return False
    return name.split(".", 1)[0].split("-", 1)[0].split("_", 1)[0] not in NOT_DATA_NAMES


def text_format(head: bytes, complete: bool) -> str | None:
    """``csv``, ``jsonl`` or ``json`` when the text in ``head`` (the file's first bytes;
    ``complete``: all of it) is plainly that, else None (other text, or not text)."""
    bom = next((enc for mark, enc in _BOMS if head.startswith(mark)), None)
    if bom is not None:  # UTF-16/32 text (Excel's "Unicode text"): a cut last unit is dropped
        text = head.decode(bom, errors="ignore")
    elif b"\x00" in head:
        return None
    else:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if complete or exc.start < len(head) - 4:  # not a character cut at the end of the head
                return None
            text = head[:exc.start].decode("utf-8")
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not complete and lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # cut by the head
    lines = [ln for ln in lines if ln.strip()]
    if _json_lines(lines):
        return "jsonl"
    start = text.lstrip()
    if start.startswith(("{", "[")) and _json_document(start, complete):
        return "json"
    return "csv" if _table(lines[:TABLE_LINES]) else None


def _json_lines(lines: list[str]) -> bool:
    if len(lines) < 2:
        return False
    for ln in lines[:TABLE_LINES]:
        s = ln.strip()
        if not s.startswith(("{", "[")):
            return False
        try:
            value = json.loads(s)
        except ValueError:
            return False
        if not isinstance(value, (dict, list)):
            return False
    return True


def _json_document(start: str, complete: bool) -> bool:
    if complete:
        try:
            return isinstance(json.loads(start), (dict, list))
        except ValueError:
            return False
    body = start[1:].lstrip() if start.startswith("[") else start
    return body.startswith("{") and body[1:].lstrip().startswith('"')


def _table(lines: list[str]) -> bool:
    for delim in DELIMITERS:
        if not any(delim in ln for ln in lines[:2]):
            continue
        try:
            widths = {len(row) for row in csv.reader(lines, delimiter=delim)}
        except csv.Error:
            continue
        if len(widths) == 1:
            (width,) = widths
            if width >= 2 and len(lines) >= (3 if width == 2 else 2):
                return True
    return False
