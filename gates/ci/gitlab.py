"""Merge request notes through the GitLab REST API (v4).

``CI_JOB_TOKEN`` cannot write notes; a project or group access token with the ``api`` scope in
``MLSEC_GATES_GITLAB_TOKEN`` (a masked CI/CD variable) can.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import quote

from ..core.errors import UsageError
from .http import Api


@dataclass
class GitLabThread:
    api: Api
    project: str
    iid: int
    _user_id: int | None = None

    def mine(self, note: dict[str, Any]) -> bool:
        """Written by this token's user (a project access token has its own bot user)."""
        if self._user_id is None:
            me = self.api.check(self.api.request("GET", self.api.url("/user")), "GET /user")
            self._user_id = int((me or {}).get("id") or -1)
        return (note.get("author") or {}).get("id") == self._user_id

    @property
    def _notes(self) -> str:
        return f"/projects/{quote(self.project, safe='')}/merge_requests/{self.iid}/notes"

    def comments(self) -> Iterable[dict[str, Any]]:
        return self.api.paginate(self._notes, {"per_page": 100, "sort": "asc", "order_by": "created_at"})

    def create(self, body: str) -> dict[str, Any]:
        return self.api.check(self.api.request("POST", self.api.url(self._notes), json={"body": body}), "create note")

    def update(self, comment_id: Any, body: str) -> dict[str, Any]:
        resp = self.api.request("PUT", self.api.url(f"{self._notes}/{int(comment_id)}"), json={"body": body})
        return self.api.check(resp, "update note")


def thread_from(args: Any, env: Mapping[str, str] = os.environ) -> tuple[GitLabThread, str]:
    name = args.token_env or "MLSEC_GATES_GITLAB_TOKEN"
    token = env.get(name, "")
    if not token:
        raise UsageError(f"no token: set {name} to a project access token with the api scope (CI_JOB_TOKEN cannot write notes)")
    api_url = args.api_url or env.get("CI_API_V4_URL", "")
    project = args.project or env.get("CI_PROJECT_ID", "")
    iid = args.number or env.get("CI_MERGE_REQUEST_IID", "")
    if not api_url or not project:
        raise UsageError("no GitLab API: set CI_API_V4_URL and CI_PROJECT_ID (or --api-url/--project)")
    if not str(iid).isdigit():
        raise UsageError("no merge request: run in a merge request pipeline (CI_MERGE_REQUEST_IID) or pass --mr N")
    api = Api(api_url, {"PRIVATE-TOKEN": token, "User-Agent": "mlsec-gates"})
    return GitLabThread(api, str(project), int(iid)), env.get("CI_JOB_URL", "")
