"""Every dependency manifest the deps gate recognises is read and audited (issue 13, item 2):
Poetry, PEP 621 dynamic dependencies, constraints/dev/.in requirements files, Pipfile(.lock),
setup.cfg and conda environment.yml. A vulnerable pin (requests 2.19.0, PYSEC-2018-28 in the
shared PyPA database) must block in each; a manifest that cannot be parsed is an error naming
the file and line."""

from __future__ import annotations

import json

import pytest

from test_deps_gate import run_json, vulns

REQUESTS_ADVISORY = "PYSEC-2018-28"


def audit(cli, tmp_path, osv_db, *args):
    return run_json(cli, tmp_path, *args, "--source", "local", "--database", osv_db)


def blocked(rep, package="requests"):
    return {(f["package"], f["line"], f["source_format"]) for f in vulns(rep) if f["advisory"] == REQUESTS_ADVISORY and f["package"] == package}


def errors(rep):
    return [(e["path"], e["message"]) for e in rep["gates"]["deps"]["errors"]]


POETRY = """[tool.poetry]
name = "demo"

[tool.poetry.dependencies]
python = "^3.9"
requests = "2.19.0"
flask = "^2.0"

[tool.poetry.group.dev.dependencies]
urllib3 = { version = "==1.24.1", optional = true }
mylib = { path = "../mylib", develop = true }
"""


def test_poetry_pyproject_without_lock_is_audited(cli, tmp_path, osv_db):
    (tmp_path / "pyproject.toml").write_text(POETRY)
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1, rep["gates"]["deps"]
    assert blocked(rep) == {("requests", 6, "pyproject")}
    assert any(f["package"] == "urllib3" and f["line"] == 10 for f in vulns(rep))
    unpinned = {(f["package"], f["kind"]) for f in rep["findings"] if f["rule"] == "DEPS002"}
    assert unpinned == {("flask", "unpinned"), ("mylib", "editable")}  # python is the interpreter, not a package


def test_poetry_with_lock_audits_the_lock(cli, tmp_path, osv_db):
    (tmp_path / "pyproject.toml").write_text(POETRY)
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "requests"\nversion = "2.19.0"\n\n[metadata]\ncontent-hash = "x"\n')
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 2, "poetry.lock")}
    assert any("pyproject.toml not audited" in n for n in rep["gates"]["deps"]["notes"])


def test_pep621_dynamic_dependencies_from_setuptools_files(cli, tmp_path, osv_db):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\ndynamic = ["dependencies", "optional-dependencies"]\n\n'
        '[tool.setuptools.dynamic]\ndependencies = { file = ["deps/base.pins"] }\n'
        'optional-dependencies.dev = { file = "deps/dev.pins" }\n')
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "base.pins").write_text("# runtime\nrequests==2.19.0\n")
    (tmp_path / "deps" / "dev.pins").write_text("urllib3==1.24.1\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1, rep["gates"]["deps"]
    assert blocked(rep) == {("requests", 2, "requirements")}
    assert any(f["package"] == "urllib3" for f in vulns(rep))
    scanned = {f["path"].rsplit("/", 1)[-1] for f in rep["gates"]["deps"]["files"]}
    assert {"pyproject.toml", "base.pins", "dev.pins"} <= scanned


def test_pep621_dynamic_without_a_readable_source_is_an_error_naming_the_field(cli, tmp_path, osv_db):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\ndynamic = ["version", "dependencies"]\n')
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 2
    [(path, msg)] = errors(rep)
    assert path.endswith("pyproject.toml:3") and "project.dynamic" in msg and "tool.setuptools.dynamic.dependencies" in msg


@pytest.mark.parametrize("name", ["constraints.txt", "constraints-py311.txt", "dev-requirements.txt", "requirements.in",
                                  "requirements-dev.txt", "requirements/prod.txt", "ci/test-requirements.in"])
def test_every_requirements_convention_is_audited(cli, tmp_path, osv_db, name):
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("six==1.16.0\nrequests==2.19.0\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 2, "requirements")}


def test_requirements_in_beside_its_compiled_txt_is_left_to_the_txt(cli, tmp_path, osv_db):
    (tmp_path / "requirements.in").write_text("requests\n")
    (tmp_path / "requirements.txt").write_text("requests==2.19.0\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 1, "requirements")}
    assert not [f for f in rep["findings"] if f["rule"] == "DEPS002"]
    assert any("requirements.in not audited" in n for n in rep["gates"]["deps"]["notes"])


def test_pipfile_is_audited(cli, tmp_path, osv_db):
    (tmp_path / "Pipfile").write_text('[[source]]\nurl = "https://pypi.org/simple"\nname = "pypi"\n\n'
                                      '[packages]\nrequests = "==2.19.0"\nflask = "*"\n\n[dev-packages]\nurllib3 = {version = "==1.24.1"}\n')
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 6, "pipfile")}
    assert any(f["package"] == "urllib3" and f["line"] == 10 for f in vulns(rep))
    assert [f["package"] for f in rep["findings"] if f["rule"] == "DEPS002"] == ["flask"]


def test_pipfile_lock_is_audited_and_wins_over_the_pipfile(cli, tmp_path, osv_db):
    (tmp_path / "Pipfile").write_text('[packages]\nrequests = "*"\n')
    lock = {"_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6},
            "default": {"requests": {"hashes": ["sha256:abc"], "version": "==2.19.0"}},
            "develop": {"mylib": {"editable": True, "path": "."}}}
    (tmp_path / "Pipfile.lock").write_text(json.dumps(lock, indent=4))
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 9, "pipfile.lock")}
    assert [(f["package"], f["kind"]) for f in rep["findings"] if f["rule"] == "DEPS002"] == [("mylib", "editable")]


def test_setup_cfg_install_requires_and_extras(cli, tmp_path, osv_db):
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = demo\n\n[options]\npackages = find:\ninstall_requires =\n"
                                        "    six==1.16.0\n    requests==2.19.0\n\n[options.extras_require]\ndev =\n    urllib3==1.24.1\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 8, "setup.cfg")}
    assert any(f["package"] == "urllib3" and f["line"] == 12 for f in vulns(rep))


def test_setup_cfg_file_directive(cli, tmp_path, osv_db):
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires = file: deps.pins\n")
    (tmp_path / "deps.pins").write_text("requests==2.19.0\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 1, "requirements")}


def test_conda_environment_pip_section_audited_conda_packages_noted(cli, tmp_path, osv_db):
    (tmp_path / "environment.yml").write_text("name: demo\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - numpy=1.26\n"
                                              "  - pip\n  - pip:\n      - six==1.16.0\n      - requests==2.19.0  # pinned\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 9, "conda")}
    notes = " ".join(rep["gates"]["deps"]["notes"])
    assert "3 conda package(s) not audited" in notes and "2 pinned dependencies audited" in notes


def test_unparseable_url_line_is_an_error_naming_file_and_line(cli, tmp_path, osv_db):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\nhttp://[oops/pkg.whl\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 2 and "Traceback" not in r.err
    [(path, msg)] = errors(rep)
    assert path.endswith("requirements.txt:2") and "URL" in msg


@pytest.mark.parametrize("name,text,line", [
    ("Pipfile", '[packages]\nrequests = "=<>2"\n', 2),
    ("Pipfile.lock", '{"default": {"requests": {"version": "==2.19.0"}\n', 2),
    ("setup.cfg", "[options]\ninstall_requires =\n    requests==2.19.0\n  bad line without section\n[x\n", 5),
    ("environment.yml", "dependencies:\n  - pip:\n    - requests==2.19.0\n  - [unclosed\n", 5),
    ("pyproject.toml", '[tool.poetry.dependencies]\nrequests = 3\n', 2),
])
def test_recognised_but_unparseable_manifest_names_file_and_line(cli, tmp_path, osv_db, name, text, line):
    (tmp_path / name).write_text(text)
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 2, rep["gates"]["deps"]
    [(path, msg)] = errors(rep)
    assert path.endswith(f"{name}:{line}"), (path, msg)


def test_explicit_path_is_read_by_content(cli, tmp_path, osv_db):
    p = tmp_path / "frozen.lock"
    p.write_text('[[package]]\nname = "requests"\nversion = "2.19.0"\n\n[metadata]\ncontent-hash = "x"\n')
    r, rep = audit(cli, tmp_path, osv_db, p)
    assert r.code == 1 and blocked(rep) == {("requests", 2, "poetry.lock")}


def test_input_strings_are_cleaned_before_the_report(cli, tmp_path, osv_db):
    token = "ghp_" + "Z9y8X7w6V5" * 4
    (tmp_path / "requirements.txt").write_text(f"pkg @ https://files.example/pkg-1.0.whl?token={token}\nhttps://h/\x1bx-1.0.tar.gz\n")
    (tmp_path / "Pipfile").write_text(f'["\\u001b[31m {token}"]\nrequests = 3\n')  # a TOML escape: the key holds ESC
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 2
    everything = json.dumps(rep) + r.out + r.err
    assert token not in everything and "\x1b" not in everything and "\\u001b" not in everything
    assert {f["package"] for f in rep["findings"] if f["rule"] == "DEPS002"} >= {"pkg"}


def test_pep621_dynamic_dependencies_from_hatch_requirements_txt(cli, tmp_path, osv_db):
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", "hatch-requirements-txt"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "demo"\nversion = "1"\ndynamic = ["dependencies"]\n\n'
        '[tool.hatch.metadata.hooks.requirements_txt]\nfiles = ["deps/runtime.pins"]\n')
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "runtime.pins").write_text("six==1.16.0\nrequests==2.19.0\n")
    r, rep = audit(cli, tmp_path, osv_db)
    assert r.code == 1 and blocked(rep) == {("requests", 2, "requirements")}
