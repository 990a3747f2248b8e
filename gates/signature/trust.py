"""Which Sigstore instance to trust, and where its root of trust comes from.

- default: the production instance, refreshed online through TUF (signed metadata, so a
  tampered local cache is detected);
- ``trust_config`` FILE: a ``ClientTrustConfig`` JSON (private instances, air-gapped runners).
  From the policy it must be pinned by SHA-256; sigstore's own offline mode trusts whatever sits
  in its cache directory, which a restored CI cache could poison, so we never use that mode;
- ``instance: staging``: the staging trust root embedded in the installed ``sigstore`` wheel
  (staging is a test instance; nothing is fetched and no cache is read).
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # sigstore.models is slow to import: only when a trust root is needed
    from sigstore.models import TrustedRoot

STAGING_TUF_URL = "https://tuf-repo-cdn.sigstage.dev"
PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"


class TrustError(Exception):
    """The trust root could not be established (bad pin, unreadable file, no network)."""


@dataclass(frozen=True)
class TrustSpec:
    instance: str = "production"
    trust_config: Path | None = None
    sha256: str | None = None
    offline: bool = False
    #: the trust config was named on the command line (an explicit, one-off choice: no pin)
    explicit: bool = False

    def check(self) -> None:
        """Policy-level rules, raised as ``ValueError`` (a policy error)."""
        if self.instance not in ("production", "staging"):
            raise ValueError(f"unknown Sigstore instance {self.instance!r}")
        if self.trust_config is not None and not self.explicit and not self.sha256:
            raise ValueError("trust.trust_config needs trust.trust_config_sha256 (pin the file you trust)")
        if self.offline and self.trust_config is None and self.instance == "production":
            raise ValueError("trust.offline: true needs trust.trust_config and trust.trust_config_sha256 "
                             "(sigstore's own offline mode would trust an unpinned local cache)")

    def describe(self) -> str:
        if self.trust_config is not None:
            return f"trust config {self.trust_config.name}" + (f" (sha256 {self.sha256[:12]}…)" if self.sha256 else "")
        if self.instance == "staging":
            return "Sigstore staging (trust root embedded in the sigstore package)"
        return "Sigstore production (TUF, online)"


def _embedded(url: str, name: str) -> bytes:
    base = importlib.resources.files("sigstore._store").joinpath(quote(url, safe=""))
    return base.joinpath(name).read_bytes()


def load_trusted_root(spec: TrustSpec) -> "TrustedRoot":
    """The ``TrustedRoot`` to verify against. Raises :class:`TrustError`."""
    from sigstore.models import ClientTrustConfig

    if spec.trust_config is not None:
        try:
            raw = spec.trust_config.read_bytes()
        except OSError as exc:
            raise TrustError(f"cannot read trust config: {exc.strerror or type(exc).__name__}") from None
        if spec.sha256:
            got = hashlib.sha256(raw).hexdigest()
            if got != spec.sha256.lower():
                raise TrustError(f"trust config SHA-256 is {got}, the policy pins {spec.sha256.lower()}")
        try:
            return ClientTrustConfig.from_json(raw.decode("utf-8")).trusted_root
        except Exception as exc:  # noqa: BLE001 - pydantic/protobuf errors vary; fail closed
            raise TrustError(f"trust config is not a valid ClientTrustConfig ({type(exc).__name__})") from None
    if spec.instance == "staging":
        try:
            return ClientTrustConfig.from_json(staging_trust_config_json()).trusted_root
        except Exception as exc:  # noqa: BLE001
            raise TrustError(f"staging trust root not found in the sigstore package ({type(exc).__name__})") from None
    if spec.offline:
        raise TrustError("offline verification needs a pinned trust config")
    try:
        return ClientTrustConfig.production().trusted_root
    except Exception as exc:  # noqa: BLE001 - TUF/network errors
        raise TrustError(f"could not refresh the Sigstore production trust root over TUF ({type(exc).__name__}); "
                         "on an offline runner use a pinned trust_config") from None


def staging_trust_config_json() -> str:
    """A full ClientTrustConfig for staging (trusted root + signing config), for signing."""
    import json

    from sigstore.models import ClientTrustConfig

    tr = json.loads(_embedded(STAGING_TUF_URL, "trusted_root.json"))
    sc = json.loads(_embedded(STAGING_TUF_URL, "signing_config.v0.2.json"))
    return json.dumps({"mediaType": ClientTrustConfig.ClientTrustConfigType.CONFIG_0_1.value, "trustedRoot": tr, "signingConfig": sc})
