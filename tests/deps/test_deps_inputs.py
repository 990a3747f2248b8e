"""Dependency inputs: every declaration with its file and line, nothing installed or resolved."""

from __future__ import annotations

import json

import pytest

from gates.core.errors import InputError
from gates.deps import inputs


def test_requirements_includes_constraints_hashes_markers_and_lines(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.txt").write_text("# base\nidna==3.4 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\n-r ../requirements.txt\n")
    (tmp_path / "constraints.txt").write_text("certifi==2024.2.2\n")
    (tmp_path / "requirements.txt").write_text(
        "-i https://user:s3cret@pypi.internal/simple\n"
        "-r sub/base.txt\n"
        "-c constraints.txt\n"
        "\n"
        "requests[socks]==2.19.0 ; python_version >= \"3.8\"  # comment\n"
        "certifi\n"
        "flask>=2,<3\n"
        "-e ./local-pkg\n"
        "-e git+https://user:tok@github.com/org/repo.git#egg=repo\n"
        "pkg @ https://example.org/pkg-1.0.tar.gz\n"
        "https://example.org/other-2.0-py3-none-any.whl\n"
        "numpy===1.26.4\n"
    )
    src = inputs.RequirementsFile(tmp_path / "requirements.txt")
    deps = src.collect()
    by = {d.name: d for d in deps}
    assert by["idna"].version == "3.4" and by["idna"].hashes == ("sha256:aaa", "sha256:bbb") and by["idna"].line == 2
    assert by["idna"].path.name == "base.txt"
    assert by["requests"].version == "2.19.0" and by["requests"].line == 5 and "python_version" in by["requests"].marker
    assert by["certifi"].kind == "pinned" and by["certifi"].version == "2024.2.2"  # pinned by the constraints file
    assert by["flask"].kind == "unpinned" and by["flask"].line == 7
    assert by["local-pkg"].kind == "editable"
    assert by["repo"].kind == "editable" and "tok" not in by["repo"].text and "s3cret" not in repr(deps)
    assert by["pkg"].kind == "url" and by["numpy"].version == "1.26.4"
    assert by["other"].kind == "url" and by["other"].line == 11  # name from the wheel file name
    # the include cycle (base.txt -> requirements.txt) is read once
    assert [p.name for p in src.files()] == ["requirements.txt", "base.txt", "constraints.txt"]
    assert "certifi" not in [d.name for d in deps if d.path.name == "constraints.txt"]


def test_requirements_errors_name_file_and_line(tmp_path):
    p = tmp_path / "requirements.txt"
    p.write_text("ok==1.0\nthis is not a requirement!!\n")
    with pytest.raises(InputError) as e:
        inputs.RequirementsFile(p).collect()
    assert e.value.path.endswith("requirements.txt:2")
    p.write_text("-r missing.txt\n")
    with pytest.raises(InputError, match="not found"):
        inputs.RequirementsFile(p).collect()


def test_pyproject_dependencies_optional_and_groups(tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text('[project]\nname = "x"\ndependencies = [\n  "requests==2.19.0",\n  "rich>=13",\n]\n'
                 '[project.optional-dependencies]\ntest = ["pytest==8.0.0"]\n[dependency-groups]\ndev = ["ruff", {include-group = "test"}]\nlint = ["ruff"]\n')
    deps = inputs.PyprojectFile(p).collect()
    assert [(d.name, d.kind, d.line) for d in deps] == [("requests", "pinned", 4), ("rich", "unpinned", 5), ("pytest", "pinned", 8),
                                                        ("ruff", "unpinned", 10), ("ruff", "unpinned", 11)]
    p.write_text("[project\n")
    with pytest.raises(InputError, match="TOML"):
        inputs.PyprojectFile(p).collect()


def test_uv_lock(tmp_path):
    p = tmp_path / "uv.lock"
    p.write_text('version = 1\n\n[[package]]\nname = "me"\nversion = "0.1.0"\nsource = { editable = "." }\n\n'
                 '[[package]]\nname = "urllib3"\nversion = "1.24.1"\nsource = { registry = "https://pypi.org/simple" }\n'
                 'sdist = { url = "https://x/u.tar.gz", hash = "sha256:abc" }\n\n'
                 '[[package]]\nname = "lib"\nversion = "0.2"\nsource = { git = "https://github.com/o/lib?rev=1#abc" }\n')
    deps = inputs.UvLock(p).collect()
    assert [(d.name, d.kind, d.version, d.line) for d in deps] == [("urllib3", "pinned", "1.24.1", 9), ("lib", "vcs", None, 15)]
    assert deps[0].hashes == ("sha256:abc",)


def test_poetry_lock(tmp_path):
    p = tmp_path / "poetry.lock"
    p.write_text('[[package]]\nname = "six"\nversion = "1.16.0"\nfiles = [{file = "six.whl", hash = "sha256:1"}]\n\n'
                 '[[package]]\nname = "priv"\nversion = "1.0"\n[package.source]\ntype = "git"\nurl = "https://g/p"\n')
    deps = inputs.PoetryLock(p).collect()
    assert [(d.name, d.kind, d.line) for d in deps] == [("six", "pinned", 2), ("priv", "vcs", 7)]


def test_pylock(tmp_path):
    p = tmp_path / "pylock.toml"
    p.write_text('lock-version = "1.0"\ncreated-by = "t"\n\n[[packages]]\nname = "py"\nversion = "1.11.0"\n'
                 '[[packages.wheels]]\nname = "py.whl"\nhashes = {sha256 = "ff"}\n\n'
                 '[[packages]]\nname = "mine"\n[packages.directory]\npath = "."\neditable = true\n')
    deps = inputs.PyLock(p).collect()
    assert [(d.name, d.kind, d.version, d.line) for d in deps] == [("py", "pinned", "1.11.0", 5), ("mine", "editable", None, 12)]
    assert deps[0].hashes == ("sha256:ff",)


def test_installed_environment(tmp_path):
    sp = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for name, ver in (("six", "1.16.0"), ("py", "1.11.0")):
        di = sp / f"{name}-{ver}.dist-info"
        di.mkdir(parents=True)
        (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {ver}\n")
    deps = inputs.InstalledEnvironment(tmp_path / "venv").collect()
    assert [(d.name, d.version) for d in deps] == [("py", "1.11.0"), ("six", "1.16.0")]
    with pytest.raises(InputError):
        inputs.InstalledEnvironment(tmp_path).collect()


def test_discovery_prefers_lock_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "uv.lock").write_text("")
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "pyproject.toml").write_text("")
    srcs, skipped = inputs.discovered_sources([tmp_path / "pyproject.toml", tmp_path / "uv.lock", tmp_path / "svc" / "pyproject.toml"])
    assert [s.format for s in srcs] == ["uv.lock", "pyproject"] and skipped == [tmp_path / "pyproject.toml"]


def test_a_requirements_include_may_not_leave_the_scanned_root(cli, tmp_path):
    """`-r ../../token` would read a file outside the repository and quote its text in findings."""
    from test_deps_gate import run_json

    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "token.txt").write_text("ghp-SECRETTOKEN\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "requirements.txt").write_text("six==1.16.0\n-r ../outside/token.txt\n")
    r, rep = run_json(cli, root, "--source", "local", "--database", root / "nope.zip")
    assert r.code == 2
    errors = rep["gates"]["deps"]["errors"]
    assert any("leaves the scanned root" in e["message"] and e["path"].endswith("requirements.txt:2") for e in errors)
    assert "SECRETTOKEN" not in json.dumps(rep)
