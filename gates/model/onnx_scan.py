"""ONNX models: every place a tensor can live, every operator domain.

``onnx.load`` (and the runtimes that follow it) reads external data for *every* tensor of the
model, not only graph initializers: tensors and sparse tensors held in node attributes, graphs
held in attributes (``If``/``Loop``/``Scan`` bodies, recursively), the graphs of
``training_info`` and the nodes and default attributes of model-local functions. A location that
is absolute, climbs out with ``..`` or resolves through a symlink outside the model directory
makes the loader read any file on the machine. Custom operator domains need native libraries.

The protobuf is walked field by field (``protobuf.fields``) and payloads are seeked past, so a
multi-gigabyte ``raw_data`` costs nothing. Field numbers are those of ``onnx.proto3``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import BinaryIO

from gates.core.hygiene import clean

from . import protobuf as pb
from .scan import Scan
from .stream import Source

STANDARD_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "ai.onnx.preview"}
MAX_DEPTH = 32  # graphs inside attributes inside graphs...
MAX_LOCATIONS_REPORTED = 20

# ModelProto
M_GRAPH, M_OPSET, M_TRAINING_INFO, M_FUNCTIONS = 7, 8, 20, 25
# GraphProto
G_NODE, G_INITIALIZER, G_SPARSE_INITIALIZER = 1, 5, 15
# NodeProto
N_ATTRIBUTE, N_DOMAIN = 5, 7
# AttributeProto
A_T, A_G, A_TENSORS, A_GRAPHS, A_SPARSE, A_SPARSES = 5, 6, 10, 11, 22, 23
# SparseTensorProto
S_VALUES, S_INDICES = 1, 2
# TensorProto
T_EXTERNAL_DATA, T_DATA_LOCATION, T_NAME = 13, 14, 8
# TrainingInfoProto
TI_INITIALIZATION, TI_ALGORITHM = 1, 2
# FunctionProto
F_NODE, F_OPSET, F_DOMAIN, F_ATTRIBUTE_PROTO = 7, 9, 10, 11
# OperatorSetIdProto
O_DOMAIN = 1


@dataclass
class OnnxFacts:
    """What the walk found: node count, operator domains, and each external-data reference as
    (location or None when a tensor says EXTERNAL without one, where it was found)."""

    nodes: int = 0
    domains: set[str] = field(default_factory=set)
    locations: list[tuple[str | None, str]] = field(default_factory=list)


def read_onnx(f: BinaryIO, start: int, size: int) -> OnnxFacts:
    """Walk a ModelProto in ``f[start:start+size]``. Raises ``pb.ProtoError`` on malformed input."""
    facts = OnnxFacts()
    for fld in pb.fields(f, start, start + size):
        if fld.wire != 2:
            continue
        if fld.number == M_GRAPH:
            _graph(f, fld, facts, 0, "graph")
        elif fld.number == M_OPSET:
            _opset(f, fld, facts)
        elif fld.number == M_TRAINING_INFO:
            for sub in _messages(f, fld):
                if sub.number in (TI_INITIALIZATION, TI_ALGORITHM):
                    _graph(f, sub, facts, 1, "training_info." + ("initialization" if sub.number == TI_INITIALIZATION else "algorithm"))
        elif fld.number == M_FUNCTIONS:
            _function(f, fld, facts)
    return facts


def _messages(f: BinaryIO, fld: pb.Field) -> list[pb.Field]:
    return [s for s in pb.fields(f, fld.start, fld.start + fld.length) if s.wire == 2]


def _opset(f: BinaryIO, fld: pb.Field, facts: OnnxFacts) -> None:
    for sub in _messages(f, fld):
        if sub.number == O_DOMAIN:
            facts.domains.add(pb.read_string(f, sub, 4096))


def _function(f: BinaryIO, fld: pb.Field, facts: OnnxFacts) -> None:
    for sub in _messages(f, fld):
        if sub.number == F_NODE:
            _node(f, sub, facts, 1, "function")
        elif sub.number == F_OPSET:
            _opset(f, sub, facts)
        elif sub.number == F_DOMAIN:
            facts.domains.add(pb.read_string(f, sub, 4096))
        elif sub.number == F_ATTRIBUTE_PROTO:  # default attribute values may hold tensors and graphs
            _attribute(f, sub, facts, 1, "function.attribute")


def _graph(f: BinaryIO, fld: pb.Field, facts: OnnxFacts, depth: int, where: str) -> None:
    if depth > MAX_DEPTH:
        raise pb.ProtoError("subgraphs nested too deeply")
    for sub in _messages(f, fld):
        if sub.number == G_NODE:
            _node(f, sub, facts, depth, where)
        elif sub.number == G_INITIALIZER:
            _tensor(f, sub, facts, where + ".initializer")
        elif sub.number == G_SPARSE_INITIALIZER:
            _sparse(f, sub, facts, where + ".sparse_initializer")


def _node(f: BinaryIO, fld: pb.Field, facts: OnnxFacts, depth: int, where: str) -> None:
    facts.nodes += 1
    for sub in _messages(f, fld):
        if sub.number == N_DOMAIN:
            facts.domains.add(pb.read_string(f, sub, 4096))
        elif sub.number == N_ATTRIBUTE:
            _attribute(f, sub, facts, depth, where + ".node.attribute")


def _attribute(f: BinaryIO, fld: pb.Field, facts: OnnxFacts, depth: int, where: str) -> None:
    for a in _messages(f, fld):
        if a.number in (A_T, A_TENSORS):
            _tensor(f, a, facts, where)
        elif a.number in (A_SPARSE, A_SPARSES):
            _sparse(f, a, facts, where)
        elif a.number in (A_G, A_GRAPHS):
            _graph(f, a, facts, depth + 1, where + ".graph")


def _sparse(f: BinaryIO, fld: pb.Field, facts: OnnxFacts, where: str) -> None:
    for part in _messages(f, fld):
        if part.number in (S_VALUES, S_INDICES):
            _tensor(f, part, facts, where)


def _tensor(f: BinaryIO, fld: pb.Field, facts: OnnxFacts, where: str) -> None:
    location: str | None = None
    external = False
    for sub in pb.fields(f, fld.start, fld.start + fld.length):
        if sub.number == T_EXTERNAL_DATA and sub.wire == 2:
            kv: dict[int, str] = {}
            for e in _messages(f, sub):
                if e.number in (1, 2):
                    kv[e.number] = pb.read_string(f, e, 1 << 16)
            if kv.get(1) == "location" and 2 in kv:
                location = kv[2]
        elif sub.number == T_DATA_LOCATION and sub.wire == 0 and sub.value == 1:
            external = True
    if location is not None or external:
        facts.locations.append((location, where))


def location_problem(loc: str, model_dir: str | None) -> str | None:
    """Why ``loc`` (an external-data location) would make the loader read outside the model
    directory, or None. ``model_dir`` (the real directory of a top-level file) enables the
    symlink check."""
    norm = loc.replace("\\", "/")
    if "\x00" in loc:
        return "contains a NUL byte"
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or norm.startswith("//") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", norm):
        return "is an absolute path or URL (reads any file on the machine)"
    if ".." in norm.split("/"):
        return "climbs out of the model directory with '..'"
    if model_dir is not None:
        full = os.path.realpath(os.path.join(model_dir, loc))
        if os.path.commonpath([full, model_dir]) != model_dir:
            return "resolves (through a symlink) outside the model directory"
    return None


def scan_onnx(scan: Scan, f: BinaryIO, src: Source, member: str | None, depth: int, name: str, size: int | None) -> None:
    """Read an ONNX ModelProto: MODEL012 for custom operator domains (medium) and for external-data
    locations that leave the model directory (blocking); MODEL003 when the protobuf is malformed."""
    if size is None:
        scan.inconclusive("ONNX inside a compressed stream cannot be inspected", member, 0, key="onnx-stream")
        return
    try:
        facts = read_onnx(f, src.start, size)
    except (pb.ProtoError, OSError, ValueError) as exc:
        scan.inconclusive(f"ONNX protobuf cannot be parsed ({clean(str(exc))})", member, None, key="onnx-parse")
        return
    scan.report.items += facts.nodes
    allowed = STANDARD_DOMAINS | set(scan.cfg.custom_onnx_domains)
    for dom in sorted(d for d in facts.domains if d not in allowed):
        shown = clean(dom[:200])
        scan.hit("MODEL012", f"ONNX model uses operators from the custom domain `{shown}`: running it needs a native custom-op library",
                 member, None, severity="medium", key=f"domain:{shown}", extra={"domain": shown})
    model_dir = os.path.dirname(os.path.realpath(scan.path)) if member is None else None
    reported = 0
    for loc, where in facts.locations:
        problem = "is missing (the tensor says its data is external)" if loc is None else location_problem(loc, model_dir)
        if not problem:
            continue
        reported += 1
        if reported > MAX_LOCATIONS_REPORTED:
            continue
        shown = clean((loc or "")[:200])
        scan.hit("MODEL012", f"ONNX external data location `{shown}` in {where} {problem}", member, None, severity="high",
                 blocking=True, key=f"location:{shown}:{where}", evidence=shown, extra={"where": where})
    if reported > MAX_LOCATIONS_REPORTED:
        scan.hit("MODEL012", f"{reported - MAX_LOCATIONS_REPORTED} more ONNX external data locations leave the model directory",
                 member, None, severity="high", blocking=True, key="location:more")
