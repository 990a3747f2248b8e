"""LOCATION: street addresses, postcodes and cities.

A street address is a house number next to a street-type word, in either order: ``221B Baker
Street``, ``78, rue de Bailly``, ``Calle Mayor 5``, ``Tijmenweg 12``; German and Dutch streets
are one compound word ending in the type (``Beyerring``, ``Hauptstraße``, ``Wouterhof``), and
Japanese addresses name a prefecture and a municipality with block numbers (``丁目``, ``番``).
Postcodes are only shapes (five digits are also prices and ids), so they count where the
column's header says postcode; cities likewise need a ``city`` header, and a column of airport
or company names under that header is not a city column.
"""

from __future__ import annotations

import re

from gates.core.lazyre import lazy

from .fold import fold as _fold

#: street-type words (USPS Publication 28 suffixes and their equivalents in the tested locales)
STREET_WORDS = frozenset("""
street st str avenue ave av avda road rd lane ln drive dr boulevard blvd blvd. court ct way place pl terrace terr
crescent cres close gardens gdns square sq parkway pkwy trail trl circle cir highway hwy hw row mews walk grove
green hill hills view vista alley allee aly bend bluff bottom branch bridge brook burg bypass camp canyon cape
causeway center centre cliff club common corner corners course cove creek crest crossing crossroad curve dale dam
divide estate estates expressway extension falls ferry field fields flat flats ford forest forge fork forks fort
freeway garden gateway glen glens harbor harbour haven heights hollow inlet island isle junction key knoll knolls
lake landing light lights loaf lock locks lodge loop mall manor meadow meadows mill mills mission motorway mount
mountain neck orchard oval overpass park parks pass passage path pike pine pines plain plains plaza point points
port ports prairie radial ramp ranch rapid rapids rest ridge river route shoal shoals shore shores skyway spring
springs spur stravenue stream summit throughway trace track trafficway tunnel turnpike underpass union unions
valley viaduct ville vista village wall ways well wells wharf wynd parade esplanade quay rise approach
rue avenue boulevard bd chemin allée allee impasse route quai cours place square passage voie sentier faubourg
rond-point cité cite lieu-dit hameau résidence residence
calle c/ avenida av. paseo pso plaza pza camino carrera carretera ctra ronda pasaje pasadizo callejón callejon
travesía travesia urbanización urbanizacion glorieta cañada canada alameda vía via rambla cuesta acceso bajada
subida senda vial polígono poligono barrio
via viale piazza piazzale corso vicolo largo strada contrada borgo rotonda stretto lungomare incrocio canale
calle salita località localita frazione
rua r. avenida travessa praça praca rodovia estrada largo trecho setor quadra vila vereda viela condomínio
condominio conjunto loteamento núcleo nucleo parque passarela pátio patio residencial sítio sitio chácara chacara
colônia colonia distrito esplanada jardim ladeira morro recanto lagoa
straße strasse str. weg platz allee gasse damm ufer ring chaussee pfad steig markt
straat laan plein singel gracht kade dijk pad park steeg hof
marg nagar road lane colony sector chowk gali ganj zila path bagh pur
feira favela aeroporto área area fazenda lago praia trevo vale viaduto estação estacao passagem c.
dreef baan boulevard erf veld wal plantsoen poort burgwal run land key keys station c
""".split())
#: street words that open a street name with no house number (``rue de Bailly``, ``Via Roma``)
LEADING_WORDS = frozenset("""rue boulevard avenue chemin allée allee impasse route quai place calle avenida paseo plaza
camino carrera via viale piazza corso vicolo largo strada rua travessa praça praca rodovia estrada alameda""".split())
#: endings of one-word German and Dutch street names
COMPOUND_ENDINGS = ("straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "damm", "ufer", "ring", "chaussee",
                    "pfad", "steig", "markt", "straat", "laan", "plein", "singel", "gracht", "kade", "dijk", "pad",
                    "park", "steeg", "hof", "gärten", "garten", "berg", "feld", "tor", "brücke", "bruecke", "wall",
                    "dreef", "baan", "boulevard", "str", "erf", "veld", "plantsoen", "poort", "markt", "wal", "kamp")
_NUMBER = lazy(globals(), r"(?<![\w.])(?:no\.?\s*|nº\s*|n\.?\s*|#\s*|h\.?no\.?\s*)?\d{1,5}(?:\s?[a-zA-Z](?![\w]))?(?:[-/]\d{1,5}[a-zA-Z]?)?(?![\d.,]\d)",
                          re.IGNORECASE)
_WORD = lazy(globals(), r"[^\W\d_][\w'’.-]*")
_JP = lazy(globals(), r"(?:都|道|府|県).*?(?:市|区|町|村).*?(?:\d|[０-９]|丁目|番地?|号)")
_JP_BLOCK = lazy(globals(), r"\d+丁目|\d+番地?|\d+号")


def street_address(text: str) -> str | None:
    """The address when ``text`` holds a house number and a street-type word (or a Japanese
    prefecture/municipality with block numbers), else None."""
    s = text.strip()
    if not 5 <= len(s) <= 200 or "@" in s or "://" in s:
        return None
    if _JP.search(s) or _JP_BLOCK.search(s):
        return s
    words = _WORD.findall(s)
    if not _NUMBER.search(s):
        if len(words) >= 2 and _fold(words[0]) in LEADING_WORDS and words[1][0].isupper() or (
                len(words) >= 3 and _fold(words[0]) in LEADING_WORDS and _fold(words[1]) in ("de", "del", "da", "di", "do")):
            return s
        return None
    for w in words:
        low = _fold(w).rstrip(".,")
        if low in STREET_WORDS or (low.endswith("s") and low[:-1] in STREET_WORDS and len(low) > 4):
            if w[0].isupper() or low in ("rue", "via", "calle", "rua", "c/", "r.") or len(low) > 3:
                return s
        if len(low) > 5 and low.endswith(COMPOUND_ENDINGS) and w[0].isupper():
            return s
    return None


#: postcode shapes of the countries most datasets come from; a header must confirm them
_POSTCODE = lazy(globals(),
    r"\d{5}(?:-\d{4})?"                                   # US ZIP(+4), DE, FR, ES, IT, MX...
    r"|\d{4}\s?[A-Z]{2}"                                  # NL
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"                 # UK
    r"|\d{5}-?\d{3}"                                      # BR CEP
    r"|\d{3}\s?\d{3}"                                     # IN PIN, CN
    r"|\d{3}-\d{4}|〒?\d{3}-\d{4}"                        # JP
    r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d"                          # CA
    r"|\d{4}"                                             # AU, AT, BE, CH, DK, NO...
    r"|\d{2}-\d{3}"                                       # PL
    r"|\d{3}\s\d{2}"                                      # SE, CZ
    r"|[A-Z]{2}-?\d{4,5}",                                # LT-, LV-...
)


def postcode(text: str) -> str | None:
    s = text.strip().upper()
    return s if _POSTCODE.fullmatch(s) else None


_PLACE_TOKEN = lazy(globals(), r"[^\W\d_][^\W\d_'’.()-]*(?:[-'’][^\W\d_]+)*")
NOT_CITY = frozenset("""airport international intl station terminal airlines inc ltd llc gmbh corp company hotel
hospital university school store shop product item model series unknown n/a none null""".split())


def city(text: str) -> str | None:
    """A place name: one to five letter tokens (no digits), the first capitalised or in a script
    without case; not an airport, company or product."""
    s = text.strip()
    if not 2 <= len(s) <= 60 or any(c.isdigit() for c in s) or "@" in s or "/" in s:
        return None
    words = s.replace(",", " ").split()
    if not 1 <= len(words) <= 5:
        return None
    if any(_fold(w).strip(".()") in NOT_CITY for w in words):
        return None
    if not all(_PLACE_TOKEN.fullmatch(w) for w in words):
        return None
    first = words[0]
    return s if first[0].isupper() or not first[0].isupper() and not first[0].islower() else None
