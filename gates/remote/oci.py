"""``oci://REGISTRY/REPO:TAG`` and ``oci://REGISTRY/REPO@sha256:…``: KitOps ModelKits, CNCF
ModelPack artifacts and plain OCI artifacts, read through the distribution API.

What is read: the manifest (an index picks its first manifest), the config (a KitOps config is
the Kitfile: it is written to the mirror as ``Kitfile`` so the provenance gate reads its
licences), then each layer. An uncompressed tar layer is walked header by header with range
requests and each member planned like a file; a compressed layer is streamed once into the blob
cache (verified against its digest) and extracted from there; any other layer is one file named
by its ``org.opencontainers.image.title`` / ModelPack ``filepath`` annotation. Reports name
``oci://REGISTRY/REPO@<layer digest>!<path in the layer>``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import requests
import yaml

from gates.core.hygiene import clean_name
from gates.core.remote import Resolved

from . import transport
from .errors import RemoteError
from .mirror import Mirror, cache_dir
from .reader import RangeReader, Stats
from .tarwalk import members

KITOPS_CONFIG = "application/vnd.kitops.modelkit.config.v1+json"
MODELPACK_CONFIG = "application/vnd.cncf.model.config.v1+json"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
ACCEPT = ", ".join(("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json", *INDEX_TYPES))
TITLE_KEYS = ("org.opencontainers.image.title", "org.cncf.model.filepath", "org.cncf.model.file.path")
MAX_MANIFEST = 4 << 20
MAX_RATIO = 200
_REF = re.compile(r"^oci://(?P<host>[^/]+)/(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
                  r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?/?$")


def parse(ref: str) -> tuple[str, str, str]:
    m = _REF.match(ref)
    if not m or not (m.group("tag") or m.group("digest")):
        raise RemoteError(f"{clean_name(ref)}: expected oci://REGISTRY/REPO:TAG or oci://REGISTRY/REPO@sha256:DIGEST")
    return m.group("host"), m.group("repo"), m.group("digest") or m.group("tag")


class Registry:
    """The distribution API for one repository, with token or basic auth as the registry asks."""

    def __init__(self, host: str, repo: str) -> None:
        self.host, self.repo = host, repo
        self.base = f"{transport.base_url(host)}/v2/{repo}"
        self.s = transport.session()
        self.auth: dict[str, str] = {}
        basic = transport.docker_auth(host)
        self._basic = basic

    def request(self, path: str, *, headers: dict[str, str] | None = None, stream: bool = False, ok: tuple[int, ...] = (200,)) -> requests.Response:
        url = f"{self.base}/{path}"
        what = f"oci://{self.host}/{self.repo} {path.split('/')[0]}"
        h = {**self.auth, **(headers or {})}
        r = transport.get(self.s, url, headers=h, what=what, stream=stream, ok=(*ok, 401))
        if r.status_code == 401 and not self.auth:
            challenge = r.headers.get("WWW-Authenticate", "")
            r.close()
            self._login(challenge, what)
            r = transport.get(self.s, url, headers={**self.auth, **(headers or {})}, what=what, stream=stream, ok=(*ok, 401))
        if r.status_code == 401:
            r.close()
            raise RemoteError(f"{clean_name(what)}: unauthorised (docker login to {clean_name(self.host)}?)")
        return r

    def _login(self, challenge: str, what: str) -> None:
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic" and self._basic:
            self.auth = {"Authorization": self._basic}
            return
        if scheme.lower() != "bearer":
            raise RemoteError(f"{clean_name(what)}: unauthorised and no credentials for {clean_name(self.host)}")
        params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        realm = params.pop("realm", "")
        params.setdefault("scope", f"repository:{self.repo}:pull")
        h = {"Authorization": self._basic} if self._basic else {}
        try:
            r = transport.get(self.s, realm + ("&" if "?" in realm else "?") + "&".join(f"{k}={v}" for k, v in params.items()),
                              headers=h, what=f"token for {self.host}")
            tok = r.json().get("token") or r.json().get("access_token")
        except ValueError:
            tok = None
        if not tok:
            raise RemoteError(f"{clean_name(what)}: the registry's token service gave no token")
        self.auth = {"Authorization": f"Bearer {tok}"}

    def manifest(self, ref: str) -> tuple[dict[str, Any], str]:
        r = self.request(f"manifests/{ref}", headers={"Accept": ACCEPT})
        body = r.content[:MAX_MANIFEST + 1]
        if len(body) > MAX_MANIFEST:
            raise RemoteError(f"oci://{clean_name(self.host)}/{clean_name(self.repo)}: manifest over {MAX_MANIFEST} bytes")
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if ref.startswith("sha256:") and digest != ref:
            raise RemoteError(f"oci://{clean_name(self.host)}/{clean_name(self.repo)}@{ref}: manifest does not match its digest")
        try:
            doc = json.loads(body)
        except ValueError:
            raise RemoteError(f"oci://{clean_name(self.host)}/{clean_name(self.repo)}: manifest is not JSON") from None
        if not isinstance(doc, dict):
            raise RemoteError(f"oci://{clean_name(self.host)}/{clean_name(self.repo)}: manifest is not a JSON object")
        return doc, digest

    def blob_fetch(self, digest: str):
        def fetch(start: int, end: int) -> bytes:
            r = self.request(f"blobs/{digest}", headers={"Range": f"bytes={start}-{end - 1}"}, stream=True, ok=(200, 206))
            try:
                if r.status_code == 206:
                    return r.content
                return transport.read_upto(r, end)[start:end]
            finally:
                r.close()
        return fetch

    def whole_blob(self, digest: str, stats: Stats, limit: int) -> Path:
        """The blob in the cache (fetched once, streamed, verified against its digest)."""
        path = cache_dir() / "sha256" / digest.split(":", 1)[1]
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        h = hashlib.sha256()
        r = self.request(f"blobs/{digest}", stream=True)
        n = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in r.iter_content(1 << 20):
                    n += len(chunk)
                    if n > limit:
                        raise RemoteError(f"blob {digest[:19]}…: larger than its manifest says")
                    h.update(chunk)
                    out.write(chunk)
        finally:
            r.close()
            stats.fetched += n
            stats.requests += 1
        if "sha256:" + h.hexdigest() != digest:
            tmp.unlink(missing_ok=True)
            raise RemoteError(f"blob {digest[:19]}…: content does not match its digest")
        tmp.replace(path)
        return path


def resolve(ref: str, workdir: Path) -> Resolved:
    host, repo, tag = parse(ref)
    reg = Registry(host, repo)
    stats = Stats()
    manifest, digest = reg.manifest(tag)
    if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
        entries = manifest.get("manifests") or []
        if not entries:
            raise RemoteError(f"{clean_name(ref)}: empty image index")
        manifest, digest = reg.manifest(str(entries[0].get("digest")))
    where = f"oci://{host}/{repo}"
    res = Resolved(root=workdir / "artifact", reference=f"{where}@{digest}")
    mirror = Mirror(res, stats)
    config = manifest.get("config") or {}
    kind = _config(reg, mirror, config, where, stats)
    layers = manifest.get("layers") or []
    if not layers:
        raise RemoteError(f"{clean_name(ref)}: the manifest lists no layers")
    for layer in layers:
        _layer(reg, mirror, layer, where, stats)
    mirror.artifact_size = sum(int(b.get("size") or 0) for b in [config, *layers] if isinstance(b, dict))
    res.notes.append(f"remote: {kind} {clean_name(ref)} resolved to {where}@{digest} ({len(layers)} layer(s))")
    return mirror.finish()


def _config(reg: Registry, mirror: Mirror, config: dict[str, Any], where: str, stats: Stats) -> str:
    media = str(config.get("mediaType", ""))
    digest = str(config.get("digest", ""))
    if media not in (KITOPS_CONFIG, MODELPACK_CONFIG) or not digest.startswith("sha256:"):
        return "OCI artifact"
    size = int(config.get("size") or 0)
    if size > MAX_MANIFEST:
        raise RemoteError(f"{where}: config blob over {MAX_MANIFEST} bytes")
    data = reg.whole_blob(digest, stats, MAX_MANIFEST).read_bytes()
    try:
        doc = json.loads(data)
    except ValueError:
        raise RemoteError(f"{where}@{digest}: config is not JSON") from None
    if media == KITOPS_CONFIG and isinstance(doc, dict):
        # the config is the Kitfile in JSON: written as YAML so the provenance gate reads its licences
        mirror.add_bytes("Kitfile", yaml.safe_dump(doc, sort_keys=False).encode("utf-8"), f"{where}@{digest}!Kitfile", source=f"{where}@{digest}")
        return "KitOps ModelKit"
    mirror.add_bytes("modelpack-config.json", data, f"{where}@{digest}!config", digest=digest, source=f"{where}@{digest}")
    return "ModelPack artifact"


def _layer(reg: Registry, mirror: Mirror, layer: dict[str, Any], where: str, stats: Stats) -> None:
    media = str(layer.get("mediaType", ""))
    digest = str(layer.get("digest", ""))
    size = int(layer.get("size") or 0)
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise RemoteError(f"{where}: layer without a sha256 digest")
    ann = layer.get("annotations") or {}
    src = f"{where}@{digest}"
    reader = RangeReader(reg.blob_fetch(digest), size, stats)
    compressed = any(media.endswith(s) for s in ("+gzip", ".gzip", "+zstd", ".zstd", ".tgz"))
    if ".tar" in media or media.endswith("tar") or media.startswith("application/vnd.oci.image.layer"):
        if compressed:
            _compressed_tar(reg, mirror, digest, size, src, stats, media)
        else:
            _tar(mirror, reader, src)
        return
    title = next((str(ann[k]) for k in TITLE_KEYS if ann.get(k)), digest.replace(":", "-"))
    mirror.add(title, reader, f"{src}!{title}", digest=digest, source=src)


def _tar(mirror: Mirror, reader: RangeReader, src: str) -> None:
    try:
        for m in members(reader):
            if m.kind == "file":
                mirror.add(m.name, reader.view(m.offset, m.size), f"{src}!{m.name}", source=src)
            elif m.kind == "other":
                mirror.res.notes.append(f"remote: {clean_name(src)}!{clean_name(m.name)}: a link or special file, not scanned")
    except ValueError as exc:
        raise RemoteError(f"{clean_name(src)}: {clean_name(str(exc))}") from None


def _compressed_tar(reg: Registry, mirror: Mirror, digest: str, size: int, src: str, stats: Stats, media: str) -> None:
    blob = reg.whole_blob(digest, stats, size or (1 << 62))
    opener: Any
    if "zstd" in media:
        import zstandard

        fh = zstandard.ZstdDecompressor().stream_reader(open(blob, "rb"), closefd=True)
        opener = tarfile.open(fileobj=fh, mode="r|")
    else:
        opener = tarfile.open(blob, mode="r|gz")
    # a decompression bomb is refused, not followed: at most MAX_RATIO times the layer, plus 1 GiB
    budget = MAX_RATIO * max(size, blob.stat().st_size) + (1 << 30)
    with opener as tf:
        for ti in tf:
            if ti.isreg():
                budget -= ti.size
                if budget < 0:
                    raise RemoteError(f"{clean_name(src)}: the compressed layer expands more than {MAX_RATIO}x: refused")
                fh2 = tf.extractfile(ti)
                assert fh2 is not None
                dest = mirror.target(ti.name)
                with open(dest, "wb") as out:
                    while chunk := fh2.read(1 << 20):
                        out.write(chunk)
                mirror.record(ti.name, ti.size, f"{src}!{ti.name}", source=src)
            elif not ti.isdir():
                mirror.res.notes.append(f"remote: {clean_name(src)}!{clean_name(ti.name)}: a link or special file, not scanned")
