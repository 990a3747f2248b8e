"""A realistic repository for shard tests: many model and dataset files of uneven sizes, safe
and unsafe pickles, PII in some datasets, pinned and unpinned requirements, an escaped symlink,
a waiver that matches a finding in one file and a stale one. Built in the test, never committed."""

from __future__ import annotations

import json
import os
import pickle
import struct
import shutil
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"

#: a protocol-0 pickle that would call os.system when loaded (written as bytes, never loaded)
UNSAFE_PICKLE = b"cos\nsystem\n(S'echo pwned'\ntR."


def safetensors_bytes(n_floats: int) -> bytes:
    header = json.dumps({"w": {"dtype": "F32", "shape": [n_floats], "data_offsets": [0, 4 * n_floats]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * (4 * n_floats)


def build_repo(root: Path, files: int = 60) -> Path:
    """``files`` model/data files plus the repository-wide inputs; returns ``root``."""
    (root / "models").mkdir(parents=True)
    (root / "data").mkdir()
    for i in range(files):
        kind = i % 6
        if kind == 0:
            (root / "models" / f"unsafe_{i}.pkl").write_bytes(UNSAFE_PICKLE)
        elif kind == 1:
            (root / "models" / f"weights_{i}.safetensors").write_bytes(safetensors_bytes(16 * (i + 1)))
        elif kind == 2:
            (root / "models" / f"state_{i}.pkl").write_bytes(pickle.dumps({"layer": list(range(i * 10))}, protocol=4))
        elif kind == 3:
            rows = "\n".join(f"{j},user{j}_{i}@example.org,note {j}" for j in range(20 + i))
            (root / "data" / f"users_{i}.csv").write_text("id,email,note\n" + rows + "\n")
        elif kind == 4:
            rows = "\n".join(f"{j},{j * i},label{j % 3}" for j in range(30 + i))
            (root / "data" / f"clean_{i}.csv").write_text("id,value,label\n" + rows + "\n")
        else:
            (root / "data" / f"notes_{i}.jsonl").write_text("".join(json.dumps({"text": f"row {j} of {i}"}) + "\n" for j in range(10)))
    (root / "requirements.txt").write_text("requests==2.19.0\nnumpy\n")
    os.symlink("/etc/hostname", root / "models" / "escaped.pkl")
    (root / ".mlsec-gates.yml").write_text(
        "version: 1\n"
        "defaults: {fail_on: high}\n"
        "gates:\n"
        "  model: {paths: ['models/**'], workers: 1}\n"
        "  pii: {paths: ['data/**'], workers: 1, entities: {EMAIL_ADDRESS: {action: block, max_fraction: 0.01}}}\n"
        "  deps: {source: local, sources: [requirements.txt], require_pins: true, database: osvdb}\n"
        "  provenance: {enabled: false}\n"
        "  signature: {enabled: false}\n"
        "  eval: {enabled: false}\n"
        "waivers:\n"
        "  - {rule: MODEL001, path: models/unsafe_6.pkl, reason: 'test fixture', expires: 2099-01-01}\n"
        "  - {rule: MODEL001, path: models/never_there.pkl, reason: 'stale on purpose', expires: 2099-01-01}\n"
    )
    (root / "osvdb").mkdir()
    shutil.copy(DEMO / "deps" / "osv" / "PYSEC-2018-28.json", root / "osvdb")
    return root
