"""Fuzz target: the policy loader (YAML parsing, line mapping, schema validation, merging, locks
and waivers) on generated documents. Whatever the input, the loader returns a policy or raises
:class:`~gates.core.errors.PolicyError`: any other exception is a bug (and becomes a regression
test below).

CI runs a bounded number of examples; ``MLSEC_GATES_FUZZ_EXAMPLES=20000 pytest tests/policy -k fuzz``
runs longer locally.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates.core.errors import PolicyError
from gates.core.loader import load_policy
from gates.core.registry import available_gates

EXAMPLES = int(os.environ.get("MLSEC_GATES_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = ["version", "defaults", "gates", "waivers", "locks", "extends", "merge", "fail_on", "on_error", "eval", "pii",
        "model", "paths", "+paths", "exclude", "enabled", "metrics", "results", "rule", "reason", "expires", "path",
        "fingerprint", "only_stricter", "only_true", "locked", "max_days", "forbid_rules", "*", "gates.*.enabled", "min"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=True), st.text(max_size=20),
                    st.sampled_from(["high", "none", "warn", "fail", "2030-01-01", "EVAL*", "**", "append", "1", "x.yml"]))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)), max_leaves=25)


def _load(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / ".mlsec-gates.yml"
        p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            load_policy(p, available_gates(), root=Path(tmp))
        except PolicyError:
            pass


@FUZZ
@given(st.fixed_dictionaries({"version": st.sampled_from([1, 1, 2, "1"])}, optional={
    "defaults": documents, "gates": st.dictionaries(st.sampled_from(["eval", "pii", "model", "deps", "signature", "x"]), documents, max_size=3),
    "waivers": st.lists(documents, max_size=3), "locks": documents, "merge": documents}))
def test_fuzz_structured_policies(doc):
    _load(yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("version: 1\ngates{}[]-*&!|>'\"#%@`,?eval.pii") + ["\t", "\x00", "\ufeff", "é"]), max_size=200))
def test_fuzz_yaml_text(text):
    _load(text)


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_raw_bytes(data):
    _load(data)
