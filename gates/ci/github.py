"""PR comments through the GitHub REST API (issue comments: a PR is an issue)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..core.errors import UsageError
from .http import Api

API_VERSION = "2022-11-28"


@dataclass
class GitHubThread:
    api: Api
    repo: str
    number: int
    _login: str | None = None
    _looked_up: bool = False

    def mine(self, comment: dict[str, Any]) -> bool:
        """Written by this token's account: the ``/user`` login for a personal token; for the
        workflow's GITHUB_TOKEN or an app token (``/user`` refuses those) any bot account."""
        if not self._looked_up:
            self._looked_up = True
            resp = self.api.request("GET", self.api.url("/user"))
            if resp.status_code == 200:
                self._login = str((resp.json() or {}).get("login") or "") or None
        user = comment.get("user") or {}
        if self._login is not None:
            return user.get("login") == self._login
        return user.get("type") == "Bot"

    def comments(self) -> Iterable[dict[str, Any]]:
        return self.api.paginate(f"/repos/{self.repo}/issues/{self.number}/comments", {"per_page": 100})

    def create(self, body: str) -> dict[str, Any]:
        resp = self.api.request("POST", self.api.url(f"/repos/{self.repo}/issues/{self.number}/comments"), json={"body": body})
        return self.api.check(resp, "create comment")

    def update(self, comment_id: Any, body: str) -> dict[str, Any]:
        resp = self.api.request("PATCH", self.api.url(f"/repos/{self.repo}/issues/comments/{int(comment_id)}"), json={"body": body})
        return self.api.check(resp, "update comment")


def pr_number(env: Mapping[str, str]) -> int | None:
    """The PR of a ``pull_request``/``pull_request_target`` event, from the event payload."""
    path = env.get("GITHUB_EVENT_PATH")
    if path and Path(path).is_file():
        try:
            event = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            event = {}
        for key in ("pull_request", "issue"):
            n = (event.get(key) or {}).get("number") if isinstance(event, dict) else None
            if isinstance(n, int):
                return n
    ref = env.get("GITHUB_REF", "")
    if ref.startswith("refs/pull/"):
        part = ref.split("/")[2]
        return int(part) if part.isdigit() else None
    return None


def thread_from(args: Any, env: Mapping[str, str] = os.environ) -> tuple[GitHubThread, str]:
    """The thread to comment on and a link to this run, from flags or the Actions environment."""
    token = env.get(args.token_env or "GITHUB_TOKEN", "")
    if not token:
        raise UsageError(f"no token: set {args.token_env or 'GITHUB_TOKEN'} (the workflow's github.token works)")
    repo = args.repo or env.get("GITHUB_REPOSITORY", "")
    if repo.count("/") != 1:
        raise UsageError("no repository: pass --repo OWNER/NAME or set GITHUB_REPOSITORY")
    number = args.number or pr_number(env)
    if not number:
        raise UsageError("no pull request: pass --pr N or run on a pull_request event")
    api_url = args.api_url or env.get("GITHUB_API_URL") or "https://api.github.com"
    api = Api(api_url, {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                        "X-GitHub-Api-Version": API_VERSION, "User-Agent": "mlsec-gates"})
    link = ""
    if env.get("GITHUB_RUN_ID") and env.get("GITHUB_SERVER_URL"):
        link = f"{env['GITHUB_SERVER_URL']}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}"
    return GitHubThread(api, repo, int(number)), link
