"""The entity catalogue: names, candidate patterns, context words, defaults and test values.

Entity names follow Presidio (``CREDIT_CARD``, ``EMAIL_ADDRESS``, ``US_SSN``...) so findings map
onto tools people already use; secret types get their own names. Patterns are written in the
common subset of RE2 and Python ``re`` (no look-around, no backreferences) so one definition
drives both the pyarrow/RE2 prefilter and the per-candidate pass.

Weak entities (a bare 9-digit number, a phone number, a bank account, an NHS number) match a
large share of ordinary ids, so they only count next to a context keyword in the same cell or in
a column whose name says what it holds (``phone``, ``ssn``, ``routing_number``...).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

PII, SECRET = "pii", "secret"


@dataclass(frozen=True)
class Entity:
    name: str
    kind: str  # PII or SECRET
    title: str
    #: default action in the built-in policy
    action: str
    #: needs a context keyword or a matching column name
    weak: bool = False
    #: words that give context, matched against column-name tokens and text before a match
    context: tuple[str, ...] = ()
    #: column-name tokens that rule the entity out (e.g. IP_ADDRESS in a ``version`` column)
    negative: tuple[str, ...] = ()


def _semantic() -> tuple[Entity, ...]:
    """Entities decided per column by :mod:`columns` (header + share of values), not by the
    per-cell pattern pass: they have no context words here. ``POSTCODE`` and ``CITY`` are policy
    rules only: their findings are reported as ``LOCATION`` with a ``location_kind``."""
    from .national_ids import NATIONAL_IDS

    return (
        Entity("PERSON", PII, "person's name", "block"),
        Entity("LOCATION", PII, "street address", "block"),
        Entity("POSTCODE", PII, "postcode (LOCATION)", "warn"),
        Entity("CITY", PII, "city (LOCATION)", "warn"),
        Entity("DATE_OF_BIRTH", PII, "date of birth", "block"),
        Entity("PASSPORT", PII, "passport number", "block"),
        Entity("DRIVER_LICENSE", PII, "driving licence number", "block"),
        Entity("URL", PII, "personal URL (website/profile)", "warn"),
        Entity("URL_CREDENTIALS", SECRET, "URL carrying a password or token", "block"),
        *(Entity(n.entity, PII, n.title, "block") for n in NATIONAL_IDS),
    )


SEMANTIC_ENTITIES = _semantic()

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity("CREDIT_CARD", PII, "payment card number", "block", context=("card", "cc", "pan", "visa", "mastercard", "amex", "credit")),
        Entity("EMAIL_ADDRESS", PII, "email address", "block", context=("email", "mail", "e-mail")),
        Entity("US_SSN", PII, "US social security number", "block", context=("ssn", "social", "security", "ssa")),
        Entity("IBAN_CODE", PII, "IBAN", "block", context=("iban", "bank", "account")),
        Entity("US_ITIN", PII, "US taxpayer id (ITIN)", "warn", context=("itin", "taxpayer", "tin", "tax")),
        Entity("ABA_ROUTING_NUMBER", PII, "ABA routing number", "warn", weak=True, context=("routing", "aba", "rtn", "transit")),
        Entity("US_BANK_NUMBER", PII, "US bank account number", "warn", weak=True, context=("account", "acct", "bank", "checking", "savings")),
        Entity("UK_NHS", PII, "UK NHS number", "warn", weak=True, context=("nhs",)),
        Entity("PHONE_NUMBER", PII, "phone number", "warn", weak=True,
               context=("phone", "mobile", "tel", "telephone", "cell", "cellphone", "fax", "msisdn", "call", "whatsapp", "contact")),
        Entity("IP_ADDRESS", PII, "IP address", "warn", context=("ip", "ipv4", "ipv6", "address", "host", "client"),
               negative=("version", "ver", "release", "build", "semver", "revision", "fw", "firmware", "sw", "software", "os", "rev")),
        Entity("MAC_ADDRESS", PII, "MAC address", "warn", context=("mac", "hwaddr", "ether", "bssid")),
        Entity("CRYPTO", PII, "crypto wallet address", "warn", context=("wallet", "btc", "bitcoin", "eth", "ethereum", "crypto", "address")),
        Entity("PRIVATE_KEY", SECRET, "PEM private key", "block"),
        Entity("AWS_ACCESS_KEY", SECRET, "AWS access key id", "block"),
        Entity("GITHUB_TOKEN", SECRET, "GitHub token", "block"),
        Entity("GITLAB_TOKEN", SECRET, "GitLab token", "block"),
        Entity("SLACK_TOKEN", SECRET, "Slack token or webhook", "block"),
        Entity("STRIPE_KEY", SECRET, "Stripe API key", "block"),
        Entity("OPENAI_API_KEY", SECRET, "OpenAI API key", "block"),
        Entity("HUGGINGFACE_TOKEN", SECRET, "Hugging Face token", "block"),
        Entity("GOOGLE_API_KEY", SECRET, "Google API key", "block"),
        Entity("JWT", SECRET, "JSON Web Token", "block"),
        Entity("GENERIC_SECRET", SECRET, "password or secret (keyword + entropy)", "warn", weak=True,
               context=("password", "passwd", "pwd", "pass", "secret", "token", "apikey", "api_key", "credential", "credentials", "auth", "key")),
        *SEMANTIC_ENTITIES,
    )
}

# ---- candidate patterns (named groups of the per-column scanner) ------------------------------

#: card numbers by issuer prefix, bare or in 4-digit groups (Amex/Diners 4-6-5 / 4-6-4)
CARD_STRICT = (
    r"4\d{12}(?:\d{3}){0,2}|(?:5\d|2[2-7]|3\d|6\d)\d{11,17}|1\d{14}|2131\d{11}"
    r"|[1-6]\d{3}(?:[ -]\d{4}){3}[ -]\d{1,3}|[1-6]\d{3}[ -]\d{4}[ -]\d{4}[ -]\d{1,7}"
    r"|3\d{3}[ -]\d{6}[ -]\d{4,5}"
)
#: (12-digit Maestro numbers are only looked for where the column name or a keyword says "card":
#: twelve digits are also the last group of many UUIDs)
SSN_FORMATTED = r"\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}"
#: any run of digits with separators: only used when a weak numeric entity is in context
NUM_BROAD = r"\+?\(?\d[\d ().-]{6,22}\d"

CLASSES: dict[str, str] = {
    "pem": r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    "jwt": r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
    "tok": (
        r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"
        r"|gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255}"
        r"|glpat-[A-Za-z0-9_-]{20,}|gl(?:dt|rt|ptt|oas)-[A-Za-z0-9_-]{20,}"
        r"|xox[abposr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"
        r"|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"
        r"|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"
        r"|hf_[A-Za-z0-9]{30,}"
        r"|AIza[0-9A-Za-z_-]{35}"
    ),
    "email": r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}",
    "iban": r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}",
    "ip4": r"(?:\d{1,3}\.){3}\d{1,3}",
    "ip6": r"(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?|::(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4}",
    "mac": r"[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}",
    "btc": r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,71}|BC1[02-9AC-HJ-NP-Z]{11,71}",
    "eth": r"0x[0-9a-fA-F]{40}",
    "num": CARD_STRICT + "|" + SSN_FORMATTED,
}
#: a necessary part of each class with a long or counted pattern: every string that holds a match
#: of ``\b(?:CLASSES[c])\b`` holds a match of ``LOOSE[c]`` (each alternative starts with one of
#: these literals, or contains this shape). Used to find the cells worth testing with the exact
#: pattern (the prefilter's text pass, gates/pii/textscan.py), where RE2 runs faster with these.
LOOSE: dict[str, str] = {
    "pem": r"-----BEGIN ",
    "jwt": r"eyJ[A-Za-z0-9_-]{8}",
    # at a word boundary, as the bounded class is: "sk-" alone is in every "risk-based" and "desk-top"
    "tok": r"\b(?:AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|gl(?:dt|rt|ptt|oas)-|xox[abposr]-|hooks\.slack\.com/"
           r"|[rs]k_(?:live|test)_|sk-|hf_|AIza)",
    "email": r"[A-Za-z0-9._%+-]@[A-Za-z0-9-]",
}
#: classes whose matches must stand alone (word boundaries on both sides)
BOUNDED = {"jwt", "tok", "email", "iban", "ip4", "ip6", "mac", "btc", "eth", "num"}

#: ``key = value`` secrets in free text: the keyword, an assignment, then the value
SECRET_ASSIGNMENT = (
    r"(?i:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|client[_-]?secret)"
    r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?[^\s\"',;]{8,}"
)

#: known public test and documentation values: reported as test data, never blocked
TEST_VALUES: dict[str, frozenset[str]] = {
    "CREDIT_CARD": frozenset({
        "4111111111111111", "4012888888881881", "4222222222222", "4242424242424242", "4000056655665556",
        "4000000000000002", "4000000000000077", "4000000000000093", "4000000000000101",
        "5555555555554444", "5105105105105100", "5200828282828210", "2223003122003222", "2223000048400011",
        "378282246310005", "371449635398431", "378734493671000", "6011111111111117", "6011000990139424",
        "6011000400000000", "3530111333300000", "3566002020360505", "3566111111111113", "30569309025904",
        "38520000023237", "36227206271667", "6200000000000005", "6759649826438453", "6304000000000000",
        "5019717010103742", "4917610000000000003", "5425233430109903", "4263982640269299",
    }),
    "US_SSN": frozenset({"078051120", "219099999", "457555462", "111223333"}),
    "AWS_ACCESS_KEY": frozenset({"AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE", "AKIAIOSFODNN7EXAMPLF"}),
    "GENERIC_SECRET": frozenset({"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}),
    "IBAN_CODE": frozenset({"GB82WEST12345698765432", "DE89370400440532013000", "GB29NWBK60161331926819",
                           "FR1420041010050500013M02606", "GB33BUKB20201555555555", "NL91ABNA0417164300"}),
    "JWT": frozenset({
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    }),
    "EMAIL_ADDRESS": frozenset(),
    "US_ITIN": frozenset({"912701234", "900701234"}),
    "CRYPTO": frozenset({"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}),
}
TEST_EMAIL_DOMAINS = ("example.invalid",)

_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")


def name_tokens(name: str | None) -> frozenset[str]:
    """``billingPhoneNumber`` / ``billing_phone-number`` → {billing, phone, number}. Adjacent
    token pairs are added joined (``api_key`` → ``apikey``) so compound keywords match."""
    if not name:
        return frozenset()
    parts = [p.lower() for p in _SPLIT.split(name) if p]
    out = set(parts)
    out.update(a + b for a, b in zip(parts, parts[1:]))
    out.update(a + "_" + b for a, b in zip(parts, parts[1:]))
    return frozenset(out)


def _index(attr: str) -> dict[str, frozenset[str]]:
    """Word → the entities whose ``attr`` (context or negative words) holds it."""
    out: dict[str, set[str]] = {}
    for e in ENTITIES.values():
        for w in getattr(e, attr):
            out.setdefault(w, set()).add(e.name)
    return {w: frozenset(v) for w, v in out.items()}


_CONTEXT_OF = _index("context")
_NEGATIVE_OF = _index("negative")


#: the last key of a JSON path that holds what a schema or an API definition says *about* the
#: field its parent names, not that field's value: ``shapes.ClientToken.pattern`` holds a regex,
#: ``properties.password.description`` a sentence, ``members.streetName.documentation`` HTML
METADATA_KEYS = frozenset({"documentation", "description", "desc", "shape", "type", "pattern", "title", "format",
                           "summary", "locationname", "doc", "docs", "help", "hint", "tooltip", "placeholder"})


def context_label(label: str | None) -> str | None:
    """The part of a column's label its context comes from: the label, except where a JSON
    path ends in a metadata key (:data:`METADATA_KEYS`), whose value describes the parent's
    field: then that key alone (no PII context). In 298 botocore API definitions, the parent's
    words (``token``, ``auth``, ``street``) made 1,958 secret findings and 5 blocking street
    addresses of regexes, type names and documentation."""
    if not label or "." not in label:
        return label
    leaf = label.rsplit(".", 1)[-1]
    return leaf if leaf.replace("[]", "").lower() in METADATA_KEYS else label


@functools.lru_cache(maxsize=1 << 16)
def column_context(name: str | None) -> tuple[frozenset[str], frozenset[str]]:
    """Entities a column's name gives context for, and entities it rules out (a function of
    the name: asked per scanner and per decision, so remembered)."""
    toks = name_tokens(context_label(name))
    pos = {e for t in toks for e in _CONTEXT_OF.get(t, ())}
    neg = {e for t in toks for e in _NEGATIVE_OF.get(t, ())}
    # "id"/"uuid"/"hash" columns hold identifiers, not phone or account numbers
    if toks & {"id", "uuid", "guid", "hash", "sha", "checksum", "digest", "order", "sku", "version", "count"}:
        pos -= {"PHONE_NUMBER", "US_BANK_NUMBER", "UK_NHS", "ABA_ROUTING_NUMBER", "GENERIC_SECRET"}
    # a bare "key" is too vague on its own (primary key, cache key): it needs a secret-ish partner
    if "GENERIC_SECRET" in pos and not toks & {"password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "credential",
                                               "credentials", "auth", "privatekey", "private_key", "accesskey", "access_key"}:
        pos.discard("GENERIC_SECRET")
    if "US_ITIN" in pos and "US_SSN" not in pos:
        pos.add("US_SSN")  # a "tax id" column holds SSNs as often as ITINs
    return frozenset(pos), frozenset(neg)


def keyword_regex(entities: list[Entity]) -> str:
    words = sorted({w for e in entities for w in e.context if len(w) >= 3 and w not in ("key", "address", "contact", "pass")}, key=len, reverse=True)
    # whole tokens only, never part of an e-mail address or a domain (``info@tin.it``): not after
    # ``@``/``.``/a word character, not before ``@`` or ``.`` + a word character
    return r"(?i:(?:^|[^\w@.])(?:" + "|".join(re.escape(w) for w in words) + r")s?(?:$|[^\w@.]|\.(?:\s|$)))"


WEAK_NUMERIC = ("US_SSN", "US_ITIN", "ABA_ROUTING_NUMBER", "US_BANK_NUMBER", "UK_NHS", "PHONE_NUMBER")
