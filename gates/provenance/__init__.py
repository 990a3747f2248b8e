"""The provenance gate: model licences, sources and custom code (see :mod:`.gate`)."""

from .gate import ProvenanceGate
from .rules import RULES

__all__ = ["RULES", "ProvenanceGate"]
