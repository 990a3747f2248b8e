"""Where a report's links point: source lines on the forge, rule documentation, advisory records.

Markdown and SARIF link a finding to the line it is about and a rule id to its documentation, so
a reviewer gets from a row to the evidence in one click. The forge's file URL is built from the CI
environment (GitHub Actions or GitLab CI variables); elsewhere there is none and the report shows
plain paths. Nothing here talks to a forge: these are strings.

A path is linked only when hygiene leaves it unchanged (no credential-like text, no control
character): a redacted name would make a wrong link, and the raw one must not be printed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import quote

from ..findings import Finding
from .common import redacted, source_line

#: the project's documentation: one page per gate (``docs/<gate>.md``), one anchor per rule id
DOCS_URL = "https://github.com/mlsec-gates/mlsec-gates/blob/main/docs"
#: which page documents the rules a gate name stands for (core rules are in the policy page)
DOC_PAGE = {"policy": "policy", "core": "policy"}

_ADVISORY = re.compile(r"^(?:GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|[A-Z][A-Z0-9]{1,15}-[0-9A-Za-z][0-9A-Za-z._:-]{0,40})$")


@dataclass(frozen=True)
class Links:
    """``blob`` is the base of file URLs at the scanned commit (``…/blob/<sha>``); ``job`` the
    page with the full reports (job summary or artifacts); ``docs`` the documentation base."""

    blob: str | None = None
    job: str | None = None
    docs: str = DOCS_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Links":
        docs = env.get("MLSEC_GATES_DOCS_URL", "").rstrip("/") or DOCS_URL
        if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_REPOSITORY"):
            server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            repo = env["GITHUB_REPOSITORY"]
            sha = env.get("MLSEC_GATES_SOURCE_SHA") or env.get("GITHUB_SHA")
            run = env.get("GITHUB_RUN_ID")
            return cls(blob=f"{server}/{repo}/blob/{sha}" if sha else None,
                       job=f"{server}/{repo}/actions/runs/{run}" if run else None, docs=docs)
        if env.get("GITLAB_CI") == "true" and env.get("CI_PROJECT_URL"):
            sha = env.get("MLSEC_GATES_SOURCE_SHA") or env.get("CI_COMMIT_SHA")
            return cls(blob=f"{env['CI_PROJECT_URL'].rstrip('/')}/-/blob/{sha}" if sha else None,
                       job=env.get("CI_JOB_URL") or None, docs=docs)
        return cls(docs=docs)

    def source(self, f: Finding) -> str | None:
        """The forge URL of the finding's file (and line), or None when there is no safe one."""
        if not self.blob or not linkable(f.path) or (f.rel_path and redacted(f.rel_path)):
            return None
        line = source_line(f)
        return f"{self.blob}/{quote(f.path)}" + (f"#L{line}" if line else "")

    def rule(self, gate: str, rule: str) -> str:
        """The rule's section: ``docs/<gate>.md#<rule id, lower case>``."""
        page = DOC_PAGE.get(gate, gate)
        return f"{self.docs}/{quote(page)}.md#{quote(rule.lower())}"


def linkable(path: str) -> bool:
    """A relative, printable path inside the checkout."""
    return bool(path) and path.isprintable() and not redacted(path) and not path.startswith(("/", "\\", "..")) \
        and not re.match(r"^[A-Za-z]:", path) and ".." not in path.replace("\\", "/").split("/")


def advisory_url(advisory_id: str) -> str | None:
    """The public record of an advisory id: GitHub's advisory database for GHSA ids, OSV for the
    rest (PYSEC, CVE, OSV, RUSTSEC, …; osv.dev resolves aliases). None for anything else."""
    if not _ADVISORY.match(advisory_id):
        return None
    if advisory_id.startswith("GHSA-"):
        return f"https://github.com/advisories/{advisory_id}"
    return f"https://osv.dev/vulnerability/{quote(advisory_id)}"
