"""Chat templates judged on Jinja's own syntax tree (parsed, never rendered).

Inference servers render a model's chat template (GGUF ``tokenizer.chat_template*``,
``tokenizer_config.json`` ``chat_template``, ``chat_template.jinja``), and not all of them use
Jinja's sandbox. Every public template-injection chain walks Python's object graph through
attributes the sandbox refuses (``__class__``, ``__globals__``, ``_TemplateReference__context``),
and the obfuscated ones build those names at run time: ``"%c%c"|format(95,95)``, ``'_'*2``,
``~`` concatenation, ``|join``, ``|attr`` on a computed name, ``|map('attribute', ...)``, string
reprs sliced for their underscores (``(lipsum|string)[18]``).

So a regex over ``{{ }}`` is not enough (a string literal holding ``}}`` ends it early). Here the
template is parsed with ``jinja2.Environment().parse`` and every node is judged:

* node types, filters, tests and called methods come from allowlists of what chat templates use;
* an attribute or item named by a literal is refused the way ``SandboxedEnvironment`` would
  refuse it (leading underscore, frame/code internals);
* an attribute or item named by a *computed* string is followed: a small taint pass marks every
  value built from string pieces (``~``, ``%``, ``format``, ``join``, slices of reprs...) through
  ``set``, ``for`` and macro arguments, and a constant folder (pure string operations on literals,
  bounded) recovers the name when it can. A computed name is refused; a folded dunder is critical.

A template that does not parse is reported as such: the caller turns it into an inconclusive
finding (a loader with another Jinja dialect might still run it).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO, Iterator

from gates.core.hygiene import clean

if TYPE_CHECKING:
    from .scan import Scan
    from .stream import Source

MAX_TEMPLATE_CHARS = 1 << 20  # 1 MiB: real chat templates are a few KB
MAX_FOLD_CHARS = 4096  # constant folding gives up past this many characters
MAX_FOLD_STEPS = 10_000
EVIDENCE_CHARS = 120

#: node types a chat template is made of; anything else (``include``, ``import``, ``extends``...)
#: is reported
ALLOWED_NODES = frozenset(
    "Template Output TemplateData For If Macro CallBlock FilterBlock With Assign AssignBlock Block Scope "
    "Name NSRef Const Tuple List Dict Pair Keyword CondExpr Filter Test Call Getitem Getattr Slice Concat "
    "Compare Operand Add Sub Mul Div FloorDiv Mod Pow And Or Not Neg Pos Continue Break".split()
)
LOADS_TEMPLATES = {"Extends": "extends", "Include": "include", "Import": "import", "FromImport": "from-import"}

#: jinja2's built-in filters plus ``tojson`` (transformers adds it); ``attr`` is judged separately
ALLOWED_FILTERS = frozenset(
    "abs attr batch capitalize center count d default dictsort e escape filesizeformat first float forceescape "
    "format groupby indent int items join last length list lower map max min pprint random reject rejectattr "
    "replace reverse round safe select selectattr slice sort string striptags sum title tojson trim truncate "
    "unique upper urlencode urlize wordcount wordwrap xmlattr".split()
)
ALLOWED_TESTS = frozenset(
    "!= < <= == > >= boolean callable defined divisibleby eq equalto escaped even false filter float ge "
    "greaterthan gt in integer iterable le lessthan lower lt mapping ne none number odd sameas sequence string "
    "test true undefined upper".split()
)
#: filters whose argument names an attribute (``make_attrgetter`` splits it on dots)
ATTRIBUTE_ARG_FILTERS = {"map": "attribute", "selectattr": 0, "rejectattr": 0, "sort": "attribute", "groupby": 0,
                         "sum": "attribute", "unique": "attribute", "min": "attribute", "max": "attribute"}
#: filters that yield numbers or booleans: never a name
NUMERIC_FILTERS = frozenset({"int", "float", "length", "count", "abs", "round", "wordcount"})
#: globals chat templates call: Jinja's own, transformers' additions
CALLABLE_GLOBALS = frozenset({"range", "namespace", "dict", "raise_exception", "strftime_now", "caller"})
#: names that only appear in template-injection payloads (function objects whose attributes and
#: reprs lead to Python internals, or Flask's objects)
GADGETS = frozenset({"lipsum", "cycler", "joiner", "self", "config", "request", "url_for", "get_flashed_messages"})
#: read-only methods templates call on strings, dicts, lists and ``loop``; ``format``/``format_map``
#: are judged on their format string
SAFE_METHODS = frozenset(
    {m for m in dir(str) if not m.startswith("_")} - {"format", "format_map"}
    | {"get", "items", "keys", "values", "copy", "index", "count", "cycle", "changed", "isoformat", "strftime"}
)
MUTATING_METHODS = frozenset({"append", "pop", "update", "extend", "insert", "remove", "clear", "setdefault", "popitem",
                              "add", "discard", "sort", "reverse", "__setitem__"})
#: attributes Jinja's sandbox refuses besides the underscore ones (``is_internal_attribute``)
UNSAFE_ATTRIBUTES = frozenset({
    "mro", "func_globals", "func_code", "func_closure", "func_defaults", "im_class", "im_func", "im_self",
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "cr_origin", "ag_code", "ag_frame",
    "ag_await", "tb_frame", "tb_next", "tb_lasti", "f_globals", "f_locals", "f_builtins", "f_code", "f_back",
})


class TemplateUnreadable(Exception):
    """The template cannot be judged (does not parse, too large, jinja2 missing)."""


@dataclass(frozen=True)
class TemplateProblem:
    """One finding about a template: a stable ``code``, its severity, why, and the source line."""

    code: str
    severity: str
    message: str
    evidence: str


def analyse_template(source: str) -> list[TemplateProblem]:
    """Problems of the Jinja template ``source`` (empty for an ordinary chat template).

    Raises :class:`TemplateUnreadable` when it cannot be parsed; it is never rendered."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateUnreadable(f"template of {len(source)} characters is over the {MAX_TEMPLATE_CHARS} limit")
    try:
        import jinja2
        import jinja2.ext
        from jinja2 import nodes
    except ImportError as exc:
        raise TemplateUnreadable("jinja2 is not installed (install the `model` extra)") from exc
    env = jinja2.Environment(extensions=["jinja2.ext.loopcontrols", _generation_extension(jinja2, nodes)])
    try:
        tree = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateUnreadable(f"does not parse as Jinja ({exc.message or 'syntax error'}, line {exc.lineno})") from exc
    except (RecursionError, MemoryError) as exc:
        raise TemplateUnreadable("nested too deeply to parse") from exc
    return _Judge(source, nodes).run(tree)


def check_template(scan: "Scan", source: str, where: str, member: str | None, offset: int | None) -> None:
    """Judge one template found in a model file; report on ``scan`` as MODEL014 (problems) or
    MODEL003 (cannot be parsed). ``where`` names it (a GGUF key, ``tokenizer_config.json``...)."""
    label = clean(where)
    try:
        problems = analyse_template(source)
    except TemplateUnreadable as exc:
        scan.inconclusive(f"chat template `{label}` cannot be checked: {exc}", member, offset, key=f"template:{label}")
        return
    for p in problems:
        scan.hit("MODEL014", f"chat template `{label}` {p.message}", member, offset, severity=p.severity,
                 key=f"{label}:{p.code}", evidence=p.evidence)


def templates_in_config(config: Any) -> list[tuple[str, str]]:
    """``(name, template)`` pairs of a ``tokenizer_config.json``/``chat_template.json``:
    ``chat_template`` is a string or a list of ``{"name", "template"}``. A value of any other
    shape is returned as ``(name, "")`` with name ending ``?`` so the caller can fail closed."""
    if not isinstance(config, dict) or "chat_template" not in config:
        return []
    value = config["chat_template"]
    if isinstance(value, str):
        return [("chat_template", value)]
    out: list[tuple[str, str]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                name = item.get("name") if isinstance(item.get("name"), str) else str(i)
                out.append((f"chat_template[{name}]", item["template"]))
            else:
                out.append((f"chat_template[{i}]?", ""))
        return out
    if value is None:
        return []
    return [("chat_template?", "")]


def _generation_extension(jinja2: Any, nodes: Any) -> type:
    """transformers' ``{% generation %}...{% endgeneration %}`` tag (AssistantTracker), parsed as a
    plain scope so templates written for it parse here too."""

    class Generation(jinja2.ext.Extension):
        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    return Generation


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _edgy(value: Any) -> bool:
    """A literal that can be a piece of a dunder: starts or ends with ``_``."""
    return isinstance(value, str) and (value.startswith("_") or value.endswith("_"))


class _Unfoldable(Exception):
    pass


class _Judge:
    """One pass for taint (which names hold built strings), one pass judging every node."""

    def __init__(self, source: str, nodes: Any) -> None:
        self.lines = source.splitlines()
        self.n = nodes
        self.problems: dict[tuple[str, str], TemplateProblem] = {}
        self.tainted: set[str] = set()
        self.values: dict[str, Any] = {}  # folded values of names assigned once
        self.assigned: dict[str, int] = {}
        self.macros: dict[str, list[str]] = {}
        self.steps = 0

    # ---- driver -------------------------------------------------------------------------------
    def run(self, tree: Any) -> list[TemplateProblem]:
        every = list(self._walk(tree))
        for node in every:
            if isinstance(node, self.n.Macro):
                self.macros[node.name] = [a.name for a in node.args]
        self._taint(every)
        for node in every:
            self._judge(node)
        return list(self.problems.values())

    def _walk(self, tree: Any) -> Iterator[Any]:
        stack = [tree]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.iter_child_nodes())))

    def add(self, code: str, severity: str, message: str, node: Any, detail: str = "") -> None:
        key = (code, detail or message)
        if key not in self.problems:
            self.problems[key] = TemplateProblem(code, severity, message, self._evidence(node))

    def _evidence(self, node: Any) -> str:
        line = getattr(node, "lineno", 0) or 0
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        text = " ".join(text.split())
        return clean(text[:EVIDENCE_CHARS] + ("…" if len(text) > EVIDENCE_CHARS else ""))

    # ---- taint ----------------------------------------------------------------------------------
    def _targets(self, target: Any) -> list[str]:
        n = self.n
        if isinstance(target, n.Name):
            return [target.name]
        if isinstance(target, n.NSRef):
            return [f"{target.name}.{target.attr}"]
        if isinstance(target, (n.Tuple, n.List)):
            return [t for item in target.items for t in self._targets(item)]
        return []

    def _bindings(self, every: list[Any]) -> Iterator[tuple[list[str], Any, bool]]:
        """(names, value, always-dirty) for every place a template binds a name."""
        n = self.n
        for node in every:
            if isinstance(node, n.Assign):
                yield self._targets(node.target), node.node, False
            elif isinstance(node, n.AssignBlock):
                yield self._targets(node.target), None, True  # the block's text, built by the template
            elif isinstance(node, n.For):
                yield self._targets(node.target), node.iter, False
            elif isinstance(node, n.With):
                for t, v in zip(node.targets, node.values):
                    yield self._targets(t), v, False
            elif isinstance(node, n.Call) and isinstance(node.node, n.Name) and node.node.name in self.macros:
                params = self.macros[node.node.name]
                for name, arg in zip(params, node.args):
                    yield [name], arg, False
                for kw in node.kwargs:
                    yield [kw.key], kw.value, False
                if node.dyn_args is not None or node.dyn_kwargs is not None:
                    yield params, node.dyn_args or node.dyn_kwargs, False

    def _taint(self, every: list[Any]) -> None:
        bindings = list(self._bindings(every))
        for names, value, _ in bindings:
            for name in names:
                self.assigned[name] = self.assigned.get(name, 0) + 1
        for names, value, _ in bindings:  # names bound once to a foldable value
            if len(names) == 1 and self.assigned[names[0]] == 1 and value is not None:
                try:
                    self.values[names[0]] = self._fold(value)
                except _Unfoldable:
                    pass
        changed = True
        rounds = 0
        while changed and rounds < 50:
            changed, rounds = False, rounds + 1
            for names, value, always in bindings:
                if always or self._dirty(value):
                    for name in names:
                        if name not in self.tainted:
                            self.tainted.add(name)
                            changed = True

    def _dirty(self, e: Any) -> bool:
        """May ``e`` be a string the template built (rather than a literal or the caller's data)?"""
        n = self.n
        if e is None:
            return False
        if isinstance(e, n.Const):
            return _edgy(e.value)
        if isinstance(e, n.Name):
            return e.name in self.tainted
        if isinstance(e, n.Getattr):
            if isinstance(e.node, n.Name) and f"{e.node.name}.{e.attr}" in self.tainted:
                return True
            return self._dirty(e.node)
        if isinstance(e, (n.Getitem, n.Slice)):
            inner = e.node if isinstance(e, n.Getitem) else None
            if inner is not None and (self._stringish(inner) or self._dirty(inner) or self._dirty(e.arg)):
                return True
            return any(self._dirty(c) for c in e.iter_child_nodes())
        if isinstance(e, n.Concat):
            return any(self._dirty(x) for x in e.nodes)
        if isinstance(e, n.Mod):
            return self._stringish(e.left) or self._dirty(e.left) or self._dirty(e.right)
        if isinstance(e, (n.Add, n.Mul)):
            return self._dirty(e.left) or self._dirty(e.right)
        if isinstance(e, (n.Sub, n.Div, n.FloorDiv, n.Pow, n.Neg, n.Pos, n.Not, n.Compare, n.Test)):
            return False
        if isinstance(e, n.Filter):
            if e.name in NUMERIC_FILTERS:
                return False
            if e.name in ("string", "format", "pprint", "xmlattr", "urlencode", "attr"):
                return True
            return any(self._dirty(c) for c in e.iter_child_nodes())
        if isinstance(e, n.Call):
            if isinstance(e.node, n.Name):
                if e.node.name in self.macros or e.node.name == "caller":
                    return True  # a macro returns the text it renders
                if e.node.name == "dict" and any(_edgy(k.key) for k in e.kwargs):
                    return True
            elif isinstance(e.node, n.Getattr) and (self._stringish(e.node.node) or self._dirty(e.node.node)):
                return True  # a method of a built or literal string: join, replace, format...
            return any(self._dirty(c) for c in e.iter_child_nodes())
        if isinstance(e, n.Keyword):
            return _edgy(e.key) or self._dirty(e.value)
        return any(self._dirty(c) for c in e.iter_child_nodes())

    def _stringish(self, e: Any) -> bool:
        n = self.n
        return (isinstance(e, n.Const) and isinstance(e.value, str)) or isinstance(e, n.Concat) or (
            isinstance(e, n.Filter) and e.name in ("string", "format", "join", "pprint", "replace", "urlencode"))

    # ---- constant folding (pure string operations on literals, bounded) ------------------------
    def _fold(self, e: Any) -> Any:
        n = self.n
        self.steps += 1
        if self.steps > MAX_FOLD_STEPS:
            raise _Unfoldable
        if isinstance(e, n.Const):
            return self._bounded(e.value)
        if isinstance(e, n.Name) and e.name in self.values:
            return self.values[e.name]
        if isinstance(e, n.Getattr) and isinstance(e.node, n.Name) and f"{e.node.name}.{e.attr}" in self.values:
            return self.values[f"{e.node.name}.{e.attr}"]
        if isinstance(e, (n.Tuple, n.List)):
            return [self._fold(x) for x in e.items]
        if isinstance(e, n.Concat):
            return self._bounded("".join(_text(self._fold(x)) for x in e.nodes))
        if isinstance(e, n.Add):
            a, b = self._fold(e.left), self._fold(e.right)
            if type(a) is type(b) and isinstance(a, (str, int, list)):
                return self._bounded(a + b)
        if isinstance(e, n.Mul):
            a, b = self._fold(e.left), self._fold(e.right)
            if isinstance(a, int) and isinstance(b, str):
                a, b = b, a
            if isinstance(a, str) and isinstance(b, int) and len(a) * max(b, 0) <= MAX_FOLD_CHARS:
                return a * b
            if isinstance(a, int) and isinstance(b, int):
                return self._bounded(a * b)
        if isinstance(e, n.Mod):
            return _percent(self._fold(e.left), self._fold(e.right))
        if isinstance(e, n.Getitem):
            return _index(self._fold(e.node), self._fold(e.arg))
        if isinstance(e, n.Slice):
            parts = [None if p is None else self._fold(p) for p in (e.start, e.stop, e.step)]
            if all(p is None or isinstance(p, int) for p in parts):
                return slice(*parts)
        if isinstance(e, n.Filter) and e.node is not None:
            return self._fold_filter(e.name, self._fold(e.node), [self._fold(a) for a in e.args])
        if isinstance(e, n.Call) and isinstance(e.node, n.Getattr) and not e.kwargs and e.dyn_args is None:
            recv = self._fold(e.node.node)
            return self._fold_method(recv, e.node.attr, [self._fold(a) for a in e.args])
        raise _Unfoldable

    def _bounded(self, v: Any) -> Any:
        if isinstance(v, (str, list)) and len(v) > MAX_FOLD_CHARS:
            raise _Unfoldable
        if isinstance(v, int) and abs(v) > 1 << 32:
            raise _Unfoldable
        return v

    def _fold_filter(self, name: str, v: Any, args: list[Any]) -> Any:
        if name == "format" and isinstance(v, str):
            return _percent(v, args)
        if name == "join" and isinstance(v, (list, str)):
            sep = args[0] if args else ""
            if isinstance(sep, str):
                return self._bounded(sep.join(_text(x) for x in v))
        if name in ("string", "e", "escape", "safe", "forceescape") and isinstance(v, (str, int)):
            return str(v)
        if name == "list" and isinstance(v, (str, list)):
            return list(v)
        if name in ("first", "last") and isinstance(v, (str, list)) and v:
            return v[0] if name == "first" else v[-1]
        if name == "reverse" and isinstance(v, (str, list)):
            return v[::-1]
        if name in ("lower", "upper", "title", "capitalize", "trim") and isinstance(v, str):
            return {"trim": str.strip}.get(name, getattr(str, name))(v)
        if name == "replace" and isinstance(v, str) and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
            return self._bounded(v.replace(args[0], args[1]))
        raise _Unfoldable

    def _fold_method(self, recv: Any, method: str, args: list[Any]) -> Any:
        if not isinstance(recv, str):
            raise _Unfoldable
        if method == "join" and len(args) == 1 and isinstance(args[0], (list, str)):
            return self._bounded(recv.join(_text(x) for x in args[0]))
        if method in ("format",) and all(isinstance(a, (str, int)) for a in args):
            return _str_format(recv, args)
        if method in ("lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize") and not args:
            return getattr(recv, method)()
        if method == "replace" and len(args) == 2 and all(isinstance(a, str) for a in args):
            return self._bounded(recv.replace(args[0], args[1]))
        raise _Unfoldable

    def _folded_name(self, e: Any) -> str | None:
        self.steps = 0
        try:
            v = self._fold(e)
        except (_Unfoldable, TypeError, ValueError, IndexError, OverflowError):
            return None
        return v if isinstance(v, str) else None

    # ---- judging ---------------------------------------------------------------------------------
    def _judge(self, node: Any) -> None:
        n = self.n
        kind = type(node).__name__
        if kind in LOADS_TEMPLATES:
            self.add("loads-template", "high", f"uses `{LOADS_TEMPLATES[kind]}` to load another template "
                     "(chat templates are self-contained)", node, kind)
            return
        if kind not in ALLOWED_NODES:
            self.add("node", "high", f"uses the Jinja construct `{kind}`, which chat templates have no use for", node, kind)
            return
        if isinstance(node, n.Getattr):
            self._name_used(node.attr, node, "attribute")
        elif isinstance(node, n.Getitem):
            self._key_used(node.arg, node)
        elif isinstance(node, n.Name) and node.ctx == "load" and node.name in GADGETS:
            self.add("gadget", "high", f"uses `{node.name}`, a known template-injection gadget", node, node.name)
        elif isinstance(node, n.Filter):
            self._filter(node)
        elif isinstance(node, n.Test):
            if node.name not in ALLOWED_TESTS:
                self.add("test", "medium", f"uses the test `{clean(node.name)}`, which is not a built-in Jinja test", node, node.name)
        elif isinstance(node, n.Call):
            self._call(node)
        if isinstance(node, (n.Concat, n.Mod, n.Add, n.Mul, n.Filter, n.Call)) and self._dirty(node):
            built = self._folded_name(node)
            if built is not None and ("__" in built):
                self.add("dunder", "critical", f"builds the name `{clean(built[:60])}` at run time (sandbox-escape obfuscation)",
                         node, built)

    def _name_used(self, name: str, node: Any, how: str, computed: bool = False) -> None:
        label = clean(name[:60])
        via = " built at run time" if computed else ""
        if _is_dunder(name) or name.startswith("__"):
            self.add("dunder", "critical", f"reaches Python internals through the {how} `{label}`{via} (sandbox escape)", node, name)
        elif name.startswith("_"):
            self.add("private", "high", f"reads the private {how} `{label}`{via}, which Jinja's sandbox refuses", node, name)
        elif name in UNSAFE_ATTRIBUTES:
            self.add("internals", "critical", f"reads the interpreter internal `{label}`{via} (sandbox escape)", node, name)

    def _key_used(self, key: Any, node: Any, how: str = "item") -> None:
        """``x[key]``: Jinja falls back to ``getattr(x, key)`` when the item lookup fails."""
        n = self.n
        if isinstance(key, n.Const):
            if isinstance(key.value, str):
                self._name_used(key.value, node, how)
            return
        if isinstance(key, n.Slice) or not self._dirty(key) or self._safe_prefix(key):
            return
        built = self._folded_name(key)
        if built is not None:
            self._name_used(built, node, how, computed=True)
            if not built.startswith("_") and built not in UNSAFE_ATTRIBUTES:
                self.add("computed-name", "medium", f"looks up an {how} by a name it builds at run time (`{clean(built[:60])}`)",
                         node, built)
            return
        self.add("computed-name", "high", f"looks up an {how} by a string it builds at run time (sandbox-escape obfuscation)",
                 node, f"{how}:{node.lineno}")

    def _safe_prefix(self, e: Any) -> bool:
        """``'param_' ~ name``: a built name that starts with a literal which is not private and
        begins no interpreter internal can only name an ordinary key or attribute."""
        n = self.n
        while isinstance(e, (n.Concat, n.Add)):
            e = e.nodes[0] if isinstance(e, n.Concat) else e.left
        if not (isinstance(e, n.Const) and isinstance(e.value, str) and e.value):
            return False
        p = e.value
        return not p.startswith("_") and not any(u.startswith(p) for u in UNSAFE_ATTRIBUTES)

    def _filter(self, node: Any) -> None:
        n = self.n
        name = node.name
        if name not in ALLOWED_FILTERS:
            self.add("filter", "medium", f"uses the filter `{clean(name)}`, which is not a built-in Jinja filter", node, name)
            return
        if name == "attr":
            if not node.args:
                return
            arg = node.args[0]
            if isinstance(arg, n.Const) and isinstance(arg.value, str):
                self._name_used(arg.value, node, "attribute")
            else:
                built = self._folded_name(arg)
                if built is not None:
                    self._name_used(built, node, "attribute", computed=True)
                self.add("attr", "high", "uses the `attr` filter with a computed name (sandbox-escape obfuscation)", node,
                         f"attr:{node.lineno}")
            return
        if name in ("map", "select", "reject") and node.args:
            self._filter_by_name(node, name)
        where = ATTRIBUTE_ARG_FILTERS.get(name)
        if where is not None:
            arg = None
            if isinstance(where, int) and len(node.args) > where and not (name == "map" and node.args):
                arg = node.args[where]
            for kw in node.kwargs:
                if kw.key == where or (kw.key == "attribute"):
                    arg = kw.value
            if arg is not None:
                self._attribute_path(arg, node, name)

    def _filter_by_name(self, node: Any, name: str) -> None:
        """``map('attr', x)``/``select('test')``: the first argument names a filter or test."""
        n = self.n
        first = node.args[0]
        if not (isinstance(first, n.Const) and isinstance(first.value, str)):
            self.add("computed-name", "high", f"`{name}` applies a filter or test chosen at run time", node, f"{name}:{node.lineno}")
            return
        inner = first.value
        allowed = ALLOWED_FILTERS if name == "map" else ALLOWED_TESTS
        if inner not in allowed:
            self.add("filter", "medium", f"`{name}` applies `{clean(inner)}`, which is not a built-in Jinja filter or test", node, inner)
        if name == "map" and inner == "attr" and len(node.args) > 1:
            self._attribute_path(node.args[1], node, "map('attr')")

    def _attribute_path(self, arg: Any, node: Any, via: str) -> None:
        n = self.n
        if isinstance(arg, n.Const) and isinstance(arg.value, str):
            for seg in arg.value.split("."):
                self._name_used(seg, node, "attribute")
            return
        if isinstance(arg, n.Const):
            return  # an index (``map(attribute=0)``)
        built = self._folded_name(arg)
        if built is not None:
            for seg in built.split("."):
                self._name_used(seg, node, "attribute", computed=True)
            return
        if not self._dirty(arg):
            return  # the caller's data names the attribute (``map(attribute=key)``)
        self.add("computed-name", "high", f"`{via}` reads an attribute named by a string it builds at run time (sandbox-escape "
                 "obfuscation)", node, f"{via}:{node.lineno}")

    def _call(self, node: Any) -> None:
        n = self.n
        f = node.node
        if isinstance(f, n.Name):
            if f.name not in CALLABLE_GLOBALS and f.name not in self.macros and f.name not in GADGETS:
                self.add("call", "medium", f"calls `{clean(f.name)}`, which is neither a Jinja/transformers global nor a macro of "
                         "the template", node, f.name)
            return
        if isinstance(f, n.Getattr):
            method = f.attr
            if method in ("format", "format_map"):
                self._format_call(f.node, node)
            elif method in MUTATING_METHODS:
                self.add("mutation", "medium", f"calls `{clean(method)}`, which changes its input (refused by the immutable sandbox "
                         "transformers renders with)", node, method)
            elif method not in SAFE_METHODS and not method.startswith("_"):
                self.add("method", "high", f"calls the method `{clean(method[:60])}`, which chat templates have no use for", node, method)
            return
        self.add("call", "high", "calls a value the template computed (not a named function or method)", node, f"call:{node.lineno}")

    def _format_call(self, receiver: Any, node: Any) -> None:
        """``str.format`` resolves ``{0.attr}`` and ``{0[key]}`` fields outside Jinja's checks
        (unless the sandbox intercepts it): the format string must be a literal without them."""
        n = self.n
        if not (isinstance(receiver, n.Const) and isinstance(receiver.value, str)):
            self.add("format-string", "high", "calls `format` on a string it builds or receives (format fields can read attributes)",
                     node, f"format:{node.lineno}")
            return
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(receiver.value) if f]
        except ValueError:
            self.add("format-string", "high", "calls `format` with a malformed format string", node, "format:malformed")
            return
        for field_name in fields:
            if "." in field_name or "[" in field_name:
                self.add("format-string", "critical", f"format field `{clean(field_name[:60])}` reads attributes of its argument "
                         "(sandbox escape)", node, field_name)


def _text(v: Any) -> str:
    if isinstance(v, (str, int)) and not isinstance(v, bool):
        return str(v)
    raise _Unfoldable


def _index(v: Any, i: Any) -> Any:
    if isinstance(v, (str, list)) and isinstance(i, (int, slice)) and not isinstance(i, bool):
        return v[i]
    raise _Unfoldable


_WIDE = re.compile(r"%[#0\- +]*[*\d.(]")  # widths, precisions, ``*`` and mapping keys


def _percent(fmt: Any, args: Any) -> str:
    """``fmt % args`` for literal strings and ints, without widths that could blow up."""
    if not isinstance(fmt, str) or _WIDE.search(fmt):
        raise _Unfoldable
    values = tuple(args) if isinstance(args, list) else (args,)
    if not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in values):
        raise _Unfoldable
    if any(isinstance(a, int) and not 0 <= a < 0x110000 for a in values):
        raise _Unfoldable
    out = fmt % values
    if len(out) > MAX_FOLD_CHARS:
        raise _Unfoldable
    return out


def _str_format(fmt: str, args: list[Any]) -> str:
    """``fmt.format(*args)`` only for plain positional fields (no attribute/index, no width)."""
    pieces: list[str] = []
    auto = 0
    for literal, field_name, spec, conv in string.Formatter().parse(fmt):
        pieces.append(literal)
        if field_name is None:
            continue
        if "." in field_name or "[" in field_name or conv or spec not in ("", "c", "s", "d"):
            raise _Unfoldable
        if field_name == "":
            idx, auto = auto, auto + 1
        elif field_name.isdigit():
            idx = int(field_name)
        else:
            raise _Unfoldable
        if not 0 <= idx < len(args):
            raise _Unfoldable
        v = args[idx]
        if spec == "c":
            if not isinstance(v, int) or not 0 <= v < 0x110000:
                raise _Unfoldable
            pieces.append(chr(v))
        else:
            pieces.append(str(v))
    out = "".join(pieces)
    if len(out) > MAX_FOLD_CHARS:
        raise _Unfoldable
    return out


def scan_jinja(scan: "Scan", f: BinaryIO, src: "Source", member: str | None, depth: int, name: str, size: int | None) -> None:
    """A ``.jinja`` file beside a model (``chat_template.jinja``, which transformers loads by name,
    or any other template): read it whole (bounded), judge it like an embedded template."""
    data = src.peek(MAX_TEMPLATE_CHARS * 4 + 1)  # UTF-8: at most 4 bytes a character
    label = name.replace("\\", "/").rsplit("/", 1)[-1]
    if len(data) > MAX_TEMPLATE_CHARS * 4:
        scan.inconclusive(f"template `{clean(label)}` is over the size limit and was not checked", member, 0, key="template-size")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        scan.inconclusive(f"template `{clean(label)}` is not UTF-8 text and cannot be checked", member, 0, key="template-utf8")
        return
    check_template(scan, text, label, member, 0)
