"""A streaming pickle opcode walker that follows CPython's unpickler, without unpickling.

Why our own walker: denylist scanners built on ``pickletools.genops`` have been bypassed many
times because they do not track what the real unpickler does with the stack. This walker keeps an
abstract stack, MARK stack and memo exactly as ``Lib/pickle.py``/``Modules/_pickle.c`` do, so a
``STACK_GLOBAL`` whose module and name come from the memo, a protocol-2 alias rewritten by
``fix_imports`` (``commands.getoutput`` → ``subprocess.getoutput``), a dotted qualname, or a
callable fetched back from the memo all resolve to the global the real loader would import.

It never imports, calls or unpickles anything. Values are abstract: small constants are kept
(they can name a global or be a nested pickle); large ``BINBYTES``/``BYTEARRAY8`` payloads are
seeked past and remembered by offset; containers keep at most a few items. Anything it cannot
follow (a broken stream, an unknown opcode, ``EXT*`` codes, out-of-band buffers, a memo miss)
ends the walk with an *issue*: the caller turns it into a blocking "inconclusive" finding.
"""

from __future__ import annotations

import codecs
import struct
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import _compat_pickle  # CPython's own fix_imports tables: exactly what the unpickler applies

from .stream import OverLimit, Source, Truncated

HIGHEST_PROTOCOL = 5
BIG_PAYLOAD = 1 << 20  # bytes/str payloads larger than this are seeked past, not read
MAX_ITEMS = 256  # container items kept per container (enough for joblib/sink arguments)
MAX_LINE = 1 << 20


class Broken(Exception):
    """The real unpickler would raise here: loading stops (what ran before still ran)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- abstract values --------------------------------------------------------------------------
class _Mark:
    __slots__ = ()


@dataclass(eq=False, slots=True)
class GlobalRef:
    """One ``find_class`` the real unpickler would perform."""

    module: str
    name: str
    opcode: str
    opindex: int
    offset: int
    proto: int
    raw_module: str = ""
    raw_name: str = ""

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def aliased(self) -> bool:
        return (self.raw_module, self.raw_name) != (self.module, self.name) and bool(self.raw_module)

    def candidates(self) -> list[tuple[str, str]]:
        """Every (module, name) a loader may resolve this to. CPython maps protocol-2 names only
        when proto < 3; PyTorch's weights-only loader always maps. Both must be allowed."""
        out = [(self.module, self.name)]
        if self.aliased and self.proto >= 3:
            out.append((self.raw_module, self.raw_name))
        return out


@dataclass(eq=False, slots=True)
class Call:
    """The result of REDUCE/NEWOBJ/INST/OBJ: ``func`` applied to ``args`` (kept when small)."""

    func: Any
    args: Any
    kind: str
    state: Any = None  # what BUILD set (kept small: tuples only), e.g. a numpy dtype's elsize


@dataclass(eq=False, slots=True)
class Obj:
    """A list/dict/set/frozenset built by the stream; ``items`` is None once past MAX_ITEMS."""

    kind: str
    items: list | None = field(default_factory=list)

    def add(self, *values: Any) -> None:
        if self.items is not None:
            if len(self.items) + len(values) > MAX_ITEMS:
                self.items = None
            else:
                self.items.extend(values)


@dataclass(frozen=True, slots=True)
class BigBytes:
    """A payload seeked past: where it is, how long it is."""

    offset: int  # relative to the source start
    length: int
    abs_offset: int


@dataclass(frozen=True, slots=True)
class Opaque:
    what: str


MARK = _Mark()
PERSISTENT = Opaque("persistent")  # one shared value: a checkpoint pushes one per tensor


@dataclass
class Issue:
    code: str
    message: str
    opindex: int
    offset: int


@dataclass
class Nested:
    """A constant (or not) argument handed to a function that unpickles/loads it."""

    sink: GlobalRef
    opindex: int
    offset: int
    data: bytes | None = None
    ref: BigBytes | None = None


@dataclass
class WalkResult:
    globals: list[GlobalRef] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    nested: list[Nested] = field(default_factory=list)
    calls: int = 0
    chains: dict[int, str] = field(default_factory=dict)  # id(GlobalRef) -> first call's shape
    opcodes: int = 0
    proto: int = 0
    start: int = 0
    end: int = 0
    stopped: bool = False  # reached STOP
    persistent_ids: int = 0
    first_value: Any = None  # top of stack at STOP (for legacy torch magic detection)

    def merge(self, other: "WalkResult") -> None:
        self.globals += other.globals
        self.issues += other.issues
        self.nested += other.nested
        self.calls += other.calls
        self.opcodes += other.opcodes


# functions that unpickle (or load a model from) their argument: scanned recursively
NESTED_SINKS = {
    ("pickle", "loads"), ("pickle", "_loads"), ("_pickle", "loads"), ("pickle", "load"), ("_pickle", "load"),
    ("pickle", "_load"), ("dill", "loads"), ("dill._dill", "loads"), ("dill", "load"), ("cloudpickle", "loads"),
    ("torch.storage", "_load_from_bytes"), ("torch", "load"), ("torch.serialization", "load"),
    ("joblib", "load"), ("joblib.numpy_pickle", "load"), ("numpy", "load"), ("numpy.lib.npyio", "load"),
    ("pandas", "read_pickle"), ("jsonpickle", "decode"), ("shelve", "open"),
}
_BYTES_WRAPPERS = {("io", "BytesIO"), ("_io", "BytesIO"), ("builtins", "bytearray"), ("builtins", "bytes"), ("builtins", "memoryview")}
_JOBLIB_WRAPPERS = {("joblib.numpy_pickle", "NumpyArrayWrapper"), ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper")}

JoblibHook = Callable[["Walker", Any, Any], None]


class Walker:
    """Walks one pickle (up to STOP) from a :class:`Source`.

    ``on_build`` lets the joblib reader consume the array bytes that follow a
    ``NumpyArrayWrapper`` BUILD, exactly where joblib's unpickler reads them.
    """

    def __init__(self, src: Source, *, max_memo: int = 1_000_000, on_build: JoblibHook | None = None, max_stack: int = 4_000_000,
                 explain: Callable[[GlobalRef], bool] | None = None, plain_load: bool = False) -> None:
        self.src = src
        #: walk as plain ``pickle.load``/``joblib.load`` would: they define no persistent_load, so
        #: the first persistent id ends the load (torch's loaders define one; a file's own view)
        self.plain_load = plain_load
        self.max_memo = max_memo
        self.on_build = on_build
        self.res = WalkResult()
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        self.memo: dict[int, Any] = {}
        self.proto = 0
        self.opindex = -1
        self.op_offset = 0
        self.max_stack = max_stack
        self.explain = explain
        self._seen_globals: dict[tuple, GlobalRef] = {}

    # ---- helpers ---------------------------------------------------------------------------
    def _pop(self) -> Any:
        if not self.stack:
            raise Broken("stack_underflow", "unpickling stack underflow")
        return self.stack.pop()

    def _top(self) -> Any:
        if not self.stack:
            raise Broken("stack_underflow", "unpickling stack underflow")
        return self.stack[-1]

    def _pop_mark(self) -> list[Any]:
        if not self.metastack:
            raise Broken("mark_missing", "could not find MARK")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def _put(self, idx: int, value: Any) -> None:
        if idx < 0:
            raise Broken("bad_memo", "negative PUT argument")
        if idx not in self.memo and len(self.memo) >= self.max_memo:
            raise OverLimit(f"memo larger than {self.max_memo} entries")
        self.memo[idx] = value

    def _get(self, idx: int) -> Any:
        try:
            return self.memo[idx]
        except KeyError:
            raise Broken("memo_missing", f"memo value not found at index {idx}") from None

    def _global(self, module: str, name: str, opcode: str) -> GlobalRef:
        # fix_imports: CPython maps protocol-2 names when proto < 3; torch's weights-only loader
        # always does. We report the mapped name and keep the raw one (see ``candidates``).
        raw_module, raw_name = module, name
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        # the first occurrence of each distinct resolution is kept and pushed again for repeats:
        # memory stays flat however many times a stream repeats a GLOBAL (a checkpoint writes
        # ``torch.FloatStorage`` once per tensor)
        key = (module, name, raw_module, raw_name, self.proto >= 3)
        g = self._seen_globals.get(key)
        if g is None:
            g = GlobalRef(module, name, opcode, self.opindex, self.src.base + self.op_offset, self.proto, raw_module, raw_name)
            self._seen_globals[key] = g
            self.res.globals.append(g)
        return g

    def _bytes(self, n: int, *, kind: str) -> Any:
        if n > sys.maxsize:
            raise Broken("too_long", f"{kind} too long")
        if n > BIG_PAYLOAD:
            off = self.src.pos
            self.src.skip(n)
            if kind == "bytes":
                return BigBytes(off, n, self.src.base + off)
            return Opaque(kind)
        data = self.src.read(n)
        if kind == "bytes":
            return data
        if kind == "str":
            try:
                return data.decode("utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise Broken("bad_string", "undecodable BINUNICODE string") from None
        if kind == "bstr":  # protocol-0/1 8-bit strings: decoded by the loader's encoding
            return data.decode("latin-1")
        return data

    def _line(self) -> bytes:
        return self.src.readline(MAX_LINE)

    def _call(self, func: Any, args: Any, kind: str) -> Call:
        if not isinstance(func, GlobalRef):
            # only an imported global can be called meaningfully; anything else is either an
            # error in CPython or a callable produced by another call: we cannot follow it
            raise Broken("callable_not_global", f"{kind} calls a value that is not a resolved global")
        self.res.calls += 1
        if self.explain is not None and id(func) not in self.res.chains and len(self.res.chains) < 1000 and self.explain(func):
            self.res.chains[id(func)] = describe(Call(func, args, kind))
        if (func.module, func.name) in NESTED_SINKS:
            self._nested(func, args)
        keep = args if isinstance(args, tuple) and len(args) <= MAX_ITEMS else None
        return Call(func, keep, kind)

    def _persistent(self) -> None:
        if self.plain_load:
            raise Broken("persistent_id", "a persistent id ends a plain pickle.load (no persistent_load is defined)")
        self.res.persistent_ids += 1

    def _nested(self, sink: GlobalRef, args: Any) -> None:
        first = args[0] if isinstance(args, tuple) and args else None
        n = Nested(sink, self.opindex, self.src.base + self.op_offset)
        val = constant_bytes(first)
        if isinstance(val, bytes):
            n.data = val
        elif isinstance(val, BigBytes):
            n.ref = val
        self.res.nested.append(n)

    # ---- the loop --------------------------------------------------------------------------
    def walk(self) -> WalkResult:
        res = self.res
        res.start = self.src.offset
        frame_end: int | None = None
        try:
            while True:
                self.op_offset = self.src.pos
                op = self.src.read1()
                if op is None:
                    if res.opcodes == 0:
                        raise Truncated("empty stream")
                    raise Truncated("pickle ends without STOP")
                self.opindex += 1
                res.opcodes += 1
                self._op_end = None
                if not self.opindex & 0xFFFF and (len(self.stack) > self.max_stack or len(self.metastack) > self.max_stack):
                    raise OverLimit(f"more than {self.max_stack} values on the unpickling stack")
                if self._step(op):
                    res.stopped = True
                    res.first_value = self.stack[-1] if self.stack else None
                    break
                if op == 0x95:  # FRAME
                    pass
                elif frame_end is not None:
                    op_end = self._op_end if self._op_end is not None else self.src.pos
                    if self.op_offset < frame_end < op_end:
                        raise Broken("frame_divergence", "an opcode crosses a FRAME boundary (pickle.py and _pickle.c disagree here)")
                    if self.src.pos >= frame_end:
                        frame_end = None
                if op == 0x95:
                    if frame_end is not None and self.op_offset < frame_end:
                        raise Broken("frame_divergence", "a new FRAME starts before the current frame ends")
                    frame_end = self.src.pos + self._frame_len
        except Broken as exc:
            res.issues.append(Issue(exc.code, exc.message, self.opindex, self.src.base + self.op_offset))
        except Truncated as exc:
            res.issues.append(Issue("truncated", f"stream is truncated: {exc}", self.opindex, self.src.base + self.op_offset))
        except OverLimit as exc:
            res.issues.append(Issue("over_limit", f"over a scan limit: {exc}", self.opindex, self.src.base + self.op_offset))
        except (ValueError, struct.error, OverflowError, UnicodeDecodeError) as exc:
            res.issues.append(Issue("bad_argument", f"invalid opcode argument ({type(exc).__name__})", self.opindex, self.src.base + self.op_offset))
        res.proto = self.proto
        res.end = self.src.offset
        return res

    _frame_len = 0
    _op_end: int | None = None

    def _step(self, op: int) -> bool:  # noqa: C901 - one branch per opcode, like pickle.py
        src, stack = self.src, self.stack
        if op == 0x28:  # MARK
            self.metastack.append(self.stack)
            self.stack = []
        elif op == 0x2E:  # STOP
            if not self.stack:
                raise Broken("stack_underflow", "STOP with an empty stack")
            return True
        elif op == 0x30:  # POP
            if self.stack:
                self.stack.pop()
            else:
                self._pop_mark()
        elif op == 0x31:  # POP_MARK
            self._pop_mark()
        elif op == 0x32:  # DUP
            stack.append(self._top())
        elif op == 0x46:  # FLOAT
            stack.append(float(self._line()[:-1]))
        elif op == 0x49:  # INT
            data = self._line()
            if data == b"00\n":
                stack.append(False)
            elif data == b"01\n":
                stack.append(True)
            else:
                stack.append(int(data, 0))
        elif op == 0x4A:  # BININT
            stack.append(struct.unpack("<i", src.read(4))[0])
        elif op == 0x4B:  # BININT1
            stack.append(src.read(1)[0])
        elif op == 0x4C:  # LONG
            val = self._line()[:-1]
            if val and val[-1:] == b"L":
                val = val[:-1]
            stack.append(int(val, 0))
        elif op == 0x4D:  # BININT2
            stack.append(struct.unpack("<H", src.read(2))[0])
        elif op == 0x4E:  # NONE
            stack.append(None)
        elif op == 0x50:  # PERSID
            self._line()
            self._persistent()
            stack.append(PERSISTENT)
        elif op == 0x51:  # BINPERSID
            self._pop()
            self._persistent()
            stack.append(PERSISTENT)
        elif op == 0x52:  # REDUCE
            args = self._pop()
            func = self._top()
            self.stack[-1] = self._call(func, args, "REDUCE")
        elif op == 0x53:  # STRING
            data = self._line()[:-1]
            if len(data) >= 2 and data[0] == data[-1] and data[0] in b"\"'":
                data = data[1:-1]
            else:
                raise Broken("bad_string", "the STRING opcode argument must be quoted")
            stack.append(codecs.escape_decode(data)[0].decode("latin-1"))
        elif op == 0x54:  # BINSTRING
            n = struct.unpack("<i", src.read(4))[0]
            if n < 0:
                raise Broken("bad_argument", "BINSTRING pickle has negative byte count")
            stack.append(self._bytes(n, kind="bstr"))
        elif op == 0x55:  # SHORT_BINSTRING
            stack.append(self._bytes(src.read(1)[0], kind="bstr"))
        elif op == 0x56:  # UNICODE
            stack.append(str(self._line()[:-1], "raw-unicode-escape"))
        elif op == 0x58:  # BINUNICODE
            stack.append(self._bytes(struct.unpack("<I", src.read(4))[0], kind="str"))
        elif op == 0x61:  # APPEND
            value = self._pop()
            target = self._top()
            if isinstance(target, Obj):
                target.add(value)
        elif op == 0x62:  # BUILD
            state = self._pop()
            inst = self._top()
            if isinstance(inst, Call) and isinstance(state, tuple) and len(state) <= 16:
                inst.state = state
            if self.on_build is not None:
                # joblib reads array bytes from the raw file after BUILD, outside any frame
                self._op_end = src.pos
                self.on_build(self, inst, state)
        elif op == 0x63:  # GLOBAL
            module = self._line()[:-1].decode("utf-8")
            name = self._line()[:-1].decode("utf-8")
            stack.append(self._global(module, name, "GLOBAL"))
        elif op == 0x64:  # DICT
            items = self._pop_mark()
            self.stack.append(Obj("dict", items if len(items) <= MAX_ITEMS else None))
        elif op == 0x7D:  # EMPTY_DICT
            stack.append(Obj("dict"))
        elif op == 0x65:  # APPENDS
            items = self._pop_mark()
            target = self._top()
            if isinstance(target, Obj):
                target.add(*items)
        elif op == 0x67:  # GET
            stack.append(self._get(int(self._line()[:-1])))
        elif op == 0x68:  # BINGET
            stack.append(self._get(src.read(1)[0]))
        elif op == 0x6A:  # LONG_BINGET
            stack.append(self._get(struct.unpack("<I", src.read(4))[0]))
        elif op == 0x69:  # INST
            module = self._line()[:-1].decode("ascii")
            name = self._line()[:-1].decode("ascii")
            g = self._global(module, name, "INST")
            args = tuple(self._pop_mark())
            self.stack.append(self._call(g, args, "INST"))
        elif op == 0x6C:  # LIST
            items = self._pop_mark()
            self.stack.append(Obj("list", items if len(items) <= MAX_ITEMS else None))
        elif op == 0x5D:  # EMPTY_LIST
            stack.append(Obj("list"))
        elif op == 0x6F:  # OBJ
            args = self._pop_mark()
            if not args:
                raise Broken("stack_underflow", "OBJ without a class")
            cls = args.pop(0)
            self.stack.append(self._call(cls, tuple(args), "OBJ"))
        elif op == 0x70:  # PUT
            self._put(int(self._line()[:-1]), self._top())
        elif op == 0x71:  # BINPUT
            self._put(src.read(1)[0], self._top())
        elif op == 0x72:  # LONG_BINPUT
            self._put(struct.unpack("<I", src.read(4))[0], self._top())
        elif op == 0x73:  # SETITEM
            value = self._pop()
            key = self._pop()
            target = self._top()
            if isinstance(target, Obj):
                target.add(key, value)
        elif op == 0x74:  # TUPLE
            items = self._pop_mark()
            self.stack.append(tuple(items))
        elif op == 0x29:  # EMPTY_TUPLE
            stack.append(())
        elif op == 0x75:  # SETITEMS
            items = self._pop_mark()
            target = self._top()
            if isinstance(target, Obj):
                target.add(*items)
        elif op == 0x47:  # BINFLOAT
            stack.append(struct.unpack(">d", src.read(8))[0])
        elif op == 0x80:  # PROTO
            proto = src.read(1)[0]
            if not 0 <= proto <= HIGHEST_PROTOCOL:
                raise Broken("bad_protocol", f"unsupported pickle protocol: {proto}")
            self.proto = proto
        elif op == 0x81:  # NEWOBJ
            args = self._pop()
            cls = self._pop()
            self.stack.append(self._call(cls, args, "NEWOBJ"))
        elif op in (0x82, 0x83, 0x84):  # EXT1/2/4
            n = {0x82: 1, 0x83: 2, 0x84: 4}[op]
            code = int.from_bytes(src.read(n), "little")
            raise Broken("extension_code", f"EXT opcode (extension code {code}) resolves through copyreg's registry, which a scanner cannot see")
        elif op == 0x85:  # TUPLE1
            stack[-1:] = [(self._top(),)]
        elif op == 0x86:  # TUPLE2
            b = self._pop()
            a = self._pop()
            self.stack.append((a, b))
        elif op == 0x87:  # TUPLE3
            c = self._pop()
            b = self._pop()
            a = self._pop()
            self.stack.append((a, b, c))
        elif op == 0x88:  # NEWTRUE
            stack.append(True)
        elif op == 0x89:  # NEWFALSE
            stack.append(False)
        elif op == 0x8A:  # LONG1
            n = src.read(1)[0]
            stack.append(int.from_bytes(src.read(n), "little", signed=True))
        elif op == 0x8B:  # LONG4
            n = struct.unpack("<i", src.read(4))[0]
            if n < 0:
                raise Broken("bad_argument", "LONG pickle has negative byte count")
            if n > 4096:
                src.skip(n)
                stack.append(Opaque("int"))
            else:
                stack.append(int.from_bytes(src.read(n), "little", signed=True))
        elif op == 0x42:  # BINBYTES
            stack.append(self._bytes(struct.unpack("<I", src.read(4))[0], kind="bytes"))
        elif op == 0x43:  # SHORT_BINBYTES
            stack.append(self._bytes(src.read(1)[0], kind="bytes"))
        elif op == 0x8C:  # SHORT_BINUNICODE
            stack.append(self._bytes(src.read(1)[0], kind="str"))
        elif op == 0x8D:  # BINUNICODE8
            stack.append(self._bytes(struct.unpack("<Q", src.read(8))[0], kind="str"))
        elif op == 0x8E:  # BINBYTES8
            stack.append(self._bytes(struct.unpack("<Q", src.read(8))[0], kind="bytes"))
        elif op == 0x96:  # BYTEARRAY8
            stack.append(self._bytes(struct.unpack("<Q", src.read(8))[0], kind="bytes"))
        elif op == 0x8F:  # EMPTY_SET
            stack.append(Obj("set"))
        elif op == 0x90:  # ADDITEMS
            items = self._pop_mark()
            target = self._top()
            if isinstance(target, Obj):
                target.add(*items)
        elif op == 0x91:  # FROZENSET
            items = self._pop_mark()
            self.stack.append(Obj("frozenset", items if len(items) <= MAX_ITEMS else None))
        elif op == 0x92:  # NEWOBJ_EX
            self._pop()  # kwargs
            args = self._pop()
            cls = self._pop()
            self.stack.append(self._call(cls, args, "NEWOBJ_EX"))
        elif op == 0x93:  # STACK_GLOBAL
            name = self._pop()
            module = self._pop()
            if type(name) is not str or type(module) is not str:
                raise Broken("stack_global_not_str", "STACK_GLOBAL operands are not constant strings")
            self.stack.append(self._global(module, name, "STACK_GLOBAL"))
        elif op == 0x94:  # MEMOIZE
            self._put(len(self.memo), self._top())
        elif op == 0x95:  # FRAME
            n = struct.unpack("<Q", src.read(8))[0]
            if n > sys.maxsize:
                raise Broken("bad_argument", "frame size > sys.maxsize")
            left = src.remaining()
            if left is not None and n > left:
                raise Truncated("FRAME announces more bytes than the stream holds")
            self._frame_len = n
        elif op == 0x97:  # NEXT_BUFFER
            raise Broken("out_of_band", "NEXT_BUFFER needs out-of-band buffers the loader does not pass")
        elif op == 0x98:  # READONLY_BUFFER
            self._top()
        else:
            raise Broken("invalid_opcode", f"invalid load key {op:#04x}")
        return False


def describe(value: Any, depth: int = 0) -> str:
    """The shape of a value for a report: globals and calls by name, constants by type only
    (argument values may be data and are never copied into reports)."""
    if depth > 4:
        return "…"
    if isinstance(value, GlobalRef):
        return value.dotted
    if isinstance(value, Call):
        args = value.args if isinstance(value.args, tuple) else ()
        inner = ", ".join(describe(a, depth + 1) for a in args[:6]) + (", …" if len(args) > 6 else "")
        return f"{describe(value.func, depth + 1)}({inner})"
    if isinstance(value, tuple):
        return "(" + ", ".join(describe(a, depth + 1) for a in value[:6]) + ")"
    if isinstance(value, (BigBytes,)):
        return "<bytes>"
    if isinstance(value, Obj):
        return f"<{value.kind}>"
    if isinstance(value, Opaque):
        return f"<{value.what}>"
    return "None" if value is None else f"<{type(value).__name__}>"


def constant_bytes(value: Any, depth: int = 0) -> bytes | BigBytes | None:
    """The bytes a constant expression evaluates to (``b"…"``, ``_codecs.encode("…", "latin1")``,
    ``io.BytesIO(b"…")``), else None. Only pure, well-known constructors are followed."""
    if depth > 8:
        return None
    if isinstance(value, (bytes, BigBytes)):
        return value
    if isinstance(value, Call) and isinstance(value.func, GlobalRef) and isinstance(value.args, tuple):
        key = (value.func.module, value.func.name)
        if key == ("_codecs", "encode") and value.args and isinstance(value.args[0], str):
            enc = value.args[1] if len(value.args) > 1 and isinstance(value.args[1], str) else "utf-8"
            try:
                return value.args[0].encode(codecs.lookup(enc).name if enc.lower() in ("latin1", "latin-1", "utf-8", "utf8", "ascii") else "latin-1")
            except (LookupError, UnicodeEncodeError):
                return None
        if key in _BYTES_WRAPPERS and value.args:
            return constant_bytes(value.args[0], depth + 1)
    return None


def walk_pickle(src: Source, *, max_memo: int = 1_000_000, on_build: JoblibHook | None = None) -> WalkResult:
    return Walker(src, max_memo=max_memo, on_build=on_build).walk()


def is_joblib_wrapper(value: Any) -> bool:
    return isinstance(value, Call) and isinstance(value.func, GlobalRef) and (value.func.module, value.func.name) in _JOBLIB_WRAPPERS
