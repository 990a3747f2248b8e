"""Column-level decisions and the policy: actions, thresholds, allowlists, custom entities,
sampling with confidence bounds, zero-tolerance types scanned in full."""

from __future__ import annotations

import csv

from gates.pii.redact import value_hash, DEFAULT_SALT

from pii_helpers import fake_card, found


def emails_csv(path, n_rows, every):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "contact"])
        for i in range(1, n_rows + 1):
            w.writerow([i, f"person{i}@mail.example.net" if i % every == 0 else "n/a"])
    return path


def test_default_blocks_high_confidence_and_warns_rest(pii, tmp_path):
    p = tmp_path / "d.csv"
    p.write_text(f"contact,ip\nme{1}@corp.example.net,10.1.2.3\n")
    code, rep, _ = pii(p)
    got = {f["entity"]: f["blocking"] for f in rep["findings"]}
    assert got == {"EMAIL_ADDRESS": True, "IP_ADDRESS": False}
    assert code == 1


def test_max_fraction_and_min_count(pii, tmp_path):
    p = emails_csv(tmp_path / "e.csv", 1000, 200)  # 5 of 1000 rows = 0.5 %
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      EMAIL_ADDRESS: {action: block, max_fraction: 0.01}\n")
    fs = found(rep, "EMAIL_ADDRESS")
    assert fs and not any(f["blocking"] for f in fs) and code == 0
    assert fs[0]["column_count"] == 5 and fs[0]["column_rows"] == 1000 and fs[0]["column_fraction"] == 0.005
    assert "below the blocking threshold" in fs[0]["message"]
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      EMAIL_ADDRESS: {action: block, max_fraction: 0.004}\n")
    assert code == 1 and all(f["blocking"] for f in found(rep, "EMAIL_ADDRESS"))
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      EMAIL_ADDRESS: {action: block, min_count: 6}\n")
    assert code == 0
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      EMAIL_ADDRESS: {action: ignore}\n")
    assert code == 0 and not rep["findings"]
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      IP_ADDRESS: {action: block}\n      EMAIL_ADDRESS: {action: warn}\n")
    assert code == 0 and all(not f["blocking"] for f in rep["findings"])


def test_examples_are_capped_and_the_finding_is_per_column(pii, tmp_path):
    p = emails_csv(tmp_path / "e.csv", 100, 2)
    _, rep, _ = pii(p)
    fs = found(rep, "EMAIL_ADDRESS")
    assert len(fs) == 1  # one finding per (file, column, entity), not one per listed value
    f = fs[0]
    assert [e["row"] for e in f["examples"]] == list(range(2, 21, 2)) and f["row"] == 2
    assert f["column_count"] == 50 and "40 more occurrence(s)" in f["message"]
    assert all("*" in e["evidence"] and len(e["value_hash"]) == 16 for e in f["examples"])
    # the fingerprint names the column and entity: it survives rows moving and values changing
    lines = p.read_text().splitlines()
    p.write_text("\n".join([lines[0], "0,n/a", *lines[1:]]) + "\n")
    _, rep2, _ = pii(p)
    (f2,) = found(rep2, "EMAIL_ADDRESS")
    assert [e["row"] for e in f2["examples"]] == list(range(3, 22, 2))
    assert f2["fingerprint"] == f["fingerprint"]
    p.write_text("id,contact\n1,someone.else@mail.example.net\n")
    _, rep3, _ = pii(p)
    assert found(rep3, "EMAIL_ADDRESS")[0]["fingerprint"] == f["fingerprint"]
    p.write_text("id,other_contact\n1,someone.else@mail.example.net\n")
    _, rep4, _ = pii(p)
    assert found(rep4, "EMAIL_ADDRESS")[0]["fingerprint"] != f["fingerprint"]  # another column: another finding


def test_a_waiver_covers_its_column_and_later_values_only(pii, tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("contact,backup\nperson1@mail.example.net,other1@mail.example.net\n")
    _, rep, _ = pii(p)
    fp = {f["column"]: f["fingerprint"] for f in found(rep, "EMAIL_ADDRESS")}
    policy = (f"version: 1\nwaivers:\n  - rule: PII001\n    fingerprint: {fp['contact']}\n    reason: synthetic contacts\n"
              f"    expires: 2999-01-01\n")
    # later values in the waived column stay waived; the other column still blocks
    p.write_text("contact,backup\nperson1@mail.example.net,other1@mail.example.net\nperson2@mail.example.net,\n")
    code, rep, _ = pii(p, policy=policy)
    by = {f["column"]: f for f in found(rep, "EMAIL_ADDRESS")}
    assert by["contact"]["waived"] is True and by["contact"]["column_count"] == 2
    assert by["backup"]["waived"] is False and by["backup"]["blocking"] is True and code == 1


def test_allowlists(pii, tmp_path):
    card = fake_card("51", 16, 3)
    p = tmp_path / "a.csv"
    p.write_text(f"support,other,sha_col,card\nhelp@corp.example.net,x{1}@corp.example.net,y@corp.example.net,{card}\n"
                 f"noreply-7@corp.example.net,,,\n")
    h = value_hash(DEFAULT_SALT, "CREDIT_CARD", card)
    policy = f"""version: 1
gates:
  pii:
    allow:
      values: [help@corp.example.net]
      patterns: ['^noreply-\\d+@']
      columns: ['sha_*']
      hashes: [{h}]
"""
    code, rep, _ = pii(p, policy=policy)
    assert [(f["row"], f["column"]) for f in rep["findings"]] == [(1, "other")]
    assert code == 1
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    allow:\n      paths: ['a.csv']\n")
    assert code == 2 and not rep["findings"]  # the only file allowed: nothing was scanned (issue 13)


def test_value_hash_matches_report(pii, tmp_path):
    card = fake_card("4", 16, 77)
    p = tmp_path / "c.csv"
    p.write_text(f"card\n{card}\n")
    _, rep, _ = pii(p)
    assert found(rep, "CREDIT_CARD")[0]["value_hash"] == value_hash(DEFAULT_SALT, "CREDIT_CARD", card)


def test_salt_changes_hash_not_fingerprint_stability(pii, tmp_path, monkeypatch):
    p = tmp_path / "c.csv"
    p.write_text("mail\nab@corp.example.net\n")
    _, r1, _ = pii(p)
    monkeypatch.setenv("MLSEC_GATES_PII_SALT", "a-private-salt-123")
    _, r2, _ = pii(p)
    _, r3, _ = pii(p)
    assert r1["findings"][0]["value_hash"] != r2["findings"][0]["value_hash"]
    assert r2["findings"][0]["fingerprint"] == r3["findings"][0]["fingerprint"]


def test_custom_entity_with_validator(pii, tmp_path):
    p = tmp_path / "emp.csv"
    p.write_text("who,badge\na,EMP-4111111111111111\nb,EMP-4111111111111112\nc,EMP-123\n")
    policy = """version: 1
gates:
  pii:
    custom:
      EMPLOYEE_BADGE: {pattern: 'EMP-(\\d{16})', validator: luhn, action: block}
"""
    code, rep, _ = pii(p, policy=policy)
    fs = found(rep, "EMPLOYEE_BADGE")
    assert [(f["row"], f["rule"], f["blocking"]) for f in fs] == [(1, "PII004", True)]
    assert code == 1


def test_catastrophic_custom_pattern_rejected(pii, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a\nb\n")
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    custom:\n      BAD: {pattern: '(a+)+$'}\n")
    assert code == 2 and "nested quantifiers" in rep["gates"]["pii"]["errors"][0]["message"]
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    custom:\n      BAD: {pattern: '(a)\\1'}\n")
    assert code == 2 and "RE2" in rep["gates"]["pii"]["errors"][0]["message"]
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    custom:\n      BAD: {pattern: '(?P<num>x)'}\n")
    assert code == 2 and "named groups" in rep["gates"]["pii"]["errors"][0]["message"]


def test_unknown_entity_and_bad_action_are_policy_errors(pii, tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a\nb\n")
    code, _, r = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      CREDIT_CARD: {action: explode}\n")
    assert code == 2 and "policy.yml:5" in r.err
    code, rep, _ = pii(p, policy="version: 1\ngates:\n  pii:\n    entities:\n      NOT_A_THING: {action: block}\n")
    assert code == 2 and "NOT_A_THING" in rep["gates"]["pii"]["errors"][0]["message"]


def test_sampling_reports_interval_but_never_samples_zero_tolerance(pii, tmp_path):
    n = 6000
    p = tmp_path / "s.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["client_ip", "contact"])
        for i in range(1, n + 1):
            w.writerow([f"10.0.{i % 250}.{1 + i % 200}", f"u{i}@corp.example.net" if i % 3 == 0 else "-"])
    policy = "version: 1\ngates:\n  pii:\n    sampling: {min_rows: 500, rate: 0.1}\n"
    _, rep, _ = pii(p, policy=policy)
    ip = found(rep, "IP_ADDRESS")[0]
    assert ip["sampled"] is True
    lo, hi = ip["fraction_ci"]
    assert lo <= 1.0 <= hi + 1e-9 and lo > 0.9 and ip["column_count"] == n
    assert "95% CI" in ip["message"]
    mail = found(rep, "EMAIL_ADDRESS")[0]
    assert mail["sampled"] is False and mail["column_count"] == n // 3
    _, rep, _ = pii(p, policy=policy, extra=("--no-sampling",))
    assert found(rep, "IP_ADDRESS")[0]["sampled"] is False


def test_worker_processes_give_the_same_findings(pii, tmp_path, monkeypatch):
    from gates.pii import engine, readers
    from gates.pii import pool as pool_module

    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 64 << 10)  # many chunks, spread over the workers
    monkeypatch.setattr(readers, "CSV_MID_FILE", 0)
    monkeypatch.setattr(engine, "ADAPTIVE", False)  # sparse data would otherwise stay in-process
    p = emails_csv(tmp_path / "e.csv", 30000, 7)
    with open(p, "a") as fh:
        fh.write(f"30001,{fake_card('4', 16, 9)}\n")
    policy = "version: 1\ngates:\n  pii:\n    parallel_min_mb: 0\n"
    _, one, _ = pii(p, policy=policy, extra=("--workers", "1"))
    _, two, _ = pii(p, policy=policy, extra=("--workers", "2"))
    assert engine.SPLIT["workers"] > 1 and engine.SPLIT["parent"] == 0
    key = lambda rep: sorted((f["fingerprint"], f["row"], f["column_count"], f["blocking"]) for f in rep["findings"])  # noqa: E731
    assert key(one) == key(two) and len(key(one)) == 2  # one finding per column and entity
    assert found(two, "CREDIT_CARD")[0]["row"] == 30001
    assert found(two, "EMAIL_ADDRESS")[0]["column_count"] == 30000 // 7
    # the parent scans the first chunks itself while the workers start: same findings
    calls: list[int] = []
    monkeypatch.setattr(engine, "ADAPTIVE", True)
    monkeypatch.setattr(engine, "candidate_share", lambda bs, chunk: 1.0)
    monkeypatch.setattr(pool_module.Pool, "ready", lambda self: None if len(calls.append(1) or calls) <= 3 else self.wait())
    _, mixed, _ = pii(p, policy=policy, extra=("--workers", "2"))
    assert engine.SPLIT["parent"] == 4 and engine.SPLIT["workers"] > 1  # 3 while they start, and the last
    assert key(mixed) == key(one)


def test_value_hashes_are_stable():
    """Allowlists and waivers name values by this hash: HMAC-SHA256(salt, "ENTITY:value"), 16 hex
    digits. Any change of how it is computed would silently void them."""
    import hashlib
    import hmac

    assert value_hash(DEFAULT_SALT, "CREDIT_CARD", "4111111111111111") == "3ead83443e3a09de"
    assert value_hash("sälz-€-salt", "PERSON", "Jörg Müller") == "abaf508fe5319b2e"
    for salt, entity, v in ((DEFAULT_SALT, "EMAIL_ADDRESS", "a@b.example"), ("x" * 100, "US_SSN", "536-22-1234")):
        assert value_hash(salt, entity, v) == hmac.new(salt.encode(), f"{entity}:{v}".encode(), hashlib.sha256).hexdigest()[:16]
