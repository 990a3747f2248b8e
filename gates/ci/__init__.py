"""CI integration commands: ``comment github|gitlab`` (sticky PR/MR comment) and ``annotations``.

Both read the JSON report a ``run`` step wrote, so what reviewers see is exactly the verdict that
decided the build. Exit codes: 0 done (also when a read-only token made the comment impossible:
that is a warning, the gates' verdict stands on its own), 2 usage or API error.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Iterator

WHEN = ("always", "on-failure")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``comment`` and ``annotations`` on the top-level parser."""
    com = sub.add_parser("comment", help="post or update the report as a sticky PR/MR comment")
    csub = com.add_subparsers(dest="platform", metavar="PLATFORM")
    csub.required = True
    for platform, token_env, number_flag in (("github", "GITHUB_TOKEN", "--pr"), ("gitlab", "MLSEC_GATES_GITLAB_TOKEN", "--mr")):
        p = csub.add_parser(platform, help=f"comment on a {platform} {'pull' if platform == 'github' else 'merge'} request")
        p.add_argument("--report", required=True, metavar="FILE", help="JSON report written by `mlsec-gates run --format json`")
        p.add_argument("--when", choices=WHEN, default="always",
                       help="on-failure: post only when the gates failed (an earlier comment is still updated)")
        p.add_argument("--api-url", help="API base URL (default: GITHUB_API_URL / CI_API_V4_URL)")
        p.add_argument(number_flag, dest="number", type=int, metavar="N", help="PR/MR number (default: from the CI environment)")
        if platform == "github":
            p.add_argument("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)")
        else:
            p.add_argument("--project", help="project id or path (default: CI_PROJECT_ID)")
        p.add_argument("--token-env", default=token_env, metavar="NAME", help=f"environment variable holding the token (default: {token_env})")
        p.set_defaults(func=cmd_comment)
    ann = sub.add_parser("annotations", help="print GitHub Actions annotations for a JSON report (worst first, capped)")
    ann.add_argument("--report", required=True, metavar="FILE")
    ann.add_argument("--max-errors", type=int, default=10)
    ann.add_argument("--max-warnings", type=int, default=10)
    ann.set_defaults(func=cmd_annotations)


def cmd_annotations(args: argparse.Namespace) -> int:
    from . import annotate, report

    data = report.load_json(args.report)
    annotate.write(annotate.render(data, args.max_errors, args.max_warnings), sys.stdout)
    return 0


#: a comment a reviewer reads in seconds: a realistic repository's report fits in this; anything
#: longer is cut by section (lowest first), linking to the job page for the rest
COMMENT_CHARS = 15_000


def _bodies(data: dict, link: str) -> Iterator[str]:
    """The comment, then a shorter one should the API reject the length (HTTP 422)."""
    from ..core.reports.links import Links
    from . import report

    links = Links.from_env()
    if link:
        links = Links(blob=links.blob, job=link, docs=links.docs)
    for limit in (COMMENT_CHARS, 4_000):
        yield report.markdown(data, max_chars=limit, links=links)


def _warn(message: str) -> None:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        print(f"::warning title=mlsec-gates comment::{message}")
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(f"\n> ⚠️ **mlsec-gates:** {message}\n")
    else:
        print(f"mlsec-gates: warning: {message}", file=sys.stderr)


def cmd_comment(args: argparse.Namespace) -> int:
    from . import report, sticky
    from .http import ApiError

    data = report.load_json(args.report)
    from . import github, gitlab

    thread_from = github.thread_from if args.platform == "github" else gitlab.thread_from
    thread, link = thread_from(args)
    failed = data.get("status") != "pass"
    try:
        out = sticky.upsert(thread, lambda: _bodies(data, link), failed, args.when)
    except ApiError as exc:
        print(f"mlsec-gates: comment failed: {exc}", file=sys.stderr)
        return 2
    if out.action == "forbidden":
        _warn(f"PR/MR comment not posted: the token may not write comments ({out.detail}). "
              "Fork pull requests get a read-only token; the gates' verdict is unaffected.")
    elif out.action == "skipped":
        print(f"mlsec-gates: no comment: {out.detail}")
    else:
        print(f"mlsec-gates: comment {out.action} (id {out.comment_id})")
    return 0
