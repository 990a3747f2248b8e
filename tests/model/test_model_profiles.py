"""The xgboost, lightgbm and lightning profiles against files the real libraries wrote
(issue 12, item 11). The fixtures under ``fixtures/profiles`` come from
``fixtures/make_profile_fixtures.py``; they are scanned, never loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gates.model.allowlists import PROFILES, build_allowlist
from gates.model.config import config_from_options
from gates.model.scanner import scan_path
from modelsamples import EMPTY_TUPLE, NEWOBJ, blocked_globals, call, glob, os_system, pickle_of, scan_file, ustr

FIXTURES = Path(__file__).parent / "fixtures" / "profiles"
BY_PROFILE = {
    "xgboost": sorted(p.name for p in FIXTURES.glob("xgb_*") if p.suffix in (".pkl", ".joblib")),
    "lightgbm": sorted(p.name for p in FIXTURES.glob("lgbm_*") if p.suffix in (".pkl", ".joblib")),
    "lightning": sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".ckpt", ".pt")),
}
CASES = [(prof, name) for prof, names in BY_PROFILE.items() for name in names]


def _scan(name: str, profiles: list[str]):
    return scan_path(str(FIXTURES / name), config_from_options({"profiles": profiles}))


def test_fixtures_are_there_and_small():
    assert len(BY_PROFILE["xgboost"]) >= 7 and len(BY_PROFILE["lightgbm"]) >= 7 and len(BY_PROFILE["lightning"]) >= 2
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 300_000
    versions = json.loads((FIXTURES / "MANIFEST.json").read_text())["versions"]
    assert {"xgboost", "lightgbm", "torch", "pytorch_lightning"} <= set(versions)


@pytest.mark.parametrize("profile, name", CASES)
def test_real_library_pickles_pass_under_their_profile(profile, name):
    rep = _scan(name, [profile])
    assert not rep.hits, [(h.rule, h.message) for h in rep.hits]


@pytest.mark.parametrize("profile, name", CASES)
def test_and_block_without_it_naming_the_profile(profile, name):
    rep = _scan(name, ["torch", "numpy"])
    blocking = [h for h in rep.hits if h.blocking]
    assert blocking, name
    assert any(f"`{profile}`" in h.message and h.extra.get("profile") == profile for h in blocking), \
        [h.message for h in blocking]


def test_cli_contract(cli, monkeypatch, tmp_path):
    monkeypatch.chdir(FIXTURES)
    out = tmp_path / "r.json"
    assert cli("model", "xgb_classifier.joblib", "lgbm_classifier.p5.pkl", "--profile", "xgboost", "--profile", "lightgbm",
               "--format", "json", "--output", out, "-q").code == 0
    r = cli("model", "xgb_classifier.p5.pkl", "--format", "json", "--output", out, "-q")
    assert r.code == 1
    findings = [f for f in json.loads(out.read_text())["findings"] if f["blocking"]]
    assert findings and all(f["path"] == "xgb_classifier.p5.pkl" for f in findings)
    assert any("--profile xgboost" in f["message"] for f in findings)
    assert cli("model", "lightning.ckpt", "--profile", "lightning", "--format", "json", "--output", out, "-q").code == 0


@pytest.mark.parametrize("profile", ["xgboost", "lightgbm", "lightning"])
def test_profiles_do_not_widen_to_code(tmp_path, profile):
    assert blocked_globals(scan_file(tmp_path, "a.pkl", os_system(), profiles=[profile])) == {"os.system"}
    # the libraries' modules import ctypes and subprocess: reaching them by attribute still blocks
    for module, name in [("xgboost.core", "ctypes.CDLL"), ("lightgbm.basic", "ctypes.cdll.LoadLibrary"),
                         ("argparse", "_sys.modules"), ("omegaconf.dictconfig", "os.system")]:
        data = pickle_of(call(module, name, ustr("x")), 4)
        assert blocked_globals(scan_file(tmp_path, "b.pkl", data, profiles=[profile])) == {f"{module}.{name}"}


def test_profile_classes_are_exact_names():
    # reviewed lists: no globs, so a new class in the library is a decision, not an accident
    for profile in ("xgboost", "lightgbm", "lightning"):
        assert not [e for e in PROFILES[profile] if set(e) & set("*[:")], profile


def test_required_profiles_come_along():
    allow = build_allowlist(("lightgbm",))
    assert allow.allows("numpy._core.multiarray", "_reconstruct") and "numpy" in allow.profiles
    assert not allow.allows("numpy", "load")  # NumPy's exclusions come along too
    assert build_allowlist(("lightning",)).allows("torch._utils", "_rebuild_tensor_v2")


def test_unrelated_classes_of_the_library_still_block(tmp_path):
    data = pickle_of(glob("xgboost.callback", "EarlyStopping") + EMPTY_TUPLE + NEWOBJ, 4)
    assert blocked_globals(scan_file(tmp_path, "c.pkl", data, profiles=["xgboost"])) == {"xgboost.callback.EarlyStopping"}


@pytest.mark.parametrize("name, profile", [("pipeline_xgb.pkl", "xgboost"), ("pipeline_lgbm.joblib", "lightgbm")])
def test_boosters_inside_sklearn_pipelines(name, profile):
    assert not _scan(name, ["sklearn", profile]).hits
    rep = _scan(name, [profile])
    assert rep.hits and all(h.extra.get("profile") == "sklearn" for h in rep.hits if h.blocking), [h.message for h in rep.hits]


def test_statsmodels_model_data_is_labelled(tmp_path):
    # ModelData.__setstate__ evaluates the pickled formula: never covered by a profile, and said why
    data = pickle_of(glob("statsmodels.base.data", "ModelData") + EMPTY_TUPLE + NEWOBJ, 4)
    rep = scan_file(tmp_path, "m.pkl", data, profiles=list(PROFILES))
    (hit,) = rep.hits
    assert hit.rule == "MODEL001" and "formula" in hit.message
