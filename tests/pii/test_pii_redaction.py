"""No raw value may reach any report, the console, stderr or an error message.

Planted values are generated at run time (so they are not even in this file's source, which
pytest would print on a failure) and every assertion message names only the format.
"""

from __future__ import annotations

import json
import random
import string

from pii_helpers import fake_card, fake_iban

FORMATS = ("text", "json", "markdown", "sarif", "junit", "codequality")


def planted() -> dict[str, str]:
    rng = random.Random(20261125)
    alnum = string.ascii_letters + string.digits
    rnd = lambda n, chars=alnum: "".join(rng.choice(chars) for _ in range(n))  # noqa: E731
    return {
        "card": fake_card("4", 16, rng.randint(0, 10**6)),
        "card19": fake_card("2", 19, rng.randint(0, 10**6)).replace("2", "5", 1),
        "email": f"{rnd(8, string.ascii_lowercase)}@{rnd(6, string.ascii_lowercase)}.example.com",
        "ssn": f"{rng.randint(100, 599)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        "iban": fake_iban("DE", "".join(rng.choice(string.digits) for _ in range(18))),
        "aws": "AKIA" + rnd(16, string.ascii_uppercase + "234567"),
        "github": "ghp_" + rnd(36),
        "stripe": "sk_live_" + rnd(24),
        "hf": "hf_" + rnd(34, string.ascii_letters),
        "password": rnd(10) + "#" + rnd(6),
        "phone": f"+1 415 555 {rng.randint(1000, 9999)}",
        "ip": f"{rng.randint(11, 99)}.{rng.randint(10, 250)}.{rng.randint(10, 250)}.{rng.randint(10, 250)}",
        "jwt": "eyJhbGciOiJIUzI1NiJ9." + "eyJ" + rnd(30) + "." + rnd(40),
    }


def test_no_raw_value_in_any_output(cli, tmp_path):
    v = planted()
    csv_path = tmp_path / "people.csv"
    csv_path.write_text(
        "card,email,ssn,iban,phone,client_ip,password,notes\n"
        f"{v['card']},{v['email']},{v['ssn']},{v['iban']},{v['phone']},{v['ip']},{v['password']},key {v['aws']}\n"
        f"{v['card19']},,,,,,,token {v['github']} and {v['stripe']} and {v['hf']} and {v['jwt']}\n"
    )
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text(json.dumps({v["email"]: {"ssn": v["ssn"]}}) + "\n" + '{"broken": "' + v["card"] + '"\n')
    outs = {fmt: tmp_path / f"report.{fmt}" for fmt in FORMATS}
    args = ["pii", str(csv_path), str(jsonl), "--root", str(tmp_path)]
    for fmt, out in outs.items():
        args += ["--format", fmt, "--output", str(out)]
    r = cli(*args)
    assert r.code == 2  # the broken JSONL line is an error; its findings are still reported
    report = json.loads(outs["json"].read_text())
    entities = {f["entity"] for f in report["findings"]}
    assert {"CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN", "IBAN_CODE", "AWS_ACCESS_KEY", "GITHUB_TOKEN", "STRIPE_KEY",
            "HUGGINGFACE_TOKEN", "JWT", "GENERIC_SECRET", "PHONE_NUMBER", "IP_ADDRESS"} <= entities, "an entity was not detected"
    texts = {fmt: out.read_text() for fmt, out in outs.items()}
    texts["stdout"] = r.out
    texts["stderr"] = r.err
    needles = set(v.values())
    needles |= {x.replace(" ", "").replace("-", "") for x in (v["card"], v["card19"], v["ssn"], v["phone"])}
    needles.add(v["email"].split("@")[0])
    for where, text in texts.items():
        leaked = [k for k, val in v.items() if val in text] + [n[:4] + "…" for n in needles if n in text]
        assert not leaked, f"raw values leaked into {where}: {sorted(leaked)}"
    assert all(f["evidence"] and "*" in f["evidence"] for f in report["findings"] if f["entity"] != "PRIVATE_KEY")


def test_crash_messages_do_not_quote_input(cli, tmp_path):
    v = planted()
    p = tmp_path / "bad.csv"
    p.write_bytes(b"a,b\n" + v["card"].encode() + b",\xff\xfe\n")  # invalid UTF-8 next to a card number
    out = tmp_path / "r.json"
    r = cli("pii", str(p), "--root", str(tmp_path), "--format", "json", "--output", str(out))
    assert r.code == 2
    text = out.read_text() + r.out + r.err
    assert v["card"] not in text, "the card number leaked through an error message"
    assert "not valid utf-8" in text.lower()


def test_sarif_with_pii_findings_is_valid(cli, tmp_path, shared):
    import jsonschema

    v = planted()
    p = tmp_path / "t.txt"
    p.write_text(f"mail {v['email']}\ncard {v['card']}\n")
    out = tmp_path / "r.sarif"
    cli("pii", str(p), "--root", str(tmp_path), "--format", "sarif", "--output", str(out))
    schema = json.loads((shared / "schemas" / "sarif-schema-2.1.0.json").read_text())
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, schema)
    results = doc["runs"][0]["results"]
    assert {r["properties"]["entity"] for r in results} == {"EMAIL_ADDRESS", "CREDIT_CARD"}
    assert sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results) == [1, 2]


def test_headerless_csv_and_sensitive_keys_are_never_labels(cli, tmp_path):
    v = planted()
    p = tmp_path / "noheader.csv"
    other = fake_card("51", 16, 99)
    p.write_text(f"{v['email']},{v['card']}\nx,y\nother,{other}\n")
    j = tmp_path / "keys.json"
    j.write_text(json.dumps([{v["aws"]: "x", "ok": v["email"]}]))
    out = tmp_path / "r.json"
    r = cli("pii", str(p), str(j), "--root", str(tmp_path), "--format", "json", "--output", str(out))
    text = out.read_text() + r.out + r.err
    leaked = [k for k, val in v.items() if val in text]
    assert not leaked, f"raw values leaked: {leaked}"
    rep = json.loads(text[: len(out.read_text())])
    got = {(f["path"].rsplit("/", 1)[-1], f["entity"], e["row"], f["column"]) for f in rep["findings"] for e in f["examples"]}
    assert ("noheader.csv", "EMAIL_ADDRESS", 1, "column_1") in got
    assert ("noheader.csv", "CREDIT_CARD", 3, "column_2") in got
    assert ("keys.json", "AWS_ACCESS_KEY", 1, "{key}") in got and ("keys.json", "EMAIL_ADDRESS", 1, "ok") in got
    assert any("read as data" in n for n in rep["gates"]["pii"]["notes"])
