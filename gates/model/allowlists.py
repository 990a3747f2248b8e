"""Allowlist profiles and the severity denylist for pickle globals.

Allowlist first: a global the active profiles do not name blocks, whatever it is. The denylist
below never lets anything pass; it only says *how bad* a blocked global is (``os.system`` →
critical, "runs a shell command") so the report explains itself.

Names are compared as the full dotted path ``module.qualname``, as PyTorch's weights-only loader
does. Profile entries may use globs: ``*`` is one identifier segment, ``**`` any number of
segments, ``[A-Z]`` a character class. A glob never matches a dunder segment (``__globals__``,
``__builtins__``...), so a pattern cannot be stretched into an attribute-walk.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable

_TORCH_DTYPES = (
    "float32 float float64 double float16 half bfloat16 complex32 chalf complex64 cfloat complex128 cdouble "
    "uint8 int8 int16 short int32 int int64 long bool qint8 quint8 qint32 quint4x2 quint2x4 "
    "uint16 uint32 uint64 float8_e4m3fn float8_e5m2 float8_e4m3fnuz float8_e5m2fnuz float8_e8m0fnu "
    "float4_e2m1fn_x2 bits1x8 bits2x4 bits4x2 bits8 bits16 "
    "uint1 uint2 uint3 uint4 uint5 uint6 uint7 int1 int2 int3 int4 int5 int6 int7"
).split()
_TORCH_KINDS = "Float Double Half BFloat16 Byte Char Short Int Long Bool ComplexFloat ComplexDouble QInt8 QUInt8 QInt32 QUInt4x2 QUInt2x4".split()

TORCH = frozenset(
    [
        "collections.OrderedDict", "collections.Counter", "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout", "torch.Size", "torch.Tensor", "torch.device",
        "_codecs.encode", "builtins.bytearray", "builtins.set", "builtins.complex",
        "torch._tensor._rebuild_from_type_v2", "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
        "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
        "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams",
    ]
    + [f"torch._utils.{f}" for f in (
        "_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor", "_rebuild_tensor",
        "_rebuild_tensor_v2", "_rebuild_tensor_v3", "_rebuild_sparse_tensor", "_rebuild_meta_tensor_no_storage",
        "_rebuild_wrapper_subclass", "_rebuild_device_tensor_from_numpy", "_rebuild_device_tensor_from_cpu_tensor",
        "_rebuild_nested_tensor",
    )]
    + [f"torch.{d}" for d in _TORCH_DTYPES]
    + [f"torch.{k}Storage" for k in _TORCH_KINDS]
    + [f"torch.cuda.{k}Storage" for k in _TORCH_KINDS]
    + [f"torch.{k}Tensor" for k in _TORCH_KINDS]
    + [f"torch.cuda.{k}Tensor" for k in _TORCH_KINDS]
)

NUMPY = frozenset(
    [
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
        "numpy.ndarray", "numpy.dtype", "numpy.ma.core._mareconstruct", "numpy.ma.core.MaskedArray",
        "numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor", "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator", "numpy.random.__RandomState_ctor",
        "numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64", "numpy.random._pcg64.PCG64DXSM",
        "numpy.random._philox.Philox", "numpy.random._sfc64.SFC64", "numpy.random.bit_generator.SeedSequence",
        "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.dtypes.*DType", "_codecs.encode", "builtins.slice", "joblib.numpy_pickle.NumpyArrayWrapper",
    ]
    + [f"numpy.{t}" for t in (
        "bool_ bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 intc uintc intp uintp longlong ulonglong "
        "float16 float32 float64 longdouble half single double complex64 complex128 clongdouble "
        "str_ bytes_ void object_ datetime64 timedelta64 generic number integer floating"
    ).split()]
)
# functions that read or write files, or call what they are given, even if a glob would match them
NUMPY_EXCLUDE = frozenset({"numpy.load", "numpy.loadtxt", "numpy.genfromtxt", "numpy.fromfile", "numpy.memmap", "numpy.save", "numpy.savez", "numpy.savetxt", "numpy.tofile", "numpy.frompyfunc", "numpy.vectorize", "numpy.piecewise", "numpy.apply_along_axis", "numpy.apply_over_axes", "numpy.fromregex", "numpy.DataSource", "numpy.info", "numpy.source", "numpy.lookfor", "numpy.test", "numpy.show_config", "numpy.get_include", "numpy.setbufsize", "numpy.seterrcall", "numpy.ctypeslib"})

_SKLEARN_PACKAGES = (
    "linear_model ensemble tree svm neighbors preprocessing pipeline compose decomposition cluster "
    "naive_bayes neural_network feature_extraction feature_selection impute discriminant_analysis "
    "kernel_ridge gaussian_process isotonic calibration multiclass multioutput cross_decomposition "
    "manifold mixture random_projection semi_supervised dummy covariance kernel_approximation "
    "model_selection _loss metrics utils"
).split()
SKLEARN = frozenset(
    [f"sklearn.{p}.[A-Z]*" for p in _SKLEARN_PACKAGES]
    + [f"sklearn.{p}.**.[A-Z]*" for p in _SKLEARN_PACKAGES]
    + ["sklearn.tree._tree.Tree", "sklearn._loss.link.Interval", "sklearn.utils._bunch.Bunch",
       "joblib.numpy_pickle.NumpyArrayWrapper", "builtins.slice", "copyreg._reconstructor", "builtins.object"]
)

TRANSFORMERS = frozenset(
    [
        "transformers.training_args.TrainingArguments", "transformers.training_args_seq2seq.Seq2SeqTrainingArguments",
        "transformers.training_args.OptimizerNames", "transformers.training_args.ParallelMode",
        "transformers.trainer_utils.IntervalStrategy", "transformers.trainer_utils.SchedulerType",
        "transformers.trainer_utils.HubStrategy", "transformers.trainer_utils.SaveStrategy",
        "transformers.trainer_utils.EvaluationStrategy", "transformers.trainer_utils.FSDPOption",
        "transformers.debug_utils.DebugOption", "transformers.trainer_pt_utils.AcceleratorConfig",
        "transformers.trainer_callback.TrainerState", "transformers.trainer_callback.TrainerControl",
        "transformers.generation.configuration_utils.GenerationConfig",
        "accelerate.utils.dataclasses.DistributedType", "accelerate.state.PartialState",
        "transformers.tokenization_utils_base.BatchEncoding", "enum.Enum",
        "torch.device", "builtins.set", "collections.OrderedDict",
    ]
)

# XGBoost's scikit-learn wrappers and Booster (``Booster.__getstate__`` hands the native model over
# as a ``bytearray``, parsed by XGBoost's own C++ reader). Reviewed against xgboost 3.2 pickles
# (tests/model/fixtures/profiles); ``XGBoostLabelEncoder`` is what xgboost 1.x kept in ``_le``.
XGBOOST = frozenset(
    [f"xgboost.sklearn.{c}" for c in ("XGBModel", "XGBClassifier", "XGBRegressor", "XGBRanker", "XGBRFClassifier", "XGBRFRegressor")]
    + ["xgboost.core.Booster", "xgboost.compat.XGBoostLabelEncoder", "sklearn.preprocessing._label.LabelEncoder",
       "builtins.bytearray"]
)

# LightGBM's wrappers and Booster (``Booster.__setstate__`` parses the model text with LightGBM's
# own reader); ``defaultdict``/``OrderedDict`` hold its best_score, ``LabelEncoder`` the classes.
# Reviewed against lightgbm 4.7 pickles.
LIGHTGBM = frozenset(
    [f"lightgbm.sklearn.{c}" for c in ("LGBMModel", "LGBMClassifier", "LGBMRegressor", "LGBMRanker")]
    + ["lightgbm.basic.Booster", "collections.defaultdict", "collections.OrderedDict",
       "sklearn.preprocessing._label.LabelEncoder"]
)

# What (PyTorch) Lightning and Hydra-style training scripts put in a checkpoint's hyper-parameters:
# ``argparse.Namespace``, Lightning's ``AttributeDict`` (both package layouts), OmegaConf configs
# (their nodes and metadata; interpolations are resolved on access, never on load) and the plain
# container types OmegaConf pickles as type references. Reviewed against pytorch-lightning 2.6 and
# omegaconf 2.3 checkpoints.
LIGHTNING = frozenset(
    ["argparse.Namespace", "typing.Any", "collections.defaultdict", "collections.OrderedDict"]
    + [f"builtins.{t}" for t in ("dict", "list", "tuple", "int", "float", "str", "bool")]
    + [f"{m}.AttributeDict" for m in ("pytorch_lightning.utilities.parsing", "lightning.pytorch.utilities.parsing",
                                      "lightning_fabric.utilities.data", "lightning.fabric.utilities.data")]
    + ["omegaconf.dictconfig.DictConfig", "omegaconf.listconfig.ListConfig", "omegaconf.base.ContainerMetadata",
       "omegaconf.base.Metadata"]
    + [f"omegaconf.nodes.{n}" for n in ("AnyNode", "StringNode", "IntegerNode", "FloatNode", "BooleanNode", "BytesNode")]
)

PROFILES: dict[str, frozenset[str]] = {
    "torch": TORCH, "numpy": NUMPY, "sklearn": SKLEARN, "transformers": TRANSFORMERS,
    "xgboost": XGBOOST, "lightgbm": LIGHTGBM, "lightning": LIGHTNING,
}
# what a profile's own pickles always contain besides its classes: enabling ``--profile xgboost``
# alone must pass an XGBClassifier (its arrays are NumPy's)
REQUIRES: dict[str, tuple[str, ...]] = {
    "xgboost": ("numpy",), "lightgbm": ("numpy",), "sklearn": ("numpy",), "lightning": ("torch", "numpy"),
}


def expand_profiles(profiles: Iterable[str]) -> tuple[str, ...]:
    """``profiles`` plus the ones they require, in a stable order."""
    out: list[str] = []
    for p in profiles:
        for q in (p, *REQUIRES.get(p, ())):
            if q not in out:
                out.append(q)
    return tuple(out)


_SEGMENT = r"[A-Za-z0-9_]+"
_MODULE_TAIL = rf"(?:{_SEGMENT}(?:\.{_SEGMENT})*)"  # one or more dotted segments

# Class names a glob never covers, whatever module they are reached through: these are
# stdlib/native classes that library modules import at top level (``from subprocess import
# Popen``), so ``somepkg.utils.Popen`` resolves to them. Exact entries may still name them.
GLOB_NEVER = frozenset(
    "Popen CompletedProcess CDLL PyDLL WinDLL OleDLL LibraryLoader Path PosixPath WindowsPath PurePath "
    "PurePosixPath PureWindowsPath TemporaryDirectory NamedTemporaryFile SpooledTemporaryFile TemporaryFile "
    "Thread Timer Process Pool ThreadPoolExecutor ProcessPoolExecutor Pickler Unpickler ZipFile TarFile "
    "FileIO BufferedReader BufferedWriter BufferedRandom TextIOWrapper FileHandler Request Session "
    "Template Formatter ModuleType FunctionType CodeType MethodType LambdaType BuiltinFunctionType "
    "Loader SourceFileLoader SourcelessFileLoader ExtensionFileLoader ModuleSpec Popen3 Shelf DbfilenameShelf "
    "InteractiveInterpreter InteractiveConsole Pdb Bdb Thread Event Lock RLock Condition Semaphore Queue "
    "Connection Listener Client SharedMemory ShareableList Manager BaseManager SyncManager "
    # foreign classes scikit-learn 1.9's modules re-export under [A-Z]* names (reviewed by walking them)
    "CalledProcessError TimeoutExpired ThreadpoolController SkipTest LinearOperator".split()
)


def split_entry(entry: str) -> tuple[str, str]:
    """An allowlist entry as ``(module, qualname)``.

    ``pkg.mod:Outer.Inner`` says where the module ends; without a colon the last segment is the
    qualname (``torch._utils._rebuild_tensor_v2`` -> ``torch._utils`` + ``_rebuild_tensor_v2``).
    A trailing ``**`` (``mypkg.**``) means every class of every module under ``mypkg``.
    """
    if ":" in entry:
        module, _, name = entry.partition(":")
        return module, name
    if entry.endswith(".**"):
        return entry, "*"
    module, _, name = entry.rpartition(".")
    return module, name


def _glob_regex(pattern: str, *, module: bool) -> re.Pattern[str]:
    """``*`` is one identifier segment, ``.**`` (module part only) any number of dotted segments,
    ``[..]`` a character class. In a qualname pattern nothing matches a dot."""
    out, i = [], 0
    while i < len(pattern):
        if module and pattern.startswith(".**", i):
            out.append(rf"(?:\.{_SEGMENT})*")  # ``pkg.**``: pkg itself or any module below it
            i += 3
        elif pattern.startswith("**", i):
            out.append(_MODULE_TAIL if module else r"[A-Za-z0-9_]*")
            i += 2
        elif pattern[i] == "*":
            out.append(r"[A-Za-z0-9_]*")
            i += 1
        elif pattern[i] == "[":
            j = pattern.find("]", i)
            if j < 0:
                out.append(re.escape(pattern[i:]))
                break
            out.append(pattern[i : j + 1])
            i = j + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def _is_dunder(segment: str) -> bool:
    return segment.startswith("__") and segment.endswith("__") and len(segment) > 4


@dataclass(frozen=True)
class Allowlist:
    """Exact ``(module, qualname)`` pairs plus glob patterns over each part; ``exclude`` wins.

    The module and the qualname a pickle names are matched *separately*: a module glob ranges
    over module names, a qualname glob over one class segment. A dotted qualname
    (``validation`` + ``np.ctypeslib.ctypes.CDLL``) walks attributes of a module and is only
    allowed when an exact entry names that very pair.
    """

    exact: frozenset[tuple[str, str]]
    patterns: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]
    exclude: frozenset[str]
    profiles: tuple[str, ...] = ()

    def allows(self, module: str, name: str) -> bool:
        dotted = f"{module}.{name}"
        if any(dotted == e or dotted.startswith(e + ".") for e in self.exclude):
            return False
        if (module, name) in self.exact:
            return True
        if "." in name or not name:
            return False  # an attribute walk: never covered by a glob
        if any(_is_dunder(seg) for seg in module.split(".")) or _is_dunder(name) or name in GLOB_NEVER:
            return False  # globs never reach dunders or re-exported stdlib classes
        return any(m.match(module) and n.match(name) for m, n in self.patterns)


def _compile(entries: Iterable[str]) -> tuple[frozenset[tuple[str, str]], tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]]:
    exact: set[tuple[str, str]] = set()
    patterns: list[tuple[re.Pattern[str], re.Pattern[str]]] = []
    for e in sorted(set(entries)):
        module, name = split_entry(e)
        if set(e) & set("*["):
            patterns.append((_glob_regex(module, module=True), _glob_regex(name, module=False)))
        else:
            exact.add((module, name))
    return frozenset(exact), tuple(patterns)


@functools.lru_cache(maxsize=64)
def build_allowlist(profiles: tuple[str, ...], extra: tuple[str, ...] = (), deny: tuple[str, ...] = ()) -> Allowlist:
    """The allowlist of ``profiles`` plus the policy's ``allow_globals`` minus ``deny_globals``."""
    entries: set[str] = set(extra)
    for p in profiles:
        if p not in PROFILES:
            raise ValueError(f"unknown allowlist profile {p!r} (known: {', '.join(sorted(PROFILES))})")
    profiles = expand_profiles(profiles)
    for p in profiles:
        entries |= PROFILES[p]
    exclude = set(deny)
    if "numpy" in profiles:
        exclude |= NUMPY_EXCLUDE
    exact, patterns = _compile(entries)
    return Allowlist(exact, patterns, frozenset(exclude), tuple(profiles))


def profiles_covering(module: str, name: str, active: Iterable[str] = ()) -> list[str]:
    """Known profiles (other than ``active``) that would allow this global: a block message
    names them, so a reviewer sees "enable `xgboost`" rather than a bare class name."""
    skip = set(expand_profiles(active))
    return [p for p in sorted(PROFILES) if p not in skip and _own(p).allows(module, name)]


@functools.lru_cache(maxsize=None)
def _own(profile: str) -> Allowlist:
    """One profile's own entries, without the profiles it requires."""
    exact, patterns = _compile(PROFILES[profile])
    return Allowlist(exact, patterns, frozenset(), (profile,))


# ---- severity labels (never used to pass anything) -----------------------------------------------
@dataclass(frozen=True)
class Danger:
    severity: str
    reason: str


_DANGER_EXACT: dict[str, Danger] = {
    "builtins.eval": Danger("critical", "evaluates Python source"),
    "builtins.exec": Danger("critical", "executes Python source"),
    "builtins.compile": Danger("critical", "compiles Python source to code"),
    "builtins.__import__": Danger("critical", "imports an arbitrary module"),
    "builtins.getattr": Danger("critical", "reaches any attribute: the first step of a resolver chain"),
    "builtins.setattr": Danger("critical", "overwrites attributes of live objects"),
    "builtins.delattr": Danger("high", "deletes attributes of live objects"),
    "builtins.open": Danger("critical", "opens files for reading or writing"),
    "builtins.breakpoint": Danger("high", "starts a debugger"),
    "builtins.input": Danger("medium", "reads from the terminal"),
    "builtins.globals": Danger("critical", "exposes the module namespace"),
    "builtins.vars": Danger("high", "exposes an object's namespace"),
    "builtins.apply": Danger("critical", "calls an arbitrary callable"),
    "pkgutil.resolve_name": Danger("critical", "resolves any dotted name to an object (resolver chain)"),
    "pydoc.locate": Danger("critical", "resolves any dotted name to an object (resolver chain)"),
    "operator.attrgetter": Danger("critical", "builds an attribute getter (resolver chain)"),
    "operator.methodcaller": Danger("critical", "calls an arbitrary method"),
    "operator.getitem": Danger("high", "indexes live objects (resolver chain)"),
    "functools.partial": Danger("high", "binds arguments to an arbitrary callable"),
    "functools.reduce": Danger("high", "calls an arbitrary callable repeatedly"),
    "marshal.loads": Danger("critical", "turns bytes into a code object"),
    "types.FunctionType": Danger("critical", "builds a function from a code object"),
    "types.CodeType": Danger("critical", "builds a code object"),
    "types.MethodType": Danger("high", "binds a callable to an object"),
    "torch.storage._load_from_bytes": Danger("critical", "unpickles embedded bytes with torch.load"),
    "torch.load": Danger("critical", "loads (unpickles) another file"),
    "torch.serialization.load": Danger("critical", "loads (unpickles) another file"),
    "numpy.load": Danger("high", "loads (possibly unpickles) another file"),
    "numpy.testing._private.utils.runstring": Danger("critical", "executes Python source"),
    "code.InteractiveInterpreter.runsource": Danger("critical", "executes Python source"),
    "timeit.timeit": Danger("critical", "executes Python source"),
    "cProfile.run": Danger("critical", "executes Python source"),
    "profile.run": Danger("critical", "executes Python source"),
    "trace.Trace.runctx": Danger("critical", "executes Python source"),
    "sys.modules": Danger("high", "exposes every loaded module"),
    "asyncio.unix_events._UnixSubprocessTransport._start": Danger("critical", "starts a process"),
    # reviewed, not profiled: ModelData.__setstate__ re-evaluates a pickled patsy/formulaic formula
    # (Python expressions, in the unpickler's frames) when the state asks to restore the model spec
    "statsmodels.base.data.ModelData": Danger("high", "re-evaluates a stored model formula (Python expressions) when unpickled"),
}
_DANGER_MODULES: dict[str, Danger] = {
    "os": Danger("critical", "operating-system calls (os.system runs a shell command)"),
    "posix": Danger("critical", "operating-system calls (posix.system runs a shell command)"),
    "nt": Danger("critical", "operating-system calls"),
    "subprocess": Danger("critical", "runs a shell command"),
    "_posixsubprocess": Danger("critical", "starts a process"),
    "commands": Danger("critical", "runs a shell command"),
    "pty": Danger("critical", "spawns a process"),
    "popen2": Danger("critical", "runs a shell command"),
    "runpy": Danger("critical", "runs a module or file as code"),
    "code": Danger("critical", "runs Python source"),
    "codeop": Danger("critical", "compiles Python source"),
    "importlib": Danger("critical", "imports an arbitrary module (resolver chain)"),
    "imp": Danger("critical", "imports an arbitrary module"),
    "ctypes": Danger("critical", "calls native code"),
    "_ctypes": Danger("critical", "calls native code"),
    "shutil": Danger("critical", "copies, moves or deletes files"),
    "tempfile": Danger("high", "creates files"),
    "pathlib": Danger("high", "reads or writes files"),
    "io": Danger("high", "opens files"),
    "_io": Danger("high", "opens files"),
    "socket": Danger("critical", "opens network connections"),
    "ssl": Danger("high", "opens network connections"),
    "http": Danger("critical", "makes HTTP requests"),
    "urllib": Danger("critical", "makes network requests"),
    "urllib2": Danger("critical", "makes network requests"),
    "requests": Danger("critical", "makes HTTP requests"),
    "httplib": Danger("critical", "makes HTTP requests"),
    "ftplib": Danger("critical", "makes network requests"),
    "smtplib": Danger("critical", "sends mail"),
    "telnetlib": Danger("critical", "opens network connections"),
    "webbrowser": Danger("critical", "opens a browser"),
    "multiprocessing": Danger("critical", "starts processes"),
    "threading": Danger("high", "starts threads"),
    "_thread": Danger("high", "starts threads"),
    "signal": Danger("high", "changes signal handlers"),
    "sys": Danger("high", "interpreter internals"),
    "pickle": Danger("critical", "unpickles nested data"),
    "_pickle": Danger("critical", "unpickles nested data"),
    "cPickle": Danger("critical", "unpickles nested data"),
    "dill": Danger("critical", "unpickles nested data or code"),
    "cloudpickle": Danger("critical", "unpickles nested data or code"),
    "joblib": Danger("high", "loads nested files"),
    "shelve": Danger("critical", "unpickles a database"),
    "marshal": Danger("critical", "loads code objects"),
    "pip": Danger("critical", "installs packages"),
    "setuptools": Danger("critical", "runs build code"),
    "distutils": Danger("critical", "runs build code"),
    "pdb": Danger("critical", "debugger can run code"),
    "bdb": Danger("critical", "debugger can run code"),
    "asyncio": Danger("high", "event loop (can start processes)"),
    "venv": Danger("high", "creates environments"),
    "zipimport": Danger("critical", "imports code from archives"),
    "builtins": Danger("high", "a built-in outside the allowlist"),
    "__builtin__": Danger("high", "a built-in outside the allowlist"),
    "torch.jit": Danger("critical", "compiles and runs TorchScript"),
    "torch._dynamo": Danger("high", "compiles code"),
    "torch.hub": Danger("critical", "downloads and runs code"),
    "numpy.f2py": Danger("critical", "compiles and runs code"),
    "numpy.distutils": Danger("critical", "runs build code"),
    "keras": Danger("high", "model code outside the allowlist"),
    "tensorflow": Danger("high", "TensorFlow internals (file I/O ops)"),
}
UNKNOWN = Danger("high", "not in the allowlist; loading it imports and may call arbitrary code")


_WALK = Danger("critical", "walks module attributes to reach another module's code (e.g. `np.ctypeslib.ctypes.CDLL`)")


def danger_of(dotted: str, name: str | None = None) -> Danger:
    """Severity label for a global outside the allowlist: ``danger_of("os.system")`` or, with
    the pickle's own split, ``danger_of("sklearn.utils.validation", "np.ctypeslib.ctypes.CDLL")``
    (then every module reached through the qualname's attribute walk is looked at too)."""
    if name is not None:
        d = danger_of(f"{dotted}.{name}")
        if d is not UNKNOWN or "." not in name:
            return d
        walk = name.split(".")
        for i in range(len(walk) - 1):  # a dangerous module reached through attributes
            d = danger_of(".".join(walk[i:]))
            if d is not UNKNOWN:
                return d
        return _WALK
    if dotted in _DANGER_EXACT:
        return _DANGER_EXACT[dotted]
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        mod = ".".join(parts[:i])
        if mod in _DANGER_MODULES:
            return _DANGER_MODULES[mod]
    if any(p.startswith("__") and p.endswith("__") for p in parts[1:]):
        return Danger("critical", "walks dunder attributes (e.g. __globals__, __builtins__) to reach other code")
    return UNKNOWN


def is_known_dangerous(dotted: str) -> bool:
    return danger_of(dotted) is not UNKNOWN


def profiles_names() -> Iterable[str]:
    return sorted(PROFILES)
