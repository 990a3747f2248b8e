"""Labelled synthetic tabular data for the PII benchmark and tests: realistic PII columns mixed
with look-alikes (order ids, uuids, versions, coordinates, timestamps). Every value is generated
(Luhn-valid cards from random digits, SSNs in valid ranges...): none is a real person's."""

from __future__ import annotations

import csv
import random
import string
import uuid

FIRST = ["james", "mary", "li", "sofia", "omar", "anna", "kenji", "fatima", "lucas", "chloe", "ivan", "amara"]
LAST = ["smith", "garcia", "chen", "muller", "okafor", "rossi", "tanaka", "novak", "silva", "dubois"]
DOMAINS = ["mail.example.com", "corp.example.net", "inbox.example.org", "post.example.io"]


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def card(rng: random.Random) -> str:
    prefix, length = rng.choice([("4", 16), ("4", 19), ("51", 16), ("2221", 16), ("2720", 16), ("37", 15), ("6011", 16), ("3530", 16), ("6759", 16), ("3589", 19)])
    num = luhn_complete(prefix + "".join(rng.choice(string.digits) for _ in range(max(0, 4 - len(prefix)))), length, rng)
    return " ".join(num[i:i + 4] for i in range(0, len(num), 4)) if rng.random() < 0.3 else num


def bad_card(rng: random.Random) -> str:
    c = luhn_complete("4" + "".join(rng.choice(string.digits) for _ in range(3)), 16, rng)
    return c[:-1] + str((int(c[-1]) + 1) % 10)


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    num = int("".join(str(int(c, 36)) for c in bban + "DE00"))
    check = 98 - num % 97
    return f"DE{check:02d}{bban}"


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"


def phone(rng: random.Random) -> str:
    area = rng.choice([201, 212, 305, 312, 415, 503, 617, 646, 702, 818])
    n = f"{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return rng.choice([f"+1 {area} {n[:3]} {n[3:]}", f"({area}) {n[:3]}-{n[3:]}", f"{area}-{n[:3]}-{n[3:]}"])


def ip(rng: random.Random) -> str:
    return f"{rng.choice([23, 51, 81, 92, 145, 185, 203])}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def neutral(rng: random.Random, i: int) -> dict[str, str]:
    return {
        "id": str(i),
        "order_id": str(rng.randint(1_000_000_000, 9_999_999_999)),
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "version": f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        "lat": f"{rng.uniform(-90, 90):.6f}",
        "lon": f"{rng.uniform(-180, 180):.6f}",
        "created_at": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        "amount": f"{rng.uniform(1, 5000):.2f}",
    }


NOTES = ["order delivered", "customer asked for refund", "left at door, signed", "priority shipping", "gift wrap requested",
         "returned item, restocked", "address updated by support", "duplicate of earlier order"]


def dense_rows(n: int, seed: int = 7):
    """Rows of a PII-dense customer table and their labels [(row, column, entity)]."""
    rng = random.Random(seed)
    for i in range(1, n + 1):
        r = neutral(rng, i)
        labels = []
        r["name"] = f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}"
        r["email"] = email(rng)
        labels.append(("email", "EMAIL_ADDRESS"))
        r["phone"] = phone(rng)
        labels.append(("phone", "PHONE_NUMBER"))
        r["ssn"] = ssn(rng)
        labels.append(("ssn", "US_SSN"))
        if rng.random() < 0.9:
            r["card_number"] = card(rng)
            labels.append(("card_number", "CREDIT_CARD"))
        else:
            r["card_number"] = bad_card(rng)
        r["iban"] = iban(rng) if rng.random() < 0.5 else ""
        if r["iban"]:
            labels.append(("iban", "IBAN_CODE"))
        r["client_ip"] = ip(rng)
        labels.append(("client_ip", "IP_ADDRESS"))
        roll = rng.random()
        if roll < 0.05:
            r["notes"] = f"customer said call me at {phone(rng)} after 5pm"
            labels.append(("notes", "PHONE_NUMBER"))
        elif roll < 0.08:
            r["notes"] = f"refund to card {card(rng)} approved"
            labels.append(("notes", "CREDIT_CARD"))
        else:
            r["notes"] = rng.choice(NOTES)
        yield r, [(i, c, e) for c, e in labels]


def sparse_rows(n: int, seed: int = 11, rate: float = 0.001):
    rng = random.Random(seed)
    for i in range(1, n + 1):
        r = neutral(rng, i)
        r["sku"] = f"SKU-{rng.randint(10000, 99999)}"
        r["status"] = rng.choice(["shipped", "pending", "cancelled", "delivered"])
        labels = []
        if rng.random() < rate:
            r["notes"] = f"contact {email(rng)} about this"
            labels.append((i, "notes", "EMAIL_ADDRESS"))
        else:
            r["notes"] = rng.choice(NOTES)
        yield r, labels


def write_csv(path, rows_iter, target_bytes: int | None = None) -> list[tuple[int, str, str]]:
    """Write rows (stopping after about ``target_bytes`` when given); return their labels."""
    labels: list[tuple[int, str, str]] = []
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = None
        for row, lab in rows_iter:
            if w is None:
                w = csv.DictWriter(fh, fieldnames=list(row))
                w.writeheader()
            w.writerow(row)
            labels.extend(lab)
            if target_bytes is not None and fh.tell() >= target_bytes:
                break
    return labels


def write_csv_bytes(target_bytes: int, kind: str, path, seed: int = 7) -> list[tuple[int, str, str]]:
    """Write about ``target_bytes`` of ``kind`` (dense|sparse) CSV to ``path``; return labels."""
    gen = dense_rows(10**9, seed) if kind == "dense" else sparse_rows(10**9, seed)
    return write_csv(path, gen, target_bytes)
