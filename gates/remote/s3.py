"""``s3://BUCKET/PREFIX``: every object under the prefix (or the one object the key names),
read with ranged ``GetObject`` through boto3.

Credentials and the endpoint come from boto3's usual chain (``AWS_ACCESS_KEY_ID``…,
``AWS_PROFILE``, ``AWS_ENDPOINT_URL``/``AWS_ENDPOINT_URL_S3``); an ``http://`` endpoint is
allowed only on a loopback address. Reports name ``s3://bucket/key``; an object's ETag is kept
as its source version (an ETag is not a content digest, so the BOM gets none).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from gates.core.hygiene import clean_name
from gates.core.remote import Resolved

from .errors import RemoteError
from .mirror import Mirror
from .reader import RangeReader, Stats
from .transport import check_url

MAX_OBJECTS = 100_000


def parse(ref: str) -> tuple[str, str]:
    parts = urlsplit(ref)
    if parts.scheme != "s3" or not parts.netloc:
        raise RemoteError(f"{clean_name(ref)}: expected s3://BUCKET/PREFIX")
    return parts.netloc, parts.path.lstrip("/")


def _client():
    import boto3
    from botocore.config import Config

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        check_url(endpoint)
    return boto3.session.Session().client("s3", endpoint_url=endpoint or None,
                                          config=Config(retries={"max_attempts": 3}, s3={"addressing_style": "path"}))


def resolve(ref: str, workdir: Path) -> Resolved:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = parse(ref)
    try:
        s3 = _client()
        objects = _list(s3, bucket, prefix)
    except (BotoCoreError, ClientError) as exc:
        raise RemoteError(f"{clean_name(ref)}: {_why(exc)}") from None
    if not objects:
        raise RemoteError(f"{clean_name(ref)}: no object under this prefix")
    stats = Stats()
    res = Resolved(root=workdir / "artifact", reference=f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}")
    mirror = Mirror(res, stats)
    single = len(objects) == 1 and objects[0][0] == prefix
    for key, size, etag in objects:
        rel = key.rsplit("/", 1)[-1] if single else key[len(prefix):].lstrip("/")
        try:
            mirror.add(rel or key, RangeReader(_fetch(s3, bucket, key), size, stats), f"s3://{bucket}/{key}",
                       source=f"s3://{bucket}/{key}" + (f"#etag={etag}" if etag else ""))
        except (BotoCoreError, ClientError) as exc:
            raise RemoteError(f"s3://{clean_name(bucket)}/{clean_name(key)}: {_why(exc)}") from None
    return mirror.finish()


def _list(s3, bucket: str, prefix: str) -> list[tuple[str, int, str]]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            if o["Key"].endswith("/"):
                continue  # a "folder" marker
            out.append((o["Key"], int(o["Size"]), str(o.get("ETag", "")).strip('"')))
            if len(out) > MAX_OBJECTS:
                raise RemoteError(f"s3://{clean_name(bucket)}/{clean_name(prefix)}: more than {MAX_OBJECTS} objects (narrow the prefix)")
    # a prefix that names one key exactly, and also prefixes others ("a.pkl" and "a.pkl.bak"): the key alone
    exact = [o for o in out if o[0] == prefix]
    if exact and prefix and not prefix.endswith("/"):
        return exact
    if prefix and not prefix.endswith("/"):
        out = [o for o in out if o[0].startswith(prefix + "/")]  # s3://b/models matches models/…, not models-old/…
    return out


def _fetch(s3, bucket: str, key: str):
    def fetch(start: int, end: int) -> bytes:
        r = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")
        with r["Body"] as body:
            return body.read()
    return fetch


def _why(exc: Exception) -> str:
    """The error code only (a message may quote a signed URL or a key id)."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code") if hasattr(exc, "response") else None
    return f"S3 error {clean_name(code)}" if code else type(exc).__name__
