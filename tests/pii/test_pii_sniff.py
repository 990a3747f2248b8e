"""The CSV dialect of :mod:`gates.pii.sniff` is ``csv.Sniffer``'s, match for match: on random
samples built from the characters its patterns care about, on CSVs written by Python's csv
module and by Faker's data, and on the CSVs of the installed packages."""

from __future__ import annotations

import csv
import io
import random
import re
import sys
from pathlib import Path

import pytest

from gates.pii import sniff

DELIMS = ",\t;|"
FIRST = re.compile(r'(?P<delim>[^\w\n"\'])(?P<space> ?)(?P<quote>["\']).*?(?P=quote)(?P=delim)', re.DOTALL | re.MULTILINE)


def sniffer(sample: str) -> tuple | str:
    try:
        d = csv.Sniffer().sniff(sample, delimiters=DELIMS)
    except csv.Error:
        return "error"
    return d.delimiter, d.quotechar or '"', bool(d.doublequote), d.escapechar


def ours(sample: str) -> tuple | str:
    try:
        return sniff.dialect(sample, DELIMS)
    except csv.Error:
        return "error"


#: what the Sniffer's patterns look at: quotes, delimiters, spaces, newlines, word characters
#: (ASCII, non-ASCII letters and digits, underscore) and other punctuation
ALPHABET = ['"', "'", ",", "\t", ";", "|", " ", " ", "\n", "\r", "a", "b", "Z", "7", "_", "é", "٣", ":", "-", "."]


def test_random_samples_give_the_sniffers_answer():
    rng = random.Random(20261206)
    quoted = 0
    for _ in range(10000):
        n = rng.randrange(0, 60)
        weights = [rng.random() for _ in ALPHABET]
        sample = "".join(rng.choices(ALPHABET, weights, k=n))
        assert sniff.quoted_fields(sample) == FIRST.findall(sample), repr(sample)
        assert ours(sample) == sniffer(sample), repr(sample)
        quoted += any(d in DELIMS for d, _, _ in FIRST.findall(sample))
    assert quoted > 300  # the fast path is what was compared, not only the fallback


def test_written_csvs_give_the_sniffers_answer():
    faker = pytest.importorskip("faker")
    rng = random.Random(7)
    for locale in ("en_US", "de_DE", "fr_FR", "ja_JP", "pt_BR"):
        fk = faker.Faker(locale)
        fk.seed_instance(3)
        for delim in DELIMS:
            for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC):
                buf = io.StringIO()
                w = csv.writer(buf, delimiter=delim, quoting=quoting)
                w.writerow(["name", "address", "note", "n"])
                for _ in range(rng.randrange(2, 40)):
                    w.writerow([fk.name(), fk.address(), rng.choice(['say "hi"', "it's", fk.sentence(), ""]), rng.randrange(99)])
                sample = buf.getvalue()
                assert ours(sample) == sniffer(sample)
                cut = sample[: rng.randrange(len(sample))]  # a sample ends anywhere: mid-field, mid-quote
                assert ours(cut) == sniffer(cut), repr(cut)


def test_installed_packages_csvs_give_the_sniffers_answer():
    seen = 0
    for root in {Path(p) for p in sys.path if p.endswith("site-packages")}:
        for path in sorted(root.rglob("*.csv"))[:300]:
            try:
                sample = path.read_text(encoding="utf-8", errors="replace")[:32768]
            except OSError:
                continue
            assert ours(sample) == sniffer(sample), path
            seen += 1
    if not seen:
        pytest.skip("no installed package ships a CSV here")


def test_delimiter_statistics_give_the_sniffers_answer():
    """Samples without a quoted field: the Sniffer counts characters line by line and takes a
    delimiter that most lines hold equally often (from 90 % of them down to 100 %, ten lines at
    a time, then its preferred order): ragged lines probe each of those steps."""
    rng = random.Random(31)
    words = ["alpha", "it's", "b", "x y", "7", "é"]
    decided = 0
    for _ in range(3000):
        cols = {d: rng.randrange(0, 4) for d in DELIMS + ": "}
        ragged = rng.random() * 0.3
        lines = []
        for _ in range(rng.randrange(1, 45)):
            parts = [rng.choice(words)]
            for d, k in cols.items():
                n = k if rng.random() > ragged else rng.randrange(0, 5)
                parts += [d + rng.choice(words) for _ in range(n)]
            rng.shuffle(parts)
            lines.append("".join(parts))
        sample = "\n".join(lines) + rng.choice(["", "\n", "\n\n"])
        got = ours(sample)
        assert got == sniffer(sample), repr(sample)
        decided += got != "error"
    assert 300 < decided < 2900  # both answers (a delimiter, none) were compared
