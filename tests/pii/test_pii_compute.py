"""gates/pii/compute.py binds the kernels the gate uses without importing pyarrow.compute: each
must answer as pyarrow.compute's own wrapper does (same options, same defaults), and a CSV scan
must not import pyarrow.compute at all (that import was ~25 ms of every run)."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as ref
import pytest

from gates.pii import compute as pc

S = pa.array(["ab c", None, "x-y 12", "", "ÄbC", "abc"], pa.string())
N = pa.array([3, 1, None, 7, 0, 5], pa.int64())
B = pa.array([True, False, None, True, True, False])


CASES = [
    ("take", (S, pa.array([2, 0, 5])), {}),
    ("filter", (S, B), {}),
    ("sum", (N,), {}),
    ("max", (N,), {}),
    ("any", (B,), {}),
    ("cast", (N, pa.string()), {}),
    ("cast", (pa.array(["1234", "abcd"]), pa.binary(4)), {}),
    ("is_in", (S, pa.array(["abc", None])), {}),
    ("match_substring_regex", (S, r"\d+"), {}),
    ("match_substring", (S, "b"), {}),
    ("ends_with", (S, "c"), {}),
    ("replace_substring", (S, " ", ""), {}),
    ("utf8_lpad", (S, 6, "0"), {}),
    ("utf8_slice_codeunits", (S, 1), {}),
    ("utf8_slice_codeunits", (S, 0, 2), {}),
    ("binary_join_element_wise", (S, S, "|"), {}),
    ("list_flatten", (pa.array([[1, 2], None, [3]]),), {}),
    ("list_element", (pa.array([[1, 2], [3, 4]]), 1), {}),
    ("list_parent_indices", (pa.array([[1, 2], [], [3]]),), {}),
    ("fill_null", (S, ""), {}),
    ("fill_null", (N, pa.scalar(9, pa.int32())), {}),
    ("add", (N, 2), {}), ("subtract", (N, 1), {}), ("multiply", (N, 3), {}), ("divide", (N, 2), {}),
    ("and_", (B, B), {}), ("or_", (B, B), {}), ("invert", (B,), {}),
    ("equal", (N, 3), {}), ("greater", (N, 3), {}), ("greater_equal", (N, 3), {}), ("less_equal", (N, 3), {}),
    ("if_else", (B, S, pa.scalar("z")), {}),
    ("indices_nonzero", (B,), {}),
    ("binary_join", (pa.array([["a", "b"], ["c"]]), "-"), {}),
    ("utf8_length", (S,), {}), ("utf8_lower", (S,), {}), ("is_valid", (S,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_each_kernel_answers_as_pyarrow_compute_does(name, args, kwargs):
    mine, theirs = getattr(pc, name)(*args, **kwargs), getattr(ref, name)(*args, **kwargs)
    assert mine.equals(theirs), (mine, theirs)


def test_every_kernel_the_gate_calls_is_bound(tmp_path):
    """Every ``pc.<name>`` in the gate's modules exists in the shim (a missing one would only
    fail on the code path that needs it)."""
    import re
    from pathlib import Path

    src = Path(pc.__file__).parent
    used = {m for f in src.glob("*.py") for m in re.findall(r"\bpc\.([a-z_0-9]+)\(", f.read_text())}
    assert used and not [u for u in sorted(used) if not hasattr(pc, u)]


def test_a_csv_scan_does_not_import_pyarrow_compute(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("name,email,note\n" + "".join(f"Ann Lee,ann{i}@corp.test,call 555-010-{i:04d}\n" for i in range(3000)))
    code = (
        "import sys\n"
        "from gates.core.cli import main\n"
        f"rc = main(['pii', {str(data)!r}, '--exit-zero', '-q'])\n"
        "print('pyarrow.compute' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stdout[-2000:] + out.stderr[-2000:]
