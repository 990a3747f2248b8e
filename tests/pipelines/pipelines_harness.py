"""Run a composite action's ``run:`` steps as the GitHub runner would, for tests.

Each step runs with ``bash --noprofile --norc -eo pipefail`` (the runner's ``shell: bash``), its
``env:`` with ``${{ }}`` expressions evaluated, and fresh ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``,
``GITHUB_ENV`` and ``GITHUB_PATH`` files parsed afterwards (``name=value`` and heredoc
``name<<DELIM`` forms). ``if:`` conditions are evaluated with the runner's default ``success()``.
Steps with ``uses:`` are recorded but not executed (schema and actionlint tests cover them).
Only the expression forms an action of this size needs are supported; anything else raises.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||[()!])|(?P<call>[a-z]+\(\))|(?P<ref>[A-Za-z_][\w.-]*))")


@dataclass
class StepRun:
    name: str
    id: str | None
    ran: bool
    wanted: bool = False  # its if: condition held (a uses: step is then recorded, not run)
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, str]
    failed: bool

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    @property
    def log(self) -> str:
        return "".join(s.stdout + s.stderr for s in self.steps)

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)


def parse_file_commands(text: str) -> dict[str, str]:
    """``GITHUB_OUTPUT``/``GITHUB_ENV`` syntax: ``k=v`` lines and ``k<<EOF`` … ``EOF`` blocks."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"unterminated heredoc for {key!r}")
            out[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
        elif line.strip():
            raise ValueError(f"bad file command line {line!r}")
        i += 1
    return out


class Context:
    def __init__(self, inputs: dict[str, str], github: dict[str, str], steps: dict[str, dict[str, str]]):
        self.inputs, self.github, self.steps = inputs, github, steps
        self.failed = False

    def ref(self, name: str) -> str:
        parts = name.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return self.inputs[parts[1]]
        if parts[0] in ("github", "runner") and len(parts) == 2:
            return self.github.get(f"{parts[0]}.{parts[1]}", "")
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return self.steps.get(parts[1], {}).get(parts[3], "")
        raise ValueError(f"unsupported expression reference {name!r}")

    def evaluate(self, expr: str) -> Any:
        """``a == 'x' && (b != '' || !c)``, references, string literals and status functions."""
        py: list[str] = []
        values: list[Any] = []
        pos = 0
        while pos < len(expr):
            m = TOKEN.match(expr, pos)
            if not m or m.end() == pos:
                if expr[pos:].strip() == "":
                    break
                raise ValueError(f"unsupported expression {expr!r}")
            pos = m.end()
            if m["str"]:
                values.append(m["str"][1:-1].replace("''", "'"))
                py.append(f"_v[{len(values) - 1}]")
            elif m["op"]:
                py.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], f" {m['op']} "))
            elif m["call"]:
                fn = m["call"]
                if fn not in ("success()", "failure()", "always()", "cancelled()"):
                    raise ValueError(f"unsupported function {fn}")
                values.append({"success()": not self.failed, "failure()": self.failed, "always()": True, "cancelled()": False}[fn])
                py.append(f"_v[{len(values) - 1}]")
            else:
                values.append(self.ref(m["ref"]))
                py.append(f"_v[{len(values) - 1}]")
        return eval("".join(py) or "True", {"__builtins__": {}}, {"_v": values})  # noqa: S307 - our own token stream

    def interpolate(self, text: str) -> str:
        return EXPR.sub(lambda m: str(self.evaluate(m.group(1))), text)


def run_action(action: Path, inputs: dict[str, str], workdir: Path, env: dict[str, str], runner_temp: Path,
               event_name: str = "push", token: str = "", preset: dict[str, dict[str, str]] | None = None) -> ActionRun:
    """Run the action. ``preset`` maps step ids to outputs: those steps are not run again (the
    install step, tested once for real, is reused this way to keep the suite fast)."""
    spec = yaml.safe_load(action.read_text())
    declared = spec.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    if unknown:
        raise ValueError(f"unknown inputs {sorted(unknown)}")  # the runner warns; a test should not pass one
    github = {"github.action_path": str(action.parent), "github.event_name": event_name, "github.token": token,
              "github.workspace": str(workdir), "runner.temp": str(runner_temp)}
    ctx = Context({}, github, {})
    ctx.inputs = {k: inputs[k] if k in inputs else ctx.interpolate(str(v.get("default", ""))) for k, v in declared.items()}
    step_env = dict(env)
    path_prefix: list[str] = []
    runs: list[StepRun] = []
    for n, step in enumerate(spec["runs"]["steps"]):
        name = step.get("name", f"step {n}")
        cond = step.get("if")
        cond_ok = ctx.evaluate(EXPR.sub(r"\1", str(cond))) if cond is not None else not ctx.failed
        if cond is not None and not re.search(r"\b(always|failure|cancelled)\(\)", str(cond)):
            cond_ok = cond_ok and not ctx.failed  # the implicit success() of a condition
        if not cond_ok or "uses" in step:
            with_ = {k: ctx.interpolate(str(v)) for k, v in (step.get("with") or {}).items()} if cond_ok else {}
            runs.append(StepRun(name, step.get("id"), False, bool(cond_ok), uses=step.get("uses"), with_=with_))
            continue
        if preset and step.get("id") in preset:
            ctx.steps[step["id"]] = dict(preset[step["id"]])
            runs.append(StepRun(name, step.get("id"), False, True, outputs=dict(preset[step["id"]])))
            continue
        files = {k: runner_temp / f"_step{n}_{k}" for k in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")}
        for f in files.values():
            f.write_text("")
        script = runner_temp / f"_step{n}.sh"
        script.write_text(step["run"])
        e = {**os.environ, **step_env, **{k: ctx.interpolate(str(v)) for k, v in (step.get("env") or {}).items()},
             **{k: str(v) for k, v in files.items()}, "GITHUB_ACTION_PATH": str(action.parent), "GITHUB_ACTIONS": "true",
             "GITHUB_WORKSPACE": str(workdir), "RUNNER_TEMP": str(runner_temp), "GITHUB_EVENT_NAME": event_name}
        if path_prefix:
            e["PATH"] = os.pathsep.join(path_prefix + [e.get("PATH", "")])
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workdir, env=e,
                           capture_output=True, text=True, timeout=600)
        outputs = parse_file_commands(files["GITHUB_OUTPUT"].read_text())
        step_env.update(parse_file_commands(files["GITHUB_ENV"].read_text()))
        path_prefix = [x for x in files["GITHUB_PATH"].read_text().splitlines() if x] + path_prefix
        if step.get("id"):
            ctx.steps[step["id"]] = outputs
        runs.append(StepRun(name, step.get("id"), True, True, None, {}, p.returncode, p.stdout, p.stderr, outputs,
                            files["GITHUB_STEP_SUMMARY"].read_text()))
        if p.returncode != 0 and not step.get("continue-on-error"):
            ctx.failed = True
    outs = {k: ctx.interpolate(str(v.get("value", ""))) for k, v in (spec.get("outputs") or {}).items()}
    return ActionRun(runs, outs, ctx.failed)
