"""Remote artifact resolution: ``oci://``, ``hf://``, ``s3://`` and other fsspec URLs as the
scanned PATH. Not a gate: each resolver is registered under the ``mlsec_gates.resolvers`` entry
point group, and the core (``gates.core.remote``) imports one only when a PATH has that scheme.
A resolver builds a sparse local mirror (real bytes where the gates read, holes elsewhere) and
says how each mirrored file's path reads as a remote reference. See docs/remote.md."""

from .errors import RemoteError
from .mirror import Mirror, safe_relpath
from .reader import RangeReader, Stats

__all__ = ["Mirror", "RangeReader", "RemoteError", "Stats", "safe_relpath"]
