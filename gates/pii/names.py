"""PERSON: does a cell hold a person's name? Token shape plus given-name and surname lists.

A person's name is two to five capitalised word tokens (particles such as ``van``, ``de``,
``di`` and titles such as ``Dr.`` allowed; hyphens and apostrophes inside tokens), or a
Japanese/Chinese family name from the list followed by a given name. Shape alone also matches
product, airport and company names, so a column is only PERSON when enough of its values also
hold a listed given name or surname, and few hold a word that names a thing (``Airport``,
``International``, ``Inc``, ``Pro``): see :data:`columns.DETECTORS` for the thresholds.

The lists are in ``data/`` (sources and licences in ``data/README.md``); they are loaded once
per process.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Sequence

from gates.core.lazyre import lazy

from .fold import fold

_DATA = Path(__file__).with_name("data")

#: titles and particles: allowed in a name, never enough on their own
TITLES = frozenset("""mr mrs ms miss mx dr dra prof sir dame herr frau mme mlle m sr sra srta sig sig.ra dott dott.ssa
ing sra. sr. dr. dra. prof. mr. mrs. ms. jr sr ii iii iv phd md univ.prof univ.-prof b.sc b.a m.sc m.a mba dipl.-ing
dipl.-kfm dr.-ing dr.med dr.in lic ing. b.eng m.eng""".split())
PARTICLES = frozenset("van von der den de del della di da dos das du le la y e ter ten af zu bin ibn al el mc mac st het die in op 't the en 's".split())
#: words that name things, not people: a value holding one is not a person's name
THING_WORDS = frozenset("""airport international intl station terminal airlines airline airways air field regional municipal
inc ltd llc gmbh ag srl spa bv nv plc corp corporation group holdings bank hotel hospital university
college school institute museum park center centre mall market store shop restaurant cafe bar club team fc united
city county state republic kingdom island islands river lake mountain mount valley beach bay port street road avenue
pro max plus mini ultra lite edition series model version kit pack set bundle deluxe premium classic original
of and for with new edition east west north south fort saint santa lake port ville
""".split())

_TOKEN = lazy(globals(), r"[^\W\d_][^\W\d_'’.-]*(?:['’-][^\W\d_]+)*\.?")
_CJK = lazy(globals(), r"[\u3005\u3040-\u30ff\u3400-\u9fff]+")


#: :func:`fold`, cached: the same words come back in every name column
_fold = functools.lru_cache(maxsize=1 << 14)(fold)


@functools.lru_cache(maxsize=1)
def lists() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), lower-case and accent-folded too."""
    def read(*names: str) -> frozenset[str]:
        out: set[str] = set()
        for n in names:
            for line in (_DATA / n).read_text(encoding="utf-8").splitlines():
                if line.startswith("#"):
                    continue
                for w in line.split():
                    out.add(w)
                    out.add(fold(w))  # not the cache: ~17,000 list words would push the scan's out
        return frozenset(out)

    return read("given_census.txt", "given_intl.txt"), read("surnames_census.txt", "surnames_intl.txt")


def shape(text: str) -> list[str] | None:
    """The name tokens of ``text`` when it has the shape of a person's name, else None."""
    s = text.strip()
    if not 3 <= len(s) <= 80 or any(c.isdigit() for c in s) or "@" in s or "/" in s:
        return None
    if _CJK.search(s):
        parts = s.replace("\u3000", " ").split()
        if 1 <= len(parts) <= 2 and all(_CJK.fullmatch(p) for p in parts) and 2 <= len("".join(parts)) <= 6:
            return parts
        return None
    raw = s.replace(",", " ").split()
    if not 2 <= len(raw) <= 7:
        return None
    words = []
    for w in raw:
        low = _fold(w).rstrip(".")
        if low in TITLES or low in PARTICLES:
            continue
        if not _TOKEN.fullmatch(w):
            return None
        if not w[0].isupper():
            return None
        words.append(w)
    return words if len(words) >= 2 or (len(words) == 1 and len(raw) >= 2 and len(words[0]) > 1) else None


def known(words: Sequence[str]) -> int:
    """How many of ``words`` are listed given names or surnames."""
    given, sur = lists()
    n = 0
    for w in words:
        if _CJK.match(w):
            n += any(w.startswith(s) for s in (w[:1], w[:2], w[:3]) if s in sur)
            continue
        for part in re.split(r"[-'’]", w.rstrip(".")):
            low = part.lower()
            if low in given or low in sur or _fold(low) in given or _fold(low) in sur:
                n += 1
                break
    return n


def thing(text: str) -> bool:
    """Does the value name a thing (an airport, a company, a product)?"""
    return any(_fold(w).strip(".,()") in THING_WORDS for w in text.split())


@functools.lru_cache(maxsize=1 << 12)
def _name_words(text: str) -> tuple[str, ...] | None:
    """:func:`shape`'s tokens of a value that does not name a thing, else None. Cached: a
    column's classification asks it of the same value up to three times (the shape test, the
    listed-name support, the ordered-name test)."""
    words = shape(text)
    if words is None or thing(text):
        return None
    return tuple(words)


def person(text: str) -> str | None:
    """The name when ``text`` looks like a person's name and holds a listed name, else None."""
    words = _name_words(text)
    if words is None:
        return None
    return text.strip() if known(words) else None


def person_ordered(text: str) -> str | None:
    """A name whose first word is a listed given name or whose last word is a listed surname
    (a Japanese name: a listed family name first): what values alone must show, since single
    listed words (Smart, Steel, Cotton are surnames too) also sit in product names."""
    words = _name_words(text)
    if words is None:
        return None
    given, sur = lists()
    if _CJK.match(words[0]):
        return text.strip() if known(words[:1]) else None
    first, last = _fold(words[0].rstrip(".")), _fold(words[-1].split("-")[-1].rstrip("."))
    return text.strip() if first in given or last in sur else None


def person_shape(text: str) -> str | None:
    """The name when ``text`` has a person's name's shape (no list needed): used where the
    column's header says it holds names and most of its values are listed names."""
    return None if _name_words(text) is None else text.strip()


def single_name(text: str) -> str | None:
    """One capitalised listed given name or surname (a ``first_name`` / ``last_name`` column)."""
    s = text.strip()
    if not 1 <= len(s) <= 40 or any(c.isdigit() for c in s):
        return None
    if _CJK.fullmatch(s):
        return s if len(s) <= 4 else None
    words = [w for w in s.split() if _fold(w) not in PARTICLES]
    if not words or len(s.split()) > 4 or thing(s) or not all(_TOKEN.fullmatch(w) and w[0].isupper() for w in words):
        return None
    return s
