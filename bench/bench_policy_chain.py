"""How long does building the effective policy take for an org -> team -> repo chain?

Serves an org policy (200 eval metric rules, 10 locks) from a loopback HTTP server, then times
`load_policy` for: the first run (fetch + verify + cache), later runs (cache hit, no network), and
a local-only chain of the same size. Run: python bench/bench_policy_chain.py
"""

from __future__ import annotations

import hashlib
import http.server
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gates.core.loader import load_policy
from gates.core.registry import available_gates


def org_policy() -> str:
    metrics = "".join(f"      task{i}/acc: {{min: 0.{i % 9 + 1}, max_regression: 0.01}}\n" for i in range(200))
    return ("version: 1\ndefaults:\n  fail_on: high\ngates:\n  eval:\n    results: [eval/results.json]\n    metrics:\n" + metrics
            + "locks:\n  only_stricter: [defaults.fail_on]\n  only_true: ['gates.*.enabled']\n"
            + "  only_increase: [" + ", ".join(f"'gates.eval.metrics.task{i}/acc.min'" for i in range(8)) + "]\n"
            + "  waivers:\n    max_days: 90\n    require_fields: [ticket]\n")


def main() -> None:
    body = org_policy().encode()
    sha = hashlib.sha256(body).hexdigest()

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/org.yml"
    gates = available_gates()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        os.environ["MLSEC_GATES_CACHE_DIR"] = str(t / "cache")
        (t / "team.yml").write_text(f"version: 1\nextends:\n  - {{source: '{url}', sha256: {sha}}}\ndefaults:\n  fail_on: medium\n")
        (t / "repo.yml").write_text("version: 1\nextends: [team.yml]\ngates:\n  eval:\n    +paths: ['x/**']\n")
        waivers = "".join(f"  - {{rule: EVAL001, path: 'eval/{i}.json', reason: ok for now, expires: 2026-12-31, ticket: T-{i}}}\n" for i in range(100))
        (t / ".mlsec-gates-waivers.yml").write_text("version: 1\nwaivers:\n" + waivers)
        (t / "org-local.yml").write_bytes(body)
        (t / "local.yml").write_text("version: 1\nextends: [org-local.yml]\ndefaults:\n  fail_on: medium\n")

        def timed(path: Path, n: int) -> list[float]:
            out = []
            for _ in range(n):
                t0 = time.perf_counter()
                load_policy(path, gates)
                out.append(time.perf_counter() - t0)
            return out

        rows.append(("first run: fetch + verify + cache (3 docs + 100 waivers)", timed(t / "repo.yml", 1)))
        rows.append(("cached run, no network (3 docs + 100 waivers)", timed(t / "repo.yml", 20)))
        httpd.shutdown()
        rows.append(("cached run, server stopped", timed(t / "repo.yml", 20)))
        rows.append(("local-only chain (2 docs + 100 waivers)", timed(t / "local.yml", 20)))
    print(f"org policy: {len(body)} bytes, 200 metric rules, 11 locks\n")
    print("| case | runs | median ms | max ms |\n|---|---:|---:|---:|")
    for name, ts in rows:
        print(f"| {name} | {len(ts)} | {statistics.median(ts) * 1000:.1f} | {max(ts) * 1000:.1f} |")


if __name__ == "__main__":
    main()
