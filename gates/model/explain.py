"""``mlsec-gates model --explain``: a readable account of why a pickle blocks.

For every blocking global it shows the opcodes around the place the unpickler would import it
(opcode index, byte offset, opcode name, the resolved ``module.qualname``, the call it feeds) and,
when fickling can parse the stream, fickling's decompiled Python view of it.

Why a separate tracing walker: the normal :class:`Walker` keeps no history (its loop is the hot
path of every scan). :class:`TracingWalker` records a short rolling window of opcodes and keeps
the windows around globals the allowlist rejects; it is only used when ``--explain`` is given.

Everything printed here comes from an attacker-controlled file. Each line goes through
:func:`printable` (control characters and terminal escape sequences become visible ``\\x1b``
text) and the output is bounded; it goes to the console only, never into JSON or SARIF reports.
The console is often a CI log, so strings that look like credentials, and values stored under
keys such as ``hub_token`` or ``password``, are redacted in both the trace and fickling's view.
"""

from __future__ import annotations

import ast
import contextlib
import io
import pickletools
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .config import printable
from .pickle_engine import BigBytes, GlobalRef, Walker, describe

SECRET_PREFIX = re.compile(r"\b(hf_|api_|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|sk-|sk_live_|rk_live_|xox[abposr]-|AKIA|ASIA|AIza|eyJ)[\w-]{6,}")
TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_-]+")
SENSITIVE_KEY = re.compile(r"token|secret|passw|api_?key|private|credential|auth", re.IGNORECASE)
OPNAMES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}
_STR_OPS = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"}
_BYTES_OPS = {"BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"}
_INT_OPS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"}
_CALL_OPS = {"REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST", "GLOBAL", "STACK_GLOBAL"}
_MEMO_OPS = {"GET", "BINGET", "LONG_BINGET", "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}

BEFORE = 6  # opcodes shown before the offending global
AFTER = 6  # and after it (the call chain it feeds)
MAX_WINDOWS = 8  # per pickle
MAX_LINES_PER_FILE = 60
MAX_FICKLING_LINES = 14
MAX_FICKLING_BYTES = 8 << 20  # fickling reads the whole stream into memory
MAX_FICKLING_OPCODES = 200_000  # its interpreter gives up (memo/opcode limits) around here anyway
LINE_WIDTH = 160


@dataclass
class TraceOp:
    index: int
    offset: int
    name: str
    detail: str = ""


@dataclass
class Window:
    """The opcodes around one rejected global: ``ops[mark]`` is the op that imported it."""

    target: GlobalRef
    ops: list[TraceOp]
    mark: int
    after_left: int = AFTER


class TracingWalker(Walker):
    """A :class:`Walker` that remembers the opcodes around every global ``explain`` rejects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: deque[TraceOp] = deque(maxlen=BEFORE + 1)
        self._open: list[Window] = []
        self.windows: dict[int, Window] = {}  # id(GlobalRef) -> window
        self._after_sensitive_key = False  # the last string pushed was a key such as "hub_token"
        self._redacted: deque[str] = deque(maxlen=8)  # values redacted lately (their memo PUT/GET too)

    def _step(self, op: int) -> bool:
        n_globals = len(self.res.globals)
        index, offset = self.opindex, self.src.base + self.op_offset
        name = OPNAMES.get(op, f"{op:#04x}")
        try:
            stop = super()._step(op)
        except Exception:
            self._record(TraceOp(index, offset, name, "<- the unpickler stops here"))
            raise
        self._record(TraceOp(index, offset, name, self._detail(name)))
        for g in self.res.globals[n_globals:]:
            if self.explain is not None and len(self.windows) < MAX_WINDOWS and self.explain(g):
                w = Window(g, list(self._recent), len(self._recent) - 1)
                self.windows[id(g)] = w
                self._open.append(w)
        return stop

    def _record(self, entry: TraceOp) -> None:
        for w in self._open:
            w.ops.append(entry)
            w.after_left -= 1
        if self._open:
            self._open = [w for w in self._open if w.after_left > 0]
        self._recent.append(entry)

    def _detail(self, name: str) -> str:
        top = self.stack[-1] if self.stack else None
        if name == "PROTO":
            return str(self.proto)
        if name == "FRAME":
            return f"{self._frame_len} bytes"
        if name in _CALL_OPS:
            if isinstance(top, GlobalRef) and top.aliased:
                return f"{top.dotted} (written as {top.raw_module}.{top.raw_name})"
            return describe(top)
        if name in _STR_OPS:
            after_key, self._after_sensitive_key = self._after_sensitive_key, isinstance(top, str) and bool(SENSITIVE_KEY.search(top))
            if after_key:
                self._redacted.append(top)
            return short(top, redact=after_key)
        if name in _MEMO_OPS:
            arrow = "->" if "GET" in name else "<-"
            return f"memo {arrow} {short(top, redact=any(top is r for r in self._redacted))}"
        self._after_sensitive_key = False  # a key's value is the next string, memo ops aside
        if name in _BYTES_OPS or name in _INT_OPS:
            return short(top)
        return ""


def looks_secret(text: str) -> bool:
    """A string that may be a credential: a known token prefix, a PEM block, or one long
    unbroken run of letters and digits. Pickles carry such values (``training_args.bin`` holds
    ``hub_token``) and the console is a CI log, so they are never shown."""
    if SECRET_PREFIX.search(text) or "-----BEGIN" in text:
        return True
    return any(_token_like(tok) for tok in text.split())


def _token_like(tok: str) -> bool:
    """Long, no dots (not a module or parameter path), several digits and mixed case or many digits."""
    if len(tok) < 20 or not TOKEN_CHARS.fullmatch(tok):
        return False
    digits = sum(c.isdigit() for c in tok)
    mixed = any(c.isupper() for c in tok) and any(c.islower() for c in tok)
    return digits >= 3 and (mixed or digits >= 6)


def redacted(text: str) -> str:
    return f"<redacted str, {len(text)} chars>"


def short(value: Any, redact: bool = False) -> str:
    """A constant for the trace: strings quoted and cut (escaping happens per line), likely secrets
    (or values right after a key such as ``password``) redacted, bytes by length."""
    if isinstance(value, str):
        if redact or looks_secret(value):
            return redacted(value)
        return repr(value if len(value) <= 60 else value[:60] + "…")
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, BigBytes):
        return f"<{value.length} bytes, not read>"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**12 else "<int>"
    return describe(value)


def render_window(w: Window) -> list[str]:
    out = []
    for i, op in enumerate(w.ops):
        pointer = ">" if i == w.mark else " "
        out.append(f"      {pointer} #{op.index:<6} @{op.offset:<10} {op.name:<17} {op.detail}".rstrip())
    return out


def fickling_view(data: bytes, names: list[str], opcodes: int = 0) -> list[str]:
    """fickling's decompiled Python for ``data``, cut to the lines that mention ``names``.

    Only parsing happens here: ``Pickled.load`` decodes opcodes with ``pickletools.genops``,
    ``.ast`` runs fickling's *symbolic* interpreter (it pushes ``ast`` nodes, it never imports or
    calls what the pickle names) and ``ast.unparse`` prints the tree. We never call fickling's
    loaders or hooks (``fickling.load``, ``fickling.hook``), which do unpickle.
    """
    if len(data) > MAX_FICKLING_BYTES:
        return [f"(skipped: the pickle is over {MAX_FICKLING_BYTES >> 20} MB)"]
    if opcodes > MAX_FICKLING_OPCODES:
        return [f"(skipped: {opcodes} opcodes, past what fickling's interpreter limits allow)"]
    try:
        from fickling.fickle import Pickled
    except Exception:  # noqa: BLE001 - optional
        return ["(fickling is not installed: no decompiled view)"]
    # fickling writes warnings that quote the file to stderr: keep them out of the console
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            pickled = Pickled.load(data)
            text = ast.unparse(_Redactor().visit(pickled.ast))
        except Exception as exc:  # noqa: BLE001 - a parse failure is shown, not raised
            return [f"(fickling could not parse it: {type(exc).__name__})"]
    lines = text.splitlines()
    if not lines:
        if getattr(pickled, "_has_resource_exhaustion", False):
            return ["(fickling stopped at its resource limits: no decompiled view)"]
        return ["(fickling could not interpret it: no decompiled view)"]
    words = {n.rsplit(".", 1)[-1] for n in names if n}
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(words)) + r")\b") if words else None
    picked = [i for i, line in enumerate(lines) if pattern is not None and pattern.search(line)]
    if not picked:
        picked = list(range(min(len(lines), MAX_FICKLING_LINES)))
    picked = picked[:MAX_FICKLING_LINES]
    out, last = [], -1
    for i in picked:
        if i != last + 1:
            out.append("…")
        out.append(lines[i])
        last = i
    if last != len(lines) - 1:
        out.append(f"… ({len(lines)} lines in all)")
    return out


class _Redactor(ast.NodeTransformer):
    """Replace likely secrets in fickling's tree (and every value stored under a key such as
    ``hub_token`` or ``password``) before it is printed."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and looks_secret(node.value):
            return ast.copy_location(ast.Constant(redacted(node.value)), node)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        node.values = [
            ast.copy_location(ast.Constant("<redacted>"), v)
            if isinstance(k, ast.Constant) and isinstance(k.value, str) and SENSITIVE_KEY.search(k.value) else v
            for k, v in zip(node.keys, node.values)
        ]
        return node

    def _sequence(self, items: list[ast.expr]) -> list[ast.expr]:
        """``('password', 'hunter2')``: a string right after a sensitive key string is its value."""
        out, after_key = [], False
        for item in items:
            is_str = isinstance(item, ast.Constant) and isinstance(item.value, str)
            out.append(ast.copy_location(ast.Constant("<redacted>"), item) if after_key and is_str else item)
            after_key = is_str and bool(SENSITIVE_KEY.search(item.value))
        return out

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        node.args = self._sequence(node.args)
        return node

    def visit_Tuple(self, node: ast.Tuple) -> ast.AST:
        self.generic_visit(node)
        node.elts = self._sequence(node.elts)
        return node

    visit_List = visit_Tuple

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        if node.arg and SENSITIVE_KEY.search(node.arg):
            node.value = ast.copy_location(ast.Constant("<redacted>"), node.value)
        return node


@dataclass
class Explained:
    """One blocking global to explain: the hit's rule, severity and message, and its window."""

    rule: str
    severity: str
    dotted: str
    reason: str
    opcode: str
    opindex: int
    offset: int
    proto: int
    call: str | None = None
    window: Window | None = None


@dataclass
class PickleExplanation:
    member: str | None
    start: int
    end: int
    opcodes: int = 0
    items: list[Explained] = field(default_factory=list)

    def lines(self, data: bytes | None, why_no_data: str = "") -> list[str]:
        where = f"pickle in `{self.member}`" if self.member else "pickle"
        out = [f"  {where} (bytes {self.start}-{self.end}):"]
        for e in self.items:
            out.append(f"    {e.rule} {e.severity} `{e.dotted}`: {e.reason}")
            how = f"      imported by {e.opcode}, opcode #{e.opindex} at byte {e.offset}, protocol {e.proto}"
            if e.call:
                how += f"; called as {e.call}"
            out.append(how)
            if e.window is not None:
                out.append("      opcodes (> marks the import):")
                out += render_window(e.window)
        out.append("    fickling's decompiled view (parsed, never executed):")
        if data is None:
            out.append(f"      ({why_no_data or 'the stream cannot be re-read here'})")
        else:
            out += ["      " + line for line in fickling_view(data, [e.dotted for e in self.items], self.opcodes)]
        return [printable(line, LINE_WIDTH, pii=True) for line in out]


def bound(lines: list[str], limit: int = MAX_LINES_PER_FILE) -> list[str]:
    """At most ``limit`` lines (a file with many pickles must not flood the console)."""
    if len(lines) <= limit:
        return lines
    return lines[: limit - 1] + [f"  … {len(lines) - limit + 1} more lines not shown (at most {limit} per file)"]


def file_block(display_path: str, blocks: list[list[str]]) -> list[str]:
    body = [line for b in blocks for line in b]
    return [printable(f"== {display_path}: why it blocks ==", LINE_WIDTH)] + bound(body)
