"""The pii gate imports pyarrow without numpy when pyarrow allows it, and reports the same
findings as with numpy (issue 18: numpy was ~90 ms of every pii process).

Each case runs a fresh interpreter: what matters is what one process imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")

ROWS = ("name,email,phone,note\n"
        "Ada Lovelace,ada@example.com,+44 20 7946 0958,first\n"
        "Alan Turing,alan@example.org,+44 161 496 0000,second\n"
        "Grace Hopper,grace@example.net,+1 202 555 0143,third\n")


def _run(tmp_path: Path, target: str, *, numpy: bool) -> tuple[int, dict, list[str]]:
    env = {**os.environ}
    env.pop("MLSEC_GATES_ARROW_NUMPY", None)
    if numpy:
        env["MLSEC_GATES_ARROW_NUMPY"] = "1"
    code = ("import json, sys\n"
            "from gates.core.cli import main\n"
            "rc = main(['pii', sys.argv[1], '--format', 'json', '--output', sys.argv[2], '-q'])\n"
            "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))\n")
    out = tmp_path / f"r-{numpy}.json"
    p = subprocess.run([sys.executable, "-c", code, target, str(out)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    probe = json.loads(p.stdout.strip().splitlines()[-1])
    return probe["rc"], json.loads(out.read_text()), probe["modules"]


def _stable(report: dict) -> dict:
    def strip(o):
        if isinstance(o, dict):
            return {k: strip(v) for k, v in o.items() if k not in ("started_at", "duration")}
        return [strip(v) for v in o] if isinstance(o, list) else o
    return strip(report)


@pytest.mark.skipif(int(pa.__version__.split(".")[0]) < 16, reason="pyarrow before 16 needs numpy")
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_numpy_free_import_gives_the_same_report(tmp_path, fmt):
    src = tmp_path / "people.csv"
    src.write_text(ROWS)
    target = src
    if fmt == "parquet":
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        target = tmp_path / "people.parquet"
        pq.write_table(pcsv.read_csv(src), target)
        src.unlink()
    rc_free, free, mods_free = _run(tmp_path, str(target), numpy=False)
    rc_np, with_np, mods_np = _run(tmp_path, str(target), numpy=True)
    assert rc_free == rc_np == 1
    assert _stable(free) == _stable(with_np) and free["summary"]["findings"] >= 2
    assert "numpy" in mods_np
    if fmt == "csv":
        assert "numpy" not in mods_free  # nothing on a CSV run needs it


def test_numpy_stays_importable_after_the_gate(tmp_path):
    """The model gate imports numpy on first use, possibly after the pii gate loaded pyarrow."""
    pytest.importorskip("numpy")
    code = ("import sys\n"
            "import gates.pii\n"
            "assert 'numpy' not in sys.modules or sys.modules['numpy'] is not None\n"
            "import numpy as np, pyarrow as pa, pyarrow.compute as pc\n"
            "assert int(np.arange(4).sum()) == 6 and np.lib.format.MAGIC_PREFIX == b'\\x93NUMPY'\n"
            "assert pc.sum(pa.array([1, 2, 3])).as_py() == 6\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr


def test_a_pyarrow_that_needs_numpy_gets_the_ordinary_import(tmp_path):
    """A pyarrow whose import fails without numpy (as before 16) is imported again the usual way."""
    fake = tmp_path / "pyarrow"
    fake.mkdir()
    (fake / "__init__.py").write_text("import numpy\nFAKE = True\n")
    (fake / "compute.py").write_text("")
    code = ("import sys\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            "from gates.pii import arrowload\n"
            "arrowload.import_pyarrow()\n"
            "import pyarrow, numpy\n"
            "assert pyarrow.FAKE and numpy.__name__ == 'numpy' and sys.modules['numpy'] is not None\n")
    # gates.pii's own __init__ imports the real pyarrow first: run the module on its own
    code = code.replace("from gates.pii import arrowload", "import importlib.util as u\n"
                        "spec = u.spec_from_file_location('arrowload', " + repr(str(Path(__file__).parents[2] / "gates/pii/arrowload.py")) + ")\n"
                        "arrowload = u.module_from_spec(spec); spec.loader.exec_module(arrowload)")
    pytest.importorskip("numpy")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
