"""A labelled PII corpus this project did not shape: Faker (pinned in the ``test`` extra) in ten
locales, plus real datasets shipped inside PyPI packages.

Each Faker file has one column per entity the locale can produce (header as a dataset would name
it), a phone column under a neutral header (``field_07``), and non-PII columns that look like PII
(16/18-digit transaction ids, EAN-13 and ISBN-13 barcodes, ``DDD DD DDDD`` batch numbers,
four-part versions, order dates, product names and airport names in a ``name`` column). Driving
licence numbers are the one entity Faker lacks: they are generated here in per-country shapes.

The real datasets (scikit-learn's bundled CSVs, vega_datasets, plotly's sample data) are labelled
non-PII, except where they are known to hold personal data (the LA riots list of victims: names
and addresses; airport cities are cities).

``build(directory, rows, seed)`` writes the files and returns the labels:
``{(file name, column): entity or None}``; ``None`` marks a non-PII column.
"""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import importlib.util
import random
import shutil
from pathlib import Path

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "en_IN", "ja_JP")
#: national ids per locale: (column header, Faker method, entity)
NATIONAL = {
    "en_US": [("ssn", "ssn", "US_SSN")],
    "en_GB": [("national_insurance_number", "ssn", "UK_NINO")],
    "de_DE": [("steuer_id", None, "DE_TAX_ID"), ("rvnr", "rvnr", "DE_RV_NR"), ("kvnr", "kvnr", "DE_KVNR")],
    "fr_FR": [("numero_securite_sociale", "ssn", "FR_NIR")],
    "es_ES": [("dni", "nif", "ES_NIF"), ("nie", "nie", "ES_NIE"), ("nuss", "nuss", "ES_NUSS")],
    "it_IT": [("codice_fiscale", "ssn", "IT_FISCAL_CODE")],
    "nl_NL": [("bsn", "ssn", "NL_BSN")],
    "pt_BR": [("cpf", "cpf", "BR_CPF"), ("cnpj", "cnpj", "BR_CNPJ"), ("rg", "rg", "BR_RG")],
    "en_IN": [("aadhaar", "aadhaar_id", "IN_AADHAAR"), ("pan", "pan", "IN_PAN")],
    "ja_JP": [],
}
HEADERS = {  # locale → (name, first, last, street, address, postcode, city, dob, phone, passport, licence, website)
    "en_US": ("name", "first_name", "last_name", "street_address", "address", "zip", "city", "date_of_birth", "phone",
              "passport_number", "drivers_license", "website"),
    "en_GB": ("full_name", "forename", "surname", "street", "address", "postcode", "town", "dob", "telephone",
              "passport_no", "driving_licence", "homepage"),
    "de_DE": ("name", "vorname", "nachname", "strasse", "anschrift", "plz", "stadt", "geburtsdatum", "telefon",
              "reisepass", "fuehrerschein", "webseite"),
    "fr_FR": ("nom_complet", "prenom", "nom_de_famille", "adresse_rue", "adresse", "code_postal", "ville",
              "date_de_naissance", "telephone", "passeport", "permis_de_conduire", "site_web"),
    "es_ES": ("nombre_completo", "nombre", "apellidos", "calle", "direccion", "codigo_postal", "ciudad",
              "fecha_nacimiento", "telefono", "pasaporte", "permiso_de_conducir", "sitio_web"),
    "it_IT": ("nome_completo", "nome", "cognome", "via", "indirizzo", "cap", "citta", "data_di_nascita", "telefono",
              "passaporto", "patente", "sito_web"),
    "nl_NL": ("naam", "voornaam", "achternaam", "straat", "adres", "postcode", "woonplaats", "geboortedatum",
              "telefoonnummer", "paspoort", "rijbewijs", "website"),
    "pt_BR": ("nome_completo", "primeiro_nome", "sobrenome", "logradouro", "endereco", "cep", "cidade",
              "data_nascimento", "telefone", "passaporte", "cnh", "site"),
    "en_IN": ("name", "first_name", "last_name", "street_address", "address", "pincode", "city", "date_of_birth",
              "mobile", "passport_number", "driving_license", "website"),
    "ja_JP": ("氏名", "名", "姓", "street_address", "住所", "郵便番号", "city", "生年月日", "電話番号", "パスポート",
              "運転免許", "website"),
}
DOB_FORMAT = {"en_US": "%m/%d/%Y", "en_GB": "%d/%m/%Y", "de_DE": "%d.%m.%Y", "fr_FR": "%d/%m/%Y", "es_ES": "%d/%m/%Y",
              "it_IT": "%d/%m/%Y", "nl_NL": "%d-%m-%Y", "pt_BR": "%d/%m/%Y", "en_IN": "%Y-%m-%d", "ja_JP": "%Y年%m月%d日"}
AIRPORTS = ("Chicago O'Hare International Airport", "Heathrow Airport", "Frankfurt Airport", "Charles de Gaulle Airport",
            "Adolfo Suárez Madrid–Barajas Airport", "Leonardo da Vinci–Fiumicino Airport", "Amsterdam Airport Schiphol",
            "São Paulo–Guarulhos International Airport", "Indira Gandhi International Airport", "Narita International Airport",
            "John F. Kennedy International Airport", "Los Angeles International Airport", "Munich Airport",
            "Dallas/Fort Worth International Airport", "Denver International Airport", "Hartsfield–Jackson Atlanta International Airport")
ADJ = ("Ergonomic", "Rustic", "Sleek", "Smart", "Gorgeous", "Practical", "Refined", "Handcrafted", "Licensed", "Modern")
MAT = ("Steel", "Wooden", "Granite", "Cotton", "Rubber", "Plastic", "Bronze", "Concrete", "Frozen", "Soft")
THING = ("Chair", "Table", "Keyboard", "Bike", "Shoes", "Towels", "Gloves", "Lamp", "Sausages", "Mouse")


def _de_tax_id(rng: random.Random) -> str:
    """A German Steuer-ID: ten digits (first not 0) where exactly one digit appears twice and
    one digit not at all, then the ISO 7064 mod 11,10 check digit."""
    from stdnum.iso7064 import mod_11_10

    while True:
        digits = rng.sample("0123456789", 9)
        digits.insert(rng.randrange(1, 10), rng.choice(digits))
        body = "".join(digits)
        if body[0] != "0":
            return body + mod_11_10.calc_check_digit(body)


def _licence(locale: str, rng: random.Random) -> str:
    """Driving-licence numbers in the shape of each country's (synthetic: Faker has none)."""
    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    a = lambda n: "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(n))  # noqa: E731
    return {
        "en_US": lambda: a(1) + d(7), "en_GB": lambda: a(5) + d(6) + a(2) + d(1) + a(2),
        "de_DE": lambda: a(1) + d(2) + a(1) + d(6) + d(1), "fr_FR": lambda: d(12), "es_ES": lambda: d(8) + a(1),
        "it_IT": lambda: "U1" + a(1) + d(6) + a(1), "nl_NL": lambda: d(10), "pt_BR": lambda: d(11),
        "en_IN": lambda: "MH" + d(2) + " " + d(11), "ja_JP": lambda: d(12),
    }[locale]()


def faker_file(directory: Path, locale: str, rows: int, seed: int) -> dict[tuple[str, str], str | None]:
    from faker import Faker

    f = Faker(locale)
    f.seed_instance(seed)
    rng = random.Random(seed)
    h = HEADERS[locale]
    spec: list[tuple[str, str | None, object]] = [
        (h[0], "PERSON", f.name), (h[1], "PERSON", f.first_name), (h[2], "PERSON", f.last_name),
        (h[3], "LOCATION", f.street_address), (h[4], "LOCATION", f.address), (h[5], "LOCATION", f.postcode),
        (h[6], "LOCATION", f.city),
        (h[7], "DATE_OF_BIRTH", lambda: f.date_of_birth(minimum_age=1, maximum_age=95).strftime(DOB_FORMAT[locale])),
        (h[8], "PHONE_NUMBER", f.phone_number), ("field_07", "PHONE_NUMBER", f.phone_number),
        (h[9], "PASSPORT", f.passport_number), (h[10], "DRIVER_LICENSE", lambda: _licence(locale, rng)),
        (h[11], "URL", f.url), ("email", "EMAIL_ADDRESS", f.email),
        ("credit_card", "CREDIT_CARD", f.credit_card_number),
    ]
    if locale != "en_IN":  # Faker 40.54's en_IN iban() gives 21-character GB IBANs: invalid, so not labelled
        spec.append(("iban", "IBAN_CODE", f.iban))
    for col, method, entity in NATIONAL[locale]:
        spec.append((col, entity, (lambda: _de_tax_id(rng)) if method is None else getattr(f, method)))
    spec += [
        ("transaction_id", None, lambda: str(rng.randrange(10**15, 10**16))),
        ("txn_ref", None, lambda: str(rng.randrange(10**17, 10**18))),
        ("ean", None, f.ean13), ("isbn", None, lambda: f.isbn13().replace("-", "")),
        ("batch_number", None, lambda: f"{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(1000, 9999)}"),
        ("fw_version", None, lambda: ".".join(str(rng.randint(0, 255)) for _ in range(4))),
        ("order_date", None, lambda: f.date_between(_dt.date(2020, 1, 1), _dt.date(2025, 12, 31)).isoformat()),
        ("product_name", None, lambda: f"{rng.choice(ADJ)} {rng.choice(MAT)} {rng.choice(THING)}"),
        ("company", None, f.company), ("job", None, f.job), ("amount", None, lambda: f"{rng.uniform(1, 999):.2f}"),
        ("uuid", None, lambda: str(f.uuid4())), ("color", None, f.color_name),
    ]
    name = f"faker_{locale}.csv"
    with open(directory / name, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([c for c, _, _ in spec])
        for _ in range(rows):
            w.writerow([gen() for _, _, gen in spec])  # type: ignore[operator]
    # a second file: airport and product names under a bare ``name`` header (not people)
    labels = {(name, c): e for c, e, _ in spec}
    if locale == "en_US":
        other = "faker_names_not_people.csv"
        with open(directory / other, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "kind"])
            for i in range(rows):
                w.writerow([AIRPORTS[i % len(AIRPORTS)], "airport"] if i % 2 else
                           [f"{rng.choice(ADJ)} {rng.choice(MAT)} {rng.choice(THING)}", "product"])
        labels[(other, "name")] = labels[(other, "kind")] = None
    return labels


#: real datasets inside PyPI packages: (module, relative path, {column: entity}) — unlisted columns are non-PII
REAL = (
    ("sklearn", "datasets/data/iris.csv", {}), ("sklearn", "datasets/data/wine_data.csv", {}),
    ("sklearn", "datasets/data/breast_cancer.csv", {}), ("sklearn", "datasets/data/linnerud_exercise.csv", {}),
    ("sklearn", "datasets/data/linnerud_physiological.csv", {}), ("sklearn", "datasets/data/diabetes_data_raw.csv.gz", {}),
    ("vega_datasets", "_data/airports.csv", {"city": "LOCATION"}),
    ("vega_datasets", "_data/la-riots.csv", {"first_name": "PERSON", "last_name": "PERSON", "address": "LOCATION"}),
    ("vega_datasets", "_data/seattle-weather.csv", {}), ("vega_datasets", "_data/stocks.csv", {}),
    ("vega_datasets", "_data/us-employment.csv", {}), ("vega_datasets", "_data/iowa-electricity.csv", {}),
    ("vega_datasets", "_data/sf-temps.csv", {}), ("vega_datasets", "_data/seattle-temps.csv", {}),
    ("vega_datasets", "_data/cars.json", {}), ("vega_datasets", "_data/barley.json", {}),
    ("plotly", "package_data/datasets/gapminder.csv.gz", {}), ("plotly", "package_data/datasets/tips.csv.gz", {}),
    ("plotly", "package_data/datasets/election.csv.gz", {}), ("plotly", "package_data/datasets/medals.csv.gz", {}),
    ("plotly", "package_data/datasets/carshare.csv.gz", {}), ("plotly", "package_data/datasets/experiment.csv.gz", {}),
)


def _columns(path: Path) -> list[str]:
    import json

    if path.name.endswith(".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        return sorted({k for r in data for k in r}) if isinstance(data, list) else []
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        return next(csv.reader(fh), [])


def real_files(directory: Path) -> dict[tuple[str, str], str | None]:
    """Copy the real datasets that are installed; label their columns."""
    labels: dict[tuple[str, str], str | None] = {}
    for module, rel, known in REAL:
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            continue
        src = Path(list(spec.submodule_search_locations)[0]) / rel
        if not src.is_file():
            continue
        name = f"real_{module}_{src.name}"
        shutil.copyfile(src, directory / name)
        for col in _columns(src):
            labels[(name, col)] = known.get(col)
    return labels


def build(directory: Path, rows: int = 200, seed: int = 2026, locales: tuple[str, ...] = LOCALES,
          real: bool = True) -> dict[tuple[str, str], str | None]:
    directory.mkdir(parents=True, exist_ok=True)
    labels: dict[tuple[str, str], str | None] = {}
    for i, loc in enumerate(locales):
        labels.update(faker_file(directory, loc, rows, seed + i))
    if real:
        labels.update(real_files(directory))
    return labels
