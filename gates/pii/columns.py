"""Column semantics: what a column holds, from its header and from the share of values that validate.

Most personal data sits in columns whose values have no checksum of their own (names, street
addresses, birth dates, passport numbers) or whose checksum a random number often passes (a
Dutch BSN, an Aadhaar). A value test alone either misses them or fires on ids, so each column is
classified once, from a sample of its first values: a detector decides when

* the header names the entity (a multilingual vocabulary) and at least ``header_share`` of the
  sampled values pass its value test, or
* without such a header, at least ``value_share`` of the sample pass (only detectors whose value
  test is specific enough have one; and only from ``MIN_VALUES`` values on).

Each decision says what decided it: ``header``, ``values`` or ``both`` (the header matched and the
values alone would have been enough). Ties go to the detector whose own header matched, then to
the structurally stronger one (a check digit beats a shape).

The same sample tells when a numeric column is not cards (Luhn passes at the chance rate, or the
header says barcode and the GS1 check digit holds) and when formatted 9-digit numbers are batch
numbers, not SSNs: those are *vetoes* on the per-cell scanner's findings for the column.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from . import addresses, dates, documents, names, phones
from .entities import context_label
from .fold import fold as _fold
from .national_ids import GENERIC_HEADER, NATIONAL_IDS

#: values sampled per column before it is classified
SAMPLE = 200
#: fewest non-empty values for a decision from values alone
MIN_VALUES = 10


_SPLIT = re.compile(r"[\W_]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_CJK = re.compile(r"[\u3005\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class Header:
    """A column label as words: the last two segments of a JSON path (``profile.home.city`` →
    home, city), split on punctuation and camelCase, accent-folded, with adjacent pairs joined
    (``date_of_birth`` → date_of, of_birth, dateof, ofbirth) so compound vocabulary matches."""

    raw: str
    words: frozenset[str]

    @classmethod
    def of(cls, label: str | None) -> "Header":
        """The header of ``label``, made once per label (every part of a table asks again for
        each of its columns)."""
        return _header(cls, label)

    @classmethod
    def _make(cls, label: str | None) -> "Header":
        if not label:
            return cls("", frozenset())
        label = context_label(label) or ""  # a JSON path's metadata key says nothing of its parent's values
        segs = [s for s in re.split(r"[.\[\]]+", label) if s][-2:]
        parts: list[str] = []
        for seg in segs:
            parts += [_fold(p) for p in _SPLIT.split(_CAMEL.sub(" ", seg)) if p]
        out = set(parts)
        out.update(a + b for a, b in zip(parts, parts[1:]))
        out.update(a + "_" + b for a, b in zip(parts, parts[1:]))
        out.update(a + "_" + b + "_" + c for a, b, c in zip(parts, parts[1:], parts[2:]))
        return cls(label, frozenset(out))

    def says(self, vocab: "Vocab") -> bool:
        if self.words & vocab.words:
            return True
        return bool(vocab.cjk) and any(w in self.raw for w in vocab.cjk)


@functools.lru_cache(maxsize=8192)
def _header(cls: type[Header], label: str | None) -> Header:
    return cls._make(label)


@dataclass(frozen=True)
class Vocab:
    words: frozenset[str]
    cjk: tuple[str, ...] = ()

    @classmethod
    def of(cls, text: str, cjk: str = "") -> "Vocab":
        return cls(frozenset(_fold(w) for w in text.split()), tuple(cjk.split()))


V_PERSON = Vocab.of("""name fullname full_name names nombre nombre_completo nom nom_complet nome nome_completo naam
volledige_naam person persona personne customer_name client_name patient patient_name employee employee_name
holder cardholder card_holder account_holder contact_name recipient sender passenger guest author_name
signatory beneficiary""", "氏名 名前 姓名 お名前 フルネーム")
V_GIVEN = Vocab.of("""first_name firstname given_name givenname forename first vorname prenom nombre_de_pila primer_nombre
nome_proprio primo_nome voornaam roepnaam primeiro_nome""", "名 下の名前")
V_SURNAME = Vocab.of("""last_name lastname surname family_name familyname familienname nachname nom_de_famille apellido
apellidos primer_apellido cognome achternaam sobrenome ultimo_nome""", "姓 名字 苗字")
#: a ``name`` header with one of these is not about a person
V_NOT_PERSON = Vocab.of("""product item company business firm organisation organization org brand model file filename
host hostname domain city town country state region county airport station street road dataset table column field
feature variable species team store shop app application device user username login package repo repository branch
tag event category class label type project dish drug medication hotel venue place school university course
song album artist_id track game key bucket queue topic server service database schema index metric""")
V_ADDRESS = Vocab.of("""address addr address1 address2 address_line addressline line1 street street_address streetaddress
home_address mailing_address postal_address billing_address shipping_address residence adresse anschrift strasse
straße wohnadresse direccion domicilio calle indirizzo adres straat woonadres endereco logradouro morada""",
                     "住所 所在地 番地")
#: an ``address`` header with one of these is some other address
V_NOT_ADDRESS = Vocab.of("""email mail e_mail ip ipv4 ipv6 mac wallet btc eth crypto web url host server memory""")
V_POSTCODE = Vocab.of("""postcode post_code postal_code postalcode zip zipcode zip_code plz postleitzahl code_postal
codepostal cp codigo_postal cap postcodigo cep pincode pin_code""", "郵便番号")
V_CITY = Vocab.of("""city town municipality ciudad localidad municipio poblacion ville commune stadt ort wohnort citta
comune localita plaats woonplaats stad cidade municipio""", "市区町村 都市 市町村")
V_BIRTH = Vocab.of("""birth birthdate birthday birth_date dob date_of_birth dateofbirth born geburtsdatum geburtstag
geboren naissance date_naissance date_de_naissance nacimiento fecha_nacimiento fecha_de_nacimiento nascita
data_nascita data_di_nascita geboortedatum geboorte nascimento data_nascimento data_de_nascimento""",
                   "生年月日 誕生日")
V_DATEISH = Vocab.of("date datum fecha data day dag")
V_PASSPORT = Vocab.of("""passport passport_no passport_number passportnumber passport_id reisepass reisepassnummer
passnummer passeport numero_passeport pasaporte passaporto paspoort paspoortnummer passaporte""", "旅券 パスポート")
V_DRIVER = Vocab.of("""driver drivers driving driver_license drivers_license driving_licence driving_license dl dl_number
dl_no licence_number license_number fuhrerschein fuehrerschein fuhrerscheinnummer permis permis_de_conduire permiso_conducir
permiso_de_conducir carnet_de_conducir licencia_conducir patente patente_di_guida patente_guida rijbewijs
rijbewijsnummer cnh habilitacao carteira_de_motorista""", "運転免許 免許証")
V_URL = Vocab.of("""website web_site homepage home_page url uri web site webpage web_page profile profile_url blog link
linkedin twitter facebook instagram github social sitio_web pagina_web site_web webseite homepagina""")
V_PHONE = Vocab.of("""phone phone_number phonenumber mobile mobile_number tel telephone cell cellphone fax msisdn
whatsapp contact_number telefono telefon telefone telephone_number telefoonnummer telefoon mobiel cellulare celular
movil portable handy mobil numero_telefono numero_de_telefono""", "電話 携帯")
V_NATIONAL_GENERIC = Vocab.of(" ".join(GENERIC_HEADER))
#: headers of identifiers that are not about a person: a phone or id test on values alone must
#: not turn them into PII
V_PLAIN_ID = Vocab.of("""id uuid guid hash sha checksum digest order order_id sku version count transaction txn
invoice batch lot serial part tracking ticket reference ref isbn ean gtin upc barcode asin product build release
firmware fw rev revision semver""")
#: a header that names a quantity (``DlBucketSize.max``, ``passport_photo_size``): its values are
#: amounts, not a document's number, whatever abbreviation comes before
V_QUANTITY = Vocab.of("""max min maximum minimum size count total sum avg mean average rate limit length len width
height depth bytes bits seconds secs millis ms timeout duration percent ratio threshold capacity quota""")
V_BARCODE = Vocab.of("ean ean13 ean_13 ean8 gtin gtin13 gtin14 upc upc_a barcode bar_code isbn isbn13 isbn10 sku asin "
                     "article_number artikelnummer product_code item_code")
V_BATCH = Vocab.of("batch lot serial part order sku invoice reference ref tracking build ticket case item product")
V_SSN = Vocab.of("ssn social social_security tax tin itin taxpayer")
V_REGION = Vocab.of("""country country_code countrycode nationality locale region land pais pays paese iso_country
country_iso cc iban""")


@dataclass(frozen=True)
class Detector:
    """One entity a column may hold, with how it is decided.

    ``validate`` is the value test used to count the column's values once it is classified;
    ``header_validate`` (if set) replaces it where the header names the entity (a looser shape
    is enough there: a ``passport`` column of nine-digit numbers)."""

    entity: str
    rule: str
    headers: tuple[Vocab, ...]
    validate: Callable[[str], str | None]
    header_share: float
    value_share: float | None = None
    rank: int = 0
    header_validate: Callable[[str], str | None] | None = None
    #: extra fields of the finding (e.g. which part of a location)
    extra: tuple[tuple[str, str], ...] = ()
    #: a second test the sample must pass for a decision (share, test), e.g. listed names
    support: tuple[float, Callable[[str], str | None]] | None = None
    value_support: tuple[float, Callable[[str], str | None]] | None = None
    #: distinct values the support test must pass: one word that is also a listed name proves
    #: nothing (``Marker``, ``Key``: the ``locationName`` of an API's JSON definition)
    support_distinct: int = 1


def _aadhaar_shape(text: str) -> str | None:
    s = re.sub(r"[\s-]", "", text)
    return s if len(s) == 12 and s.isdigit() and s[0] not in "01" else None


def _national() -> list[Detector]:
    out = []
    for n in NATIONAL_IDS:
        value_share = {2: 0.8, 1: 0.9}.get(n.strength)
        out.append(Detector(
            n.entity, n.entity, (Vocab.of(" ".join(n.header)),), n.validate, 0.6, value_share, 10 + n.strength,
            header_validate=_aadhaar_shape if n.entity == "IN_AADHAAR" else None,
        ))
    return out


def _single_known(text: str) -> str | None:
    return text if names.single_name(text) and (names.known([text.strip()]) or names._CJK.search(text)) else None


def _person_known(text: str) -> str | None:
    return names.person(text) or (text if names.person_shape(text) and names._CJK.search(text) else None)


DETECTORS: tuple[Detector, ...] = (
    *_national(),
    Detector("PASSPORT", "PASSPORT", (V_PASSPORT,), documents.passport, 0.8, rank=8),
    Detector("DRIVER_LICENSE", "DRIVER_LICENSE", (V_DRIVER,), documents.driver_license, 0.8, rank=8),
    Detector("DATE_OF_BIRTH", "DATE_OF_BIRTH", (V_BIRTH,), dates.date_value, 0.8, rank=7),
    Detector("PHONE_NUMBER", "PHONE_NUMBER", (V_PHONE,), lambda s: s if phones.shaped(s) else None, 0.5, 0.5, rank=6),
    Detector("LOCATION", "LOCATION", (V_ADDRESS,), addresses.street_address, 0.5, 0.85, rank=5,
             extra=(("location_kind", "street_address"),)),
    Detector("PERSON", "PERSON", (V_PERSON,), names.person_shape, 0.7, 0.85, rank=4,
             support=(0.25, _person_known), value_support=(0.6, names.person_ordered)),
    Detector("PERSON", "PERSON", (V_GIVEN, V_SURNAME), names.single_name, 0.8, rank=4, support=(0.05, _single_known),
             extra=(("name_part", "single"),)),
    Detector("PERSON", "PERSON", (V_PERSON,), names.single_name, 0.8, rank=3, support=(0.3, _single_known),
             extra=(("name_part", "single"),), support_distinct=2),
    Detector("LOCATION", "POSTCODE", (V_POSTCODE,), addresses.postcode, 0.8, rank=3, extra=(("location_kind", "postcode"),)),
    Detector("LOCATION", "CITY", (V_CITY,), addresses.city, 0.8, rank=2, extra=(("location_kind", "city"),)),
    Detector("URL", "URL", (V_URL,), documents.url, 0.8, rank=1),
)


@dataclass
class Decision:
    detector: Detector
    basis: str  # header | values | both
    share: float
    validate: Callable[[str], str | None]


@dataclass
class Verdict:
    """What the sample says about a column: at most one semantic entity, and vetoes on the
    per-cell scanner's findings."""

    decision: Decision | None = None
    vetoes: dict[str, str] = field(default_factory=dict)  # entity → why


def header_allows(det: Detector, h: Header) -> bool:
    if not any(h.says(v) for v in det.headers):
        return False
    if det.entity == "PERSON" and (h.says(V_NOT_PERSON) or h.says(V_ADDRESS) or h.says(V_PHONE)):
        return False
    if det.entity == "LOCATION" and det.rule == "LOCATION" and h.says(V_NOT_ADDRESS):
        return False
    if det.entity == "PHONE_NUMBER" and h.says(V_PLAIN_ID) and not h.words & {"phone", "telephone", "mobile"}:
        return False
    if det.entity in ("DRIVER_LICENSE", "PASSPORT") and h.says(V_QUANTITY):
        return False  # botocore's ``DlBucketSize.max: 2147483647`` blocked as a driving licence
    return True


def birth_neighbour(h: Header, neighbours: Sequence[str | None]) -> bool:
    """A bare date header (``date``, ``datum``) next to a column whose header says birth
    (``place_of_birth`` | ``date``); ``order_date`` next to ``birthday`` is an order's date."""
    bare = _fold(h.raw.rsplit(".", 1)[-1]).strip() in V_DATEISH.words
    return bare and any(Header.of(n).says(V_BIRTH) for n in neighbours if n)


@dataclass(frozen=True)
class _HeaderFacts:
    """What a header alone says, for every detector: the same for every file with that column."""

    header: Header
    allows: tuple[bool, ...]  # header_allows(det, header) per detector of DETECTORS
    generic: bool
    names_any: bool  # some detector's vocabulary, or an SSN header


@functools.lru_cache(maxsize=4096)
def _facts(label: str | None) -> _HeaderFacts:
    h = Header.of(label)
    allows = tuple(header_allows(d, h) for d in DETECTORS)
    return _HeaderFacts(h, allows, h.says(V_NATIONAL_GENERIC), h.says(V_SSN) or any(allows))


def _share_reaching(values: Sequence[str], fn: Callable[[str], str | None], need: float, denom: int,
                    settle: bool = False) -> float | None:
    """``hits / denom`` over ``values``, or None as soon as it can no longer reach ``need`` (the
    caller would reject the detector anyway; most detectors fail on most columns within a few
    values, and the value tests were most of a small file's cost). With ``settle``, the share so
    far as soon as it reaches ``need``: for callers that only compare it with ``need``."""
    room = len(values) - need * denom + 1e-6  # failures allowed while ``need`` is still reachable
    hits = fails = 0
    for v in values:
        if fn(v) is not None:
            hits += 1
            if settle and hits / denom >= need:  # it only grows: settled
                return hits / denom
        else:
            fails += 1
            if fails > room:
                return None
    return hits / denom if denom else 0.0


def classify(label: str | None, sample: Sequence[str], neighbours: Sequence[str | None] = (),
             regions: Sequence[str] = phones.DEFAULT_REGIONS) -> Verdict:
    """Classify one column from its header and a sample of its non-empty values."""
    facts = _facts(label)
    h = facts.header
    out = Verdict(vetoes=vetoes(h, sample))
    if not sample:
        return out
    best: tuple[tuple, Decision] | None = None
    enough = len(sample) >= MIN_VALUES
    generic = facts.generic
    #: a header that names some entity (or an SSN, or a thing) leaves no room for a decision from values alone
    free = enough and not generic and not facts.names_any
    with_digits: list[str] | None = None
    for det, allows in zip(DETECTORS, facts.allows):
        named = allows or (det.entity == "DATE_OF_BIRTH" and birth_neighbour(h, neighbours))
        if best is not None and (named, det.rank) < best[0][:2]:
            continue  # whatever its share, it ranks below the decision already made
        national = det.rank >= 10
        if not named and not (det.value_share and free) and not (national and generic):
            continue
        if not named and det.entity == "PERSON" and h.says(V_NOT_PERSON):
            continue
        if det.entity == "PHONE_NUMBER":
            if not named and not _phone_written(h, sample):
                continue
            share = _phone_share(sample, regions)
            if not named and not _phone_values(h, sample, share):
                continue
            fn: Callable[[str], str | None] = det.validate
        else:
            # the lowest share that could still accept this detector (below it, neither the
            # header rule nor the values-alone rule holds): value tests stop once it is out of reach
            need = [det.header_share if named else max(det.header_share, 0.8) if national and generic else 2.0]
            if det.value_share is not None and enough and free:
                need.append(det.value_share)
            fn = det.header_validate if (named and det.header_validate) else det.validate
            if national:
                # every national id has digits: values without any are not tried (most columns of
                # text are free columns, and ~40 id tests per value were most of a small file's cost)
                if with_digits is None:
                    with_digits = [v for v in sample if any(map(str.isdigit, v))]
                got = _share_reaching(with_digits, fn, min(need), len(sample))
            else:
                got = _share_reaching(sample, fn, min(need), len(sample))
            if got is None:
                continue
            share = got
        if named:
            ok = share >= det.header_share and _supported(det.support, sample, det.support_distinct)
        elif national and generic:
            ok = share >= max(det.header_share, 0.8)
        else:
            ok = False
        alone = (det.value_share is not None and enough and share >= det.value_share
                 and _supported(det.value_support or det.support, sample, det.support_distinct))
        if not ok and not (alone and free):
            continue
        basis = ("both" if alone else "header") if ok else "values"
        key = (named, det.rank, share)
        if best is None or key > best[0]:
            best = (key, Decision(det, basis, share, fn))
    if best is not None:
        out.decision = best[1]
    return out


def _phone_written(h: Header, sample: Sequence[str]) -> bool:
    """Could values alone make this a phone column? Only when most are written like phone
    numbers (a plus, a trunk zero, separators), long enough, and not under an id or date header."""
    if h.says(V_PLAIN_ID) or h.says(V_DATEISH):
        return False
    # the regex test first: it rejects most columns, and counting digits walks every character
    if not sum(map(phones.formatted, sample)) >= 0.6 * len(sample):
        return False
    return sum(sum(map(str.isdigit, v)) for v in sample) / len(sample) >= 8


def _phone_values(h: Header, sample: Sequence[str], share: float) -> bool:
    """Values alone make a phone column when mostly valid, or when nearly all are formatted and
    at least half valid (a region's plan rejects many generated numbers)."""
    fmt = sum(map(phones.formatted, sample)) / len(sample)
    return (share >= 0.8 and fmt >= 0.6) or (share >= 0.5 and fmt >= 0.85)


def _supported(support: tuple[float, Callable[[str], str | None]] | None, sample: Sequence[str],
               distinct: int = 1) -> bool:
    """Whether at least ``need`` of the sample passes ``fn``, stopping as soon as that is settled: reached, or out of
    reach for the rest of the sample (the support tests, such as a known given name, are the slow ones; on a name
    column of 17 values a quarter is reached after about five)."""
    if support is None:
        return True
    need, fn = support
    got = _share_reaching(sample, fn, need, len(sample), settle=True)
    if got is None or got < need:
        return False
    if distinct > 1:  # ``distinct`` different values pass (case aside)
        seen: set[str] = set()
        for v in sample:
            k = fn(v)
            if k is not None:
                seen.add(k.casefold())
                if len(seen) >= distinct:
                    return True
        return False
    return True


def _phone_share(sample: Sequence[str], regions: Sequence[str]) -> float:
    """Share of the sample that is a valid phone number in some region; gives up early when
    the first twenty shaped values hold none."""
    ok = tried = 0
    seen: Counter = Counter()
    for v in sample:
        if not phones.shaped(v):
            continue
        tried += 1
        order = tuple(r for r, _ in seen.most_common(4)) + tuple(regions)
        got = phones.parse(v, order)
        if got is not None:
            ok += 1
            seen[got[1]] += 1
        elif tried >= 20 and ok == 0:
            return 0.0
    return ok / len(sample)


_DIGITS = re.compile(r"[\s-]")


def _gs1_ok(d: str) -> bool:
    """GS1 mod-10 check digit (EAN-8/13, UPC-A, GTIN-14, ISBN-13)."""
    body, check = d[:-1], int(d[-1])
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def vetoes(h: Header, sample: Sequence[str]) -> dict[str, str]:
    """Entities the per-cell scanner must not report for this column, with the reason."""
    from .validators import luhn_ok

    out: dict[str, str] = {}
    digits = [d for d in (_DIGITS.sub("", v) for v in sample) if d.isdigit()]
    long = [d for d in digits if 12 <= len(d) <= 19]
    if sample and len(long) >= max(MIN_VALUES, 0.8 * len(sample)):
        luhn = sum(map(luhn_ok, long)) / len(long)
        if luhn < 0.5:
            out["CREDIT_CARD"] = f"only {luhn:.0%} of the column's long numbers pass Luhn: ids, not cards"
    gs1 = [d for d in digits if len(d) in (8, 12, 13, 14)]
    if h.says(V_BARCODE) and gs1 and sum(map(_gs1_ok, gs1)) >= 0.8 * len(gs1):
        out["CREDIT_CARD"] = "the header says barcode/ISBN and the GS1 check digits hold"
    if h.says(V_BATCH) and not h.says(V_SSN):
        out["US_SSN"] = out["US_ITIN"] = "the header says batch/lot/serial numbers"
    return out
