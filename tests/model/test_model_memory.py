"""Memory: the model gate stays within 60 MB resident on a 20,000-tensor checkpoint, and nested
payloads are read through views of the file, never copied into memory."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from modelsamples import (EMPTY_DICT, blocked_globals, bytes8, call, legacy_torch, os_system, pickle_of, scan_file,
                          torch_state_dict_pickle, torch_zip)

RSS_LIMIT_MB = 60
#: the child's peak resident size: VmHWM belongs to the process image (ru_maxrss would carry the
#: forking parent's size across exec)
CHILD = """
import sys
from gates.core.cli import main
rc = main(['model', 'ckpt.pt', '--format', 'json', '--output', 'r.json', '-q'])
hwm = next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:'))
print(rc, hwm)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")
def test_rss_on_a_20k_tensor_checkpoint(tmp_path):
    (tmp_path / "ckpt.pt").write_bytes(torch_zip(torch_state_dict_pickle(20_000, numel=16), n_storages=20_000, numel=16))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    rc, hwm_kib = out.stdout.split()
    assert rc == "0", out.stderr
    assert int(hwm_kib) / 1024 <= RSS_LIMIT_MB, f"{int(hwm_kib) / 1024:.1f} MB"


def test_big_nested_payload_then_a_stacked_pickle(tmp_path):
    """A 3 MB ``_load_from_bytes`` payload is scanned through a view of the file; the outer stream
    then goes on at the right offset and finds the second pickle's call."""
    inner = legacy_torch(pickle_of(EMPTY_DICT + bytes8(b"\0" * (3 << 20)) + b"0"))
    data = pickle_of(call("torch.storage", "_load_from_bytes", bytes8(inner)), 4) + os_system("id")
    rep = scan_file(tmp_path, "m.pkl", data)
    assert blocked_globals(rep) == {"os.system"}, [(h.rule, h.message) for h in rep.hits]
