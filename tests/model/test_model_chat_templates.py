"""Chat templates judged on Jinja's syntax tree (issue 12, item 4).

The malicious templates are the published sandbox-escape shapes and their obfuscations: dunders
written out, built at run time (``%c`` formatting, ``~``, ``*``, ``join``, ``replace``,
``reverse``, slices of object reprs), passed through ``set``/``for``/macros/namespaces, reached
through ``attr``, ``map('attr')``, ``map(attribute=)``, ``selectattr`` and ``str.format`` fields,
and hidden behind string literals holding ``}}``. The benign ones use what real chat templates
use: namespaces, macros with keyword arguments, ``loop``, ``raise_exception``, ``strftime_now``,
``tojson``, ``selectattr('role', 'equalto', ...)``, slices, ``split``, ``{% generation %}``.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("jinja2")

from gates.model.chat_templates import TemplateUnreadable, analyse_template, templates_in_config  # noqa: E402
from modelsamples import gguf, rules, scan_file, zip_bytes  # noqa: E402

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + "
          "message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
          "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")
MISTRAL = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
           "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
           "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == "
           "'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are "
           "supported!') }}{% endif %}{% endfor %}")
TOOLS = """{%- set today = strftime_now("%d %b %Y") %}
{%- set ns = namespace(found=false, last_user_index=-1, system='') %}
{%- macro fmt(arg, escape_keys=True) -%}{%- if arg is mapping -%}{%- for k, v in arg | dictsort -%}{{ k }}:{{ fmt(v, escape_keys=escape_keys) }}{%- endfor -%}{%- else -%}{{ arg }}{%- endif -%}{%- endmacro -%}
{%- set user_messages = messages | selectattr("role", "equalto", "user") | list %}
{%- for m in messages %}{%- if m.role == 'user' %}{% set ns.last_user_index = loop.index0 %}{% endif %}{%- endfor %}
{%- for message in messages %}
  {%- if message.tool_calls %}{%- for tc in message.tool_calls %}{%- set out = tc.function|tojson %}{{- out[:-1] }}{{- ', "id": "' + tc.id[-9:] + '"}' }}
  {% set _args = tc.function.arguments or {} %}{% for k, v in _args.items() %}<arg>{{ k }}={{ v | tojson(ensure_ascii=False) if v is not string else v }}</arg>{% endfor %}{%- endfor %}
  {%- elif '</think>' in message.content %}{{ message.content.split('</think>')[-1].lstrip('\\n') }}
  {%- else %}{{ '\\n' ~ message['content'] | trim }}{{- "}}" }}{%- endif %}
  {%- if message.tool_calls is defined and message.tool_calls[0].function.arguments is mapping %}{{ fmt(message.tool_calls[0].function.arguments) }}{% endif %}
{%- endfor %}
{%- for t in tools | default([]) %}{{ t.function | tojson | string }}{{ t.type | map('upper') | list }}{% endfor %}
{%- for item in messages[ns.last_user_index:] %}{{ item['content'][0]['text'] if item['content'] is not string else item['content'] }}{% endfor %}
{% generation %}{{ messages[-1].content }}{% endgeneration %}
{{ (messages | map(attribute='role') | join(', ')) }}{{ messages|sort(attribute='role')|first }}{{ '{}: {}'.format(today, ns.system) }}"""
BUILT_KEYS = ("{% for name in tool.parameters %}{{ tool['param_' ~ name] }}{{ ns['last_' ~ message.role] }}{% endfor %}"
              "{{ messages|map(attribute=key)|list }}{{ messages|map(attribute='ro' ~ 'le')|list }}")
BENIGN = {"chatml": CHATML, "built-keys": BUILT_KEYS, "llama3": LLAMA3, "mistral": MISTRAL, "tools": TOOLS,
          "text-with-underscores": "Say __init__ and {{ '{{' }} to me {# __class__ #}{% raw %}{{ x.__class__ }}{% endraw %}"}

MALICIOUS = {
    # written out
    "mro": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "dunder"),
    "cycler-globals": ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "dunder"),
    "self-context": ("{{ self._TemplateReference__context }}", "private"),
    "frame": ("{{ gen.gi_frame.f_globals }}", "internals"),
    "mro-method": ("{{ x.mro() }}", "internals"),
    "escaped-literal": ("{{ (messages|attr('\\x5f\\x5fclass\\x5f\\x5f')) }}", "dunder"),
    "unicode-escape": ("{{ x['\\u005f\\u005fclass\\u005f\\u005f'] }}", "dunder"),
    # built at run time
    "percent-c-format": ("{{ messages|attr('%c%cclass%c%c'|format(95,95,95,95)) }}", "dunder"),
    "percent-c-set": ("{% set d = '%c%c'|format(95,95) %}{{ x[d ~ 'init' ~ d][d ~ 'globals' ~ d] }}", "dunder"),
    "percent-mod": ("{{ x['%c' % 95 ~ '%c' % 95 ~ 'class__'] }}", "dunder"),
    "mul-concat": ("{{ x|attr('_'*2 ~ 'class' ~ '_'*2) }}", "dunder"),
    "set-concat": ("{% set u = '_' %}{{ messages[u ~ u ~ 'class' ~ u ~ u] }}", "dunder"),
    "join-list": ("{{ x[['_','_','class','_','_']|join] }}", "dunder"),
    "join-attr": ("{{ x|attr(('_', '_', 'class', '_', '_')|join) }}", "dunder"),
    "str-join": ("{{ x[''.join(['__', 'class', '__'])] }}", "dunder"),
    "str-format-c": ("{{ x['{:c}{:c}class{:c}{:c}'.format(95,95,95,95)] }}", "dunder"),
    "reverse": ("{{ x['__ssalc__'|reverse] }}", "dunder"),
    "replace": ("{{ x['XXclassXX'|replace('X', '_')] }}", "dunder"),
    "macro-param": ("{% macro f(k) %}{{ x[k] }}{% endmacro %}{{ f('_' ~ '_class__') }}", "dunder"),
    # built from object reprs, blocks, loops, namespaces: not foldable, still refused
    "lipsum-repr": ("{% set u = (lipsum|string)[18] %}{{ x[u*2 ~ 'class' ~ u*2] }}", "computed-name"),
    "select-repr": ("{% set s = ()|select|string %}{% set u = s[24] %}{{ x[u ~ u ~ 'globals' ~ u ~ u] }}", "computed-name"),
    "macro-output": ("{% macro u() %}_{% endmacro %}{{ x[u() ~ u() ~ 'class' ~ u() ~ u()] }}", "computed-name"),
    "set-block": ("{% set k %}__class__{% endset %}{{ x[k] }}", "computed-name"),
    "namespace": ("{% set ns = namespace(k='_') %}{% set ns.k = ns.k ~ '_' %}{{ x[ns.k ~ 'class' ~ ns.k] }}", "computed-name"),
    "for-loop": ("{% for c in ['_'] %}{{ x[c ~ c ~ 'class' ~ c ~ c] }}{% endfor %}", "computed-name"),
    "dict-keyword": ("{{ x[dict(__class__=1)|list|first] }}", "computed-name"),
    # attribute-name arguments of filters
    "map-attr": ("{{ [x]|map('attr', '__class__')|list }}", "dunder"),
    "map-attribute": ("{{ messages|map(attribute='__class__')|list }}", "dunder"),
    "map-attribute-dotted": ("{{ messages|map(attribute='role.__class__.__mro__')|list }}", "dunder"),
    "map-attribute-computed": ("{% set a = '%c%c'|format(95,95) ~ 'class' ~ '%c%c'|format(95,95) %}"
                               "{{ messages|map(attribute=a)|list }}", "dunder"),
    "selectattr": ("{{ messages|selectattr('__class__')|list }}", "dunder"),
    "sort-attribute": ("{{ messages|sort(attribute='__class__')|list }}", "dunder"),
    "attr-computed-from-data": ("{{ x|attr(messages[0].content) }}", "attr"),
    # str.format fields read attributes outside Jinja's checks
    "format-fields": ("{{ '{0.__class__.__init__.__globals__}'.format(x) }}", "format-string"),
    "format-computed": ("{{ messages[0].content.format(x) }}", "format-string"),
    # string literals holding the end of an expression
    "frame-built": ("{{ x['f_' ~ 'globals'] }}", "internals"),
    "brace-literal": ("{{ \"}}\" ~ x.__class__ }}", "dunder"),
    "brace-literal-2": ("{{ '}}' }}{{ x['_' ~ '_class__'] }}", "dunder"),
    # other constructs
    "include": ("{% include 'other.j2' %}", "loads-template"),
    "import": ("{% import 'macros.j2' as m %}", "loads-template"),
    "call-computed": ("{{ x['y']() }}", "call"),
    "gadget": ("{{ lipsum['x'] }}", "gadget"),
}


@pytest.mark.parametrize("name", sorted(BENIGN))
def test_real_chat_template_shapes_pass(name):
    assert analyse_template(BENIGN[name]) == []


@pytest.mark.parametrize("name", sorted(MALICIOUS))
def test_escapes_are_found(name):
    template, code = MALICIOUS[name]
    problems = analyse_template(template)
    assert code in {p.code for p in problems}, [(p.code, p.message) for p in problems]
    assert all(p.severity in ("high", "critical") for p in problems if p.code == code)


def test_folded_dunder_is_named_in_the_message():
    (p,) = [p for p in analyse_template(MALICIOUS["percent-c-format"][0]) if p.code == "dunder"][:1]
    assert "__class__" in p.message and p.severity == "critical"


def test_unparseable_template_is_unreadable():
    with pytest.raises(TemplateUnreadable, match="does not parse"):
        analyse_template("{{ x.__class__ ")
    with pytest.raises(TemplateUnreadable, match="over the"):
        analyse_template("x" * ((1 << 20) + 1))


def test_deep_nesting_does_not_crash():
    with pytest.raises(TemplateUnreadable):
        analyse_template("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")


def test_evidence_is_cleaned():
    (p,) = analyse_template("{{ x.__class__ }} \x1b[31m token=ghp_" + "a" * 36)
    assert "\x1b" not in p.evidence and "ghp_aaaa" not in p.evidence


# ---- where templates come from ---------------------------------------------------------------------
def _template_hits(rep):
    return [h for h in rep.hits if h.rule == "MODEL014"]


def test_gguf_templates(tmp_path):
    rep = scan_file(tmp_path, "m.gguf", gguf({"general.architecture": "llama", "tokenizer.chat_template": TOOLS},
                                             [("w", [4], 0, 0)], b"\x00" * 32))
    assert not rep.hits
    rep = scan_file(tmp_path, "n.gguf", gguf({"tokenizer.chat_template.tool_use": "{{ x|attr('%c%cclass%c%c'|format(95,95,95,95)) }}",
                                              "tokenizer.chat_template": "Say __init__ to me"}))
    assert {h.key for h in _template_hits(rep)} >= {"tokenizer.chat_template.tool_use:dunder"}
    assert all(h.key.startswith("tokenizer.chat_template.tool_use:") for h in rep.hits)


def test_gguf_unparseable_template_is_inconclusive(tmp_path):
    rep = scan_file(tmp_path, "m.gguf", gguf({"tokenizer.chat_template": "{% for m in messages %}{{ m }}"}))
    assert rules(rep) == {"MODEL003"} and rep.hits[0].blocking


def test_shared_tiny_gguf_passes(shared):
    from gates.model.config import config_from_options
    from gates.model.scanner import scan_path

    rep = scan_path(str(shared / "models-benign" / "tiny.gguf"), config_from_options({"profiles": ["torch", "numpy"]}))
    assert not rep.hits


@pytest.mark.parametrize("value", [
    "{{ x.__class__ }}",
    [{"name": "default", "template": CHATML}, {"name": "tool_use", "template": "{{ x.__class__ }}"}],
])
def test_tokenizer_config_template(tmp_path, value):
    data = json.dumps({"bos_token": "<s>", "chat_template": value}).encode()
    rep = scan_file(tmp_path, "tokenizer_config.json", data)
    assert [h.rule for h in rep.hits] == ["MODEL014"] and rep.hits[0].key.endswith(":dunder")
    ok = json.dumps({"chat_template": [{"name": "default", "template": CHATML}, {"name": "rag", "template": MISTRAL}]})
    assert not scan_file(tmp_path, "b/tokenizer_config.json", ok.encode()).hits


def test_tokenizer_config_of_another_shape_or_broken_is_inconclusive(tmp_path):
    rep = scan_file(tmp_path, "tokenizer_config.json", json.dumps({"chat_template": {"default": "x"}}).encode())
    assert rules(rep) == {"MODEL003"}
    rep = scan_file(tmp_path, "b/tokenizer_config.json", b'{"chat_template": "{{ x }}", ')
    assert rules(rep) == {"MODEL003"}


def test_templates_in_config_shapes():
    assert templates_in_config({"chat_template": "a"}) == [("chat_template", "a")]
    assert templates_in_config({"chat_template": [{"name": "x", "template": "b"}, 3]}) == [
        ("chat_template[x]", "b"), ("chat_template[1]?", "")]
    assert templates_in_config({"chat_template": None}) == [] and templates_in_config([1]) == []


def test_jinja_files_beside_the_model(tmp_path):
    assert not scan_file(tmp_path, "chat_template.jinja", TOOLS.encode()).hits
    rep = scan_file(tmp_path, "b/chat_template.jinja", b"{{ x[['_','_','class','_','_']|join] }}")
    assert {h.key for h in rep.hits} == {"chat_template.jinja:dunder"}
    rep = scan_file(tmp_path, "c/chat_template.jinja", b"\xff\xfe{{ x }}")
    assert rules(rep) == {"MODEL003"}


def test_jinja_member_of_an_archive(tmp_path):
    data = zip_bytes([("model/chat_template.jinja", b"{{ x.__init__.__globals__ }}")])
    rep = scan_file(tmp_path, "bundle.zip", data)
    assert "MODEL014" in rules(rep)


def test_gate_discovers_templates(tmp_path, cli):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "chat_template.jinja").write_text("{{ x.__class__ }}")
    (tmp_path / "m" / "tokenizer_config.json").write_text(json.dumps({"chat_template": CHATML}))
    out = tmp_path / "r.json"
    r = cli("model", "m", "--format", "json", "--output", out, "-q", cwd=tmp_path)
    findings = json.loads(out.read_text())["findings"]
    assert r.code == 1 and [f["path"] for f in findings if f["blocking"]] == ["m/chat_template.jinja"]
