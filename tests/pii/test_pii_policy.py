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


def test_examples_are_capped_and_keyed_by_value(pii, tmp_path):
    p = emails_csv(tmp_path / "e.csv", 100, 2)
    _, rep, _ = pii(p)
    fs = found(rep, "EMAIL_ADDRESS")
    assert len(fs) == 10 and [f["row"] for f in fs] == list(range(2, 21, 2))
    assert len({f["fingerprint"] for f in fs}) == 10
    assert "40 more occurrence(s) not listed" in fs[-1]["message"]
    # fingerprints survive rows moving: same values, shifted down by one row
    lines = p.read_text().splitlines()
    p.write_text("\n".join([lines[0], "0,n/a", *lines[1:]]) + "\n")
    _, rep2, _ = pii(p)
    fs2 = found(rep2, "EMAIL_ADDRESS")
    assert [f["row"] for f in fs2] == list(range(3, 22, 2))
    assert [f["fingerprint"] for f in fs2] == [f["fingerprint"] for f in fs]


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

    monkeypatch.setattr(readers, "CSV_BLOCK_BYTES", 64 << 10)  # many chunks, spread over the workers
    monkeypatch.setattr(engine, "ADAPTIVE", False)  # sparse data would otherwise stay in-process
    p = emails_csv(tmp_path / "e.csv", 30000, 7)
    with open(p, "a") as fh:
        fh.write(f"30001,{fake_card('4', 16, 9)}\n")
    policy = "version: 1\ngates:\n  pii:\n    parallel_min_mb: 0\n"
    _, one, _ = pii(p, policy=policy, extra=("--workers", "1"))
    _, two, _ = pii(p, policy=policy, extra=("--workers", "2"))
    assert engine.SPLIT["workers"] > 1 and engine.SPLIT["parent"] == 0
    key = lambda rep: sorted((f["fingerprint"], f["row"], f["column_count"], f["blocking"]) for f in rep["findings"])  # noqa: E731
    assert key(one) == key(two) and len(key(one)) == 11
    assert found(two, "CREDIT_CARD")[0]["row"] == 30001
    assert found(two, "EMAIL_ADDRESS")[0]["column_count"] == 30000 // 7
    # the parent scans the first chunks itself while the workers start: same findings
    calls: list[int] = []
    monkeypatch.setattr(engine, "ADAPTIVE", True)
    monkeypatch.setattr(engine, "candidate_share", lambda bs, chunk: 1.0)
    monkeypatch.setattr(engine.Pool, "ready", lambda self: None if len(calls.append(1) or calls) <= 3 else self.wait())
    _, mixed, _ = pii(p, policy=policy, extra=("--workers", "2"))
    assert engine.SPLIT["parent"] == 4 and engine.SPLIT["workers"] > 1  # 3 while they start, and the last
    assert key(mixed) == key(one)
