"""``mlsec-gates policy show --explain``: every effective setting with the file and line it came
from, the documents merged (with their digests) and the locks in force."""

from __future__ import annotations

import json

from .merge import explain_lines


def render_explain(policy) -> str:
    out = ["# effective policy, each key with its source (later documents override earlier ones)", "# merged, in order:",
           "#   (built-in defaults)"]
    for c in policy.chain:
        out.append(f"#   {c.display}  sha256:{c.digest}  ({c.how})")
    rows = explain_lines(policy.data, policy.provenance)
    width = min(max((len(k) + len(v) + 2 for k, v, _ in rows), default=0), 78)
    for key, value, source in rows:
        out.append(f"{key}: {value}".ljust(width) + f"  # {source}")
    locks = policy.locks
    if locks:
        out.append("# locks in force (floors for everything merged after them)")
        for lock in locks.locks:
            floors = ", ".join(f"{'.'.join(map(str, p))}={json.dumps(v, default=str)}" for p, v in lock.floors)
            out.append(f"#   {lock.kind} {'.'.join(lock.pattern)} (floor: {floors})  # {lock.source}")
        for r in locks.waiver_rules:
            out.append(f"#   waivers.{r.what}: {json.dumps(r.value)}  # {r.source}")
    return "\n".join(out) + "\n"
