"""mlsec-gates: security and quality gates for ML projects, one CI step each."""

__version__ = "0.1.0"
