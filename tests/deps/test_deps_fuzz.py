"""Fuzz targets for the deps gate's input parsers (hypothesis).

Property: whatever bytes a dependency file holds, its parser returns Dependency records or raises
InputError naming the file (and line where there is one) — never another exception, which would
end the gate with a crash message that names no file. Each target mixes random text with
fragments of the format's own syntax so the examples reach past the first syntax check.

CI runs a bounded, derandomised number of examples per target; locally, run for minutes with
``MLSEC_FUZZ_EXAMPLES=20000 pytest tests/deps/test_deps_fuzz.py`` (random seeds). Every exception
type found becomes a regression test at the end of this file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gates.core.errors import InputError
from gates.deps import inputs
from gates.deps.records import Dependency

_N = os.environ.get("MLSEC_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(_N) if _N else 40, deadline=None, derandomize=not _N, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# syntax fragments of every format (requirements, TOML, INI, YAML, JSON, URLs, markers)
FRAGMENTS = [
    "requests", "==", "===", ">=", "~=", "2.19.0", "1.0", "*", "^2", "[", "]", "[[", "]]", "{", "}", "(", ")", ",", ";", ":",
    "=", " = ", "\"", "'", "@", "://", "http://", "http://[", "https://h/x-1.0-py3-none-any.whl", "git+https://h/r#egg=r",
    "file:", "-r ", "-c ", "-e ", "--hash=sha256:ab", "--index-url ", "#", " \\\n", "\n", "\n  ", "\n    - ", "- ", "pip:",
    "python_version >= '3.8'", "extra == 'x'", ".", "..", "/", "~", "\x00", "\x1b[31m", "\t", "\r", "é", "\u202e", "0" * 30,
    "[project]", "dependencies = ", "dynamic = [\"dependencies\"]", "[tool.setuptools.dynamic]", "[tool.poetry.dependencies]",
    "[tool.poetry.group.dev.dependencies]", "version = ", "path = ", "git = ", "develop = true", "optional-dependencies",
    "[dependency-groups]", "[[package]]", "name = ", "[metadata]", "content-hash", "[[packages]]", "lock-version",
    "source = { editable = \".\" }", "[packages]", "[dev-packages]", "[options]", "install_requires =", "[options.extras_require]",
    "dependencies:", "channels:", "{\"_meta\": {}, \"default\": {", "\"version\": \"==1.0\"", "\"hashes\": [", "true", "null", "1e999",
]
TEXT = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map("".join)


def _check(fmt: str, name: str, text: str, tmp: Path) -> None:
    d = tmp / "case"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(text, encoding="utf-8", errors="surrogatepass") if _encodable(text) else p.write_bytes(text.encode("utf-8", "replace"))
    src = inputs.source_for(p, fmt)
    src.root = d
    try:
        out = src.collect()
    except InputError as exc:
        assert str(p) in exc.path or exc.path.startswith(str(d)), exc.path
        return
    assert all(isinstance(x, Dependency) for x in out)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


TARGETS = [("requirements", "requirements.txt"), ("pyproject", "pyproject.toml"), ("poetry.lock", "poetry.lock"),
           ("uv.lock", "uv.lock"), ("pylock", "pylock.toml"), ("pipfile", "Pipfile"), ("pipfile.lock", "Pipfile.lock"),
           ("setup.cfg", "setup.cfg"), ("conda", "environment.yml")]


@pytest.mark.parametrize("fmt,name", TARGETS)
def test_fuzz_parser_raises_only_input_error(fmt, name):
    with tempfile.TemporaryDirectory() as tmp:

        @FUZZ
        @given(text=TEXT)
        def run(text: str) -> None:
            _check(fmt, name, text, Path(tmp))

        run()


# ---- structured documents: valid TOML/JSON/YAML/INI whose keys are the formats' own, so the
# examples reach the parsers' handling of each field, not only the syntax check
KEYS = ["project", "dependencies", "optional-dependencies", "dynamic", "dependency-groups", "tool", "poetry", "group", "dev",
        "dev-dependencies", "setuptools", "file", "version", "path", "git", "url", "develop", "editable", "markers", "python",
        "package", "packages", "name", "source", "virtual", "wheels", "sdist", "hash", "hashes", "files", "vcs", "directory",
        "archive", "default", "develop", "_meta", "pip", "requests", "x"]
LEAF = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8), st.integers(-2, 2), st.booleans())
VALUE = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
                     max_leaves=20)
DOC = st.dictionaries(st.sampled_from(KEYS), VALUE, max_size=5)
NAME = st.one_of(st.sampled_from(["requests", "flask", "python", "x_y", "a.b", "-bad", ""]), st.text(max_size=6))
SPEC = st.one_of(st.sampled_from(["2.19.0", "==2.19.0", "^2", "*", ">=1,<2", "===1.0", "1.0.*", "==", "~=1"]), VALUE)
ENTRY = st.one_of(SPEC, st.dictionaries(st.sampled_from(KEYS), SPEC, max_size=4), st.lists(st.dictionaries(st.sampled_from(KEYS), SPEC, max_size=3), max_size=2))
TABLE = st.dictionaries(NAME, ENTRY, max_size=5)
LOCKED = st.fixed_dictionaries({"name": NAME}, optional={k: ENTRY for k in KEYS if k != "name"})
REQS = st.lists(st.one_of(TEXT, st.sampled_from(["requests==2.19.0", "x @ http://[", "-r ../x", "-e .", "flask>=2"])), max_size=5)


def _doc(**fields):
    return st.fixed_dictionaries({}, optional=fields)


#: per format, documents shaped like the real thing with random values in every field
SHAPED = {
    "pyproject": _doc(project=_doc(dependencies=st.one_of(REQS, VALUE), dynamic=st.one_of(st.just(["dependencies"]), VALUE),
                                   **{"optional-dependencies": st.dictionaries(NAME, st.one_of(REQS, VALUE), max_size=3)}),
                      tool=_doc(poetry=_doc(dependencies=TABLE, group=st.dictionaries(NAME, _doc(dependencies=TABLE), max_size=2),
                                            **{"dev-dependencies": TABLE}),
                                setuptools=_doc(dynamic=_doc(dependencies=st.one_of(_doc(file=st.one_of(VALUE, REQS)), VALUE)))),
                      **{"dependency-groups": st.dictionaries(NAME, st.one_of(REQS, VALUE), max_size=3)}),
    "poetry.lock": _doc(package=st.lists(LOCKED, max_size=4), metadata=VALUE),
    "uv.lock": _doc(package=st.lists(LOCKED, max_size=4)),
    "pylock": _doc(packages=st.lists(LOCKED, max_size=4)),
    "pipfile": _doc(packages=TABLE, **{"dev-packages": TABLE, "source": VALUE}),
    "pipfile.lock": _doc(_meta=VALUE, default=st.dictionaries(NAME, st.dictionaries(st.sampled_from(KEYS), SPEC, max_size=4), max_size=4),
                         develop=TABLE),
    "conda": _doc(dependencies=st.lists(st.one_of(NAME, _doc(pip=st.one_of(REQS, VALUE)), VALUE), max_size=5)),
    "setup.cfg": _doc(project=_doc(install_requires=st.one_of(REQS, st.just("file: ../x"))), dev=st.dictionaries(NAME, REQS, max_size=2)),
}


def _toml_value(v) -> str:
    import json

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


def _toml(doc: dict) -> str:
    head = [f"{k!r} = {_toml_value(v)}".replace("'", '"', 2) for k, v in doc.items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "\n".join(f"{k2!r} = {_toml_value(v2)}".replace("'", '"', 2) for k2, v2 in v.items())
              for k, v in doc.items() if isinstance(v, dict)]
    return "\n".join(head) + "\n" + "\n\n".join(tables) + "\n"


def _ini(doc: dict) -> str:
    out = []
    for k, v in doc.items():
        out.append(f"[{'options' if k == 'project' else 'options.extras_require' if k == 'dev' else k}]")
        for k2, v2 in (v.items() if isinstance(v, dict) else [("install_requires", v)]):
            lines = v2 if isinstance(v2, list) else [v2]
            out.append(f"{k2} =\n" + "\n".join(f"    {x}" for x in lines if not isinstance(x, (dict, list))))
    return "\n".join(out) + "\n"


def _dump(fmt: str, doc: dict) -> str:
    import json

    import yaml

    if fmt == "pipfile.lock":
        return json.dumps(doc)
    if fmt == "conda":
        return yaml.safe_dump(doc, allow_unicode=True)
    if fmt == "setup.cfg":
        return _ini(doc)
    return _toml(doc)


@pytest.mark.parametrize("fmt,name", [t for t in TARGETS if t[0] != "requirements"])
def test_fuzz_structured_documents(fmt, name):
    with tempfile.TemporaryDirectory() as tmp:

        @FUZZ
        @given(doc=st.one_of(SHAPED[fmt], DOC))
        def run(doc: dict) -> None:
            _check(fmt, name, _dump(fmt, doc), Path(tmp))

        run()


@FUZZ
@given(text=TEXT)
def test_fuzz_sniff_always_names_a_known_format(text):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "deps.unknown"
        p.write_bytes(text.encode("utf-8", "replace"))
        assert inputs.detect_format(p) in inputs.FORMATS


# ---- regressions: every exception type the targets above (or reading for them) found --------
REGRESSIONS = [
    # ValueError from urllib.parse ("Invalid IPv6 URL"), found by the requirements target
    ("requirements", "requirements.txt", "six==1.16.0\nhttp://[oops/pkg.whl\n", ":2"),
    # AttributeError: pylock `directory` written as a string, found by the structured target
    ("pylock", "pylock.toml", '[[packages]]\nname = "flask"\ndirectory = "2.19.0"\n', ":2"),
    # TypeError / AttributeError: pylock `wheels` not an array, `hashes` not a table
    ("pylock", "pylock.toml", '[[packages]]\nname = "flask"\nversion = "2.0"\nwheels = 3\n', ":2"),
    # TypeError: uv.lock `source` / `wheels` of the wrong type
    ("uv.lock", "uv.lock", '[[package]]\nname = "flask"\nversion = "2.0"\nsource = 3\n', ":2"),
    ("uv.lock", "uv.lock", '[[package]]\nname = "flask"\nversion = "2.0"\nwheels = {}\n', ":2"),
    # AttributeError: poetry.lock `source` written as a string
    ("poetry.lock", "poetry.lock", '[[package]]\nname = "requests"\nversion = "2.19.0"\nsource = "=="\n', ":2"),
    # AttributeError / TypeError in pyproject tables of the wrong type (found while writing the targets)
    ("pyproject", "pyproject.toml", '[project]\noptional-dependencies = 3\n', ""),
    ("pyproject", "pyproject.toml", '[dependency-groups]\ndev = 3\n', ""),
]


@pytest.mark.parametrize("fmt,name,text,where", REGRESSIONS)
def test_fuzz_regressions_are_input_errors_naming_the_file(tmp_path, fmt, name, text, where):
    p = tmp_path / name
    p.write_text(text)
    src = inputs.source_for(p, fmt)
    src.root = tmp_path
    with pytest.raises(InputError) as exc:
        src.collect()
    assert exc.value.path == f"{p}{where}"
