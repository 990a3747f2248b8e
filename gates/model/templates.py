"""Static checks on Jinja chat templates (GGUF ``tokenizer.chat_template*``).

Inference servers render these templates, some without Jinja's sandbox. Every public template
injection chain walks Python's object graph through dunder attributes (``__class__``,
``__mro__``, ``__subclasses__``, ``__globals__``...), usually obfuscated with ``|attr()``,
string escapes (``\\x5f`` is ``_``) or concatenation. Ordinary chat templates need none of that,
so any of it is reported. Only the code inside ``{{ }}``/``{% %}`` is analysed, not the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BLOCK_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
DUNDER_RE = re.compile(r"__[A-Za-z0-9_]+__")
ESCAPE_RE = re.compile(r"\\x5[fF]|\\u005[fF]|\\137|\\N\{LOW LINE\}|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}")
UNDERSCORE_LITERAL_RE = re.compile(r"""(['"])_+\1""")
ATTR_RE = re.compile(r"\|\s*attr\b|\battr\s*\(")
GADGETS = ("lipsum", "cycler", "joiner", "url_for", "get_flashed_messages", "self", "config", "request", "namespace.__init__")
GADGET_RE = re.compile(r"\b(" + "|".join(re.escape(g) for g in GADGETS if "." not in g) + r")\b\s*[.\[|(]")
DANGEROUS_WORDS = re.compile(r"\b(popen|subprocess|import_module|builtins|getattr|globals|os\.system|os\.popen)\b")


@dataclass(frozen=True)
class TemplateProblem:
    code: str
    severity: str
    message: str
    evidence: str


def _ev(s: str) -> str:
    s = " ".join(s.split())
    return s[:120] + ("…" if len(s) > 120 else "")


def analyse_template(template: str) -> list[TemplateProblem]:
    out: list[TemplateProblem] = []
    seen: set[str] = set()

    def add(code: str, severity: str, message: str, evidence: str) -> None:
        if code not in seen:
            seen.add(code)
            out.append(TemplateProblem(code, severity, message, _ev(evidence)))

    for m in BLOCK_RE.finditer(template):
        block = m.group(0)
        d = DUNDER_RE.search(block)
        if d:
            add("dunder", "critical", f"reaches Python internals through `{d.group(0)}` (sandbox escape)", block)
        if ATTR_RE.search(block):
            add("attr", "high", "uses the `attr` filter/function to reach attributes by computed name (sandbox-escape obfuscation)", block)
        if ESCAPE_RE.search(block):
            add("escape", "high", "builds names from escape sequences (e.g. \\x5f for '_'), an obfuscation of dunder access", block)
        if UNDERSCORE_LITERAL_RE.search(block):
            # medium: templates do use `replace(" ", "_")`; combined with other signs it is an escape
            add("underscore", "medium", "builds names from underscore string literals, an obfuscation of dunder access", block)
        g = GADGET_RE.search(block)
        if g:
            add("gadget", "high", f"uses `{g.group(1)}`, a known template-injection gadget", block)
        w = DANGEROUS_WORDS.search(block)
        if w:
            add("dangerous-name", "high", f"mentions `{w.group(1)}`, which a chat template has no use for", block)
    return out
