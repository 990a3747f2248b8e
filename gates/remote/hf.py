"""``hf://ORG/REPO[@REV][/PATH]`` and ``hf://datasets/ORG/NAME[@REV][/PATH]``: a Hugging Face
Hub repository at one commit, read with the Hub's own HTTP API.

The revision is resolved to its commit first (``/api/{models|datasets}/{repo}/revision/{rev}``
with ``blobs=true`` for sizes and LFS digests), and every file is then read at that commit from
``/{repo}/resolve/{commit}/{path}`` with ``Range`` requests, so a branch that moves during the
scan cannot mix two versions. The endpoint is ``HF_ENDPOINT`` (default https://huggingface.co);
the token is ``HF_TOKEN`` or the one ``huggingface-cli login`` saved, sent only to the endpoint.
Reports name ``hf://org/repo@<commit>/<file>``; LFS files carry their SHA-256 into the BOM.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote

from gates.core.hygiene import clean_name
from gates.core.remote import Resolved

from . import transport
from .errors import RemoteError
from .mirror import Mirror
from .reader import RangeReader, Stats

DEFAULT_ENDPOINT = "https://huggingface.co"
MAX_FILES = 50_000
_REF = re.compile(r"^hf://(?:(?P<kind>datasets|models|spaces)/)?(?P<repo>[\w.-]+/[\w.-]+)(?:@(?P<rev>[^/]+(?:%2F[^/]+)*))?(?:/(?P<sub>.*))?$")


def parse(ref: str) -> tuple[str, str, str, str]:
    """(kind, repo, revision, sub-path)."""
    m = _REF.match(ref)
    if not m:
        raise RemoteError(f"{clean_name(ref)}: expected hf://ORG/REPO[@REV] or hf://datasets/ORG/NAME[@REV]")
    kind = m.group("kind") or "models"
    if kind == "spaces":
        raise RemoteError(f"{clean_name(ref)}: Spaces are not scanned (models and datasets are)")
    rev = (m.group("rev") or "main").replace("%2F", "/")
    return kind, m.group("repo"), rev, (m.group("sub") or "").strip("/")


def token() -> str | None:
    for var in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if os.environ.get(var):
            return os.environ[var]
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    try:
        return Path(home, "token").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def resolve(ref: str, workdir: Path) -> Resolved:
    kind, repo, rev, sub = parse(ref)
    endpoint = os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/")
    transport.check_url(endpoint)
    s = transport.session()
    tok = token()
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    label = f"hf://{'datasets/' if kind == 'datasets' else ''}{repo}"
    r = transport.get(s, f"{endpoint}/api/{kind}/{repo}/revision/{quote(rev, safe='')}", headers=headers,
                      what=f"{label}@{rev}", ok=(200,))
    try:
        info = r.json()
        commit = str(info["sha"])
        siblings = list(info.get("siblings") or [])
    except (ValueError, KeyError, TypeError):
        raise RemoteError(f"{clean_name(label)}@{clean_name(rev)}: the Hub's answer is not a repository description") from None
    if not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise RemoteError(f"{clean_name(label)}: the Hub gave no commit for revision {clean_name(rev)}")
    if len(siblings) > MAX_FILES:
        raise RemoteError(f"{clean_name(label)}: more than {MAX_FILES} files (scan a sub-path)")
    files = [x for x in siblings if isinstance(x, dict) and isinstance(x.get("rfilename"), str)
             and (not sub or x["rfilename"] == sub or x["rfilename"].startswith(sub + "/"))]
    if not files:
        raise RemoteError(f"{clean_name(label)}@{commit[:12]}: no file{' under ' + clean_name(sub) if sub else ''}")
    stats = Stats()
    res = Resolved(root=workdir / "artifact", reference=f"{label}@{commit}" + (f"/{sub}" if sub else ""))
    mirror = Mirror(res, stats)
    prefix = f"{endpoint}/{'datasets/' if kind == 'datasets' else ''}{repo}/resolve/{commit}/"
    for x in files:
        name = x["rfilename"]
        url = prefix + quote(name)
        size = x.get("size")
        lfs = x.get("lfs") if isinstance(x.get("lfs"), dict) else {}
        if not isinstance(size, int):
            size = _head_size(s, url, headers, f"{label}@{commit[:12]}/{name}")
        digest = f"sha256:{lfs['sha256']}" if isinstance(lfs.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", lfs["sha256"]) else None
        rel = name[len(sub):].lstrip("/") if sub and name != sub else name.rsplit("/", 1)[-1] if sub else name
        reader = RangeReader(transport.range_fetch(s, url, headers, f"{label}@{commit[:12]}/{name}"), size, stats)
        mirror.add(rel, reader, f"{label}@{commit}/{name}", digest=digest, source=f"{label}@{commit}/{name}")
    if rev != commit:
        res.notes.append(f"remote: {clean_name(label)}@{clean_name(rev)} is commit {commit}")
    return mirror.finish()


def _head_size(s, url: str, headers: dict[str, str], what: str) -> int:
    r = transport.get(s, url, headers=headers, what=what, method="HEAD")
    size = r.headers.get("X-Linked-Size") or r.headers.get("Content-Length")
    if not size or not size.isdigit():
        raise RemoteError(f"{clean_name(what)}: the Hub gave no size")
    return int(size)
