"""National identifiers with their check digits, named as Presidio names them (``<CC>_<NAME>``).

Each validator takes one cell and returns the compact value or ``None``. Where python-stdnum
has the algorithm it is used (it is maintained against the issuing authorities' rules); the
others (UK NINO, ES NUSS, DE RV-Nr, DE KVNR, BR RG, AU Medicare) are written here from their
published rules. A check digit is what lets a value stand on its own: ids with a strong check
(mod 97, mod 11 with a date, check letters) may be decided from values alone, ids whose check a
random number passes one time in ten (Luhn, 11-proof, Verhoeff) need a column where most values
pass it, and ids without a check (BR RG, passports) need the header to say what they are.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Callable

from gates.core.lazyre import lazy

_SEP = lazy(globals(), r"[\s./-]")


def _compact(text: str) -> str:
    return _SEP.sub("", text.strip()).upper()


@functools.lru_cache(maxsize=4096)
def _compact_len(text: str) -> int:
    """Length without separators: every id's size test asks it of the same value (~40 tests)."""
    return len(_SEP.sub("", text))


def _stdnum(module: str, sizes: tuple[int, ...]) -> Callable[[str], str | None]:
    """A validator from ``stdnum.<module>`` (its ``is_valid`` and ``compact``), called only on
    values whose compact form has one of the id's ``sizes`` (stdnum's parsing costs more than
    this test, and most cells of most columns fail it)."""
    mod = None
    shortest = min(sizes) - 2  # separators only shorten a value: anything shorter cannot fit

    def check(text: str) -> str | None:
        nonlocal mod
        if len(text) > 40 or len(text) < shortest:
            return None
        n = _compact_len(text)
        if n not in sizes:
            # an id stored as an integer (Parquet, a spreadsheet) lost its leading zeros
            if not (text.isdigit() and min(sizes) - 2 <= n < min(sizes)):
                return None
            text = text.zfill(min(sizes))
        if mod is None:
            import importlib

            mod = importlib.import_module(f"stdnum.{module}")
        try:
            return mod.compact(text) if mod.is_valid(text) else None
        except Exception:  # noqa: BLE001 - stdnum raises its own errors on odd input
            return None

    return check


# ---- written here from the published rules --------------------------------------------------

_NINO = lazy(globals(), r"[A-Z]{2}\d{6}[A-Z]")
_NINO_BAD_PREFIX = {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}


def uk_nino(text: str) -> str | None:
    """UK National Insurance number: two letters, six digits, one letter (HMRC rules: D, F, I,
    Q, U, V never; O not second; BG/GB/NK/KN/TN/NT never; suffix A-D). ``ZZ`` prefixes and
    other suffixes are HMRC's and generators' placeholder shapes: still the shape of a NINO and
    reported (a column of them is someone's test data in the form of real ids)."""
    s = _compact(text)
    if not _NINO.fullmatch(s):
        return None
    if s[:2] == "ZZ":
        return s
    if s[0] in "DFIQUV" or s[1] in "DFIQUVO" or s[:2] in _NINO_BAD_PREFIX or s[-1] not in "ABCD":
        return None
    return s


def es_nuss(text: str) -> str | None:
    """Spanish social security number (NUSS): 2-digit province, 7-8 digits, 2 control digits =
    the preceding number mod 97."""
    s = _compact(text)
    if not s.isdigit() or len(s) not in (11, 12):
        return None
    body, ctl = s[:-2], int(s[-2:])
    if not (1 <= int(body[:2]) <= 53 or body[:2] == "66"):
        return None
    return s if int(body) % 97 == ctl else None


_RV = lazy(globals(), r"(\d{2})(\d{2})(\d{2})(\d{2})([A-Z])(\d{2})(\d)")
_RV_WEIGHTS = (2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1)


def de_rv_nr(text: str) -> str | None:
    """German pension insurance number (Rentenversicherungsnummer): area, birth date DDMMYY,
    surname initial, serial, check digit (weights 2,1,2,5,7,1,2,1,2,1,2,1 over the digits with the
    letter as its two-digit alphabet position; digit sums, mod 10)."""
    s = _compact(text)
    m = _RV.fullmatch(s)
    if m is None:
        return None
    if not (1 <= int(m.group(2)) <= 31 and 1 <= int(m.group(3)) <= 12):
        return None
    digits = s[:8] + f"{ord(s[8]) - 64:02d}" + s[9:11]
    total = sum(sum(divmod(int(d) * w, 10)) for d, w in zip(digits, _RV_WEIGHTS))
    return s if total % 10 == int(s[11]) else None


_KVNR = lazy(globals(), r"[A-Z]\d{9}(?:\d{10})?")


def de_kvnr(text: str) -> str | None:
    """German health insurance number (KVNR): a letter and nine digits, the last a check digit
    over the letter's two-digit position and the eight digits (weights 1,2 alternating, digit
    sums, mod 10). The 20-character form on health cards carries a second part after it."""
    s = _compact(text)
    if not _KVNR.fullmatch(s):
        return None
    digits = f"{ord(s[0]) - 64:02d}" + s[1:9]
    total = sum(sum(divmod(int(d) * (1 if i % 2 == 0 else 2), 10)) for i, d in enumerate(digits))
    return s if total % 10 == int(s[9]) else None


def br_rg(text: str) -> str | None:
    """Brazilian RG (São Paulo form, the common one): eight digits and a mod-11 check digit
    (``X`` for 10). Other states use other rules, so RG needs its header."""
    s = _compact(text)
    if not re.fullmatch(r"\d{8}[\dX]", s):
        return None
    total = sum(int(d) * w for d, w in zip(s[:8], range(2, 10)))
    check = 11 - total % 11
    want = "X" if check == 10 else "0" if check == 11 else str(check)
    return s if s[8] == want else None


def au_medicare(text: str) -> str | None:
    """Australian Medicare card number: ten digits (eleventh: the person's position on the card),
    first digit 2-6, ninth digit = weights 1,3,7,9,1,3,7,9 over the first eight, mod 10."""
    s = _compact(text)
    if not s.isdigit() or len(s) not in (10, 11) or s[0] not in "23456":
        return None
    total = sum(int(d) * w for d, w in zip(s[:8], (1, 3, 7, 9, 1, 3, 7, 9)))
    return s if total % 10 == int(s[8]) else None


@dataclass(frozen=True)
class NationalId:
    entity: str
    title: str
    validate: Callable[[str], str | None]
    #: header words (lower-case tokens or joined token pairs) that name this id
    header: tuple[str, ...]
    #: how strongly a value stands alone: 2 check letters/mod 97/date+check, 1 a weak check
    #: (about one random number in ten passes), 0 no check (needs the header)
    strength: int


NATIONAL_IDS: tuple[NationalId, ...] = (
    NationalId("UK_NINO", "UK National Insurance number", uk_nino,
               ("nino", "ni_number", "ninumber", "national_insurance", "nationalinsurance", "insurance_number"), 2),
    NationalId("FR_NIR", "French social security number (NIR)", _stdnum("fr.nir", (15,)),
               ("nir", "insee", "securite_sociale", "secu", "numero_securite", "num_secu", "nss"), 2),
    NationalId("ES_NIF", "Spanish NIF/DNI", _stdnum("es.dni", (9,)), ("nif", "dni", "documento_identidad"), 2),
    NationalId("ES_NIE", "Spanish foreigner id (NIE)", _stdnum("es.nie", (9,)), ("nie",), 2),
    NationalId("ES_NUSS", "Spanish social security number (NUSS)", es_nuss,
               ("nuss", "naf", "seguridad_social", "numero_seguridad", "seg_social"), 2),
    NationalId("IT_FISCAL_CODE", "Italian fiscal code", _stdnum("it.codicefiscale", (16,)),
               ("codice_fiscale", "codicefiscale", "cf", "fiscal_code", "fiscalcode"), 2),
    NationalId("NL_BSN", "Dutch citizen service number (BSN)", _stdnum("nl.bsn", (8, 9)),
               ("bsn", "burgerservicenummer", "sofinummer", "sofi"), 1),
    NationalId("DE_TAX_ID", "German tax id (Steuer-ID)", _stdnum("de.idnr", (11,)),
               ("steuer_id", "steuerid", "idnr", "steueridentifikationsnummer", "steuernummer", "tax_id", "taxid"), 1),
    NationalId("DE_RV_NR", "German pension insurance number", de_rv_nr,
               ("rvnr", "rv_nr", "rentenversicherungsnummer", "versicherungsnummer", "sozialversicherungsnummer", "svnr"), 2),
    NationalId("DE_KVNR", "German health insurance number", de_kvnr,
               ("kvnr", "krankenversichertennummer", "versichertennummer", "kv_nr"), 2),
    NationalId("BR_CPF", "Brazilian CPF", _stdnum("br.cpf", (11,)), ("cpf",), 2),
    NationalId("BR_CNPJ", "Brazilian CNPJ", _stdnum("br.cnpj", (14,)), ("cnpj",), 2),
    NationalId("BR_RG", "Brazilian RG", br_rg, ("rg", "registro_geral", "identidade"), 0),
    NationalId("IN_AADHAAR", "Indian Aadhaar number", _stdnum("in_.aadhaar", (12,)), ("aadhaar", "aadhar", "uid", "uidai"), 1),
    NationalId("IN_PAN", "Indian PAN", _stdnum("in_.pan", (10,)), ("pan", "pan_number", "pancard", "pan_card"), 2),
    NationalId("CA_SIN", "Canadian social insurance number", _stdnum("ca.sin", (9,)), ("sin", "social_insurance"), 1),
    NationalId("AU_TFN", "Australian tax file number", _stdnum("au.tfn", (8, 9)), ("tfn", "tax_file", "taxfile"), 1),
    NationalId("AU_MEDICARE", "Australian Medicare number", au_medicare, ("medicare",), 1),
    NationalId("PL_PESEL", "Polish PESEL", _stdnum("pl.pesel", (11,)), ("pesel",), 2),
    NationalId("SE_PERSONNUMMER", "Swedish personal identity number", _stdnum("se.personnummer", (10, 11, 12, 13)),
               ("personnummer", "personnr"), 2),
)
BY_ENTITY = {n.entity: n for n in NATIONAL_IDS}
#: header words that say "some national id" without naming one: any id's values may then decide
GENERIC_HEADER = ("ssn", "national_id", "nationalid", "id_number", "idnumber", "personal_id", "personalid", "tax_number",
                  "social_security", "identity_number", "citizen_id", "id_card", "idcard", "identification", "documento",
                  "document_number", "tin")
