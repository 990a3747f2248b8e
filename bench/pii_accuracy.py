"""Accuracy of the pii gate on a corpus it was not written against, side by side with Presidio.

    python bench/pii_accuracy.py [--rows 200] [--seed 2026] [--no-presidio] [--json OUT]

Inputs: ``bench/pii_corpus.py`` (Faker, pinned, ten locales, plus the real datasets shipped in
scikit-learn, vega_datasets and plotly when they are installed). Reported per entity:

* column-level recall: labelled columns with a finding of that entity (any action);
* value-level recall: the finding's ``column_count`` over the column's non-empty values;
* on non-PII columns: columns with any finding, and with a *blocking* finding.

Presidio (``presidio-analyzer``, when installed) runs every predefined pattern recognizer and its
phone recognizer on each cell (at most ``--presidio-values`` per column), without an NLP model
(none is available offline: no PERSON/LOCATION, and no context-word score boosts). A column counts
as found when a cell gets a hit of the mapped entity with score >= 0.4; a non-PII column is a false
positive when any cell gets any hit with score >= 0.4.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pii_corpus  # noqa: E402

#: Presidio's names for our entities (DATE_OF_BIRTH: Presidio only has DATE_TIME)
PRESIDIO_NAMES = {
    "DATE_OF_BIRTH": ("DATE_TIME",),
    "PASSPORT": ("US_PASSPORT", "UK_PASSPORT", "ES_PASSPORT", "IT_PASSPORT", "IN_PASSPORT", "KR_PASSPORT", "PH_PASSPORT",
                 "ZA_PASSPORT"),
    "DRIVER_LICENSE": ("US_DRIVER_LICENSE", "UK_DRIVING_LICENCE", "IT_DRIVER_LICENSE", "KR_DRIVER_LICENSE", "ZA_DRIVER_LICENSE"),
    "DE_TAX_ID": ("DE_TAX_NUMBER", "DE_TAX_ID"),
    "LOCATION": ("LOCATION", "UK_POSTCODE"),
}
SCORE = 0.4


def read_columns(path: Path) -> dict[str, list[str]]:
    if path.name.endswith(".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        cols: dict[str, list[str]] = defaultdict(list)
        for r in data:
            for k, v in r.items():
                if v not in (None, ""):
                    cols[k].append(str(v))
        return cols
    raw = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    return {h: [r[i] for r in body if i < len(r) and r[i].strip()] for i, h in enumerate(header)}


def run_gate(directory: Path) -> list[dict]:
    from gates.core.cli import main

    out = directory.parent / "report.json"
    main(["pii", str(directory), "--root", str(directory), "--format", "json", "--output", str(out), "-q"])
    return json.loads(out.read_text())["findings"]


def presidio_recognizers() -> list:
    import inspect

    from presidio_analyzer import PatternRecognizer
    from presidio_analyzer import predefined_recognizers as P

    recs = []
    for name in dir(P):
        c = getattr(P, name)
        if inspect.isclass(c) and issubclass(c, PatternRecognizer) and c is not PatternRecognizer:
            try:
                recs.append(c())
            except Exception:  # noqa: BLE001 - a recognizer that needs arguments is left out
                continue
    recs.append(P.PhoneRecognizer())
    return recs


def presidio_hits(recs: list, value: str) -> set[str]:
    out = set()
    for r in recs:
        try:
            for res in r.analyze(value, r.supported_entities, None):
                if res.score >= SCORE:
                    out.add(res.entity_type)
        except Exception:  # noqa: BLE001 - recognizers that need NLP artifacts
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--presidio-values", type=int, default=60)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pii-acc-"))
    data = work / "data"
    labels = pii_corpus.build(data, rows=a.rows, seed=a.seed)
    t = time.perf_counter()
    findings = run_gate(data)
    took = time.perf_counter() - t
    ours: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)
    for f in findings:
        if f.get("column") is not None:
            ours[(Path(f["path"]).name, f["column"])][f["entity"]] = f
    cols = {name: read_columns(data / name) for name in {fn for fn, _ in labels}}
    recs = None
    if not a.no_presidio:
        try:
            recs = presidio_recognizers()
        except ImportError:
            print("presidio-analyzer not installed: its columns are left empty", file=sys.stderr)
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    fp = {"ours_any": [], "ours_block": [], "presidio": []}
    non_pii = 0
    for (fname, col), entity in sorted(labels.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        values = cols[fname].get(col, [])
        if not values:
            continue
        got = ours.get((fname, col), {})
        sample = values[: a.presidio_values]
        p_hits = [presidio_hits(recs, v) for v in sample] if recs is not None else []
        if entity is None:
            non_pii += 1
            if got:
                fp["ours_any"].append(f"{fname}:{col}:{'/'.join(got)}")
            if any(f["blocking"] for f in got.values()):
                fp["ours_block"].append(f"{fname}:{col}:{'/'.join(e for e, f in got.items() if f['blocking'])}")
            if recs is not None and any(p_hits):
                fp["presidio"].append(f"{fname}:{col}:{'/'.join(sorted(set().union(*p_hits)))}")
            continue
        s = stats[entity]
        s["columns"] += 1
        f = got.get(entity)
        if f is not None:
            s["ours_col"] += 1
            s["ours_val"] += min(1.0, f["column_count"] / len(values))
        if recs is not None:
            names = set(PRESIDIO_NAMES.get(entity, (entity,)))
            hit = sum(1 for h in p_hits if h & names)
            s["p_col"] += 1 if hit else 0
            s["p_val"] += hit / len(sample)
    table = {e: {"columns": int(s["columns"]), "ours_column_recall": s["ours_col"] / s["columns"],
                 "ours_value_recall": s["ours_val"] / s["columns"],
                 "presidio_column_recall": (s["p_col"] / s["columns"]) if recs is not None else None,
                 "presidio_value_recall": (s["p_val"] / s["columns"]) if recs is not None else None}
             for e, s in sorted(stats.items())}
    print(f"corpus: {len(labels)} labelled columns ({non_pii} non-PII) in {len(cols)} files; Faker locales "
          f"{', '.join(pii_corpus.LOCALES)}, {a.rows} rows each; gate run {took:.1f} s")
    print(f"{'entity':<18}{'cols':>5}  {'ours col':>8} {'ours val':>8}  {'presidio col':>12} {'presidio val':>12}")
    for e, r in table.items():
        pc = "-" if r["presidio_column_recall"] is None else f"{r['presidio_column_recall']:.2f}"
        pv = "-" if r["presidio_value_recall"] is None else f"{r['presidio_value_recall']:.2f}"
        print(f"{e:<18}{r['columns']:>5}  {r['ours_column_recall']:>8.2f} {r['ours_value_recall']:>8.2f}  {pc:>12} {pv:>12}")
    print(f"non-PII columns: {non_pii}; ours: {len(fp['ours_any'])} with a finding, {len(fp['ours_block'])} blocking; "
          f"presidio: {len(fp['presidio']) if recs is not None else '-'} with a hit (score >= {SCORE})")
    for k in ("ours_block", "ours_any"):
        for x in fp[k]:
            print(f"  {k}: {x}")
    sent = sentence_scores(a.seed, recs)
    print("free text (one sentence per line; positives: share found; look-alikes: share with any finding)")
    print(f"{'category':<10}{'expected':<20}{'n':>4}  {'ours':>6} {'presidio':>9} {'presidio any':>13}")
    for cat, r in sent.items():
        exp = sentences(a.seed, 1)[cat][0] or "(none)"
        pr = "-" if r.get("presidio") is None else f"{r['presidio']:.2f}"
        pa = "-" if r.get("presidio_any") is None else f"{r['presidio_any']:.2f}"
        print(f"{cat:<10}{exp:<20}{int(r['n']):>4}  {r['ours']:>6.2f} {pr:>9} {pa:>13}")
    if a.json:
        a.json.write_text(json.dumps({"table": table, "false_positives": fp, "non_pii_columns": non_pii, "sentences": sent},
                                     indent=2))
    return 0



# ---- free text: sentences of our own making -----------------------------------------------------

def sentences(seed: int, n: int = 40) -> dict[str, tuple[str | None, list[str]]]:
    """Per category, (expected entity or None for look-alikes, sentences)."""
    import ipaddress
    import random

    from faker import Faker

    f = Faker("en_US")
    f.seed_instance(seed)
    rng = random.Random(seed)

    def v6() -> str:
        a = ipaddress.IPv6Address(f.ipv6())
        return a.compressed if rng.random() < 0.5 else a.exploded

    def digits(k: int) -> str:
        return str(rng.randrange(10 ** (k - 1), 10 ** k))

    return {
        "card": ("CREDIT_CARD", [f"I paid with my card {f.credit_card_number()} yesterday." for _ in range(n)]),
        "iban": ("IBAN_CODE", [f"Please transfer the deposit to IBAN {Faker('de_DE').iban()} by Friday." for _ in range(n)]),
        "ipv6": ("IP_ADDRESS", [f"The server at {v6()} refused the connection." for _ in range(n)]),
        "aba": ("ABA_ROUTING_NUMBER", [f"Wire it to routing number {f.aba()} please." for _ in range(n)]),
        "ssn": ("US_SSN", [rng.choice(["My social security number is {}.", "SSN: {}", "ssn {} on file"]).format(
            f.ssn() if rng.random() < 0.5 else f.ssn().replace("-", "")) for _ in range(n)]),
        "itin": ("US_ITIN", [f"Her ITIN is {f.itin()} for the tax return." for _ in range(n)]),
        "version": (None, [f"Upgrade to version {rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}.{rng.randint(0, 999)} "
                           "before Monday." for _ in range(n)]),
        "order": (None, [f"Order {digits(16)} shipped on time." for _ in range(n)]),
        "build": (None, [f"Build {rng.randint(2019, 2026)}.{rng.randint(1, 12)}.{rng.randint(1, 28)}.{rng.randint(1, 99)} passed."
                         for _ in range(n)]),
        "batch": (None, [f"Batch {rng.randint(100, 899)} {rng.randint(10, 99)} {rng.randint(1000, 9999)} was recalled."
                         for _ in range(n)]),
    }


def sentence_scores(seed: int, recs: list | None) -> dict[str, dict[str, float | None]]:
    """Per category: our share of sentences with the expected entity (or, for look-alikes, with
    any finding), and Presidio's at score >= 0.4 and at any score."""
    from gates.core.cli import main

    out: dict[str, dict[str, float | None]] = {}
    work = Path(tempfile.mkdtemp(prefix="pii-sent-"))
    for cat, (entity, lines) in sentences(seed).items():
        p = work / f"{cat}.txt"
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rep = work / f"{cat}.json"
        main(["pii", str(p), "--root", str(work), "--format", "json", "--output", str(rep), "-q"])
        fs = json.loads(rep.read_text())["findings"]
        if entity is None:
            ours = len({e["row"] for f in fs for e in f.get("examples", [])} | {f["row"] for f in fs if f.get("row")})
        else:
            ours = sum(f["column_count"] for f in fs if f["entity"] == entity) + sum(
                1 for f in fs if f["entity"] == entity and f.get("test_value"))
        row: dict[str, float | None] = {"n": len(lines), "ours": min(ours, len(lines)) / len(lines)}
        if recs is not None:
            for label, thr in (("presidio", SCORE), ("presidio_any", 0.0)):
                hits = 0
                for s in lines:
                    got = set()
                    for r in recs:
                        try:
                            got |= {x.entity_type for x in r.analyze(s, r.supported_entities, None) if x.score >= thr}
                        except Exception:  # noqa: BLE001
                            continue
                    hits += bool(got if entity is None else entity in got)
                row[label] = hits / len(lines)
        out[cat] = row
    return out


if __name__ == "__main__":
    raise SystemExit(main())
