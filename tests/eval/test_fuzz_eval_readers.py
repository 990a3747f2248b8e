"""Fuzz target: the eval gate's results readers (JSON, lm-evaluation-harness, MLflow JSON and run
directories, CSV/TSV) on generated files. Whatever the bytes, a reader returns metrics or raises
:class:`~gates.core.errors.InputError`; any other exception is a bug and becomes a regression
test below.

CI runs a bounded number of examples; ``MLSEC_GATES_FUZZ_EXAMPLES=20000 pytest tests/eval -k fuzz``
runs longer locally.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates.core.errors import InputError
from gates.eval.readers import FORMATS, read_results

EXAMPLES = int(os.environ.get("MLSEC_GATES_FUZZ_EXAMPLES", "80"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = ["results", "versions", "configs", "data", "metrics", "key", "value", "acc", "acc,none", "acc_stderr,none",
        "alias", "metric", "name", "score", "hellaswag", "timestamp", "step", "info", "run_id"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12), st.sampled_from(["NaN", "inf", "-Infinity", "1e400", "0.5", " 1 "]))
json_docs = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)), max_leaves=30)


def _read(name: str, data: bytes, fmt: str = "auto") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / name
        p.write_bytes(data)
        try:
            metrics = read_results(p, fmt, max_bytes=1 << 20)
        except InputError:
            return
        assert all(isinstance(m.value, float) and isinstance(m.name, str) for m in metrics)


@FUZZ
@given(json_docs, st.sampled_from(FORMATS))
def test_fuzz_json_documents(doc, fmt):
    _read("results.json", json.dumps(doc).encode(), fmt if fmt != "csv" else "auto")


@FUZZ
@given(st.lists(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["metric", "value", "0.5", "nan", "", '"', "1e9"])),
                         max_size=5), max_size=6), st.sampled_from([",", "\t", ";"]), st.sampled_from(["results.csv", "r.tsv"]))
def test_fuzz_csv_tables(rows, sep, name):
    _read(name, "\n".join(sep.join(r) for r in rows).encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["results.json", "results.csv", "results.tsv", "x.bin"]), st.sampled_from(FORMATS))
def test_fuzz_raw_bytes(data, name, fmt):
    _read(name, data, fmt)


@FUZZ
@given(st.dictionaries(st.text(alphabet="abc_/. ", min_size=1, max_size=6), st.binary(max_size=80), max_size=4))
def test_fuzz_mlflow_run_directories(files):
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        (run / "metrics").mkdir(parents=True)
        for name, data in files.items():
            target = run / "metrics" / name.strip("/. ")
            if target == run / "metrics" or not name.strip("/. "):
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            except (IsADirectoryError, NotADirectoryError, FileExistsError):
                continue
        try:
            read_results(run, "auto", max_bytes=1 << 20)
        except InputError:
            pass


# ---- regressions found by the targets above ------------------------------------------------------
@pytest.mark.parametrize("doc,fmt", [(None, "lm-eval"), ([1], "mlflow"), ("x", "lm-eval")])
def test_a_forced_format_on_a_json_non_object_is_an_input_error(tmp_path, doc, fmt):
    """Found by test_fuzz_json_documents: AttributeError ('NoneType' object has no attribute 'get')."""
    p = tmp_path / "results.json"
    p.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="is a JSON object"):
        read_results(p, fmt)
