"""Independent inputs for the pii speed benchmark: values from Faker (pinned in the ``test``
extra) across ten locales, and CSV files shipped inside installed PyPI packages.

The project's own generator (``bench/pii_data.py``) was written next to the detectors; these
values were not. Faker is slow (tens of thousands of values a second), so a pool of rows is
generated once per seed and files of any size are cut from it by sampling rows with a seeded
RNG; every cell is still a Faker value. Files are cached under ``--cache`` by name and size.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN", "ja_JP")


def _fakers(seed: int):
    from faker import Faker

    out = []
    for i, loc in enumerate(LOCALES):
        f = Faker(loc)
        f.seed_instance(seed + i)
        out.append(f)
    return out


def dense_pool(n: int, seed: int = 7) -> list[dict[str, str]]:
    """PII-dense rows: names, addresses, e-mails, phones, cards, IBANs, IPs, birth dates, national
    ids where the locale has one, plus a free-text sentence and neutral columns."""
    rows = []
    fakers = _fakers(seed)
    for i in range(n):
        f = fakers[i % len(fakers)]
        rows.append({
            "customer_id": str(f.random_int(100000, 999999)),
            "name": f.name(),
            "email": f.email(),
            "phone": f.phone_number(),
            "address": f.address().replace("\n", ", "),
            "birth_date": f.date_of_birth().isoformat(),
            "card": f.credit_card_number(),
            "iban": f.iban(),
            "ip": f.ipv4_public() if i % 3 else f.ipv6(),
            "ssn": f.ssn(),
            "company": f.company(),
            "job": f.job(),
            "comment": f.sentence(nb_words=12),
            "created": f.date_time_this_decade().isoformat(),
            "amount": f"{f.pyfloat(left_digits=4, right_digits=2, positive=True)}",
        })
    return rows


def sparse_pool(n: int, seed: int = 11) -> list[dict[str, str]]:
    """PII-sparse rows: product and order data, uuids, versions, timestamps, prices and a
    free-text review; about one row in a thousand carries an e-mail or a phone in its text."""
    rows = []
    fakers = _fakers(seed)
    for i in range(n):
        f = fakers[i % len(fakers)]
        text = f.sentence(nb_words=14)
        if i % 997 == 0:
            text += f" contact {f.email()}"
        elif i % 1009 == 0:
            text += f" call {f.phone_number()}"
        rows.append({
            "order_id": str(f.random_int(10_000_000, 99_999_999)),
            "sku": f.bothify("SKU-####-??").upper(),
            "product": f.catch_phrase(),
            "category": f.word(),
            "color": f.color_name(),
            "uuid": f.uuid4(),
            "version": f.numerify("#.##.#"),
            "price": f"{f.pyfloat(left_digits=3, right_digits=2, positive=True)}",
            "quantity": str(f.random_int(1, 20)),
            "created": f.date_time_this_decade().isoformat(),
            "status": f.random_element(("shipped", "pending", "cancelled", "delivered")),
            "review": text,
        })
    return rows


def freetext_pool(n: int, seed: int = 13) -> list[dict[str, str]]:
    """A free-text column: Faker paragraphs, one in twenty with a card, an IBAN, an e-mail or a
    phone number inside the prose."""
    rows = []
    fakers = _fakers(seed)
    for i in range(n):
        f = fakers[i % len(fakers)]
        para = f.paragraph(nb_sentences=5)
        k = i % 80
        if k == 0:
            para += f" Card {f.credit_card_number()} was charged."
        elif k == 20:
            para += f" Wire to {f.iban()} please."
        elif k == 40:
            para += f" Write to {f.email()}."
        elif k == 60:
            para += f" Phone {f.phone_number()}."
        rows.append({"ticket": str(i), "body": para})
    return rows


POOLS = {"dense": dense_pool, "sparse": sparse_pool, "freetext": freetext_pool}


def write_csv(path: Path, rows: list[dict[str, str]], size: int, seed: int = 1) -> Path:
    """A CSV of about ``size`` bytes: the pool's rows in a seeded random order, repeated as needed."""
    rng = random.Random(seed)
    fields = list(rows[0])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        written = 0
        buf = io.StringIO()
        bw = csv.DictWriter(buf, fieldnames=fields)
        while written < size:
            buf.seek(0)
            buf.truncate()
            for _ in range(1000):
                bw.writerow(rows[rng.randrange(len(rows))])
            data = buf.getvalue()
            fh.write(data)
            written += len(data.encode("utf-8"))
    return path


def split_csv(src: Path, outdir: Path, piece: int) -> list[Path]:
    """The rows of ``src`` in files of about ``piece`` bytes, each with the header."""
    outdir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    with open(src, newline="", encoding="utf-8") as fh:
        header = fh.readline()
        buf: list[str] = []
        size = 0
        for line in _records(fh):
            buf.append(line)
            size += len(line)
            if size >= piece:
                files.append(_flush(outdir, len(files), header, buf))
                buf, size = [], 0
        if buf:
            files.append(_flush(outdir, len(files), header, buf))
    return files


def _records(fh):
    """Whole CSV records (quoted newlines kept inside)."""
    pending = ""
    for line in fh:
        pending += line
        if pending.count('"') % 2 == 0:
            yield pending
            pending = ""
    if pending:
        yield pending


def _flush(outdir: Path, i: int, header: str, lines: list[str]) -> Path:
    p = outdir / f"part-{i:05d}.csv"
    p.write_text(header + "".join(lines), encoding="utf-8")
    return p


def package_csvs() -> list[Path]:
    """CSV files shipped inside installed packages (scikit-learn's datasets and the like): real
    data nobody shaped for this gate."""
    import importlib.util

    found: list[Path] = []
    for mod in ("sklearn", "plotly", "vega_datasets", "pandas", "statsmodels", "seaborn"):
        spec = importlib.util.find_spec(mod)
        if spec is None or not spec.submodule_search_locations:
            continue
        for root in spec.submodule_search_locations:
            found.extend(p for p in Path(root).rglob("*.csv") if p.stat().st_size > 1000)
            found.extend(p for p in Path(root).rglob("*.csv.gz") if p.stat().st_size > 1000)
    return sorted(found)
