"""Allowlist matching: module and qualname are matched separately (issue 12, item 7).

A class glob such as ``sklearn.utils.**.[A-Z]*`` used to be matched against the whole dotted
name, so ``sklearn.utils.validation`` + ``np.ctypeslib.ctypes.CDLL`` (an attribute walk from a
module that imports numpy) looked like a scikit-learn class. These tests build such pickles from
opcodes and check that globs only ever cover module names and one class segment.
"""

from __future__ import annotations

import pytest

from gates.model.allowlists import build_allowlist, danger_of, profiles_covering, split_entry
from modelsamples import EMPTY_TUPLE, NEWOBJ, blocked_globals, call, glob, pickle_of, rules, scan_file, ustr


def _hits(rep, rule):
    return [h for h in rep.hits if h.rule == rule]


@pytest.mark.parametrize("module, name", [
    ("sklearn.utils.validation", "np.ctypeslib.ctypes.CDLL"),
    ("sklearn.utils.validation", "np.testing._private.utils.subprocess.Popen"),
    ("sklearn.linear_model._logistic", "np.load"),
    ("sklearn.utils._param_validation", "np.Callable"),
])
def test_class_glob_never_covers_an_attribute_walk(tmp_path, module, name):
    data = pickle_of(call(module, name, ustr("libc.so.6")), 4)
    rep = scan_file(tmp_path, "m.pkl", data, profiles=["sklearn", "numpy"])
    assert blocked_globals(rep) == {f"{module}.{name}"}
    hit = rep.hits[0]
    assert hit.blocking and hit.rule == "MODEL001" and hit.severity == "critical", (hit.rule, hit.message)


def test_walk_through_a_dangerous_module_names_it():
    assert danger_of("sklearn.utils.validation", "np.ctypeslib.ctypes.CDLL").reason.startswith("calls native code")
    assert "shell" in danger_of("sklearn.utils.validation", "np.testing._private.utils.subprocess.Popen").reason
    assert danger_of("sklearn.utils", "np.load").severity == "critical"
    assert danger_of("os", "system").severity == "critical"
    assert danger_of("os.system").severity == "critical"


def test_re_exported_stdlib_classes_are_not_covered_by_globs(tmp_path):
    # ``from subprocess import Popen`` at the top of a library module makes mod.Popen subprocess.Popen
    data = pickle_of(call("sklearn.utils._testing", "Popen", ustr("id")), 4)
    rep = scan_file(tmp_path, "m.pkl", data, profiles=["sklearn"])
    assert blocked_globals(rep) == {"sklearn.utils._testing.Popen"}


def test_module_glob_does_not_cross_into_dunders(tmp_path):
    data = pickle_of(call("sklearn.linear_model.__init__", "LogisticRegression"), 4)
    rep = scan_file(tmp_path, "m.pkl", data, profiles=["sklearn"])
    assert blocked_globals(rep) == {"sklearn.linear_model.__init__.LogisticRegression"}


def test_sklearn_classes_still_pass(tmp_path):
    for module, name in [("sklearn.linear_model._logistic", "LogisticRegression"),
                         ("sklearn.ensemble._forest", "RandomForestClassifier"),
                         ("sklearn.tree._tree", "Tree")]:
        data = pickle_of(glob(module, name) + EMPTY_TUPLE + NEWOBJ, 4)
        assert not scan_file(tmp_path, f"{name}.pkl", data, profiles=["sklearn", "numpy"]).hits, name


def test_entries_split_module_and_qualname():
    assert split_entry("torch._utils._rebuild_tensor_v2") == ("torch._utils", "_rebuild_tensor_v2")
    assert split_entry("mypkg.mod:Outer.Inner") == ("mypkg.mod", "Outer.Inner")
    assert split_entry("mypkg.**") == ("mypkg.**", "*")
    allow = build_allowlist((), ("mypkg.mod:Outer.Inner", "mypkg.**", "other.*.[A-Z]*"))
    assert allow.allows("mypkg.mod", "Outer.Inner")
    assert not allow.allows("mypkg", "mod.Outer.Inner")  # same object, but a walk nobody writes
    assert allow.allows("mypkg.a.b", "Layer") and allow.allows("mypkg", "thing")
    assert not allow.allows("mypkg.a", "os.system")
    assert allow.allows("other.x", "Model") and not allow.allows("other.x.y", "Model")
    assert not allow.allows("other.x", "model")


def test_exact_torch_entries_need_the_split_torch_writes():
    allow = build_allowlist(("torch",))
    assert allow.allows("torch._utils", "_rebuild_tensor_v2")
    assert allow.allows("collections", "OrderedDict")
    assert not allow.allows("torch", "_utils._rebuild_tensor_v2")


def test_deny_and_numpy_exclusions_cover_everything_below():
    allow = build_allowlist(("numpy",), ("numpy.**",), ("numpy.random",))
    assert not allow.allows("numpy.ctypeslib", "CDLL")  # numpy.ctypeslib is excluded as a whole
    assert not allow.allows("numpy.random._pickle", "__randomstate_ctor")
    assert allow.allows("numpy", "ndarray")


def test_block_names_the_profile_that_would_cover_it(tmp_path):
    data = pickle_of(glob("sklearn.linear_model._logistic", "LogisticRegression") + EMPTY_TUPLE + NEWOBJ, 4)
    rep = scan_file(tmp_path, "m.pkl", data)
    (hit,) = _hits(rep, "MODEL002")
    assert "`sklearn` profile" in hit.message and hit.extra["profile"] == "sklearn"
    assert profiles_covering("sklearn.linear_model._logistic", "LogisticRegression", ["torch"]) == ["sklearn"]
    assert profiles_covering("mypkg", "Thing") == []


def test_unknown_global_names_no_profile(tmp_path):
    data = pickle_of(glob("mypkg.layers", "Thing") + EMPTY_TUPLE + NEWOBJ, 4)
    rep = scan_file(tmp_path, "m.pkl", data, profiles=list(("torch", "numpy", "sklearn")))
    assert rules(rep) == {"MODEL002"}
    assert "profile" not in rep.hits[0].message and "profile" not in rep.hits[0].extra
