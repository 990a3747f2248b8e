"""Readers for evaluation results: lm-evaluation-harness, MLflow, plain JSON and CSV.

Each reader turns a file (or an MLflow run directory) into named metrics with their location.
Anything that cannot be parsed raises :class:`InputError` (the gate then fails closed); a
reader never returns an empty result for a file it did not understand.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from gates.core.errors import InputError

MAX_BYTES = 64 << 20
FORMATS = ("auto", "lm-eval", "mlflow", "json", "csv")


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    path: Path
    line: int | None = None
    row: int | None = None


def read_results(path: Path, fmt: str = "auto", max_bytes: int = MAX_BYTES) -> list[Metric]:
    """Read every metric from ``path`` (a file, or an MLflow run directory)."""
    if path.is_dir():
        if fmt not in ("auto", "mlflow"):
            raise InputError(str(path), f"is a directory, but format {fmt!r} expects a file")
        return read_mlflow_run_dir(path, max_bytes)
    text = _read_text(path, max_bytes)
    suffix = path.suffix.lower()
    if fmt == "csv" or (fmt == "auto" and suffix in (".csv", ".tsv")):
        return read_csv(path, text)
    if fmt in ("auto", "lm-eval", "mlflow", "json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(str(path), f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        except RecursionError:
            raise InputError(str(path), "JSON nested too deeply") from None
        kind = fmt if fmt != "auto" else sniff_json(data)
        if kind in ("lm-eval", "mlflow") and not isinstance(data, dict):
            raise InputError(str(path), f"a {kind} results file is a JSON object, not {type(data).__name__}")
        if kind == "lm-eval":
            return read_lm_eval(path, text, data)
        if kind == "mlflow":
            return read_mlflow_json(path, text, data)
        return read_plain_json(path, text, data)
    raise InputError(str(path), f"unknown results format {fmt!r}")


def _read_text(path: Path, max_bytes: int) -> str:
    try:
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > max_bytes:
        raise InputError(str(path), f"larger than the {max_bytes >> 20} MiB limit for results files")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text (byte {exc.start})") from None


def sniff_json(data: Any) -> str:
    if isinstance(data, dict):
        res = data.get("results")
        if isinstance(res, dict) and res and all(isinstance(v, dict) for v in res.values()) and (
            "versions" in data or "configs" in data or "n-shot" in data
            or any("," in k or k == "alias" for v in res.values() for k in v)
        ):
            return "lm-eval"
        run = data.get("run") if isinstance(data.get("run"), dict) else data
        if isinstance(run.get("data"), dict) and "metrics" in run["data"] and ("info" in run or "run_id" in run.get("info", {})):
            return "mlflow"
    return "json"


# ---- lm-evaluation-harness ---------------------------------------------------------------------

def lm_eval_name(task: str, key: str) -> str:
    metric, _, filt = key.partition(",")
    return f"{task}/{metric}" if filt in ("", "none") else f"{task}/{metric},{filt}"


def read_lm_eval(path: Path, text: str, data: dict[str, Any]) -> list[Metric]:
    """``results.<task>.<metric>,<filter>`` (and ``groups``) → ``task/metric[,filter]``."""
    out: list[Metric] = []
    finder = _KeyLines(text)
    for section in ("results", "groups"):
        block = data.get(section)
        if block is None:
            continue
        if not isinstance(block, dict):
            raise InputError(str(path), f"lm-evaluation-harness '{section}' is not an object")
        for task, metrics in block.items():
            if not isinstance(metrics, dict):
                raise InputError(str(path), f"lm-evaluation-harness {section}.{task} is not an object")
            for key, value in metrics.items():
                if key == "alias" or key == "samples":
                    continue
                num = _number(value)
                if num is None:
                    continue  # "N/A" stderr and similar non-numeric entries
                out.append(Metric(lm_eval_name(task, key), num, path, line=finder.find(section, task, key)))
    if not out:
        raise InputError(str(path), "lm-evaluation-harness file has no numeric results")
    return out


# ---- MLflow --------------------------------------------------------------------------------------

def read_mlflow_json(path: Path, text: str, data: dict[str, Any]) -> list[Metric]:
    """``mlflow runs describe`` output or the REST ``runs/get`` response."""
    run = data.get("run") if isinstance(data.get("run"), dict) else data
    metrics = run.get("data", {}).get("metrics") if isinstance(run.get("data"), dict) else None
    finder = _KeyLines(text)
    out: list[Metric] = []
    if isinstance(metrics, dict):
        for k, v in metrics.items():
            num = _number(v)
            if num is None:
                raise InputError(str(path), f"MLflow metric {k!r} is not a number")
            out.append(Metric(k, num, path, line=finder.find("metrics", k)))
    elif isinstance(metrics, list):
        latest: dict[str, tuple[tuple[int, int], float, int | None]] = {}
        for i, m in enumerate(metrics):
            if not isinstance(m, dict) or "key" not in m or _number(m.get("value")) is None:
                raise InputError(str(path), f"MLflow metric entry {i} has no numeric key/value")
            order = (int(m.get("step", 0) or 0), int(m.get("timestamp", 0) or 0))
            if m["key"] not in latest or order >= latest[m["key"]][0]:
                latest[m["key"]] = (order, float(m["value"]), None)
        out = [Metric(k, v, path) for k, (_, v, _l) in latest.items()]
    else:
        raise InputError(str(path), "MLflow run JSON has no data.metrics")
    return out


def read_mlflow_run_dir(path: Path, max_bytes: int) -> list[Metric]:
    """A run directory (``mlruns/<exp>/<run>/``): ``metrics/<name>`` files of
    ``timestamp value step`` lines; the latest value (highest step, then time) counts, as in MLflow."""
    mdir = path / "metrics"
    if not mdir.is_dir():
        raise InputError(str(path), "directory is not an MLflow run (no metrics/ directory)")
    out: list[Metric] = []
    for f in sorted(p for p in mdir.rglob("*") if p.is_file()):
        name = f.relative_to(mdir).as_posix()
        if f.is_symlink():
            # MLflow writes plain files; a link could read from anywhere (e.g. out of the repository)
            raise InputError(str(f), "MLflow metric file is a symlink; not followed")
        text = _read_text(f, max_bytes)
        best: tuple[tuple[int, int], float, int] | None = None
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) < 2:
                raise InputError(str(f), f"line {lineno}: expected 'timestamp value [step]'")
            try:
                ts, val = int(parts[0]), float(parts[1])
                step = int(parts[2]) if len(parts) > 2 else 0
            except ValueError:
                raise InputError(str(f), f"line {lineno}: not 'timestamp value [step]' numbers") from None
            if best is None or (step, ts) >= best[0]:
                best = ((step, ts), val, lineno)
        if best is None:
            raise InputError(str(f), "MLflow metric file is empty")
        out.append(Metric(name, best[1], f, line=best[2]))
    if not out:
        raise InputError(str(path), "MLflow run has no metrics")
    return out


# ---- plain JSON ----------------------------------------------------------------------------------

def read_plain_json(path: Path, text: str, data: Any) -> list[Metric]:
    """Nested objects flattened to dotted keys (``a.b.c``, list items as ``a[0]``)."""
    out: list[Metric] = []
    finder = _KeyLines(text)
    for keys, value in _flatten(data, ()):
        num = _number(value)
        if num is None:
            continue
        name = ""
        for k in keys:
            name += f"[{k}]" if isinstance(k, int) else (f".{k}" if name else str(k))
        str_keys = [k for k in keys if isinstance(k, str)]
        out.append(Metric(name, num, path, line=finder.find(*str_keys) if str_keys else None))
    if not out:
        raise InputError(str(path), "JSON file has no numeric values")
    return out


def _flatten(obj: Any, prefix: tuple[Any, ...], depth: int = 0) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if depth > 64:
        raise InputError("", "JSON nested too deeply")
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, (*prefix, str(k)), depth + 1)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _flatten(v, (*prefix, i), depth + 1)
    else:
        yield prefix, obj


# ---- CSV -----------------------------------------------------------------------------------------

NAME_COLUMNS = ("metric", "name", "key", "metric_name")
VALUE_COLUMNS = ("value", "score", "metric_value")


def read_csv(path: Path, text: str) -> list[Metric]:
    """Either long form (``metric,value`` plus optional label columns such as ``task``, joined
    as ``task/metric``) or wide form (one row per slice: first column the slice label, the
    others numeric metrics, named ``<label column>/<label>/<metric>``)."""
    delimiter = "\t" if path.suffix.lower() == ".tsv" else None
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(str(path), "CSV file is empty") from None
    except csv.Error as exc:
        raise InputError(str(path), f"CSV error on line 1: {exc}") from None
    cols = [h.strip() for h in header]
    lower = [c.lower() for c in cols]
    name_col = next((lower.index(c) for c in NAME_COLUMNS if c in lower), None)
    value_col = next((lower.index(c) for c in VALUE_COLUMNS if c in lower), None)
    out: list[Metric] = []
    rows: list[tuple[int, int, list[str]]] = []
    try:
        for rowno, row in enumerate(reader, 1):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(cols):
                raise InputError(str(path), f"line {reader.line_num}: {len(row)} fields, header has {len(cols)}")
            rows.append((rowno, reader.line_num, row))
    except csv.Error as exc:
        raise InputError(str(path), f"CSV error on line {reader.line_num}: {exc}") from None
    if name_col is not None and value_col is not None:
        labels = [i for i in range(len(cols)) if i not in (name_col, value_col)]
        for rowno, line, row in rows:
            num = _number(row[value_col])
            if num is None:
                raise InputError(str(path), f"line {line}: value in column {cols[value_col]!r} is not a number")
            prefix = "/".join(row[i].strip() for i in labels if row[i].strip())
            name = f"{prefix}/{row[name_col].strip()}" if prefix else row[name_col].strip()
            out.append(Metric(name, num, path, line=line, row=rowno))
    else:
        if not rows:
            raise InputError(str(path), "CSV file has a header but no rows")
        label_col = 0 if any(_number(r[0]) is None for _, _, r in rows) else None
        for rowno, line, row in rows:
            for i, cell in enumerate(row):
                if i == label_col:
                    continue
                num = _number(cell)
                if num is None:
                    if cell.strip() == "":
                        continue
                    raise InputError(str(path), f"line {line}: column {cols[i]!r} is not a number")
                if label_col is None:
                    name = cols[i] if len(rows) == 1 else f"row{rowno}/{cols[i]}"
                else:
                    name = f"{cols[label_col]}/{row[label_col].strip()}/{cols[i]}"
                out.append(Metric(name, num, path, line=line, row=rowno))
    if not out:
        raise InputError(str(path), "CSV file has no metrics")
    return out


# ---- helpers -------------------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            return None
    return None


def is_finite(v: float) -> bool:
    return not (math.isnan(v) or math.isinf(v))


class _KeyLines:
    """Best-effort line numbers of JSON keys: finds each key in order after the previous one."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [m.end() for m in re.finditer("\n", text)]

    def find(self, *keys: str) -> int | None:
        pos = 0
        for k in keys:
            idx = self.text.find(json.dumps(k, ensure_ascii=False), pos)
            if idx < 0:
                return None
            pos = idx + 1
        return self._line(pos - 1)

    def _line(self, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self._starts, offset) + 1
